//! Events: RSVP, capacity, waitlist, private links, iCalendar.
use chrono::{Duration, Utc};
use serde_json::{Value, json};

use crate::{
    communities::{ban, create_community, join},
    helpers::{TestApp, TestUser, error_code, error_field, spawn_app},
};

pub async fn create_event(app: &TestApp, host: &TestUser, capacity: i32, community: Option<&str>) -> String {
    let start = app.clock_now() + Duration::days(7);
    let body = app
        .gql(
            "mutation($i: CreateEventInput!) { createEvent(input: $i) { id } }",
            json!({ "i": {
                "communityId": community, "title": "Rust meetup", "description": "Talks, pizza",
                "startsAt": start, "endsAt": start + Duration::hours(2), "timezone": "Europe/Berlin",
                "venue": "Room 1", "onlineUrl": "https://meet.example/secret", "capacity": capacity
            }}),
            Some(&host.access_token),
        )
        .await;
    body["data"]["createEvent"]["id"].as_str().unwrap_or_else(|| panic!("{body}")).to_owned()
}

async fn rsvp(app: &TestApp, user: &TestUser, event: &str) -> Value {
    app.gql(
        "mutation($i: EventIdInput!) { rsvp(input: $i) { status waitlistPosition } }",
        json!({ "i": { "eventId": event } }),
        Some(&user.access_token),
    )
    .await
}

async fn my_rsvp(app: &TestApp, user: &TestUser, event: &str) -> Value {
    let body = app
        .gql(
            "query($id: ID!) { event(id: $id) { goingCount waitlistCount myRsvp { status waitlistPosition } } }",
            json!({ "id": event }),
            Some(&user.access_token),
        )
        .await;
    body["data"]["event"].clone()
}

#[tokio::test]
async fn capacity_is_respected_and_the_waitlist_is_promoted_in_order() {
    let app = spawn_app().await;
    let host = app.register("host").await;
    let event = create_event(&app, &host, 2, None).await;
    let mut people = Vec::new();
    for name in ["ann", "ben", "cid", "dot"] {
        people.push(app.register(name).await);
    }
    assert_eq!(
        rsvp(&app, &people[0], &event).await["data"]["rsvp"],
        json!({ "status": "GOING", "waitlistPosition": null })
    );
    assert_eq!(rsvp(&app, &people[1], &event).await["data"]["rsvp"]["status"], "GOING");
    assert_eq!(
        rsvp(&app, &people[2], &event).await["data"]["rsvp"],
        json!({ "status": "WAITLISTED", "waitlistPosition": 1 })
    );
    assert_eq!(
        rsvp(&app, &people[3], &event).await["data"]["rsvp"],
        json!({ "status": "WAITLISTED", "waitlistPosition": 2 })
    );
    assert_eq!(error_code(&rsvp(&app, &people[0], &event).await), "CONFLICT", "one answer per person");

    let cancel = "mutation($i: EventIdInput!) { cancelRsvp(input: $i) { status } }";
    let body = app.gql(cancel, json!({ "i": { "eventId": event } }), Some(&people[0].access_token)).await;
    assert_eq!(body["data"]["cancelRsvp"]["status"], "CANCELLED");
    // The first in line got the place; the next moved up.
    assert_eq!(
        my_rsvp(&app, &people[2], &event).await["myRsvp"],
        json!({ "status": "GOING", "waitlistPosition": null })
    );
    let dot = my_rsvp(&app, &people[3], &event).await;
    assert_eq!(dot["myRsvp"], json!({ "status": "WAITLISTED", "waitlistPosition": 1 }));
    assert_eq!((dot["goingCount"].clone(), dot["waitlistCount"].clone()), (json!(2), json!(1)));

    // A waitlisted cancellation frees no place.
    app.gql(cancel, json!({ "i": { "eventId": event } }), Some(&people[3].access_token)).await;
    assert_eq!(my_rsvp(&app, &people[1], &event).await["goingCount"], 2);
    // Coming back puts you at the end of the line.
    assert_eq!(
        rsvp(&app, &people[0], &event).await["data"]["rsvp"],
        json!({ "status": "WAITLISTED", "waitlistPosition": 1 })
    );
}

