//! Outgoing webhooks end to end, to a real HTTP receiver started by each test: what arrives and
//! that it verifies by the Standard Webhooks algorithm (computed here, independently of the
//! server), retries with the same `webhook-id` after the backoff (the test moves the clock and
//! runs the sweep's part), replays, refusals that write nothing, deletion, and an endpoint
//! disabled after a day of failures with its owners mailed. No sleeps: tests wait for the
//! receiver to count requests, or for rows to appear.
use std::sync::{
    Arc, Mutex,
    atomic::{AtomicU16, Ordering},
};

use axum::{
    Router,
    extract::State,
    http::{HeaderMap, StatusCode},
    routing::post,
};
use base64::{Engine, engine::general_purpose::STANDARD};
use hmac::{Hmac, Mac};
use semasocial::config::AppEnv;
use serde_json::{Value, json};
use tokio::sync::watch;

use crate::{
    helpers::{TestApp, TestUser, assert_ok, error_code, error_field, spawn_app, spawn_app_with},
    organizations::{add, create_org},
    work::contract,
};

const CREATE: &str = "mutation($i: CreateWebhookEndpointInput!) { createWebhookEndpoint(input: $i) { secret endpoint { id url eventTypes enabled createdAt } } }";
const DELETE: &str = "mutation($i: WebhookEndpointIdInput!) { deleteWebhookEndpoint(input: $i) }";
const ENABLE: &str =
    "mutation($i: WebhookEndpointIdInput!) { enableWebhookEndpoint(input: $i) { enabled disabledReason } }";
const REPLAY: &str =
    "mutation($i: ReplayWebhookDeliveryInput!) { replayWebhookDelivery(input: $i) { id status webhookId attempts } }";
const DELIVERIES: &str = "query($e: ID!, $first: Int) { webhookDeliveries(endpointId: $e, first: $first) { edges { node { id eventType webhookId status attempts lastStatusCode lastDurationMs lastError nextRetryAt createdAt } } } }";
const ENDPOINTS: &str = "query($id: ID!) { organization(id: $id) { webhookEndpoints { edges { node { id url enabled disabledReason } } } } }";

/// A request the receiver got.
#[derive(Clone, Debug)]
struct Received {
    headers: HeaderMap,
    body: String,
}

impl Received {
    /// A header's value ("" when absent).
    fn header(&self, name: &str) -> &str {
        self.headers.get(name).and_then(|v| v.to_str().ok()).unwrap_or("")
    }
}

/// What the receiver shares with its handler.
struct Inbox {
    seen: Mutex<Vec<Received>>,
    status: AtomicU16,
    count: watch::Sender<usize>,
}

/// An HTTP server on 127.0.0.1:0 that records every POST to `/hook` and answers with the
/// status it is told to.
struct Receiver {
    url: String,
    inbox: Arc<Inbox>,
}

impl Receiver {
    async fn start() -> Self {
        let (count, _) = watch::channel(0usize);
        let inbox = Arc::new(Inbox { seen: Mutex::new(Vec::new()), status: AtomicU16::new(200), count });
        let router = Router::new().route("/hook", post(take)).with_state(inbox.clone());
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let port = listener.local_addr().unwrap().port();
        tokio::spawn(async move { axum::serve(listener, router).await });
        Self { url: format!("http://127.0.0.1:{port}/hook"), inbox }
    }

    /// Answers every later request with `status`.
    fn answer(&self, status: u16) {
        self.inbox.status.store(status, Ordering::SeqCst);
    }

    /// Requests received so far.
    fn count(&self) -> usize {
        self.inbox.seen.lock().unwrap().len()
    }

    /// Waits until at least `n` requests arrived; returns them all, in order.
    async fn received(&self, n: usize) -> Vec<Received> {
        let mut count = self.inbox.count.subscribe();
        let waited = tokio::time::timeout(std::time::Duration::from_secs(10), count.wait_for(|c| *c >= n)).await;
        let arrived = waited.is_ok_and(|r| r.is_ok());
        assert!(arrived, "the receiver got {} request(s), not {n}", self.count());
        self.inbox.seen.lock().unwrap().clone()
    }
}

