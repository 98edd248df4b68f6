//! The socket protocols to the letter: close codes for misuse, ping, queries, shutdown, the legacy protocol.
use std::time::Duration;

use futures_util::{SinkExt, StreamExt};
use serde_json::json;
use tokio_tungstenite::tungstenite::{Message, client::IntoClientRequest};

use super::{COMMUNITY, acked, close_of, error_code_of, init, next_of, post, raw, send, subscribe_message};
use crate::{
    communities::create_community,
    events::{next_json, subscribe, ws_connect},
    helpers::{spawn_app, spawn_app_with},
};

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
    acked(&mut ws, Some(&ada.access_token)).await;
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
    acked(&mut ws, None).await;
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
    assert_eq!(error_code_of(&message), "GRAPHQL_VALIDATION_FAILED");
    assert!(message["payload"][0]["message"].as_str().unwrap().contains("nothingHere"), "{message}");

    // Persisted queries work over the socket too: an unknown hash asks for the query, the
    // query with its hash registers it, the hash alone then runs it.
    let query = "{ me { profile { handle } } }";
    let hash = hex::encode(<sha2::Sha256 as sha2::Digest>::digest(query.as_bytes()));
    let extensions = json!({ "persistedQuery": { "version": 1, "sha256Hash": hash } });
    let hash_only = |id: &str| json!({ "id": id, "type": "subscribe", "payload": { "extensions": extensions } });
    send(&mut ws, hash_only("h1")).await;
    assert_eq!(error_code_of(&next_of(&mut ws, "h1").await), "PERSISTED_QUERY_NOT_FOUND");
    send(&mut ws, json!({ "id": "h2", "type": "subscribe", "payload": { "query": query, "extensions": extensions } }))
        .await;
    assert_eq!(next_of(&mut ws, "h2").await["payload"]["data"]["me"]["profile"]["handle"], "ada");
    send(&mut ws, hash_only("h3")).await;
    assert_eq!(next_of(&mut ws, "h3").await["payload"]["data"]["me"]["profile"]["handle"], "ada");

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
    acked(&mut ws, Some(&ada.access_token)).await;
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

#[tokio::test]
async fn subscriptions_on_one_socket_get_their_own_shapes_and_ids_and_two_root_fields_are_refused() {
    let app = spawn_app().await;
    let ada = app.register("ada").await;
    let c = create_community(&app, &ada, "rustaceans", "PUBLIC").await;
    let mut ws = ws_connect(&app, &ada.access_token).await;

    // The specification's single-root-field rule: refused before anything runs, socket open.
    let two = "subscription($c: ID!) { a: communityActivity(communityId: $c) { id } b: communityActivity(communityId: $c) { id } }";
    send(&mut ws, subscribe_message("two", two, json!({ "c": c }))).await;
    let refused = next_of(&mut ws, "two").await;
    assert_eq!(error_code_of(&refused), "GRAPHQL_VALIDATION_FAILED");
    assert_eq!(refused["payload"][0]["message"], "Anonymous Subscription must select only one top level field.");
    let typename = "subscription Names { __typename }";
    send(&mut ws, subscribe_message("tn", typename, json!({}))).await;
    assert_eq!(error_code_of(&next_of(&mut ws, "tn").await), "GRAPHQL_VALIDATION_FAILED");

    let before = app.state.bus.subscriber_count();
    send(&mut ws, subscribe_message("plain", COMMUNITY, json!({ "c": c }))).await;
    let aliased = "subscription($c: ID!) { feed: communityActivity(communityId: $c) { what: action subjectId } }";
    send(&mut ws, subscribe_message("with \"quotes\"", aliased, json!({ "c": c }))).await;
    // Two follows of one signed-in subscriber each listen to the stream and to its access.
    app.wait_for_subscribers(before + 4).await;
    let p = post(&app, &ada, &c, "Hello").await;
    // Either may come first: collect one message per operation.
    let mut by_id = std::collections::HashMap::new();
    while by_id.len() < 2 {
        let message = next_json(&mut ws).await;
        by_id.insert(message["id"].as_str().unwrap().to_owned(), message);
    }
    let plain = &by_id["plain"];
    assert_eq!(plain["type"], "next");
    assert_eq!(plain["payload"]["data"]["communityActivity"]["subjectId"], p.as_str());
    assert_eq!(
        by_id["with \"quotes\""],
        json!({ "type": "next", "id": "with \"quotes\"", "payload": { "data": { "feed": { "what": "post.created", "subjectId": p } } } })
    );
}
