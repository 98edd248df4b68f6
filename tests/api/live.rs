//! Live updates over real sockets: the graphql-transport-ws protocol to the letter, the
//! legacy protocol, resuming with `after`, access that follows changes, the shared mutation
//! limit, notifications, several instances and a Redis outage.
use std::time::Duration;

use futures_util::{SinkExt, StreamExt};
use serde_json::{Value, json};
use tokio_tungstenite::tungstenite::{Message, client::IntoClientRequest};

use crate::{
    communities::{ban, create_community, join},
    events::{Ws, next_json, subscribe, ws_connect},
    helpers::{TestApp, TestUser, spawn_app, spawn_app_with},
    organizations::{add, create_org},
};

/// A socket speaking `protocol`, not yet initialised.
async fn raw(app: &TestApp, protocol: &str) -> Ws {
    let mut request = format!("ws://127.0.0.1:{}/graphql", app.port).into_client_request().unwrap();
    request.headers_mut().insert("sec-websocket-protocol", protocol.parse().unwrap());
    let (ws, response) = tokio_tungstenite::connect_async(request).await.expect("websocket connects");
    assert_eq!(response.headers()["sec-websocket-protocol"], protocol);
    ws
}

async fn send(ws: &mut Ws, message: Value) {
    ws.send(Message::text(message.to_string())).await.unwrap();
}

/// Reads until the server closes; returns the close code and reason (panics on a close
/// without a frame, which is what the stock handler did on unknown messages).
async fn close_of(ws: &mut Ws) -> (u16, String) {
    loop {
        let message = tokio::time::timeout(Duration::from_secs(10), ws.next()).await.expect("the server closes");
        match message {
            Some(Ok(Message::Close(Some(frame)))) => return (frame.code.into(), frame.reason.to_string()),
            Some(Ok(Message::Close(None))) | None | Some(Err(_)) => panic!("closed without a close frame"),
            Some(Ok(_)) => {}
        }
    }
}

fn init(token: Option<&str>) -> Value {
    match token {
        Some(t) => json!({ "type": "connection_init", "payload": { "authorization": format!("Bearer {t}") } }),
        None => json!({ "type": "connection_init" }),
    }
}

const COMMUNITY: &str = "subscription($c: ID!, $after: ID) { communityActivity(communityId: $c, after: $after) { id action subjectId after } }";

fn subscribe_message(id: &str, query: &str, variables: Value) -> Value {
    json!({ "id": id, "type": "subscribe", "payload": { "query": query, "variables": variables } })
}

async fn post(app: &TestApp, user: &TestUser, community: &str, title: &str) -> String {
    let body = app
        .gql(
            "mutation($i: CreatePostInput!) { createPost(input: $i) { id } }",
            json!({ "i": { "communityId": community, "title": title, "body": "text" } }),
            Some(&user.access_token),
        )
        .await;
    body["data"]["createPost"]["id"].as_str().unwrap_or_else(|| panic!("{body}")).to_owned()
}

/// The next `next` payload of operation `id`, or the terminal `error` message.
async fn next_of(ws: &mut Ws, id: &str) -> Value {
    loop {
        let message = next_json(ws).await;
        if message["id"] == id {
            return message;
        }
    }
}

/// The code of an `error` message (graphql-transport-ws: a list of errors).
fn error_code_of(message: &Value) -> &str {
    assert_eq!(message["type"], "error", "{message}");
    message["payload"][0]["extensions"]["code"].as_str().unwrap_or_else(|| panic!("no code: {message}"))
}