async fn take(State(inbox): State<Arc<Inbox>>, headers: HeaderMap, body: String) -> StatusCode {
    inbox.seen.lock().unwrap().push(Received { headers, body });
    inbox.count.send_modify(|n| *n += 1);
    StatusCode::from_u16(inbox.status.load(Ordering::SeqCst)).unwrap_or(StatusCode::INTERNAL_SERVER_ERROR)
}

/// Whether `hook` carries a `v1` signature of `"<webhook-id>.<webhook-timestamp>.<body>"` by the
/// base64-decoded key of `secret`, as the Standard Webhooks specification defines it.
fn signed_by(secret: &str, hook: &Received) -> bool {
    let key = STANDARD.decode(secret.strip_prefix("whsec_").expect("a whsec_ secret")).unwrap();
    let mut mac = Hmac::<sha2::Sha256>::new_from_slice(&key).unwrap();
    let signed = format!("{}.{}.{}", hook.header("webhook-id"), hook.header("webhook-timestamp"), hook.body);
    mac.update(signed.as_bytes());
    let expected = format!("v1,{}", STANDARD.encode(mac.finalize().into_bytes()));
    hook.header("webhook-signature").split(' ').any(|s| s == expected)
}

/// `who` registers an endpoint of `org` for `url` and `types`: the whole answer.
async fn create_endpoint(app: &TestApp, who: &TestUser, org: &str, url: &str, types: Value) -> Value {
    app.gql(CREATE, json!({ "i": { "organizationId": org, "url": url, "eventTypes": types } }), Some(&who.access_token))
        .await
}

/// Like `create_endpoint`, for a creation that must succeed: (endpoint id, secret).
async fn endpoint(app: &TestApp, who: &TestUser, org: &str, url: &str, types: Value) -> (String, String) {
    let body = create_endpoint(app, who, org, url, types).await;
    assert_ok(&body);
    let created = &body["data"]["createWebhookEndpoint"];
    (created["endpoint"]["id"].as_str().unwrap().to_owned(), created["secret"].as_str().unwrap().to_owned())
}

/// The endpoint's deliveries as `who` lists them, newest first.
async fn deliveries(app: &TestApp, who: &TestUser, endpoint: &str) -> Vec<Value> {
    let body = app.gql(DELIVERIES, json!({ "e": endpoint, "first": 50 }), Some(&who.access_token)).await;
    assert_ok(&body);
    body["data"]["webhookDeliveries"]["edges"].as_array().unwrap().iter().map(|e| e["node"].clone()).collect()
}

/// Runs the sweep's part for webhooks at the test clock's time: how many were delivered.
async fn send_due(app: &TestApp) -> usize {
    semasocial::domain::webhook::send_due(&app.state, 100).await.unwrap()
}

/// Waits until `table_where` (a table, with an optional `WHERE`) counts at least `n` rows.
async fn wait_for_rows(app: &TestApp, table_where: &str, n: i64) {
    let waited = tokio::time::timeout(std::time::Duration::from_secs(10), async {
        while app.count(table_where).await < n {
            tokio::task::yield_now().await;
        }
    })
    .await;
    assert!(waited.is_ok(), "{table_where} never counted {n} row(s)");
}

