//! Fixed-window rate limits: in memory for one instance, in Redis when several share it.
use std::{collections::HashMap, sync::Mutex, time::Duration};

use redis::aio::ConnectionManager;

use crate::{
    clock::Clock,
    error::{AppError, AppResult},
};

/// Counters of one process: key → (window start, hits).
type Counters = Mutex<HashMap<String, (i64, u32)>>;

/// Counts hits per key and window.
pub enum RateLimiter {
    /// Counters in this process.
    Memory(Counters),
    /// Counters shared through Redis (`INCR` + `EXPIRE`) under a key prefix. While Redis does
    /// not answer, this process counts on its own (limits hold per instance) rather than
    /// failing every login and mutation.
    Redis(ConnectionManager, String, Counters),
}

/// How long a limit check waits for Redis before counting locally.
const REDIS_TIMEOUT: Duration = Duration::from_millis(250);

impl RateLimiter {
    /// An in-memory limiter.
    pub fn memory() -> Self {
        Self::Memory(Mutex::new(HashMap::new()))
    }

    /// A limiter shared through Redis.
    pub fn redis(conn: ConnectionManager, prefix: String) -> Self {
        Self::Redis(conn, prefix, Mutex::new(HashMap::new()))
    }

    /// Counts one hit for `key`; refuses with RATE_LIMITED above `limit` per `window`.
    pub async fn hit(&self, clock: &dyn Clock, key: &str, limit: u32, window: Duration) -> AppResult<()> {
        let window_secs = window.as_secs().max(1) as i64;
        let now = clock.now().timestamp();
        let window_start = now - now.rem_euclid(window_secs);
        let retry_after = (window_start + window_secs - now).max(1) as u64;
        let count = match self {
            Self::Memory(map) => count_locally(map, key, window_start)?,
            Self::Redis(conn, prefix, fallback) => {
                let mut conn = conn.clone();
                let redis_key = format!("{prefix}:rl:{key}:{window_start}");
                let shared = tokio::time::timeout(
                    REDIS_TIMEOUT,
                    redis::pipe()
                        .atomic()
                        .incr(&redis_key, 1)
                        .expire(&redis_key, window_secs)
                        .ignore()
                        .query_async::<(u32,)>(&mut conn),
                )
                .await;
                match shared {
                    Ok(Ok((count,))) => count,
                    Ok(Err(err)) => {
                        tracing::warn!(error = %err, "Redis rate limit unavailable; counting in this process");
                        count_locally(fallback, key, window_start)?
                    }
                    Err(_) => {
                        tracing::warn!("Redis rate limit timed out; counting in this process");
                        count_locally(fallback, key, window_start)?
                    }
                }
            }
        };
        if count > limit { Err(AppError::RateLimited(retry_after)) } else { Ok(()) }
    }
}

/// Counts one hit in this process's counters.
fn count_locally(map: &Counters, key: &str, window_start: i64) -> AppResult<u32> {
    let mut map = map.lock().map_err(|_| AppError::Internal(anyhow::anyhow!("rate limiter poisoned")))?;
    if map.len() > 100_000 {
        map.retain(|_, (start, _)| *start == window_start);
    }
    let entry = map.entry(key.to_owned()).or_insert((window_start, 0));
    if entry.0 != window_start {
        *entry = (window_start, 0);
    }
    entry.1 = entry.1.saturating_add(1);
    Ok(entry.1)
}
