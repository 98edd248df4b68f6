//! The write mix of the benchmark (scenario f): people of the `seed-demo --scale` data set send
//! proposals to open gigs, RSVP to events, and take the task offers they hold and submit the
//! work, as fast as the server answers. Prints requests/s, p50 and p99 per mutation, and every
//! error by code (there should be none); the invariant checks run afterwards
//! (`bench/scenarios.sh` runs `ledger-check` and SQL checks of capacity and proposals).
//!
//! ```sh
//! cargo run --release --example writes -- http://127.0.0.1:8000/graphql 16 10 200
//! ```
//! Arguments: GraphQL URL, concurrent clients (default 16), seconds (default 10), people to
//! sign in as (default 200), how many eligible people to skip first (default 0: a second run
//! with other people finds every gig and event unanswered by them). The server's rate limits are per caller and would turn most of
//! this into RATE_LIMITED: run it against a server started with `MUTATION_RATE_LIMIT`,
//! `LOGIN_RATE_LIMIT` and `LOGIN_IP_RATE_LIMIT` lifted.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::cast_possible_truncation)]

use std::{
    collections::{BTreeMap, VecDeque},
    sync::{Arc, Mutex},
    time::{Duration, Instant},
};

use serde_json::{Value, json};

/// The seeded people's password (`seed-demo`).
const PASSWORD: &str = "demo-password-123";

#[derive(Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Debug)]
enum Op {
    SubmitProposal,
    Rsvp,
    AcceptTaskOffer,
    SubmitTask,
}

/// What one signed-in person still has to do.
struct Person {
    handle: String,
    token: String,
    gigs: VecDeque<String>,
    events: VecDeque<String>,
    offers: VecDeque<String>,
    to_submit: VecDeque<String>,
}

impl Person {
    /// The next mutation, rotating between proposals and RSVPs and taking offers when held.
    fn next(&mut self, turn: usize) -> Option<(Op, Value)> {
        if let Some(task) = self.to_submit.pop_front() {
            let deliverable = json!({ "text": "Delivered", "metrics": [{ "name": "coverage_pct", "value": 90.0 }] });
            return Some((Op::SubmitTask, json!({ "input": { "taskId": task, "deliverable": deliverable } })));
        }
        if turn % 4 == 3
            && let Some(task) = self.offers.pop_front()
        {
            self.to_submit.push_back(task.clone());
            return Some((Op::AcceptTaskOffer, json!({ "input": { "taskId": task } })));
        }
        if turn.is_multiple_of(2)
            && let Some(gig) = self.gigs.pop_front()
        {
            let input = json!({ "gigId": gig, "coverNote": "I can do this.", "amountCents": 50_000, "etaDays": 7 });
            return Some((Op::SubmitProposal, json!({ "input": input })));
        }
        if let Some(event) = self.events.pop_front() {
            return Some((Op::Rsvp, json!({ "input": { "eventId": event } })));
        }
        None
    }
}

fn document(op: Op) -> &'static str {
    match op {
        Op::SubmitProposal => "mutation($input: SubmitProposalInput!) { submitProposal(input: $input) { id status } }",
        Op::Rsvp => "mutation($input: EventIdInput!) { rsvp(input: $input) { status } }",
        Op::AcceptTaskOffer => "mutation($input: TaskIdInput!) { acceptTaskOffer(input: $input) { id status } }",
        Op::SubmitTask => "mutation($input: SubmitTaskInput!) { submitTask(input: $input) { id status } }",
    }
}

async fn post(http: &reqwest::Client, url: &str, token: Option<&str>, query: &str, variables: Value) -> Value {
    let mut request = http.post(url).json(&json!({ "query": query, "variables": variables }));
    if let Some(token) = token {
        request = request.bearer_auth(token);
    }
    request.send().await.expect("request").json().await.expect("JSON answer")
}

/// Ids (and owner handles, where selected) of `pages` pages of 100 of a list query, `$a`
/// being the cursor.
async fn ids(
    http: &reqwest::Client,
    url: &str,
    token: Option<&str>,
    field: &str,
    query: &str,
    pages: usize,
) -> Vec<(String, String)> {
    let mut out = Vec::new();
    let mut after = Value::Null;
    for _ in 0..pages {
        let body = post(http, url, token, query, json!({ "a": after })).await;
        let list = &body["data"][field];
        out.extend(list["nodes"].as_array().into_iter().flatten().filter_map(|n| {
            let owner = n["owner"]["handle"].as_str().unwrap_or_default().to_owned();
            n["id"].as_str().map(|id| (id.to_owned(), owner))
        }));
        if list["pageInfo"]["hasNextPage"] != true {
            break;
        }
        after = list["pageInfo"]["endCursor"].clone();
    }
    out
}

