//! Domain events: published after commit, delivered over WebSocket, shared through Redis.
use std::time::Duration;

use futures_util::{SinkExt, StreamExt};
use serde_json::{Value, json};
use tokio_tungstenite::tungstenite::{Message, client::IntoClientRequest};

use crate::{
    helpers::{TestApp, spawn_app, spawn_app_with},
    organizations::{add, create_org, invite},
};

/// Waits (bounded, so a broken bus fails instead of hanging) for the next event a listener
/// receives, with its position on the listened stream.
pub async fn next_event(listener: &mut semasocial::events::Listener) -> (semasocial::events::DomainEvent, i64) {
    loop {
        let delivery = tokio::time::timeout(Duration::from_secs(10), listener.recv())
            .await
            .expect("an event arrives")
            .expect("hub open");
        if let semasocial::events::Delivery::Event { event, seq } = delivery {
            return ((*event).clone(), seq);
        }
    }
}

#[tokio::test]
async fn a_committed_change_publishes_its_activity_as_an_event_at_the_next_position() {
    let app = spawn_app().await;
    let ada = app.register("ada").await;
    app.register("bob").await;
    let org = create_org(&app, &ada, "acme").await;
    let topic = format!("organization:{org}");
    let mut listener = app.state.bus.hub().listen(&topic);
    invite(&app, &ada, &org, "bob", "ADMIN").await;

    let (event, seq) = next_event(&mut listener).await;
    assert_eq!(event.action, "organization.invitation_sent");
    assert_eq!(seq, 2, "organization.created holds position 1 of the organization's stream");
    assert_eq!(event.topic, topic);
    let after = event.after.clone().unwrap();
    assert_eq!((after["role"].as_str(), after["status"].as_str()), (Some("ADMIN"), Some("PENDING")));
    assert_eq!(event.actor_profile_id.map(|p| p.to_string()), Some(ada.profile_id.clone()));
    // The event is the activity record: same id, in the database, filed under its stream.
    use sea_orm::{ColumnTrait, EntityTrait, QueryFilter, QueryOrder};
    let row = entity::activity::Entity::find_by_id(event.id).one(&app.state.db).await.unwrap().expect("activity row");
    assert_eq!(row.action, "organization.invitation_sent");
    let filed: Vec<(i64, i64)> = entity::activity_stream::Entity::find()
        .filter(entity::activity_stream::Column::Stream.eq(topic.as_str()))
        .order_by_asc(entity::activity_stream::Column::Seq)
        .all(&app.state.db)
        .await
        .unwrap()
        .into_iter()
        .map(|r| (r.seq, r.activity_id))
        .collect();
    assert_eq!(filed.len(), 2);
    assert_eq!(filed[1], (2, event.id));
    assert!(filed[0].1 < event.id, "positions follow commit order");
}

#[tokio::test]
async fn a_refused_change_publishes_nothing_and_records_nothing() {
    let app = spawn_app().await;
    let ada = app.register("ada").await;
    let org = create_org(&app, &ada, "acme").await;
    let topic = format!("organization:{org}");
    let mut listener = app.state.bus.hub().listen(&topic);
    let activities = app.count("activities").await;
    let positions = app.count("activity_streams").await;

    // The last owner cannot leave: the transaction rolls back.
    let body = app
        .gql(
            "mutation($i: LeaveOrganizationInput!) { leaveOrganization(input: $i) }",
            json!({ "i": { "organizationId": org } }),
            Some(&ada.access_token),
        )
        .await;
    assert_eq!(crate::helpers::error_code(&body), "CONFLICT");

    // The next thing on the organization's stream is a later, successful change, at the very
    // next position: the refused change took none.
    app.register("bob").await;
    invite(&app, &ada, &org, "bob", "MEMBER").await;
    let (event, seq) = next_event(&mut listener).await;
    assert_eq!((event.action.as_str(), seq), ("organization.invitation_sent", 2));
    assert_eq!(app.count("activities").await, activities + 3, "bob's registration, token and invitation only");
    assert!(app.count("activity_streams").await >= positions + 3);
}

pub async fn ws_connect(
    app: &TestApp,
    token: &str,
) -> tokio_tungstenite::WebSocketStream<tokio_tungstenite::MaybeTlsStream<tokio::net::TcpStream>> {
    let mut request = format!("ws://127.0.0.1:{}/graphql", app.port).into_client_request().unwrap();
    request.headers_mut().insert("sec-websocket-protocol", "graphql-transport-ws".parse().unwrap());
    let (mut ws, response) = tokio_tungstenite::connect_async(request).await.expect("websocket connects");
    assert_eq!(response.headers()["sec-websocket-protocol"], "graphql-transport-ws");
    ws.send(Message::text(
        json!({ "type": "connection_init", "payload": { "authorization": format!("Bearer {token}") } }).to_string(),
    ))
    .await
    .unwrap();
    let ack = next_json(&mut ws).await;
    assert_eq!(ack["type"], "connection_ack", "{ack}");
    ws
}

/// The client side of a test WebSocket.
pub type Ws = tokio_tungstenite::WebSocketStream<tokio_tungstenite::MaybeTlsStream<tokio::net::TcpStream>>;

/// Starts subscription `id` and returns once the server holds it (the bus counts one more
/// subscriber), so an event published next reaches it: no retries, no time windows.
pub async fn subscribe(app: &TestApp, ws: &mut Ws, query: &str, variables: Value) {
    let before = app.state.bus.subscriber_count();
    let message = json!({ "id": "1", "type": "subscribe", "payload": { "query": query, "variables": variables } });
    ws.send(Message::text(message.to_string())).await.unwrap();
    app.wait_for_subscribers(before + 1).await;
}

