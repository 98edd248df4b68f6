//! A small load generator: many clients run list queries against a server and report
//! throughput and latency percentiles. Performance is measured here, never in tests.
//!
//! ```sh
//! cargo run --release -- seed-demo && cargo run --release &      # a server with data
//! cargo run --release --example load -- http://127.0.0.1:8000/graphql 16 2000
//! ```
//! Arguments: GraphQL URL, concurrent clients (default 8), requests per client (default 500).
//! With `LOAD_TOKEN` set (e.g. the agent token `seed-demo` prints) the authenticated task
//! pages run too.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::time::{Duration, Instant};

use serde_json::json;

const QUERIES: &[(&str, &str)] = &[
    (
        "gigs page",
        "{ gigs(first: 20) { edges { node { title skills budget { amountCents } owner { handle } organization { name } community { name } } } } }",
    ),
    (
        "gig search",
        "{ gigs(filter: { text: \"rust data\" }, sort: RELEVANCE, first: 20) { edges { node { title } } } }",
    ),
    (
        "profiles page",
        "{ profiles(first: 20) { edges { node { handle skills { skill level } operator { handle } } } } }",
    ),
    ("events page", "{ events(first: 20) { edges { node { title goingCount waitlistCount spotsLeft } } } }"),
];

/// Queries that need `LOAD_TOKEN`.
const AUTHENTICATED: &[(&str, &str)] = &[
    (
        "my tasks",
        "{ myTasks(first: 20) { edges { node { title status assignee { handle } submission { checksPassed } history { reason } } } } }",
    ),
    ("work dashboard", "{ me { workDashboard { acceptanceRate offers { title } activeTasks { title dueAt } } } }"),
    ("claimable", "{ claimableTasks(first: 20) { edges { node { title mode skills } } } }"),
];

#[tokio::main]
async fn main() {
    let mut args = std::env::args().skip(1);
    let url = args.next().unwrap_or_else(|| "http://127.0.0.1:8000/graphql".into());
    let clients: usize = args.next().and_then(|a| a.parse().ok()).unwrap_or(8);
    let per_client: usize = args.next().and_then(|a| a.parse().ok()).unwrap_or(500);
    let token = std::env::var("LOAD_TOKEN").ok().filter(|t| !t.is_empty());
    let mut headers = reqwest::header::HeaderMap::new();
    if let Some(token) = &token {
        headers.insert(reqwest::header::AUTHORIZATION, format!("Bearer {token}").parse().expect("token header"));
    }
    let http = reqwest::Client::builder().default_headers(headers).build().expect("client");
    let extra = if token.is_some() { AUTHENTICATED } else { &[] };
    for (name, query) in QUERIES.iter().chain(extra) {
        let started = Instant::now();
        let tasks: Vec<_> = (0..clients)
            .map(|_| {
                let (http, url, query) = (http.clone(), url.clone(), query.to_string());
                tokio::spawn(async move {
                    let mut latencies = Vec::with_capacity(per_client);
                    for _ in 0..per_client {
                        let t = Instant::now();
                        let response = http.post(&url).json(&json!({ "query": query })).send().await.expect("request");
                        assert!(response.status().is_success(), "status {}", response.status());
                        let body: serde_json::Value = response.json().await.expect("json");
                        assert!(body.get("errors").is_none(), "{body}");
                        latencies.push(t.elapsed());
                    }
                    latencies
                })
            })
            .collect();
        let mut all: Vec<Duration> = Vec::new();
        for task in tasks {
            all.extend(task.await.expect("client"));
        }
        let elapsed = started.elapsed();
        all.sort_unstable();
        #[allow(clippy::cast_possible_truncation)]
        let pct = |p: f64| all[((all.len() as f64 * p) as usize).min(all.len() - 1)];
        println!(
            "{name:14} {:>7.0} req/s  p50 {:>7.2?}  p95 {:>7.2?}  p99 {:>7.2?}  ({} requests, {clients} clients)",
            all.len() as f64 / elapsed.as_secs_f64(),
            pct(0.50),
            pct(0.95),
            pct(0.99),
            all.len()
        );
    }
}