#[tokio::main]
async fn main() {
    let mut args = std::env::args().skip(1);
    let url = args.next().unwrap_or_else(|| "http://127.0.0.1:8000/graphql".into());
    let clients: usize = args.next().and_then(|a| a.parse().ok()).unwrap_or(16);
    let seconds: u64 = args.next().and_then(|a| a.parse().ok()).unwrap_or(10);
    let people: usize = args.next().and_then(|a| a.parse().ok()).unwrap_or(200);
    let skip: usize = args.next().and_then(|a| a.parse().ok()).unwrap_or(0);
    let http = reqwest::Client::new();

    // Targets: open gigs and upcoming events (public ones), shared out between the people.
    let gigs = ids(&http, &url, None, "gigs", "query($a: String) { gigs(first: 100, after: $a) { nodes { id owner { handle } } pageInfo { hasNextPage endCursor } } }", 100).await;
    let events = ids(
        &http,
        &url,
        None,
        "events",
        "query($a: String) { events(first: 100, after: $a) { nodes { id } pageInfo { hasNextPage endCursor } } }",
        50,
    )
    .await;
    // People numbered 3 and 4 modulo 5 belong to no organization, so no gig is their own.
    let mut signed_in = Vec::new();
    for k in (0..).filter(|k| k % 5 >= 3).skip(skip).take(people) {
        let login = "mutation($e: String!, $p: String!) { login(input: { email: $e, password: $p }) { accessToken } }";
        let body =
            post(&http, &url, None, login, json!({ "e": format!("person{k}@scale.semasocial.dev"), "p": PASSWORD }))
                .await;
        let token = body["data"]["login"]["accessToken"].as_str().unwrap_or_else(|| panic!("login person{k}: {body}"));
        let offers = ids(&http, &url, Some(token), "myTasks", "query($a: String) { myTasks(statuses: [OFFERED], first: 100, after: $a) { nodes { id } pageInfo { hasNextPage endCursor } } }", 1).await;
        signed_in.push(Person {
            handle: format!("person{k}"),
            token: token.to_owned(),
            gigs: VecDeque::new(),
            events: VecDeque::new(),
            offers: offers.into_iter().map(|(id, _)| id).collect(),
            to_submit: VecDeque::new(),
        });
    }
    let n = signed_in.len();
    for (i, (gig, owner)) in gigs.iter().enumerate() {
        // Each gig goes to up to 8 people (never its owner): (person, gig) pairs never repeat.
        for p in 0..n.min(8) {
            let person = &mut signed_in[(i + p * 7) % n];
            if &person.handle != owner {
                person.gigs.push_back(gig.clone());
            }
        }
    }
    for (i, (event, _)) in events.iter().enumerate() {
        signed_in[i % n].events.push_back(event.clone());
    }
    let offers: usize = signed_in.iter().map(|p| p.offers.len()).sum();
    println!(
        "{n} people signed in; {} gigs, {} events, {offers} task offers to work through; {clients} clients for {seconds} s",
        gigs.len(),
        events.len()
    );

    let queue: Arc<Mutex<VecDeque<Person>>> = Arc::new(Mutex::new(signed_in.into()));
    let deadline = Instant::now() + Duration::from_secs(seconds);
    let started = Instant::now();
    let workers: Vec<_> = (0..clients)
        .map(|_| {
            let (http, url, queue) = (http.clone(), url.clone(), queue.clone());
            tokio::spawn(async move {
                let mut latencies: BTreeMap<Op, Vec<Duration>> = BTreeMap::new();
                let mut errors: BTreeMap<String, usize> = BTreeMap::new();
                let mut turn = 0;
                while Instant::now() < deadline {
                    // One person at a time per client, so a person's accept precedes its submit.
                    let Some(mut person) = queue.lock().unwrap().pop_front() else { break };
                    turn += 1;
                    let Some((op, variables)) = person.next(turn) else { continue };
                    let at = Instant::now();
                    let body = post(&http, &url, Some(&person.token), document(op), variables).await;
                    latencies.entry(op).or_default().push(at.elapsed());
                    if let Some(error) = body["errors"].get(0) {
                        let code = error["extensions"]["code"].as_str().unwrap_or("?");
                        *errors.entry(format!("{op:?} {code}: {}", error["message"])).or_default() += 1;
                    }
                    queue.lock().unwrap().push_back(person);
                }
                (latencies, errors)
            })
        })
        .collect();
    let mut latencies: BTreeMap<Op, Vec<Duration>> = BTreeMap::new();
    let mut errors: BTreeMap<String, usize> = BTreeMap::new();
    for worker in workers {
        let (l, e) = worker.await.expect("worker");
        for (op, mut v) in l {
            latencies.entry(op).or_default().append(&mut v);
        }
        for (k, v) in e {
            *errors.entry(k).or_default() += v;
        }
    }
    let elapsed = started.elapsed().as_secs_f64();
    let total: usize = latencies.values().map(Vec::len).sum();
    println!("(f) write mix: {total} mutations in {elapsed:.1} s = {:.0} req/s", total as f64 / elapsed);
    for (op, mut v) in latencies {
        v.sort();
        let at = |q: f64| v[((v.len() as f64 * q) as usize).min(v.len() - 1)].as_secs_f64() * 1000.0;
        println!(
            "  {op:?}: {} ({:.0}/s), p50 {:.2} ms, p99 {:.2} ms",
            v.len(),
            v.len() as f64 / elapsed,
            at(0.5),
            at(0.99)
        );
    }
    if errors.is_empty() {
        println!("  no errors");
    }
    for (error, count) in errors {
        println!("  error ×{count}: {error}");
    }
}
