//! Automatic persisted queries (Apollo's protocol): a client sends only the SHA-256 of its
//! query in `extensions.persistedQuery`; an unknown hash is answered `PERSISTED_QUERY_NOT_FOUND`
//! and the client resends hash and query, which registers it. Known queries live in this
//! process (bounded) and, when Redis is configured, in Redis so every instance knows them.
use std::{
    collections::{HashMap, VecDeque},
    sync::Mutex,
    time::Duration,
};

use async_graphql::{Request, ServerError, Value};
use redis::aio::ConnectionManager;
use sha2::{Digest, Sha256};

use crate::{error::AppError, graphql::RequestCode, graphql::to_server_error};

/// Queries kept in this process; the oldest registration leaves first.
const LOCAL_CAPACITY: usize = 4_096;
/// How long Redis keeps a registered query after its last registration.
const REDIS_TTL: Duration = Duration::from_secs(7 * 24 * 3600);
/// How long a lookup waits for Redis before answering from this process alone.
const REDIS_TIMEOUT: Duration = Duration::from_millis(250);
/// The message Apollo's clients (older ones match on it) expect with the code.
const NOT_FOUND_MESSAGE: &str = "PersistedQueryNotFound";

/// The registry of persisted queries.
pub struct PersistedQueries {
    local: Mutex<Local>,
    redis: Option<(ConnectionManager, String)>,
}

#[derive(Default)]
struct Local {
    queries: HashMap<String, String>,
    order: VecDeque<String>,
}

impl PersistedQueries {
    /// A registry in this process, shared through Redis when a connection is given.
    pub fn new(redis: Option<ConnectionManager>, namespace: &str) -> Self {
        Self { local: Mutex::new(Local::default()), redis: redis.map(|conn| (conn, format!("{namespace}:apq:"))) }
    }

    /// Fills in the query of a hash-only request, or registers the query of a request that
    /// carries both. Requests without `extensions.persistedQuery` pass untouched.
    pub async fn resolve(&self, request: &mut Request) -> Result<(), Box<ServerError>> {
        let Some(hash) = requested_hash(request)? else { return Ok(()) };
        if request.query.is_empty() {
            match self.lookup(&hash).await {
                Some(query) => request.query = query,
                None => return Err(Box::new(RequestCode::PersistedQueryNotFound.error(NOT_FOUND_MESSAGE))),
            }
        } else {
            if hex::encode(Sha256::digest(request.query.as_bytes())) != hash {
                return Err(Box::new(
                    RequestCode::PersistedQueryMismatch
                        .error("extensions.persistedQuery.sha256Hash is not the SHA-256 of the query"),
                ));
            }
            self.register(hash, &request.query).await;
        }
        Ok(())
    }

    async fn lookup(&self, hash: &str) -> Option<String> {
        if let Some(query) = self.local().queries.get(hash) {
            return Some(query.clone());
        }
        let (conn, prefix) = self.redis.as_ref()?;
        let mut conn = conn.clone();
        let key = format!("{prefix}{hash}");
        let found: Option<String> =
            match tokio::time::timeout(REDIS_TIMEOUT, redis::cmd("GET").arg(&key).query_async(&mut conn)).await {
                Ok(Ok(found)) => found,
                Ok(Err(err)) => {
                    tracing::warn!(error = %err, "persisted query lookup in Redis failed");
                    None
                }
                Err(_) => {
                    tracing::warn!("persisted query lookup in Redis timed out");
                    None
                }
            };
        let query = found?;
        // Redis is shared: a value that does not hash to its key is not trusted.
        if hex::encode(Sha256::digest(query.as_bytes())) != hash {
            return None;
        }
        self.remember(hash.to_owned(), query.clone());
        Some(query)
    }

    async fn register(&self, hash: String, query: &str) {
        self.remember(hash.clone(), query.to_owned());
        if let Some((conn, prefix)) = &self.redis {
            let mut conn = conn.clone();
            let mut set = redis::cmd("SET");
            set.arg(format!("{prefix}{hash}")).arg(query).arg("EX").arg(REDIS_TTL.as_secs());
            match tokio::time::timeout(REDIS_TIMEOUT, set.query_async::<()>(&mut conn)).await {
                Ok(Ok(())) => {}
                Ok(Err(err)) => tracing::warn!(error = %err, "registering a persisted query in Redis failed"),
                Err(_) => tracing::warn!("registering a persisted query in Redis timed out"),
            }
        }
    }

    fn remember(&self, hash: String, query: String) {
        let mut local = self.local();
        if local.queries.insert(hash.clone(), query).is_none() {
            local.order.push_back(hash);
        }
        while local.order.len() > LOCAL_CAPACITY {
            if let Some(oldest) = local.order.pop_front() {
                local.queries.remove(&oldest);
            }
        }
    }

    fn local(&self) -> std::sync::MutexGuard<'_, Local> {
        self.local.lock().unwrap_or_else(std::sync::PoisonError::into_inner)
    }
}

/// The hash a request asks for, checked: version 1 and 64 lowercase hex digits.
fn requested_hash(request: &Request) -> Result<Option<String>, Box<ServerError>> {
    let Some(persisted) = request.extensions.get("persistedQuery") else { return Ok(None) };
    let refuse =
        |field: &str, message: &str| Box::new(to_server_error(&AppError::bad_input(field, message.to_owned())));
    let Value::Object(fields) = persisted else {
        return Err(refuse("extensions.persistedQuery", "must be a map"));
    };
    match fields.get("version") {
        Some(Value::Number(n)) if n.as_u64() == Some(1) => {}
        _ => return Err(refuse("extensions.persistedQuery.version", "only version 1 is supported")),
    }
    match fields.get("sha256Hash") {
        Some(Value::String(hash)) if hash.len() == 64 && hash.bytes().all(|b| b.is_ascii_hexdigit()) => {
            Ok(Some(hash.to_ascii_lowercase()))
        }
        _ => Err(refuse("extensions.persistedQuery.sha256Hash", "must be 64 hexadecimal digits")),
    }
}
