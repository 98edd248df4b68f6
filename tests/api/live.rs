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
    raw_on(app.port, protocol).await
}

/// A socket to the instance on `port` speaking `protocol`, not yet initialised.
async fn raw_on(port: u16, protocol: &str) -> Ws {
    let mut request = format!("ws://127.0.0.1:{port}/graphql").into_client_request().unwrap();
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

/// Sends `connection_init` and expects `connection_ack`.
async fn acked(ws: &mut Ws, token: Option<&str>) {
    send(ws, init(token)).await;
    assert_eq!(next_json(ws).await["type"], "connection_ack");
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

/// Waits for the `error` that ends operation "1" and returns its code.
async fn ended_with(ws: &mut Ws) -> String {
    loop {
        let message = next_of(ws, "1").await;
        if message["type"] == "error" {
            return error_code_of(&message).to_owned();
        }
        assert_eq!(message["type"], "next", "{message}");
    }
}

#[tokio::test]
async fn losing_the_client_organization_ends_a_contract_stream() {
    let app = spawn_app().await;
    let ada = app.register("ada").await;
    let bob = app.register("bob").await;
    let org = create_org(&app, &ada, "acme").await;
    add(&app, &ada, &org, "bob", "MEMBER").await;
    let contract = crate::work::contract(&app, &ada, Some(&org), 10_000).await;
    let mut ws = ws_connect(&app, &bob.access_token).await;
    let query = "subscription($c: ID!) { contractActivity(contractId: $c) { id action } }";
    subscribe(&app, &mut ws, query, json!({ "c": contract })).await;
    crate::work::outcome(&app, &ada, &contract, "Report", 1_000, json!([{ "description": "Signed" }])).await;
    assert_eq!(next_of(&mut ws, "1").await["payload"]["data"]["contractActivity"]["action"], "outcome.added");

    let removed = app
        .gql(
            "mutation($i: RemoveMemberInput!) { removeMember(input: $i) }",
            json!({ "i": { "organizationId": org, "profileId": bob.profile_id } }),
            Some(&ada.access_token),
        )
        .await;
    assert_eq!(removed["data"]["removeMember"], true, "{removed}");
    assert_eq!(ended_with(&mut ws).await, "FORBIDDEN");
    // Nothing of the contract reaches Bob afterwards, and the socket itself is still usable.
    crate::work::outcome(&app, &ada, &contract, "Second", 1_000, json!([{ "description": "Signed" }])).await;
    send(&mut ws, subscribe_message("q", "{ me { profile { handle } } }", json!({}))).await;
    let message = next_json(&mut ws).await;
    assert_eq!((message["id"].as_str(), message["type"].as_str()), (Some("q"), Some("next")), "{message}");
}

#[tokio::test]
async fn a_community_turning_private_ends_outsiders_streams_and_bans_end_members() {
    let app = spawn_app().await;
    let ada = app.register("ada").await;
    let bob = app.register("bob").await;
    let eve = app.register("eve").await;
    let c = create_community(&app, &ada, "rustaceans", "PUBLIC").await;
    join(&app, &bob, &c).await;
    let mut member = ws_connect(&app, &bob.access_token).await;
    subscribe(&app, &mut member, COMMUNITY, json!({ "c": c })).await;
    let mut outsider = ws_connect(&app, &eve.access_token).await;
    subscribe(&app, &mut outsider, COMMUNITY, json!({ "c": c })).await;

    let private = app
        .gql(
            "mutation($i: UpdateCommunityInput!) { updateCommunity(input: $i) { visibility } }",
            json!({ "i": { "communityId": c, "visibility": "PRIVATE" } }),
            Some(&ada.access_token),
        )
        .await;
    assert_eq!(private["data"]["updateCommunity"]["visibility"], "PRIVATE", "{private}");
    assert_eq!(ended_with(&mut outsider).await, "FORBIDDEN");
    // The member keeps following: the change itself, then the next post.
    assert_eq!(activity(&mut member, 1).await[0]["action"], "community.updated");
    let p = post(&app, &ada, &c, "Members only").await;
    assert_eq!(activity(&mut member, 1).await[0]["subjectId"], p.as_str());

    let banned = ban(&app, &ada, &c, &bob).await;
    assert!(banned["errors"].is_null(), "{banned}");
    assert_eq!(ended_with(&mut member).await, "FORBIDDEN");
}

#[tokio::test]
async fn an_expired_access_token_ends_the_stream() {
    let app = spawn_app_with(|c| c.access_token_ttl = Duration::from_secs(1)).await;
    let ada = app.register("ada").await;
    let c = create_community(&app, &ada, "rustaceans", "PUBLIC").await;
    let mut ws = ws_connect(&app, &ada.access_token).await;
    subscribe(&app, &mut ws, COMMUNITY, json!({ "c": c })).await;
    assert_eq!(ended_with(&mut ws).await, "UNAUTHENTICATED");
}

#[tokio::test]
async fn revoking_an_agent_token_ends_its_streams() {
    let app = spawn_app().await;
    let operator = app.register("ada").await;
    let (agent_id, token) = crate::work::agent(
        &app,
        &operator,
        "bot",
        json!([{ "skill": "sql", "level": 4 }]),
        json!(["TASKS_READ", "TASKS_WRITE"]),
    )
    .await;
    let mut ws = ws_connect(&app, &token).await;
    subscribe(&app, &mut ws, "subscription { myTaskUpdates { id action } }", json!({})).await;
    let listed = app
        .gql(
            "query($a: ID!) { agentTokens(agentId: $a) { id } }",
            json!({ "a": agent_id }),
            Some(&operator.access_token),
        )
        .await;
    let token_id = listed["data"]["agentTokens"][0]["id"].as_str().unwrap_or_else(|| panic!("{listed}")).to_owned();
    let revoked = app
        .gql(
            "mutation($i: RevokeAgentTokenInput!) { revokeAgentToken(input: $i) { revokedAt } }",
            json!({ "i": { "tokenId": token_id } }),
            Some(&operator.access_token),
        )
        .await;
    assert!(revoked["data"]["revokeAgentToken"]["revokedAt"].is_string(), "{revoked}");
    assert_eq!(ended_with(&mut ws).await, "UNAUTHENTICATED");
}

#[tokio::test]
async fn mutations_over_a_socket_spend_the_same_allowance_as_over_http() {
    let app = spawn_app_with(|c| c.limits.mutations_per_minute = 3).await;
    let ada = app.register("ada").await;
    let mut ws = ws_connect(&app, &ada.access_token).await;
    let rename = "mutation { updateMyProfile(input: { headline: \"Builder\" }) { headline } }";
    for n in 0..2 {
        let id = format!("m{n}");
        send(&mut ws, subscribe_message(&id, rename, json!({}))).await;
        let message = next_of(&mut ws, &id).await;
        assert_eq!(message["payload"]["data"]["updateMyProfile"]["headline"], "Builder", "{message}");
    }
    // Two aliased fields in one operation spend two.
    let twice = "mutation { a: updateMyProfile(input: { headline: \"A\" }) { headline } b: updateMyProfile(input: { headline: \"B\" }) { headline } }";
    send(&mut ws, subscribe_message("twice", twice, json!({}))).await;
    let message = next_of(&mut ws, "twice").await;
    assert_eq!(error_code_of(&message), "RATE_LIMITED");
    // HTTP shares the count.
    let (status, _) = app.gql_status(rename, json!({}), Some(&ada.access_token)).await;
    assert_eq!(status, reqwest::StatusCode::TOO_MANY_REQUESTS);
    // And nothing of the refused operation was written.
    let me = app.gql("{ me { profile { headline } } }", json!({}), Some(&ada.access_token)).await;
    assert_eq!(me["data"]["me"]["profile"]["headline"], "Builder");
}

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

/// A socket on the instance listening on `port`, initialised with `token`.
async fn connect_to(port: u16, token: &str) -> Ws {
    let mut ws = raw_on(port, "graphql-transport-ws").await;
    acked(&mut ws, Some(token)).await;
    ws
}

/// Starts subscription "1" on a socket of `state`'s instance and waits until it listens.
async fn subscribe_on(state: &semasocial::state::AppState, ws: &mut Ws, query: &str, variables: Value) {
    let before = state.bus.subscriber_count();
    send(ws, subscribe_message("1", query, variables)).await;
    let bus = state.bus.clone();
    tokio::time::timeout(Duration::from_secs(10), async move {
        while bus.subscriber_count() <= before {
            tokio::time::sleep(Duration::from_millis(1)).await;
        }
    })
    .await
    .expect("the subscription starts");
}

#[tokio::test]
async fn a_follower_that_falls_behind_is_refilled_from_the_outbox_in_order() {
    use semasocial::events::follow::{Follow, Gate, follow};
    struct Everything;
    #[async_trait::async_trait]
    impl Gate for Everything {
        fn visible(&self, _: &semasocial::events::DomainEvent) -> bool {
            true
        }
        async fn check(&self) -> semasocial::error::AppResult<()> {
            Ok(())
        }
    }
    let app = spawn_app().await;
    let ada = app.register("ada").await;
    let c = create_community(&app, &ada, "rustaceans", "PUBLIC").await;
    let spec = Follow { stream: format!("community:{c}"), after: None, access: None, expires_in: None };
    let mut events = Box::pin(follow(app.state.db.clone(), app.state.bus.hub(), spec, Everything).await.unwrap());
    // 300 posts while the follower reads nothing: more than the stream's buffer holds.
    let mut posted = Vec::new();
    for n in 0..300 {
        let (body, _) = app
            .execute(
                "mutation($i: CreatePostInput!) { createPost(input: $i) { id } }",
                json!({ "i": { "communityId": c, "title": format!("post {n}"), "body": "text" } }),
                Some(&ada.access_token),
            )
            .await;
        posted.push(body["data"]["createPost"]["id"].as_str().unwrap().to_owned());
    }
    let mut received = Vec::new();
    while received.len() < posted.len() {
        let event =
            tokio::time::timeout(Duration::from_secs(10), events.next()).await.expect("an event").unwrap().unwrap();
        received.push(event.subject_id.to_string());
    }
    assert_eq!(received, posted, "every post, once, in commit order");
}

#[tokio::test]
#[ignore = "needs Redis (TEST_REDIS_URL): subscribers on another instance"]
async fn a_subscriber_on_another_instance_receives_and_resumes_there() {
    assert!(std::env::var("TEST_REDIS_URL").is_ok(), "set TEST_REDIS_URL");
    let a = spawn_app().await;
    let (b, b_port) = a.serve_another_instance().await;
    let ada = a.register("ada").await;
    let c = create_community(&a, &ada, "rustaceans", "PUBLIC").await;
    let mut ws = connect_to(b_port, &ada.access_token).await;
    subscribe_on(&b, &mut ws, COMMUNITY, json!({ "c": c })).await;
    let first = post(&a, &ada, &c, "one").await;
    let seen = activity(&mut ws, 1).await;
    assert_eq!(seen[0]["subjectId"], first.as_str());
    drop(ws);
    let second = post(&a, &ada, &c, "two").await;
    // Resume on instance B after what was seen: the missed post comes from the shared outbox.
    let mut ws = connect_to(b_port, &ada.access_token).await;
    subscribe_on(&b, &mut ws, COMMUNITY, json!({ "c": c, "after": seen[0]["id"] })).await;
    assert_eq!(activity(&mut ws, 1).await[0]["subjectId"], second.as_str());
}

/// A Redis server of the test's own, on its own port, that the test stops and restarts.
struct OwnRedis {
    port: u16,
    child: Option<std::process::Child>,
}

impl OwnRedis {
    fn start(port: u16) -> Self {
        let mut own = Self { port, child: None };
        own.restart();
        own
    }

    fn restart(&mut self) {
        let child = std::process::Command::new("redis-server")
            .args(["--port", &self.port.to_string(), "--bind", "127.0.0.1", "--save", "", "--appendonly", "no"])
            .stdout(std::process::Stdio::null())
            .spawn()
            .expect("redis-server runs");
        self.child = Some(child);
        // Ready when it answers.
        for _ in 0..500 {
            if std::net::TcpStream::connect(("127.0.0.1", self.port)).is_ok() {
                return;
            }
            std::thread::sleep(Duration::from_millis(10));
        }
        panic!("redis-server did not start");
    }

    fn stop(&mut self) {
        if let Some(mut child) = self.child.take() {
            let _ = child.kill();
            let _ = child.wait();
        }
    }
}

impl Drop for OwnRedis {
    fn drop(&mut self) {
        self.stop();
    }
}

/// Waits until `/ready` of the instance on `port` answers `status`; returns its body.
async fn ready_becomes(port: u16, status: u16) -> Value {
    let client = reqwest::Client::new();
    tokio::time::timeout(Duration::from_secs(20), async {
        loop {
            let response = client.get(format!("http://127.0.0.1:{port}/ready")).send().await.expect("answers");
            if response.status().as_u16() == status {
                return response.json().await.expect("JSON");
            }
            tokio::time::sleep(Duration::from_millis(20)).await;
        }
    })
    .await
    .unwrap_or_else(|_| panic!("/ready never answered {status}"))
}

#[tokio::test]
#[ignore = "needs redis-server: the test stops and restarts a Redis of its own"]
async fn while_redis_is_away_the_api_works_and_subscribers_get_what_they_missed_when_it_returns() {
    let port = {
        let probe = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
        probe.local_addr().unwrap().port()
    };
    let mut redis = OwnRedis::start(port);
    let url = format!("redis://127.0.0.1:{port}");
    let a = spawn_app_with(move |c| c.redis_url = Some(semasocial::config::Secret::new(url))).await;
    let (b, b_port) = a.serve_another_instance().await;
    let ada = a.register("ada").await;
    let c = create_community(&a, &ada, "rustaceans", "PUBLIC").await;
    let mut ws = connect_to(b_port, &ada.access_token).await;
    subscribe_on(&b, &mut ws, COMMUNITY, json!({ "c": c })).await;
    let before = post(&a, &ada, &c, "before").await;
    assert_eq!(activity(&mut ws, 1).await[0]["subjectId"], before.as_str());

    redis.stop();
    let body = ready_becomes(b_port, 503).await;
    assert_eq!((body["database"].as_str(), body["redis"].as_str()), (Some("up"), Some("down")), "{body}");
    // Queries and mutations keep working (rate limits count locally meanwhile).
    let during = post(&a, &ada, &c, "during").await;
    let feed = a.gql("query($c: ID!) { community(id: $c) { name } }", json!({ "c": c }), None).await;
    assert!(feed["data"]["community"]["name"].is_string(), "{feed}");

    redis.restart();
    ready_becomes(b_port, 200).await;
    // What was published while Redis was away comes from the outbox, then live resumes.
    assert_eq!(activity(&mut ws, 1).await[0]["subjectId"], during.as_str());
    let after = post(&a, &ada, &c, "after").await;
    assert_eq!(activity(&mut ws, 1).await[0]["subjectId"], after.as_str());
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

#[tokio::test]
async fn outsiders_and_anonymous_sockets_cannot_follow_what_is_not_theirs() {
    let app = spawn_app().await;
    let ada = app.register("ada").await;
    let eve = app.register("eve").await;
    let private = create_community(&app, &ada, "inner", "PRIVATE").await;
    let public = create_community(&app, &ada, "open", "PUBLIC").await;

    // A private community's activity: not for outsiders.
    let mut ws = ws_connect(&app, &eve.access_token).await;
    send(&mut ws, subscribe_message("1", COMMUNITY, json!({ "c": private }))).await;
    assert_eq!(error_code_of(&next_of(&mut ws, "1").await), "FORBIDDEN");

    // Anonymous sockets follow public communities only; personal streams need an account.
    let mut anonymous = raw(&app, "graphql-transport-ws").await;
    acked(&mut anonymous, None).await;
    for (id, query) in [
        ("n", "subscription { notifications { id } }"),
        ("p", "subscription { payoutUpdated { id } }"),
        ("t", "subscription { myTaskUpdates { id } }"),
    ] {
        send(&mut anonymous, subscribe_message(id, query, json!({}))).await;
        assert_eq!(error_code_of(&next_of(&mut anonymous, id).await), "UNAUTHENTICATED", "{query}");
    }
    send(&mut anonymous, subscribe_message("c", COMMUNITY, json!({ "c": private }))).await;
    assert_eq!(error_code_of(&next_of(&mut anonymous, "c").await), "FORBIDDEN");
    let before = app.state.bus.subscriber_count();
    send(&mut anonymous, subscribe_message("1", COMMUNITY, json!({ "c": public }))).await;
    app.wait_for_subscribers(before + 1).await;
    // The private community's posts never reach it; the public one's do.
    post(&app, &ada, &private, "Members only").await;
    let p = post(&app, &ada, &public, "Hello").await;
    assert_eq!(activity(&mut anonymous, 1).await[0]["subjectId"], p.as_str());
}

#[tokio::test]
async fn identical_subscriptions_render_each_event_once_and_share_its_bytes() {
    use semasocial::graphql::subscription::{LiveItem, LiveSubscriptions};
    let app = spawn_app().await;
    let ada = app.register("ada").await;
    let c = create_community(&app, &ada, "rustaceans", "PUBLIC").await;
    let live = LiveSubscriptions::new(app.schema.clone());
    let aliased = "subscription($c: ID!) { communityActivity(communityId: $c) { kind: action } }";
    // Each stream starts (runs its subscription once) when first polled, in its own task.
    let started: Vec<_> = [COMMUNITY, COMMUNITY, aliased]
        .into_iter()
        .map(|query| {
            let request = async_graphql::Request::new(query)
                .variables(async_graphql::Variables::from_json(json!({ "c": c })))
                .data(semasocial::auth::Viewer::Anonymous);
            let mut stream = live.start(request).boxed();
            tokio::spawn(async move { stream.next().await })
        })
        .collect();
    app.wait_for_subscribers(3).await;
    assert_eq!(live.group_count(), 2, "two documents, two groups");

    let p = post(&app, &ada, &c, "Hello").await;
    let mut payloads = Vec::new();
    for task in started {
        match task.await.unwrap() {
            Some(LiveItem::Next(payload)) => payloads.push(payload),
            other => panic!("a payload, not {other:?}"),
        }
    }

    // One render per group: the two identical subscribers got the very same bytes.
    assert_eq!(live.renders(), 2);
    assert!(std::sync::Arc::ptr_eq(&payloads[0], &payloads[1]), "shared, not copied");
    let same: Value = serde_json::from_str(&payloads[0]).unwrap();
    assert_eq!(same["data"]["communityActivity"]["action"], "post.created");
    assert_eq!(same["data"]["communityActivity"]["subjectId"], p.as_str());
    let other: Value = serde_json::from_str(&payloads[2]).unwrap();
    assert_eq!(other, json!({ "data": { "communityActivity": { "kind": "post.created" } } }));
    // The streams ended with their tasks: their groups are gone.
    assert_eq!(live.group_count(), 0);
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
