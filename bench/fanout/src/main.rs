//! Fan-out benchmark for live updates.
//!
//! Opens N WebSocket subscribers (graphql-transport-ws) on one public community of a running
//! server, proves every one is live with a warm-up post, reads the server's resident memory
//! before and after (per idle subscribed connection), then posts R times and measures how
//! long each post takes to reach every subscriber (from just before the mutation is sent to
//! each `next` message). Talks only to the given server (127.0.0.1 by default).
//!
//! `cargo run --release -p fanout -- --subscribers 10000 --server-pid $(pgrep -f 'semasocial serve')`
use std::{
    sync::{
        Arc,
        atomic::{AtomicUsize, Ordering},
    },
    time::{Duration, Instant},
};

use anyhow::{Context, bail};
use clap::Parser;
use futures_util::{SinkExt, StreamExt};
use serde_json::{Value, json};
use tokio::sync::{Semaphore, mpsc};
use tokio_tungstenite::tungstenite::{Message, client::IntoClientRequest, protocol::WebSocketConfig};

/// Read buffer per subscriber socket, in bytes.
const READ_BUFFER: usize = 4096;

#[derive(Parser)]
struct Args {
    /// The server's GraphQL endpoint.
    #[arg(long, default_value = "http://127.0.0.1:8000/graphql")]
    url: String,
    /// Subscribers to open.
    #[arg(long, default_value_t = 1000)]
    subscribers: usize,
    /// Posts to time (after one warm-up post).
    #[arg(long, default_value_t = 5)]
    rounds: usize,
    /// Connections opened at once while ramping up.
    #[arg(long, default_value_t = 256)]
    ramp: usize,
    /// The server's process id, to read its resident memory from /proc.
    #[arg(long)]
    server_pid: Option<u32>,
    /// Seconds to leave the subscribers idle after the last round before reading the server's
    /// memory again (the allocator returns the pages freed by the ramp-up within ~10 s).
    #[arg(long, default_value_t = 15)]
    settle_secs: u64,
}

/// What a subscriber reports: (round, when its event arrived).
type Arrival = (usize, Instant);

#[tokio::main(flavor = "current_thread")]
async fn main() -> anyhow::Result<()> {
    let args = Args::parse();
    // Every subscriber is a socket: lift the soft open-file limit to the hard one.
    let limit = rlimit::increase_nofile_limit(u64::MAX).context("raising the open-file limit")?;
    if usize::try_from(limit).unwrap_or(usize::MAX) < args.subscribers + 64 {
        bail!("the open-file limit ({limit}) is too low for {} subscribers", args.subscribers);
    }
    let http = reqwest::Client::new();
    let suffix = format!("{:x}", std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH)?.as_millis());
    let token = gql(
        &http,
        &args.url,
        "mutation($i: RegisterInput!) { register(input: $i) { accessToken } }",
        json!({ "i": { "email": format!("fanout-{suffix}@example.com"), "password": "correct horse battery",
                        "handle": format!("fanout_{suffix}"), "displayName": "Fan-out" } }),
        None,
    )
    .await?["register"]["accessToken"]
        .as_str()
        .context("a token")?
        .to_owned();
    let community = gql(
        &http,
        &args.url,
        "mutation($i: CreateCommunityInput!) { createCommunity(input: $i) { id } }",
        json!({ "i": { "slug": format!("fanout-{suffix}"), "name": "Fan-out", "visibility": "PUBLIC" } }),
        Some(&token),
    )
    .await?["createCommunity"]["id"]
        .as_str()
        .context("a community")?
        .to_owned();

    let memory_before = args.server_pid.map(Memory::of).transpose()?;
    let ws_url = args.url.replacen("http", "ws", 1);
    let (arrivals, mut received) = mpsc::unbounded_channel::<Arrival>();
    let connected = Arc::new(AtomicUsize::new(0));
    let ramp = Arc::new(Semaphore::new(args.ramp));
    let started = Instant::now();
    let mut sockets = Vec::with_capacity(args.subscribers);
    for _ in 0..args.subscribers {
        let permit = ramp.clone().acquire_owned().await?;
        let (url, community, arrivals, connected) =
            (ws_url.clone(), community.clone(), arrivals.clone(), connected.clone());
        sockets.push(tokio::spawn(async move {
            let result = subscriber(&url, &community, arrivals, &connected, permit).await;
            if let Err(err) = &result {
                eprintln!("subscriber failed: {err:#}");
            }
            result
        }));
    }
    drop(arrivals);
    while connected.load(Ordering::Relaxed) < args.subscribers {
        if sockets.iter().any(|s| s.is_finished()) {
            bail!("a subscriber stopped while connecting");
        }
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    let ramp_time = started.elapsed();

    let post = |round: usize| {
        let (http, url, token, community) = (http.clone(), args.url.clone(), token.clone(), community.clone());
        async move {
            gql(
                &http,
                &url,
                "mutation($i: CreatePostInput!) { createPost(input: $i) { id } }",
                json!({ "i": { "communityId": community, "title": format!("round {round}"), "body": "fan-out" } }),
                Some(&token),
            )
            .await
        }
    };
    // Warm-up: every subscriber receives one event, so all are live (and measured idle after).
    let mut latencies: Vec<Vec<Duration>> = vec![Vec::new(); args.rounds + 1];
    for (round, arrived) in latencies.iter_mut().enumerate() {
        let sent = Instant::now();
        post(round).await?;
        let mut got = 0;
        while got < args.subscribers {
            let (r, at) = tokio::time::timeout(Duration::from_secs(60), received.recv())
                .await
                .with_context(|| format!("round {round}: only {got}/{} subscribers received", args.subscribers))?
                .context("subscribers gone")?;
            if r != round {
                bail!("round {round}: a subscriber reported round {r}");
            }
            arrived.push(at.duration_since(sent));
            got += 1;
        }
        if round == 0 {
            tokio::time::sleep(Duration::from_millis(500)).await;
            if let (Some(pid), Some(before)) = (args.server_pid, memory_before) {
                report_memory("after the warm-up", before, Memory::of(pid)?, args.subscribers);
            }
        }
    }
    let mut all: Vec<Duration> = latencies.into_iter().skip(1).flatten().collect();
    all.sort_unstable();
    // The q-quantile by rank (nearest rank, rounded down).
    let pick = |percent: usize| all[(all.len() * percent / 100).min(all.len() - 1)];
    println!(
        "{} subscribers (ramp {:.1}s), {} rounds, every subscriber received every post: p50 {:.1} ms, p99 {:.1} ms, max {:.1} ms",
        args.subscribers,
        ramp_time.as_secs_f64(),
        args.rounds,
        pick(50).as_secs_f64() * 1e3,
        pick(99).as_secs_f64() * 1e3,
        all.last().map_or(0.0, |d| d.as_secs_f64() * 1e3),
    );
    if let (Some(pid), Some(before)) = (args.server_pid, memory_before) {
        tokio::time::sleep(Duration::from_secs(args.settle_secs)).await;
        let label = format!("{}s after the last round", args.settle_secs);
        report_memory(&label, before, Memory::of(pid)?, args.subscribers);
    }
    for socket in sockets {
        socket.abort();
    }
    Ok(())
}

