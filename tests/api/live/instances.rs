//! Several instances: a subscriber on another instance, and a Redis outage that loses nothing.
use std::time::Duration;

use serde_json::{Value, json};

use super::{COMMUNITY, acked, activity, post, raw_on, send, subscribe_message};
use crate::{
    communities::create_community,
    events::Ws,
    helpers::{spawn_app, spawn_app_with},
};

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