#[tokio::test]
async fn the_online_link_reaches_only_going_attendees_and_hosts() {
    let app = spawn_app().await;
    let host = app.register("host").await;
    let ann = app.register("ann").await;
    let ben = app.register("ben").await;
    let eve = app.register("eve").await;
    let event = create_event(&app, &host, 1, None).await;
    rsvp(&app, &ann, &event).await;
    rsvp(&app, &ben, &event).await; // waitlisted
    let link = |user: Option<&TestUser>| {
        let token = user.map(|u| u.access_token.clone());
        let app = &app;
        let event = event.clone();
        async move {
            let body = app
                .gql(
                    "query($id: ID!) { event(id: $id) { isOnline onlineUrl } }",
                    json!({ "id": event }),
                    token.as_deref(),
                )
                .await;
            crate::helpers::assert_ok(&body);
            assert_eq!(body["data"]["event"]["isOnline"], true, "{body}");
            body["data"]["event"]["onlineUrl"].clone()
        }
    };
    assert_eq!(link(Some(&host)).await, "https://meet.example/secret");
    assert_eq!(link(Some(&ann)).await, "https://meet.example/secret");
    assert!(link(Some(&ben)).await.is_null(), "waitlisted people do not get the link");
    assert!(link(Some(&eve)).await.is_null());
    assert!(link(None).await.is_null());
}

#[tokio::test]
async fn private_community_events_are_hidden_and_bans_keep_people_out() {
    let app = spawn_app().await;
    let ada = app.register("ada").await;
    let bob = app.register("bob").await;
    let eve = app.register("eve").await;
    let private = create_community(&app, &ada, "secret-club", "PRIVATE").await;
    let event = create_event(&app, &ada, 10, Some(&private)).await;
    assert_eq!(
        error_code(
            &app.gql("query($id: ID!) { event(id: $id) { title } }", json!({ "id": event }), Some(&eve.access_token))
                .await
        ),
        "NOT_FOUND"
    );
    assert_eq!(error_code(&rsvp(&app, &eve, &event).await), "NOT_FOUND");
    let list = app.gql("{ events { edges { node { title } } } }", json!({}), Some(&eve.access_token)).await;
    assert_eq!(list["data"]["events"]["edges"], json!([]));
    let response = app.client.get(format!("{}/events/{event}.ics", app.address)).send().await.unwrap();
    assert_eq!(response.status(), reqwest::StatusCode::NOT_FOUND);

    // Only moderators create community events.
    let public = create_community(&app, &ada, "rustaceans", "PUBLIC").await;
    join(&app, &bob, &public).await;
    let start = Utc::now() + Duration::days(3);
    let body = app
        .gql(
            "mutation($i: CreateEventInput!) { createEvent(input: $i) { id } }",
            json!({ "i": { "communityId": public, "title": "x", "startsAt": start, "endsAt": start + Duration::hours(1), "timezone": "UTC", "venue": "v", "capacity": 3 } }),
            Some(&bob.access_token),
        )
        .await;
    assert_eq!(error_code(&body), "FORBIDDEN");
    let event = create_event(&app, &ada, 10, Some(&public)).await;
    ban(&app, &ada, &public, &bob).await;
    assert_eq!(error_code(&rsvp(&app, &bob, &event).await), "FORBIDDEN");
}

#[tokio::test]
async fn invalid_events_name_the_field() {
    let app = spawn_app().await;
    let ada = app.register("ada").await;
    let start = app.clock_now() + Duration::days(1);
    let base = json!({ "title": "t", "startsAt": start, "endsAt": start + Duration::hours(1), "timezone": "UTC", "venue": "v", "capacity": 5 });
    for (key, value, field) in [
        ("endsAt", json!(start - Duration::hours(1)), "endsAt"),
        ("startsAt", json!(app.clock_now() - Duration::hours(1)), "startsAt"),
        ("capacity", json!(0), "capacity"),
        ("onlineUrl", json!("javascript:alert(1)"), "onlineUrl"),
        ("timezone", json!("Mars/Olympus Mons"), "timezone"),
        ("timezone", json!("Mars/Olympus_Mons"), "timezone"),
        ("timezone", json!("Europe/Atlantis"), "timezone"),
    ] {
        let mut input = base.clone();
        input[key] = value;
        let body = app
            .gql(
                "mutation($i: CreateEventInput!) { createEvent(input: $i) { id } }",
                json!({ "i": input }),
                Some(&ada.access_token),
            )
            .await;
        assert_eq!(error_field(&body), field, "{body}");
    }
}

