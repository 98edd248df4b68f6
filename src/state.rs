//! Shared state of one server process: database, event bus, keys, config, clock.
use std::sync::{Arc, atomic::AtomicU64};

use redis::aio::ConnectionManager;
use sea_orm::{DatabaseConnection, DbBackend};

use crate::{
    auth::{rate_limit::RateLimiter, token::AuthKeys},
    clock::Clock,
    config::Config,
    events::EventBus,
};

/// Everything a request needs besides its own input. Cheap to clone.
#[derive(Clone)]
pub struct AppState {
    /// The database pool.
    pub db: DatabaseConnection,
    /// Domain events, published after commit.
    pub bus: Arc<dyn EventBus>,
    /// Access-token keys.
    pub keys: Arc<AuthKeys>,
    /// Resolved configuration.
    pub config: Arc<Config>,
    /// The time source.
    pub clock: Arc<dyn Clock>,
    /// Redis, when configured (readiness and shared rate limits).
    pub redis: Option<ConnectionManager>,
    /// Login and mutation limits.
    pub limiter: Arc<RateLimiter>,
    /// A hash verified when an email is unknown, so timing does not reveal accounts.
    pub dummy_password_hash: Arc<str>,
    /// Where mail leaves (SMTP, or `.eml` files).
    pub mailer: Arc<dyn crate::mail::Mailer>,
    /// Which sessions have ended (logout, refresh-token reuse, password reset or change).
    pub sessions: Arc<crate::auth::session::Sessions>,
    /// Where money enters and leaves the platform.
    pub provider: Arc<dyn crate::domain::ledger::provider::PaymentProvider>,
    /// Set to `true` when the server begins shutting down (WebSocket connections close 1001).
    pub shutdown: Arc<tokio::sync::watch::Sender<bool>>,
    /// What other rooms add to every unit of work's transaction (webhook deliveries,
    /// notification mails), in order.
    pub commit_hooks: &'static [crate::domain::activity::CommitHook],
    /// SQL statements this process has run (tests use it to prove lists cost O(1) statements).
    pub db_statements: Arc<AtomicU64>,
}

impl AppState {
    /// The database backend, for the few places that differ between PostgreSQL and SQLite.
    pub fn backend(&self) -> DbBackend {
        self.db.get_database_backend()
    }
}