#[tokio::test]
async fn a_contract_created_for_the_organization_reaches_its_endpoint_signed_per_the_spec() {
    let app = spawn_app().await;
    let ada = app.register("ada").await;
    let org = create_org(&app, &ada, "acme").await;
    let hooks = Receiver::start().await;
    let body = create_endpoint(&app, &ada, &org, &hooks.url, json!(["task.assigned", "contract.created"])).await;
    assert_ok(&body);
    let created = &body["data"]["createWebhookEndpoint"];
    assert_eq!(created["endpoint"]["url"], hooks.url);
    assert_eq!(created["endpoint"]["eventTypes"], json!(["contract.created", "task.assigned"]));
    assert_eq!(created["endpoint"]["enabled"], true);
    let (endpoint_id, secret) =
        (created["endpoint"]["id"].as_str().unwrap().to_owned(), created["secret"].as_str().unwrap().to_owned());
    assert_eq!(STANDARD.decode(secret.strip_prefix("whsec_").unwrap()).unwrap().len(), 24, "{secret}");
    // Another endpoint of the organization wants payouts only: contracts never reach it.
    endpoint(&app, &ada, &org, &hooks.url, json!(["payout.paid"])).await;
    // Both are in the organization's audit log, without their secrets.
    let log = app
        .gql(
            "query($id: ID!) { organization(id: $id) { activity(first: 10) { edges { node { action after } } } } }",
            json!({ "id": org }),
            Some(&ada.access_token),
        )
        .await;
    let created: Vec<&Value> = log["data"]["organization"]["activity"]["edges"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|e| e["node"]["action"] == "webhook.endpoint_created")
        .collect();
    assert_eq!(created.len(), 2, "{log}");
    assert!(!log.to_string().contains("whsec_"), "{log}");

    let contract_id = contract(&app, &ada, Some(&org), 10_000).await;
    let hook = hooks.received(1).await.remove(0);
    assert_eq!(hook.header("content-type"), "application/json");
    assert!(hook.header("webhook-id").starts_with("msg_"), "{hook:?}");
    let timestamp: i64 = hook.header("webhook-timestamp").parse().unwrap();
    assert!((app.clock_now().timestamp() - timestamp).abs() <= 1, "signed at the application's time: {timestamp}");
    assert!(signed_by(&secret, &hook), "the signature verifies: {hook:?}");
    let tampered = Received { body: hook.body.replace("contract.created", "contract.completed"), ..hook.clone() };
    assert!(!signed_by(&secret, &tampered), "and covers the body");
    let event: Value = serde_json::from_str(&hook.body).unwrap();
    assert_eq!(event["type"], "contract.created");
    assert!(chrono::DateTime::parse_from_rfc3339(event["timestamp"].as_str().unwrap()).is_ok(), "{event}");
    assert_eq!(event["data"]["subjectId"], contract_id);
    assert_eq!(event["data"]["contractId"], contract_id);
    assert_eq!(event["data"]["organizationId"], org);

    // The attempt is on the delivery the organization's admins list.
    wait_for_rows(&app, "webhook_attempts", 1).await;
    let listed = deliveries(&app, &ada, &endpoint_id).await;
    assert_eq!(listed.len(), 1);
    let delivery = &listed[0];
    assert_eq!(delivery["eventType"], "contract.created");
    assert_eq!(delivery["webhookId"], hook.header("webhook-id"));
    assert_eq!(
        (&delivery["status"], &delivery["attempts"], &delivery["lastStatusCode"]),
        (&json!("DELIVERED"), &json!(1), &json!(200))
    );
    assert!(delivery["lastDurationMs"].is_i64() && delivery["nextRetryAt"].is_null(), "{delivery}");

    // A personal contract is no organization's event.
    contract(&app, &ada, None, 10_000).await;
    assert_eq!(app.count("webhook_deliveries").await, 1);

    // A page of deliveries costs the same statements for 1 and for 6 of them.
    for _ in 0..5 {
        contract(&app, &ada, Some(&org), 10_000).await;
    }
    hooks.received(6).await;
    let mut costs = Vec::new();
    for first in [1, 6] {
        let (page, statements) =
            app.execute(DELIVERIES, json!({ "e": endpoint_id, "first": first }), Some(&ada.access_token)).await;
        assert_eq!(page["data"]["webhookDeliveries"]["edges"].as_array().map(Vec::len), Some(first), "{page}");
        costs.push(statements);
    }
    assert_eq!(costs[0], costs[1], "statements for 1 vs 6 deliveries: {costs:?}");
}