/// The next `next` message whose `field` carries `action`; events published before the
/// subscription started (which Redis may still deliver) are skipped.
pub async fn next_action(ws: &mut Ws, field: &str, action: &str) -> Value {
    loop {
        let value = next_json(ws).await;
        if value["type"] != "next" || value["payload"]["data"][field]["action"] == action {
            return value;
        }
    }
}

pub async fn next_json(
    ws: &mut tokio_tungstenite::WebSocketStream<tokio_tungstenite::MaybeTlsStream<tokio::net::TcpStream>>,
) -> Value {
    loop {
        let message = tokio::time::timeout(Duration::from_secs(10), ws.next())
            .await
            .expect("a message arrives")
            .expect("open")
            .unwrap();
        if let Message::Text(text) = message {
            return serde_json::from_str(&text).unwrap();
        }
    }
}

#[tokio::test]
async fn members_follow_organization_activity_over_websocket() {
    let app = spawn_app().await;
    let ada = app.register("ada").await;
    let candidates = ["bob", "carol", "dave", "erin", "frank"];
    for handle in candidates {
        app.register(handle).await;
    }
    let org = create_org(&app, &ada, "acme").await;
    let mut ws = ws_connect(&app, &ada.access_token).await;
    subscribe(
        &app,
        &mut ws,
        "subscription($o: ID!) { organizationActivity(organizationId: $o) { action subjectId after } }",
        json!({ "o": org }),
    )
    .await;
    for handle in candidates {
        add(&app, &ada, &org, handle, "MEMBER").await;
        let message = next_action(&mut ws, "organizationActivity", "organization.member_added").await;
        assert_eq!(message["type"], "next", "{message}");
        let event = &message["payload"]["data"]["organizationActivity"];
        assert_eq!(event["action"], "organization.member_added");
        assert_eq!(event["after"], json!({ "role": "MEMBER" }));
    }
}

#[tokio::test]
async fn outsiders_cannot_follow_an_organization() {
    let app = spawn_app().await;
    let ada = app.register("ada").await;
    let eve = app.register("eve").await;
    let org = create_org(&app, &ada, "acme").await;
    let mut ws = ws_connect(&app, &eve.access_token).await;
    let subscribe = json!({ "id": "1", "type": "subscribe", "payload": {
        "query": "subscription($o: ID!) { organizationActivity(organizationId: $o) { action } }",
        "variables": { "o": org }
    }});
    ws.send(Message::text(subscribe.to_string())).await.unwrap();
    let message = next_json(&mut ws).await;
    let code = message["payload"]["errors"][0]["extensions"]["code"].clone();
    assert!(message["type"] == "next" || message["type"] == "error", "{message}");
    let code = if code.is_null() { message["payload"][0]["extensions"]["code"].clone() } else { code };
    assert_eq!(code, "FORBIDDEN", "{message}");
}

#[tokio::test]
#[ignore = "needs Redis (TEST_REDIS_URL): events crossing server instances"]
async fn an_event_committed_on_one_instance_reaches_subscribers_of_another() {
    assert!(std::env::var("TEST_REDIS_URL").is_ok(), "set TEST_REDIS_URL");
    // Two instances of one deployment share the Redis namespace.
    let namespace = format!("semasocial-test-{}", uuid::Uuid::new_v4().simple());
    let a = spawn_app_with({
        let n = namespace.clone();
        move |c| c.redis_namespace = n
    })
    .await;
    let b = spawn_app_with(move |c| c.redis_namespace = namespace).await;
    let ada = a.register("ada").await;
    a.register("bob").await;
    let org = create_org(&a, &ada, "acme").await;
    let mut on_b = b.state.bus.hub().listen(&format!("organization:{org}"));
    invite(&a, &ada, &org, "bob", "MEMBER").await;
    // Instance B receives A's event with its position on the stream (the organization's
    // creation, published before B listened, may still be in flight through Redis: position 1).
    let (event, seq) = loop {
        let (event, seq) = next_event(&mut on_b).await;
        if seq > 1 {
            break (event, seq);
        }
        assert_eq!(event.action, "organization.created");
    };
    assert_eq!((event.action.as_str(), seq), ("organization.invitation_sent", 2));
}

#[tokio::test]
async fn community_members_see_rsvp_counts_live() {
    let app = spawn_app().await;
    let ada = app.register("ada").await;
    let c = crate::communities::create_community(&app, &ada, "rustaceans", "PUBLIC").await;
    let event = crate::rsvps::create_event(&app, &ada, 10, Some(&c)).await;
    let mut ws = ws_connect(&app, &ada.access_token).await;
    subscribe(
        &app,
        &mut ws,
        "subscription($c: ID!) { communityActivity(communityId: $c) { action after } }",
        json!({ "c": c }),
    )
    .await;
    let fan = app.register("fan").await;
    app.gql(
        "mutation($i: EventIdInput!) { rsvp(input: $i) { status } }",
        json!({ "i": { "eventId": event } }),
        Some(&fan.access_token),
    )
    .await;
    let message = next_action(&mut ws, "communityActivity", "event.rsvp").await;
    let update = &message["payload"]["data"]["communityActivity"];
    assert_eq!(update["action"], "event.rsvp", "{message}");
    assert_eq!(update["after"]["status"], "GOING");
    assert_eq!(update["after"]["goingCount"], 1, "the fan is the first to go");
    assert_eq!(update["after"]["capacity"], 10);
}