/// One subscriber: connects, subscribes, then reports the round of each post it receives.
async fn subscriber(
    url: &str,
    community: &str,
    arrivals: mpsc::UnboundedSender<Arrival>,
    connected: &AtomicUsize,
    permit: tokio::sync::OwnedSemaphorePermit,
) -> anyhow::Result<()> {
    let mut request = url.into_client_request()?;
    request.headers_mut().insert("sec-websocket-protocol", "graphql-transport-ws".parse()?);
    // A small read buffer: tungstenite zeroes the whole buffer before each read, and with its
    // 128 KiB default that memset took ~70% of the generator's time (perf), on the cores the
    // server shares. Messages here are a few hundred bytes.
    let config = WebSocketConfig::default().read_buffer_size(READ_BUFFER);
    let (mut ws, _) =
        tokio_tungstenite::connect_async_with_config(request, Some(config), false).await.context("connecting")?;
    ws.send(Message::text(json!({ "type": "connection_init" }).to_string())).await?;
    match ws.next().await {
        Some(Ok(Message::Text(text))) if text.contains("connection_ack") => {}
        other => bail!("no connection_ack: {other:?}"),
    }
    // From the community's start (`after: "0"`): a subscriber whose subscription the server
    // starts only after the warm-up post still gets it, from the outbox.
    let query = "subscription($c: ID!) { communityActivity(communityId: $c, after: \"0\") { action after } }";
    let subscribe =
        json!({ "id": "1", "type": "subscribe", "payload": { "query": query, "variables": { "c": community } } });
    ws.send(Message::text(subscribe.to_string())).await?;
    connected.fetch_add(1, Ordering::Relaxed);
    drop(permit);
    while let Some(message) = ws.next().await {
        let at = Instant::now();
        let Message::Text(text) = message? else { continue };
        // Read only what is needed (the generator shares the cores with the server): the
        // message type and the round in the post's title.
        if !text.starts_with(r#"{"type":"next""#) {
            bail!("unexpected message: {text}");
        }
        let round = text
            .split_once(r#""title":"round "#)
            .and_then(|(_, rest)| rest.split('"').next())
            .and_then(|r| r.parse().ok());
        if let Some(round) = round {
            let _ = arrivals.send((round, at));
        }
    }
    Ok(())
}

async fn gql(
    http: &reqwest::Client,
    url: &str,
    query: &str,
    variables: Value,
    token: Option<&str>,
) -> anyhow::Result<Value> {
    let mut request = http.post(url).json(&json!({ "query": query, "variables": variables }));
    if let Some(token) = token {
        request = request.bearer_auth(token);
    }
    let body: Value = request.send().await?.json().await?;
    if body.get("errors").is_some() {
        bail!("{query}: {}", body["errors"]);
    }
    Ok(body["data"].clone())
}

/// Resident memory of a process, in KiB: all of it (VmRSS), and its anonymous part (RssAnon:
/// heap and stacks, without the binary's code pages, which the first subscriptions page in
/// once whatever their number).
#[derive(Clone, Copy)]
struct Memory {
    rss: u64,
    anon: u64,
}

impl Memory {
    fn of(pid: u32) -> anyhow::Result<Self> {
        let status = std::fs::read_to_string(format!("/proc/{pid}/status")).context("reading the server's status")?;
        let field = |name: &str| {
            status
                .lines()
                .find_map(|l| l.strip_prefix(name))
                .and_then(|v| v.trim().trim_end_matches("kB").trim().parse::<u64>().ok())
                .with_context(|| format!("{name} in /proc status"))
        };
        Ok(Self { rss: field("VmRSS:")?, anon: field("RssAnon:")? })
    }
}

/// Prints the server's memory growth per subscriber since `before`.
fn report_memory(when: &str, before: Memory, after: Memory, subscribers: usize) {
    let per = |a: u64, b: u64| a.saturating_sub(b) as f64 / subscribers as f64;
    println!(
        "server memory {when}, {subscribers} idle subscribers: RSS {} -> {} KiB, {:.1} KiB per connection \
         (anonymous {} -> {} KiB, {:.1} KiB per connection)",
        before.rss,
        after.rss,
        per(after.rss, before.rss),
        before.anon,
        after.anon,
        per(after.anon, before.anon),
    );
}