#[tokio::test]
async fn each_protocol_misuse_closes_with_its_code() {
    let app = spawn_app().await;
    let ada = app.register("ada").await;
    let c = create_community(&app, &ada, "rustaceans", "PUBLIC").await;

    // Subscribe before connection_ack: 4401.
    let mut ws = raw(&app, "graphql-transport-ws").await;
    send(&mut ws, subscribe_message("1", COMMUNITY, json!({ "c": c }))).await;
    assert_eq!(close_of(&mut ws).await.0, 4401);

    // Not JSON: 4400 with a short reason.
    let mut ws = raw(&app, "graphql-transport-ws").await;
    ws.send(Message::text("{not json")).await.unwrap();
    let (code, reason) = close_of(&mut ws).await;
    assert_eq!(code, 4400);
    assert!(!reason.is_empty() && reason.len() <= 123, "{reason}");
    assert!(!reason.contains("line") && !reason.contains("column"), "no parser internals: {reason}");

    // An unknown message type: 4400, naming it, within 123 bytes even for a huge name.
    let mut ws = raw(&app, "graphql-transport-ws").await;
    send(&mut ws, init(Some(&ada.access_token))).await;
    assert_eq!(next_json(&mut ws).await["type"], "connection_ack");
    send(&mut ws, json!({ "type": "x".repeat(500) })).await;
    let (code, reason) = close_of(&mut ws).await;
    assert_eq!(code, 4400);
    assert!(reason.len() <= 123 && reason.contains("xxx"), "{reason}");

    // A bad token at init: 4403.
    let mut ws = raw(&app, "graphql-transport-ws").await;
    send(&mut ws, init(Some("not-a-token"))).await;
    assert_eq!(close_of(&mut ws).await.0, 4403);

    // A second init: 4429.
    let mut ws = raw(&app, "graphql-transport-ws").await;
    send(&mut ws, init(None)).await;
    assert_eq!(next_json(&mut ws).await["type"], "connection_ack");
    send(&mut ws, init(None)).await;
    assert_eq!(close_of(&mut ws).await.0, 4429);

    // An id already in use: 4409.
    let mut ws = ws_connect(&app, &ada.access_token).await;
    subscribe(&app, &mut ws, COMMUNITY, json!({ "c": c })).await;
    send(&mut ws, subscribe_message("1", COMMUNITY, json!({ "c": c }))).await;
    assert_eq!(close_of(&mut ws).await.0, 4409);

    // A socket offering no GraphQL subprotocol is refused before the upgrade.
    let request = format!("ws://127.0.0.1:{}/graphql", app.port).into_client_request().unwrap();
    assert!(tokio_tungstenite::connect_async(request).await.is_err());
}

#[tokio::test]
async fn a_socket_that_never_initialises_closes_4408() {
    let app = spawn_app_with(|c| c.websocket.init_timeout = Duration::from_millis(100)).await;
    let mut ws = raw(&app, "graphql-transport-ws").await;
    let (code, reason) = close_of(&mut ws).await;
    assert_eq!((code, reason.as_str()), (4408, "Connection initialisation timeout"));
}

#[tokio::test]
async fn ping_pong_queries_and_an_invalid_document_leave_the_socket_open() {
    let app = spawn_app().await;
    let ada = app.register("ada").await;
    let mut ws = ws_connect(&app, &ada.access_token).await;

    send(&mut ws, json!({ "type": "ping", "payload": { "at": 1 } })).await;
    assert_eq!(next_json(&mut ws).await, json!({ "type": "pong", "payload": { "at": 1 } }));

    // An invalid document is an `error` for that operation, with a code; the socket stays.
    send(&mut ws, subscribe_message("bad", "subscription { nothingHere }", json!({}))).await;
    let message = next_of(&mut ws, "bad").await;
    assert_eq!(message["type"], "error", "{message}");
    assert!(message["payload"][0]["message"].as_str().unwrap().contains("nothingHere"), "{message}");

    // A query runs over the same socket: `next`, then `complete`.
    send(&mut ws, subscribe_message("q", "{ me { profile { handle } } }", json!({}))).await;
    let message = next_of(&mut ws, "q").await;
    assert_eq!(message["type"], "next");
    assert_eq!(message["payload"]["data"]["me"]["profile"]["handle"], "ada");
    assert_eq!(next_of(&mut ws, "q").await, json!({ "type": "complete", "id": "q" }));

    // Logging in is for HTTP (its limits live there).
    let login = "mutation { login(input: { email: \"ada@example.com\", password: \"x\" }) { accessToken } }";
    send(&mut ws, subscribe_message("l", login, json!({}))).await;
    assert_eq!(error_code_of(&next_of(&mut ws, "l").await), "BAD_USER_INPUT");
}

#[tokio::test]
async fn shutting_down_closes_live_sockets_with_1001() {
    let app = spawn_app().await;
    let ada = app.register("ada").await;
    let c = create_community(&app, &ada, "rustaceans", "PUBLIC").await;
    let mut ws = ws_connect(&app, &ada.access_token).await;
    subscribe(&app, &mut ws, COMMUNITY, json!({ "c": c })).await;
    app.state.shutdown.send_replace(true);
    assert_eq!(close_of(&mut ws).await.0, 1001);
}

