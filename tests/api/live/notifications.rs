//! Notifications: the inbox and its live stream, organization activity, offers, and waitlist promotions.
use serde_json::{Value, json};

use super::{next_of, post};
use crate::{
    communities::{create_community, join},
    events::{subscribe, ws_connect},
    helpers::spawn_app,
    organizations::{add, create_org},
};

const NOTIFICATIONS: &str = "query($unread: Boolean) { unreadNotificationCount notifications(first: 10, unreadOnly: $unread) { edges { node { id action subjectId readAt } } } }";

#[tokio::test]
async fn replies_and_join_decisions_reach_the_inbox_which_only_its_owner_reads_and_marks() {
    let app = spawn_app().await;
    let ada = app.register("ada").await;
    let bob = app.register("bob").await;
    let eve = app.register("eve").await;
    let c = create_community(&app, &ada, "rustaceans", "PUBLIC").await;
    join(&app, &bob, &c).await;
    let p = post(&app, &ada, &c, "Hello").await;

    let mut ws = ws_connect(&app, &ada.access_token).await;
    subscribe(&app, &mut ws, "subscription { notifications { id action subjectId readAt } }", json!({})).await;
    let comment = "mutation($i: CreateCommentInput!) { createComment(input: $i) { id } }";
    let reply = app.gql(comment, json!({ "i": { "postId": p, "body": "Welcome!" } }), Some(&bob.access_token)).await;
    let reply_id = reply["data"]["createComment"]["id"].as_str().unwrap_or_else(|| panic!("{reply}")).to_owned();
    // Ada's own comment on her post notifies nobody.
    app.gql(comment, json!({ "i": { "postId": p, "body": "Thanks" } }), Some(&ada.access_token)).await;

    let live = next_of(&mut ws, "1").await;
    let live = &live["payload"]["data"]["notifications"];
    assert_eq!(
        (live["action"].as_str(), live["subjectId"].as_str()),
        (Some("comment.created"), Some(reply_id.as_str()))
    );
    assert!(live["readAt"].is_null());

    let inbox = app.gql(NOTIFICATIONS, json!({}), Some(&ada.access_token)).await;
    assert_eq!(inbox["data"]["unreadNotificationCount"], 1, "{inbox}");
    let edges = inbox["data"]["notifications"]["edges"].as_array().unwrap_or_else(|| panic!("{inbox}"));
    assert_eq!(edges.len(), 1);
    assert_eq!(edges[0]["node"]["id"], live["id"]);

    // Others neither see Ada's inbox nor mark it.
    let theirs = app.gql(NOTIFICATIONS, json!({}), Some(&bob.access_token)).await;
    assert_eq!(theirs["data"]["unreadNotificationCount"], 0, "{theirs}");
    let mark = "mutation($i: MarkNotificationsReadInput!) { markNotificationsRead(input: $i) { marked unreadCount } }";
    let tried = app.gql(mark, json!({ "i": { "ids": [live["id"]] } }), Some(&eve.access_token)).await;
    assert_eq!(tried["data"]["markNotificationsRead"]["marked"], 0, "{tried}");
    let anonymous = app.gql(NOTIFICATIONS, json!({}), None).await;
    assert_eq!(crate::helpers::error_code(&anonymous), "UNAUTHENTICATED");
    let both = app.gql(mark, json!({ "i": { "ids": [live["id"]], "all": true } }), Some(&ada.access_token)).await;
    assert_eq!(crate::helpers::error_code(&both), "BAD_USER_INPUT");

    let marked = app.gql(mark, json!({ "i": { "all": true } }), Some(&ada.access_token)).await;
    assert_eq!(marked["data"]["markNotificationsRead"], json!({ "marked": 1, "unreadCount": 0 }), "{marked}");
    let again = app.gql(mark, json!({ "i": { "all": true } }), Some(&ada.access_token)).await;
    assert_eq!(again["data"]["markNotificationsRead"]["marked"], 0, "idempotent");
    let read = app.gql(NOTIFICATIONS, json!({}), Some(&ada.access_token)).await;
    assert!(read["data"]["notifications"]["edges"][0]["node"]["readAt"].is_string(), "{read}");
    let unread = app.gql(NOTIFICATIONS, json!({ "unread": true }), Some(&ada.access_token)).await;
    assert_eq!(unread["data"]["notifications"]["edges"], json!([]));

    // A private community's join decision reaches the requester.
    let private = create_community(&app, &ada, "inner", "PRIVATE").await;
    let asked = join(&app, &eve, &private).await;
    let request = asked["data"]["joinCommunity"]["joinRequest"]["id"].as_str().unwrap_or_else(|| panic!("{asked}"));
    let decide = "mutation($i: JoinRequestIdInput!) { approveJoinRequest(input: $i) { status } }";
    let decided = app.gql(decide, json!({ "i": { "requestId": request } }), Some(&ada.access_token)).await;
    assert!(decided["errors"].is_null(), "{decided}");
    let eves = app.gql(NOTIFICATIONS, json!({}), Some(&eve.access_token)).await;
    assert_eq!(eves["data"]["notifications"]["edges"][0]["node"]["action"], "community.join_approved", "{eves}");
}

