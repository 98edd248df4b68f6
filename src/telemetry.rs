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