#[tokio::test]
async fn the_legacy_graphql_ws_protocol_still_works() {
    let app = spawn_app().await;
    let ada = app.register("ada").await;
    let c = create_community(&app, &ada, "rustaceans", "PUBLIC").await;
    let mut ws = raw(&app, "graphql-ws").await;
    send(&mut ws, init(Some(&ada.access_token))).await;
    assert_eq!(next_json(&mut ws).await["type"], "connection_ack");
    let before = app.state.bus.subscriber_count();
    send(&mut ws, json!({ "id": "1", "type": "start", "payload": { "query": COMMUNITY, "variables": { "c": c } } }))
        .await;
    app.wait_for_subscribers(before + 1).await;
    post(&app, &ada, &c, "Hello").await;
    let message = next_of(&mut ws, "1").await;
    assert_eq!(message["type"], "data", "{message}");
    assert_eq!(message["payload"]["data"]["communityActivity"]["action"], "post.created");
    send(&mut ws, json!({ "id": "1", "type": "stop" })).await;
    send(&mut ws, json!({ "type": "connection_terminate" })).await;
    let end = tokio::time::timeout(Duration::from_secs(10), ws.next()).await.expect("closed");
    assert!(matches!(end, None | Some(Ok(Message::Close(_))) | Some(Err(_))), "{end:?}");
}

/// The `communityActivity` events of a socket, until `n` have arrived.
async fn activity(ws: &mut Ws, n: usize) -> Vec<Value> {
    let mut events = Vec::new();
    while events.len() < n {
        let message = next_of(ws, "1").await;
        assert_eq!(message["type"], "next", "{message}");
        events.push(message["payload"]["data"]["communityActivity"].clone());
    }
    events
}

#[tokio::test]
async fn a_subscriber_resumes_after_the_last_event_it_saw_with_nothing_lost_or_repeated() {
    let app = spawn_app().await;
    let ada = app.register("ada").await;
    let c = create_community(&app, &ada, "rustaceans", "PUBLIC").await;
    let mut ws = ws_connect(&app, &ada.access_token).await;
    subscribe(&app, &mut ws, COMMUNITY, json!({ "c": c })).await;
    let a = post(&app, &ada, &c, "A").await;
    let seen = activity(&mut ws, 1).await;
    assert_eq!((seen[0]["action"].as_str(), seen[0]["subjectId"].as_str()), (Some("post.created"), Some(a.as_str())));
    let last = seen[0]["id"].as_str().unwrap().to_owned();
    drop(ws);

    // Offline: two posts happen.
    let b = post(&app, &ada, &c, "B").await;
    let c2 = post(&app, &ada, &c, "C").await;

    // Back, resuming after the last event seen: the two missed posts are replayed from the
    // outbox, then the live one follows: no gap, no duplicate at the seam.
    let mut ws = ws_connect(&app, &ada.access_token).await;
    subscribe(&app, &mut ws, COMMUNITY, json!({ "c": c, "after": last })).await;
    let d = post(&app, &ada, &c, "D").await;
    let events = activity(&mut ws, 3).await;
    let subjects: Vec<&str> = events.iter().map(|e| e["subjectId"].as_str().unwrap()).collect();
    assert_eq!(subjects, [b.as_str(), c2.as_str(), d.as_str()]);
    let ids: Vec<i64> = events.iter().map(|e| e["id"].as_str().unwrap().parse().unwrap()).collect();
    assert!(ids.windows(2).all(|w| w[0] < w[1]), "in order: {ids:?}");
    assert!(ids[0] > last.parse::<i64>().unwrap(), "nothing at or before `after` again");
    // Nothing else was pending: the next message is the next post.
    let e = post(&app, &ada, &c, "E").await;
    assert_eq!(activity(&mut ws, 1).await[0]["subjectId"], e.as_str());
}

#[tokio::test]
async fn a_bad_resume_point_is_refused_with_the_field() {
    let app = spawn_app().await;
    let ada = app.register("ada").await;
    let c = create_community(&app, &ada, "rustaceans", "PUBLIC").await;
    let mut ws = ws_connect(&app, &ada.access_token).await;
    send(&mut ws, subscribe_message("1", COMMUNITY, json!({ "c": c, "after": "yesterday" }))).await;
    let message = next_of(&mut ws, "1").await;
    assert_eq!(error_code_of(&message), "BAD_USER_INPUT");
    assert_eq!(message["payload"][0]["extensions"]["field"], "after", "{message}");
}