#[tokio::test]
async fn public_events_export_as_icalendar() {
    let app = spawn_app().await;
    let ada = app.register("ada").await;
    let event = create_event(&app, &ada, 10, None).await;
    let response = app.client.get(format!("{}/events/{event}.ics", app.address)).send().await.unwrap();
    assert_eq!(response.status(), reqwest::StatusCode::OK);
    assert!(response.headers()["content-type"].to_str().unwrap().starts_with("text/calendar"));
    let body = response.text().await.unwrap();
    assert!(body.starts_with("BEGIN:VCALENDAR\r\n"), "{body}");
    assert!(body.contains(&format!("UID:{event}@semasocial")));
    assert!(body.contains("SUMMARY:Rust meetup"));
    // The event's zone (Europe/Berlin) defines its local times.
    assert!(body.contains("BEGIN:VTIMEZONE\r\nTZID:Europe/Berlin\r\n"), "{body}");
    assert!(body.contains("DTSTART;TZID=Europe/Berlin:"), "{body}");
    assert!(!body.contains("meet.example"), "the online link is not public");
    let missing = app.client.get(format!("{}/events/{}.ics", app.address, uuid::Uuid::new_v4())).send().await.unwrap();
    assert_eq!(missing.status(), reqwest::StatusCode::NOT_FOUND);
}

#[tokio::test]
#[ignore = "needs PostgreSQL: concurrent RSVPs race only with several connections"]
async fn concurrent_rsvps_never_exceed_capacity_or_share_a_position() {
    let app = spawn_app().await;
    let host = app.register("host").await;
    let event = create_event(&app, &host, 5, None).await;
    let mut people = Vec::new();
    for i in 0..30 {
        people.push(app.register(&format!("fan_{i}")).await);
    }
    let answers = futures_util::future::join_all(people.iter().map(|p| rsvp(&app, p, &event))).await;
    let going = answers.iter().filter(|a| a["data"]["rsvp"]["status"] == "GOING").count();
    let waitlisted = answers.iter().filter(|a| a["data"]["rsvp"]["status"] == "WAITLISTED").count();
    assert_eq!((going, waitlisted), (5, 25), "{answers:?}");
    // Positions, read after the dust settles, are 1..=25 with no collision.
    let mut positions: Vec<u64> = Vec::new();
    for p in &people {
        if let Some(pos) = my_rsvp(&app, p, &event).await["myRsvp"]["waitlistPosition"].as_u64() {
            positions.push(pos);
        }
    }
    positions.sort_unstable();
    assert_eq!(positions, (1..=25).collect::<Vec<u64>>());
    assert_eq!(my_rsvp(&app, &host, &event).await["goingCount"], 5);
}