#[tokio::test]
async fn a_refused_delivery_is_retried_after_the_backoff_with_the_same_webhook_id() {
    let app = spawn_app().await;
    let ada = app.register("ada").await;
    let org = create_org(&app, &ada, "acme").await;
    let hooks = Receiver::start().await;
    hooks.answer(500);
    let (endpoint_id, secret) = endpoint(&app, &ada, &org, &hooks.url, json!(["contract.created"])).await;
    contract(&app, &ada, Some(&org), 10_000).await;
    let first = hooks.received(1).await.remove(0);
    wait_for_rows(&app, "webhook_attempts", 1).await;
    let delivery = deliveries(&app, &ada, &endpoint_id).await.remove(0);
    assert_eq!(
        (&delivery["status"], &delivery["attempts"], &delivery["lastStatusCode"]),
        (&json!("PENDING"), &json!(1), &json!(500))
    );
    assert!(delivery["lastError"].as_str().is_some_and(|e| e.contains("500")), "{delivery}");
    let next = chrono::DateTime::parse_from_rfc3339(delivery["nextRetryAt"].as_str().unwrap()).unwrap();
    let pause = next.signed_duration_since(app.clock_now()).num_seconds();
    assert!((29..=30).contains(&pause), "the first retry waits 30 s, not {pause}");

    // Not before the pause is over.
    assert_eq!(send_due(&app).await, 0);
    assert_eq!(hooks.count(), 1);

    hooks.answer(204);
    app.clock.advance(chrono::Duration::seconds(31));
    assert_eq!(send_due(&app).await, 1);
    let retried = hooks.received(2).await.remove(1);
    assert_eq!(retried.header("webhook-id"), first.header("webhook-id"), "the same message");
    assert_eq!(retried.body, first.body);
    let (at_first, at_retry): (i64, i64) =
        (first.header("webhook-timestamp").parse().unwrap(), retried.header("webhook-timestamp").parse().unwrap());
    assert!(at_retry >= at_first + 30, "each attempt is signed when it is made");
    assert!(signed_by(&secret, &retried));
    let delivery = deliveries(&app, &ada, &endpoint_id).await.remove(0);
    assert_eq!(
        (&delivery["status"], &delivery["attempts"], &delivery["lastStatusCode"]),
        (&json!("DELIVERED"), &json!(2), &json!(204))
    );
    assert_eq!(app.count("webhook_attempts").await, 2, "every attempt is recorded");
}

#[tokio::test]
async fn a_replayed_delivery_is_sent_again_with_the_same_webhook_id_by_admins_only() {
    let app = spawn_app().await;
    let ada = app.register("ada").await;
    let bob = app.register("bob").await;
    let org = create_org(&app, &ada, "acme").await;
    assert_ok(&add(&app, &ada, &org, "bob", "MEMBER").await);
    let hooks = Receiver::start().await;
    let (endpoint_id, secret) = endpoint(&app, &ada, &org, &hooks.url, json!(["contract.created"])).await;
    contract(&app, &ada, Some(&org), 10_000).await;
    let first = hooks.received(1).await.remove(0);
    wait_for_rows(&app, "webhook_attempts", 1).await;
    let delivery = deliveries(&app, &ada, &endpoint_id).await.remove(0);
    let input = json!({ "i": { "deliveryId": delivery["id"] } });

    let refused = app.gql(REPLAY, input.clone(), Some(&bob.access_token)).await;
    assert_eq!(error_code(&refused), "FORBIDDEN", "{refused}");
    assert_eq!(hooks.count(), 1);

    let replayed = app.gql(REPLAY, input, Some(&ada.access_token)).await;
    assert_ok(&replayed);
    assert_eq!(replayed["data"]["replayWebhookDelivery"]["status"], "PENDING");
    assert_eq!(replayed["data"]["replayWebhookDelivery"]["webhookId"], delivery["webhookId"]);
    let again = hooks.received(2).await.remove(1);
    assert_eq!(again.header("webhook-id"), first.header("webhook-id"));
    assert_eq!(again.body, first.body);
    assert!(signed_by(&secret, &again));
    wait_for_rows(&app, "webhook_attempts", 2).await;
    let delivery = deliveries(&app, &ada, &endpoint_id).await.remove(0);
    assert_eq!((&delivery["status"], &delivery["attempts"]), (&json!("DELIVERED"), &json!(1)), "a new round");
}