#[tokio::test]
async fn organization_admins_receive_their_contracts_activity_and_invitations_and_members_do_not() {
    let app = spawn_app().await;
    let ada = app.register("ada").await;
    let bob = app.register("bob").await;
    let cat = app.register("cat").await;
    app.register("dan").await;
    let org = create_org(&app, &ada, "acme").await;
    add(&app, &ada, &org, "bob", "MEMBER").await;
    add(&app, &ada, &org, "cat", "ADMIN").await;
    let query = "subscription($o: ID!) { organizationActivity(organizationId: $o) { id action } }";
    let mut member = ws_connect(&app, &bob.access_token).await;
    subscribe(&app, &mut member, query, json!({ "o": org })).await;
    let mut admin = ws_connect(&app, &cat.access_token).await;
    subscribe(&app, &mut admin, query, json!({ "o": org })).await;

    crate::work::contract(&app, &ada, Some(&org), 10_000).await;
    add(&app, &ada, &org, "dan", "MEMBER").await;
    let action = |m: Value| m["payload"]["data"]["organizationActivity"]["action"].as_str().unwrap().to_owned();
    assert_eq!(action(next_of(&mut admin, "1").await), "contract.created");
    assert_eq!(action(next_of(&mut admin, "1").await), "organization.invitation_sent");
    assert_eq!(action(next_of(&mut admin, "1").await), "organization.invitation_accepted");
    assert_eq!(action(next_of(&mut admin, "1").await), "organization.member_added");
    assert_eq!(
        action(next_of(&mut member, "1").await),
        "organization.member_added",
        "no contract and no invitation for members"
    );
}

#[tokio::test]
async fn offers_and_agent_assignments_reach_the_worker_and_the_agents_operator() {
    use crate::work::{activate, agent, contract, outcome, task, worker};
    let app = spawn_app().await;
    let client = app.register("ada").await;
    let bob = worker(&app, "bob", json!([{ "skill": "design", "level": 5 }])).await;
    let operator = app.register("olga").await;
    agent(&app, &operator, "bot", json!([{ "skill": "sql", "level": 5 }]), json!(["TASKS_READ", "TASKS_WRITE"])).await;
    let c = contract(&app, &client, None, 10_000).await;
    let o = outcome(&app, &client, &c, "Report", 10_000, json!([{ "description": "Approved" }])).await;
    task(&app, &client, &o, json!({ "title": "Design", "mode": "JUDGMENT", "skills": ["design"] })).await;
    task(&app, &client, &o, json!({ "title": "Query", "mode": "AUTOMATED", "skills": ["sql"] })).await;
    activate(&app, &client, &c).await;

    let actions = |body: &Value| -> Vec<String> {
        body["data"]["notifications"]["edges"]
            .as_array()
            .unwrap_or_else(|| panic!("{body}"))
            .iter()
            .map(|e| e["node"]["action"].as_str().unwrap().to_owned())
            .collect()
    };
    let bobs = app.gql(NOTIFICATIONS, json!({}), Some(&bob.access_token)).await;
    assert_eq!(actions(&bobs), ["task.offered"], "a person is offered the judgment task");
    let olgas = app.gql(NOTIFICATIONS, json!({}), Some(&operator.access_token)).await;
    assert_eq!(actions(&olgas), ["task.assigned"], "the agent's assignment reaches its operator");
    // The client acted; its own inbox stays empty.
    let clients = app.gql(NOTIFICATIONS, json!({}), Some(&client.access_token)).await;
    assert_eq!(actions(&clients), Vec::<String>::new());
}

#[tokio::test]
async fn a_waitlisted_person_promoted_by_a_cancellation_is_notified() {
    let app = spawn_app().await;
    let host = app.register("ada").await;
    let first = app.register("bob").await;
    let waiting = app.register("cat").await;
    let event = crate::rsvps::create_event(&app, &host, 1, None).await;
    let rsvp = "mutation($i: EventIdInput!) { rsvp(input: $i) { status } }";
    let going = app.gql(rsvp, json!({ "i": { "eventId": event } }), Some(&first.access_token)).await;
    assert_eq!(going["data"]["rsvp"]["status"], "GOING", "{going}");
    let listed = app.gql(rsvp, json!({ "i": { "eventId": event } }), Some(&waiting.access_token)).await;
    assert_eq!(listed["data"]["rsvp"]["status"], "WAITLISTED", "{listed}");
    let cancel = "mutation($i: EventIdInput!) { cancelRsvp(input: $i) { status } }";
    app.gql(cancel, json!({ "i": { "eventId": event } }), Some(&first.access_token)).await;

    let inbox = app.gql(NOTIFICATIONS, json!({}), Some(&waiting.access_token)).await;
    let node = &inbox["data"]["notifications"]["edges"][0]["node"];
    assert_eq!(
        (node["action"].as_str(), node["subjectId"].as_str()),
        (Some("event.rsvp_promoted"), Some(event.as_str()))
    );
    assert_eq!(inbox["data"]["unreadNotificationCount"], 1, "{inbox}");
    let theirs = app.gql(NOTIFICATIONS, json!({}), Some(&first.access_token)).await;
    assert_eq!(theirs["data"]["unreadNotificationCount"], 0, "cancelling notifies nobody but the promoted");
}
