//! Live updates over real sockets: the graphql-transport-ws protocol to the letter, the
//! legacy protocol, resuming with `after`, access that follows changes, the shared mutation
//! limit, notifications, several instances and a Redis outage.
use std::time::Duration;

use futures_util::{SinkExt, StreamExt};
use serde_json::{Value, json};
use tokio_tungstenite::tungstenite::{Message, client::IntoClientRequest};

use crate::{
    events::{Ws, next_json},
    helpers::{TestApp, TestUser},
};

mod access;
mod delivery;
mod instances;
mod notifications;
mod protocol;

/// A socket speaking `protocol`, not yet initialised.
pub(super) async fn raw(app: &TestApp, protocol: &str) -> Ws {
    raw_on(app.port, protocol).await
}

/// A socket to the instance on `port` speaking `protocol`, not yet initialised.
pub(super) async fn raw_on(port: u16, protocol: &str) -> Ws {
    let mut request = format!("ws://127.0.0.1:{port}/graphql").into_client_request().unwrap();
    request.headers_mut().insert("sec-websocket-protocol", protocol.parse().unwrap());
    let (ws, response) = tokio_tungstenite::connect_async(request).await.expect("websocket connects");
    assert_eq!(response.headers()["sec-websocket-protocol"], protocol);
    ws
}

pub(super) async fn send(ws: &mut Ws, message: Value) {
    ws.send(Message::text(message.to_string())).await.unwrap();
}

/// Reads until the server closes; returns the close code and reason (panics on a close
/// without a frame, which is what the stock handler did on unknown messages).
pub(super) async fn close_of(ws: &mut Ws) -> (u16, String) {
    loop {
        let message = tokio::time::timeout(Duration::from_secs(10), ws.next()).await.expect("the server closes");
        match message {
            Some(Ok(Message::Close(Some(frame)))) => return (frame.code.into(), frame.reason.to_string()),
            Some(Ok(Message::Close(None))) | None | Some(Err(_)) => panic!("closed without a close frame"),
            Some(Ok(_)) => {}
        }
    }
}

/// Sends `connection_init` and expects `connection_ack`.
pub(super) async fn acked(ws: &mut Ws, token: Option<&str>) {
    send(ws, init(token)).await;
    assert_eq!(next_json(ws).await["type"], "connection_ack");
}

pub(super) fn init(token: Option<&str>) -> Value {
    match token {
        Some(t) => json!({ "type": "connection_init", "payload": { "authorization": format!("Bearer {t}") } }),
        None => json!({ "type": "connection_init" }),
    }
}

pub(super) const COMMUNITY: &str = "subscription($c: ID!, $after: ID) { communityActivity(communityId: $c, after: $after) { id action subjectId after } }";

pub(super) fn subscribe_message(id: &str, query: &str, variables: Value) -> Value {
    json!({ "id": id, "type": "subscribe", "payload": { "query": query, "variables": variables } })
}

pub(super) async fn post(app: &TestApp, user: &TestUser, community: &str, title: &str) -> String {
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
pub(super) async fn next_of(ws: &mut Ws, id: &str) -> Value {
    loop {
        let message = next_json(ws).await;
        if message["id"] == id {
            return message;
        }
    }
}

/// The code of an `error` message (graphql-transport-ws: a list of errors).
pub(super) fn error_code_of(message: &Value) -> &str {
    assert_eq!(message["type"], "error", "{message}");
    message["payload"][0]["extensions"]["code"].as_str().unwrap_or_else(|| panic!("no code: {message}"))
}

/// The `communityActivity` events of a socket, until `n` have arrived.
pub(super) async fn activity(ws: &mut Ws, n: usize) -> Vec<Value> {
    let mut events = Vec::new();
    while events.len() < n {
        let message = next_of(ws, "1").await;
        assert_eq!(message["type"], "next", "{message}");
        events.push(message["payload"]["data"]["communityActivity"].clone());
    }
    events
}