#[tokio::test]
async fn unknown_event_types_bad_urls_and_non_admins_are_refused_and_nothing_is_written() {
    let app = spawn_app().await;
    let ada = app.register("ada").await;
    let bob = app.register("bob").await;
    let carol = app.register("carol").await;
    let dan = app.register("dan").await;
    let org = create_org(&app, &ada, "acme").await;
    assert_ok(&add(&app, &ada, &org, "bob", "MEMBER").await);
    assert_ok(&add(&app, &ada, &org, "carol", "ADMIN").await);
    let url = "http://127.0.0.1:9/hook";

    for types in [json!(["contract.created", "contract.exploded"]), json!(["session.ended"]), json!([])] {
        let body = create_endpoint(&app, &ada, &org, url, types.clone()).await;
        assert_eq!((error_code(&body), error_field(&body)), ("BAD_USER_INPUT", "eventTypes"), "{types}: {body}");
    }
    for bad in ["ftp://hooks.example.com/in", "hooks.example.com/in", "http://", "https://exa mple.com/in", ""] {
        let body = create_endpoint(&app, &ada, &org, bad, json!(["contract.created"])).await;
        assert_eq!((error_code(&body), error_field(&body)), ("BAD_USER_INPUT", "url"), "{bad}: {body}");
    }
    for (who, name) in [(&bob, "a member"), (&dan, "an outsider")] {
        let body = create_endpoint(&app, who, &org, url, json!(["contract.created"])).await;
        assert_eq!(error_code(&body), "FORBIDDEN", "{name}: {body}");
    }
    let anonymous = app
        .gql(CREATE, json!({ "i": { "organizationId": org, "url": url, "eventTypes": ["contract.created"] } }), None)
        .await;
    assert_eq!(error_code(&anonymous), "UNAUTHENTICATED", "{anonymous}");
    assert_eq!(app.count("webhook_endpoints").await, 0, "nothing written");

    // An admin may, by the role held now: demoted, no more.
    let (endpoint_id, _) = endpoint(&app, &carol, &org, url, json!(["contract.created"])).await;
    let demoted = app
        .gql(
            "mutation($i: ChangeMemberRoleInput!) { changeMemberRole(input: $i) { role } }",
            json!({ "i": { "organizationId": org, "profileId": carol.profile_id, "role": "MEMBER" } }),
            Some(&ada.access_token),
        )
        .await;
    assert_ok(&demoted);
    let body = create_endpoint(&app, &carol, &org, url, json!(["contract.created"])).await;
    assert_eq!(error_code(&body), "FORBIDDEN", "{body}");
    assert_eq!(app.count("webhook_endpoints").await, 1);

    // Members see neither endpoints nor deliveries, and delete nothing.
    let listed = app.gql(ENDPOINTS, json!({ "id": org }), Some(&bob.access_token)).await;
    assert_eq!(error_code(&listed), "FORBIDDEN", "{listed}");
    let listed = app.gql(DELIVERIES, json!({ "e": endpoint_id }), Some(&bob.access_token)).await;
    assert_eq!(error_code(&listed), "FORBIDDEN", "{listed}");
    let deleted = app.gql(DELETE, json!({ "i": { "endpointId": endpoint_id } }), Some(&bob.access_token)).await;
    assert_eq!(error_code(&deleted), "FORBIDDEN", "{deleted}");
    let listed = app.gql(ENDPOINTS, json!({ "id": org }), Some(&ada.access_token)).await;
    assert_eq!(listed["data"]["organization"]["webhookEndpoints"]["edges"][0]["node"]["id"], endpoint_id, "{listed}");
}

#[tokio::test]
async fn in_production_endpoints_on_this_machine_or_a_private_network_are_refused() {
    let app = spawn_app_with(|config| config.app_env = AppEnv::Production).await;
    let ada = app.register("ada").await;
    let org = create_org(&app, &ada, "acme").await;
    for url in [
        "http://127.0.0.1:9/hook",
        "http://localhost:9/hook",
        "http://[::1]/hook",
        "https://10.0.0.8/hook",
        "http://192.168.1.20/hook",
        "http://169.254.169.254/latest/meta-data",
        "http://0.0.0.0/hook",
        "http://224.0.0.1/hook",
    ] {
        let body = create_endpoint(&app, &ada, &org, url, json!(["contract.created"])).await;
        assert_eq!((error_code(&body), error_field(&body)), ("BAD_USER_INPUT", "url"), "{url}: {body}");
    }
    assert_eq!(app.count("webhook_endpoints").await, 0);
}

