//! Structured logs with `tracing`; JSON lines in production.
use tracing_subscriber::{EnvFilter, fmt, prelude::*};

/// Installs the global subscriber once. `RUST_LOG` overrides the default filter.
pub fn init(json: bool) {
    let filter = EnvFilter::try_from_default_env()
        .unwrap_or_else(|_| EnvFilter::new("info,sqlx=warn,sea_orm=warn,tower_http=info"));
    let registry = tracing_subscriber::registry().with(filter);
    let result = if json {
        registry.with(fmt::layer().json().with_current_span(true)).try_init()
    } else {
        registry.with(fmt::layer().compact()).try_init()
    };
    // Already installed (tests start several apps in one process): keep the first.
    let _ = result;
}

tokio::task_local! {
    static STATEMENTS: StatementCount;
}

/// SQL statements run on behalf of one request: every statement executed inside `scope`
/// (including the request's loader batches, which carry the scope along) adds one.
#[derive(Clone, Debug, Default)]
pub struct StatementCount(std::sync::Arc<std::sync::atomic::AtomicU64>);

impl StatementCount {
    /// A new count at zero.
    pub fn new() -> Self {
        Self::default()
    }

    /// The count of the request the current task works for, if any.
    pub fn current() -> Option<Self> {
        STATEMENTS.try_with(Clone::clone).ok()
    }

    /// Runs `future` with this count as the current one.
    pub fn scope<F: std::future::Future>(self, future: F) -> impl std::future::Future<Output = F::Output> {
        STATEMENTS.scope(self, future)
    }

    /// Statements counted so far.
    pub fn get(&self) -> u64 {
        self.0.load(std::sync::atomic::Ordering::SeqCst)
    }

    /// Counts one statement against the current request (called for every statement).
    pub fn record() {
        let _ = STATEMENTS.try_with(|count| count.0.fetch_add(1, std::sync::atomic::Ordering::SeqCst));
    }
}