#[tokio::test]
async fn my_events_and_my_communities_list_what_is_mine_upcoming_then_past() {
    let app = spawn_app().await;
    let ada = app.register("ada").await;
    let bob = app.register("bob").await;
    let carol = app.register("carol").await;
    let dave = app.register("dave").await;
    let c = create_community(&app, &ada, "rustaceans", "PUBLIC").await;
    let other = create_community(&app, &carol, "gophers", "PUBLIC").await;
    join(&app, &bob, &c).await;
    join(&app, &bob, &other).await;
    let event = create_event(&app, &ada, 1, Some(&c)).await;
    assert_eq!(rsvp(&app, &bob, &event).await["data"]["rsvp"]["status"], "GOING");
    assert_eq!(rsvp(&app, &carol, &event).await["data"]["rsvp"]["status"], "WAITLISTED");
    rsvp(&app, &dave, &event).await;
    let cancelled = app
        .gql(
            "mutation($i: EventIdInput!) { cancelRsvp(input: $i) { status } }",
            json!({ "i": { "eventId": event } }),
            Some(&dave.access_token),
        )
        .await;
    assert_eq!(cancelled["data"]["cancelRsvp"]["status"], "CANCELLED", "{cancelled}");

    let events = |user: &TestUser, when: &str| {
        let (token, when) = (user.access_token.clone(), when.to_owned());
        let app = &app;
        async move {
            let body = app
                .gql(
                    "query($w: EventTime) { myEvents(when: $w) { edges { node { id } } } }",
                    json!({ "w": when }),
                    Some(&token),
                )
                .await;
            let edges = body["data"]["myEvents"]["edges"].as_array().unwrap_or_else(|| panic!("{body}")).clone();
            edges.iter().map(|e| e["node"]["id"].as_str().unwrap().to_owned()).collect::<Vec<_>>()
        }
    };
    // Host, going and waitlisted see it coming; a cancelled RSVP does not count.
    for user in [&ada, &bob, &carol] {
        assert_eq!(events(user, "UPCOMING").await, [event.as_str()], "{}", user.handle);
        assert!(events(user, "PAST").await.is_empty());
    }
    assert!(events(&dave, "UPCOMING").await.is_empty());

    // Once it is over, it is in the past.
    app.clock.advance(Duration::days(10));
    let bob = app.login(&bob).await;
    assert!(events(&bob, "UPCOMING").await.is_empty());
    assert_eq!(events(&bob, "PAST").await, [event.as_str()]);

    // Communities: latest joined first; only your own.
    let body = app.gql("{ myCommunities { edges { node { id slug } } } }", json!({}), Some(&bob.access_token)).await;
    let slugs: Vec<&str> = body["data"]["myCommunities"]["edges"]
        .as_array()
        .unwrap_or_else(|| panic!("{body}"))
        .iter()
        .map(|e| e["node"]["slug"].as_str().unwrap())
        .collect();
    assert_eq!(slugs, ["gophers", "rustaceans"]);
    let dave = app.login(&dave).await;
    let body = app.gql("{ myCommunities { edges { node { slug } } } }", json!({}), Some(&dave.access_token)).await;
    assert_eq!(body["data"]["myCommunities"]["edges"], json!([]));
    let anonymous = app.gql("{ myEvents { edges { node { id } } } }", json!({}), None).await;
    assert_eq!(error_code(&anonymous), "UNAUTHENTICATED");
}

const UPDATE: &str = "mutation($i: UpdateEventInput!) { updateEvent(input: $i) { title venue onlineUrl startsAt capacity goingCount waitlistCount } }";

async fn update(app: &TestApp, user: &TestUser, input: Value) -> Value {
    app.gql(UPDATE, json!({ "i": input }), Some(&user.access_token)).await
}