#[tokio::test]
async fn a_deleted_endpoint_gets_nothing_more_not_even_its_retries() {
    let app = spawn_app().await;
    let ada = app.register("ada").await;
    let org = create_org(&app, &ada, "acme").await;
    let hooks = Receiver::start().await;
    hooks.answer(503);
    let (endpoint_id, _) = endpoint(&app, &ada, &org, &hooks.url, json!(["contract.created"])).await;
    contract(&app, &ada, Some(&org), 10_000).await;
    hooks.received(1).await;
    wait_for_rows(&app, "webhook_attempts", 1).await;

    let deleted = app.gql(DELETE, json!({ "i": { "endpointId": endpoint_id } }), Some(&ada.access_token)).await;
    assert_eq!(deleted["data"]["deleteWebhookEndpoint"], true, "{deleted}");
    let left = (
        app.count("webhook_endpoints").await,
        app.count("webhook_deliveries").await,
        app.count("webhook_attempts").await,
    );
    assert_eq!(left, (0, 0, 0));

    hooks.answer(200);
    app.clock.advance(chrono::Duration::minutes(5));
    assert_eq!(send_due(&app).await, 0);
    contract(&app, &ada, Some(&org), 10_000).await;
    assert_eq!(app.count("webhook_deliveries").await, 0);
    assert_eq!(send_due(&app).await, 0);
    assert_eq!(hooks.count(), 1, "the retry and the new event never left");
}

#[tokio::test]
async fn an_endpoint_failing_for_a_day_is_disabled_and_its_owners_are_mailed() {
    let app = spawn_app().await;
    let ada = app.register("ada").await;
    let org = create_org(&app, &ada, "acme").await;
    let hooks = Receiver::start().await;
    hooks.answer(500);
    let (endpoint_id, _) = endpoint(&app, &ada, &org, &hooks.url, json!(["contract.created"])).await;
    contract(&app, &ada, Some(&org), 10_000).await;
    hooks.received(1).await;
    wait_for_rows(&app, "webhook_attempts", 1).await;

    // Every six hours the due retry fails; a day after the first attempt the delivery is given up.
    for _ in 0..8 {
        app.clock.advance(chrono::Duration::hours(6));
        send_due(&app).await;
        if app.count("webhook_deliveries WHERE status = 'FAILED'").await == 1 {
            break;
        }
    }
    assert_eq!(app.count("webhook_deliveries WHERE status = 'FAILED'").await, 1);
    assert_eq!(app.count("webhook_attempts").await, 5, "at 0, 6, 12, 18 and 24 hours");
    assert_eq!(hooks.count(), 5);

    let ada = app.login(&ada).await;
    let listed = app.gql(ENDPOINTS, json!({ "id": org }), Some(&ada.access_token)).await;
    let node = &listed["data"]["organization"]["webhookEndpoints"]["edges"][0]["node"];
    assert_eq!(node["enabled"], false, "{listed}");
    assert!(node["disabledReason"].as_str().is_some_and(|r| r.contains("24 hours")), "{listed}");
    let mails = app.mails_to(&ada.email).await;
    assert!(mails.iter().any(|m| m.contains("Subject: Webhook endpoint disabled")), "{mails:?}");

    // Disabled, it gets no new events; enabled again, it does.
    contract(&app, &ada, Some(&org), 10_000).await;
    assert_eq!(app.count("webhook_deliveries").await, 1);
    hooks.answer(200);
    let enabled = app.gql(ENABLE, json!({ "i": { "endpointId": endpoint_id } }), Some(&ada.access_token)).await;
    assert_eq!(enabled["data"]["enableWebhookEndpoint"], json!({ "enabled": true, "disabledReason": null }));
    contract(&app, &ada, Some(&org), 10_000).await;
    let last = hooks.received(6).await.remove(5);
    assert_eq!(serde_json::from_str::<Value>(&last.body).unwrap()["type"], "contract.created");
}
