//! Fixed-window rate limits: in memory for one instance, in Redis when several share it.
use std::{collections::HashMap, sync::Mutex, time::Duration};

use redis::aio::ConnectionManager;

use crate::{
    clock::Clock,
    error::{AppError, AppResult},
};

/// Counts hits per key and window.
pub enum RateLimiter {
    /// Counters in this process.
    Memory(Mutex<HashMap<String, (i64, u32)>>),
    /// Counters shared through Redis (`INCR` + `EXPIRE`) under a key prefix.
    Redis(ConnectionManager, String),
}

impl RateLimiter {
    /// An in-memory limiter.
    pub fn memory() -> Self {
        Self::Memory(Mutex::new(HashMap::new()))
    }

    /// Counts one hit for `key`; refuses with RATE_LIMITED above `limit` per `window`.
    pub async fn hit(&self, clock: &dyn Clock, key: &str, limit: u32, window: Duration) -> AppResult<()> {
        let window_secs = window.as_secs().max(1) as i64;
        let now = clock.now().timestamp();
        let window_start = now - now.rem_euclid(window_secs);
        let retry_after = (window_start + window_secs - now).max(1) as u64;
        let count = match self {
            Self::Memory(map) => {
                let mut map = map.lock().map_err(|_| AppError::Internal(anyhow::anyhow!("rate limiter poisoned")))?;
                if map.len() > 100_000 {
                    map.retain(|_, (start, _)| *start == window_start);
                }
                let entry = map.entry(key.to_owned()).or_insert((window_start, 0));
                if entry.0 != window_start {
                    *entry = (window_start, 0);
                }
                entry.1 += 1;
                entry.1
            }
            Self::Redis(conn, prefix) => {
                let mut conn = conn.clone();
                let redis_key = format!("{prefix}:rl:{key}:{window_start}");
                let (count,): (u32,) = redis::pipe()
                    .atomic()
                    .incr(&redis_key, 1)
                    .expire(&redis_key, window_secs)
                    .ignore()
                    .query_async(&mut conn)
                    .await
                    .map_err(|e| AppError::Internal(e.into()))?;
                count
            }
        };
        if count > limit { Err(AppError::RateLimited(retry_after)) } else { Ok(()) }
    }
}