#[tokio::test]
async fn hosts_edit_an_event_and_attendees_hear_of_it_while_a_larger_capacity_serves_the_waitlist() {
    let app = spawn_app().await;
    let host = app.register("host").await;
    let event = create_event(&app, &host, 1, None).await;
    let ann = app.register("ann").await;
    let ben = app.register("ben").await;
    let cid = app.register("cid").await;
    let eve = app.register("eve").await;
    for who in [&ann, &ben, &cid] {
        rsvp(&app, who, &event).await;
    }

    // A new time and venue: everyone going or waitlisted is told; the host and strangers are not.
    let start = app.clock_now() + Duration::days(9);
    let body = update(
        &app,
        &host,
        json!({ "eventId": event, "startsAt": start, "endsAt": start + Duration::hours(3), "venue": "Hall B" }),
    )
    .await;
    let edited = &body["data"]["updateEvent"];
    assert_eq!((edited["venue"].as_str(), edited["capacity"].as_i64()), (Some("Hall B"), Some(1)), "{body}");
    assert_eq!(edited["title"], "Rust meetup", "untouched fields stay");
    for who in [&ann, &ben, &cid] {
        assert_eq!(app.inbox(who).await, ["event.updated"], "{}", who.handle);
    }
    assert!(app.inbox(&host).await.is_empty());
    assert!(app.inbox(&eve).await.is_empty());

    // Two more places promote ben and cid in waitlist order, in the same change.
    let body = update(&app, &host, json!({ "eventId": event, "capacity": 3 })).await;
    let edited = &body["data"]["updateEvent"];
    assert_eq!((edited["goingCount"].as_i64(), edited["waitlistCount"].as_i64()), (Some(3), Some(0)), "{body}");
    for who in [&ben, &cid] {
        assert_eq!(my_rsvp(&app, who, &event).await["myRsvp"]["status"], "GOING");
        assert_eq!(app.inbox(who).await, ["event.rsvp_promoted", "event.updated"], "{}", who.handle);
    }
    assert_eq!(app.inbox(&ann).await, ["event.updated"], "a capacity change alone tells only the promoted");
    assert_eq!(my_rsvp(&app, &ben, &event).await["myRsvp"]["status"], "GOING");
    // Going people are never pushed out: the capacity cannot drop below them.
    let body = update(&app, &host, json!({ "eventId": event, "capacity": 2 })).await;
    assert_eq!((error_code(&body), error_field(&body)), ("BAD_USER_INPUT", "capacity"), "{body}");
    // The same values again change nothing and tell nobody.
    update(&app, &host, json!({ "eventId": event, "venue": "Hall B", "capacity": 3 })).await;
    assert_eq!(app.inbox(&ann).await.len(), 1);
    assert_eq!(app.count("event_rsvps").await, 3);
}

#[tokio::test]
async fn only_hosts_edit_scheduled_events_with_valid_fields() {
    let app = spawn_app().await;
    let host = app.register("host").await;
    let ann = app.register("ann").await;
    let event = create_event(&app, &host, 5, None).await;

    let body = update(&app, &ann, json!({ "eventId": event, "title": "Mine now" })).await;
    assert_eq!(error_code(&body), "FORBIDDEN", "{body}");
    let body = app.gql(UPDATE, json!({ "i": { "eventId": event, "title": "Anon" } }), None).await;
    assert_eq!(error_code(&body), "UNAUTHENTICATED");
    let past = app.clock_now() - Duration::hours(1);
    let cases = [
        (json!({ "eventId": event, "startsAt": past }), "startsAt"),
        (json!({ "eventId": event, "endsAt": app.clock_now() + Duration::days(6) }), "endsAt"),
        (json!({ "eventId": event, "venue": null, "onlineUrl": null }), "venue"),
        (json!({ "eventId": event, "onlineUrl": "ftp://x" }), "onlineUrl"),
        (json!({ "eventId": event, "timezone": "Mars/Olympus_Mons" }), "timezone"),
        (json!({ "eventId": event, "capacity": 0 }), "capacity"),
        (json!({ "eventId": event, "title": "  " }), "title"),
    ];
    for (input, field) in cases {
        let body = update(&app, &host, input).await;
        assert_eq!((error_code(&body), error_field(&body)), ("BAD_USER_INPUT", field), "{body}");
    }
    // Clearing the venue keeps the online link; the link is no business of the activity feed.
    let body =
        update(&app, &host, json!({ "eventId": event, "venue": null, "onlineUrl": "https://meet.example/new" })).await;
    assert_eq!(body["data"]["updateEvent"]["venue"], Value::Null, "{body}");
    use sea_orm::{ColumnTrait, EntityTrait, QueryFilter};
    let activity = entity::activity::Entity::find()
        .filter(entity::activity::Column::Action.eq("event.updated"))
        .one(&app.state.db)
        .await
        .unwrap()
        .unwrap();
    let after = activity.after.unwrap();
    assert_eq!(after["changed"], json!(["venue", "onlineUrl"]));
    assert_eq!(after["onlineUrl"], true, "{after}");
    assert!(!after.to_string().contains("meet.example"), "{after}");

    let cancel = "mutation($i: EventIdInput!) { cancelEvent(input: $i) { status } }";
    app.gql(cancel, json!({ "i": { "eventId": event } }), Some(&host.access_token)).await;
    let body = update(&app, &host, json!({ "eventId": event, "title": "Back on" })).await;
    assert_eq!(error_code(&body), "CONFLICT", "{body}");
}
