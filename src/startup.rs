//! Builds the application exactly as it ships; tests start it on port 0.
use std::{
    future::Future,
    sync::{
        Arc,
        atomic::{AtomicU64, Ordering},
    },
    time::Duration,
};

use anyhow::Context;
use migration::{Migrator, MigratorTrait};
use sea_orm::{ConnectOptions, ConnectionTrait, Database, DatabaseConnection};
use tokio::net::TcpListener;

use crate::{
    auth::{password, rate_limit::RateLimiter, token::AuthKeys},
    clock::{Clock, SystemClock},
    config::Config,
    events::{EventBus, InProcessBus, RedisBus},
    graphql, http,
    state::AppState,
};

/// A built, bound, migrated application, ready to serve.
pub struct Application {
    listener: TcpListener,
    state: AppState,
    router: axum::Router,
}

impl Application {
    /// Connects everything, runs migrations and binds the listener, with the wall clock.
    pub async fn build(config: Config) -> anyhow::Result<Self> {
        Self::build_with_clock(config, Arc::new(SystemClock)).await
    }

    /// Like [`Application::build`], with an injected clock.
    pub async fn build_with_clock(config: Config, clock: Arc<dyn Clock>) -> anyhow::Result<Self> {
        let state = build_state(config, clock).await?;
        let listener = TcpListener::bind(state.config.bind_addr)
            .await
            .with_context(|| format!("binding {}", state.config.bind_addr))?;
        let schema = graphql::build_schema(state.clone());
        let router = http::router(state.clone(), schema);
        Ok(Self { listener, state, router })
    }

    /// The bound port (useful with port 0).
    pub fn port(&self) -> u16 {
        self.listener.local_addr().map(|a| a.port()).unwrap_or(0)
    }

    /// The shared state, for tests and subcommands.
    pub fn state(&self) -> &AppState {
        &self.state
    }

    /// Serves until Ctrl-C or SIGTERM, then drains in-flight requests.
    pub async fn run_until_stopped(self) -> anyhow::Result<()> {
        self.run_with_shutdown(shutdown_signal()).await
    }

    /// Serves until `signal` completes. The background sweep (lapsed offers, overdue tasks)
    /// runs alongside when `work.sweep_interval` is set, and stops with the server.
    pub async fn run_with_shutdown(self, signal: impl Future<Output = ()> + Send + 'static) -> anyhow::Result<()> {
        let sweeper = self
            .state
            .config
            .work
            .sweep_interval
            .map(|every| tokio::spawn(crate::domain::task::sweep::run_forever(self.state.clone(), every)));
        let stopping = self.state.shutdown.clone();
        let signal = async move {
            signal.await;
            // Live connections close (1001) while in-flight requests drain.
            stopping.send_replace(true);
        };
        let served =
            axum::serve(self.listener, self.router.into_make_service_with_connect_info::<std::net::SocketAddr>())
                .with_graceful_shutdown(signal)
                .await
                .context("serving HTTP");
        if let Some(sweeper) = sweeper {
            sweeper.abort();
        }
        served
    }
}

/// Connects to the database with pool settings suited to the backend.
pub async fn connect_database(config: &Config) -> anyhow::Result<DatabaseConnection> {
    let url = config.database_url.expose();
    let url = if config.is_postgres() { postgres_url(url) } else { url.to_owned() };
    let mut options = ConnectOptions::new(url);
    options.sqlx_logging(false).connect_timeout(Duration::from_secs(10)).acquire_timeout(Duration::from_secs(30));
    if config.is_postgres() {
        // No ping before every checkout: a broken connection fails its statement and is dropped.
        options.max_connections(config.db_pool_size).min_connections(1).test_before_acquire(false);
    } else {
        // SQLite allows one writer; one connection serialises work instead of failing with BUSY.
        options.max_connections(1).min_connections(1);
    }
    let db =
        Database::connect(options).await.with_context(|| format!("connecting to {}", config.database_display()))?;
    if !config.is_postgres() {
        db.execute_unprepared("PRAGMA journal_mode=WAL; PRAGMA foreign_keys=ON;").await?;
    }
    Ok(db)
}

/// A PostgreSQL URL with the defaults it does not set itself:
/// - `sslmode=disable` when the host is loopback (TLS to 127.0.0.1 costs a quarter of the
///   database's throughput and protects nothing); any other host keeps sqlx's default
///   (`prefer`), and a URL's own `sslmode` always wins;
/// - `plan_cache_mode=force_generic_plan`: statements bind LIMIT as a parameter, and a custom
///   plan per call re-plans every list query. A URL naming `plan_cache_mode` keeps its own.
pub fn postgres_url(url: &str) -> String {
    let (base, query) = url.split_once('?').unwrap_or((url, ""));
    let keys: Vec<&str> = query.split('&').filter_map(|pair| pair.split('=').next()).collect();
    let authority = base.split_once("://").map_or(base, |(_, rest)| rest);
    let authority = authority.split('/').next().unwrap_or_default();
    let host_port = authority.rsplit_once('@').map_or(authority, |(_, host)| host);
    let host = match host_port.strip_prefix('[') {
        Some(v6) => v6.split(']').next().unwrap_or_default(),
        None => host_port.split(':').next().unwrap_or_default(),
    };
    let loopback = matches!(host, "localhost" | "127.0.0.1" | "::1");
    let mut extra = Vec::new();
    if loopback && !keys.iter().any(|k| matches!(*k, "sslmode" | "ssl-mode")) {
        extra.push("sslmode=disable");
    }
    if !query.contains("plan_cache_mode") {
        extra.push("options[plan_cache_mode]=force_generic_plan");
    }
    let mut params: Vec<&str> = query.split('&').filter(|p| !p.is_empty()).collect();
    params.extend(extra);
    if params.is_empty() { base.to_owned() } else { format!("{base}?{}", params.join("&")) }
}

/// Connects the database (and migrates it), Redis and the event bus.
pub async fn build_state(config: Config, clock: Arc<dyn Clock>) -> anyhow::Result<AppState> {
    let mut db = connect_database(&config).await?;
    let db_statements = Arc::new(AtomicU64::new(0));
    let counter = db_statements.clone();
    db.set_metric_callback(move |info| {
        counter.fetch_add(1, Ordering::Relaxed);
        crate::telemetry::StatementCount::record();
        // The statement with its values inlined: what `bench/scenarios.sh` replays with pgbench.
        tracing::trace!(target: "semasocial::sql", sql = %info.statement, elapsed = ?info.elapsed);
        metrics::histogram!("db_statement_duration_seconds", "failed" => if info.failed { "true" } else { "false" })
            .record(info.elapsed.as_secs_f64());
    });
    Migrator::up(&db, None).await.context("running migrations")?;
    crate::domain::playbook::ensure_platform_playbooks(&db, clock.now())
        .await
        .map_err(|e| anyhow::anyhow!("adding the platform's playbooks: {e}"))?;
    crate::domain::ledger::arbiter::sync_configured(&db, &config.payments.arbiter_handles, clock.now())
        .await
        .map_err(|e| anyhow::anyhow!("ARBITER_HANDLES: {e}"))?;
    let (bus, redis, limiter): (Arc<dyn EventBus>, _, _) = match &config.redis_url {
        Some(url) => {
            let client = redis::Client::open(url.expose()).context("parsing REDIS_URL")?;
            let manager = redis::aio::ConnectionManager::new(client.clone()).await.context("connecting to Redis")?;
            let bus = RedisBus::connect(client, &config.redis_namespace).await?;
            (Arc::new(bus), Some(manager.clone()), RateLimiter::redis(manager, config.redis_namespace.clone()))
        }
        None => (Arc::new(InProcessBus::new()), None, RateLimiter::memory()),
    };
    let dummy_password_hash = password::hash_password(config.hashing, "not-a-real-password".into())
        .await
        .map_err(|e| anyhow::anyhow!("hashing the timing-equaliser password: {e}"))?;
    let provider = payment_provider(&config, clock.clone())?;
    let mailer = crate::mail::mailer(&config.mail)?;
    let sessions = Arc::new(crate::auth::session::Sessions::default());
    sessions.follow(bus.hub());
    Ok(AppState {
        db,
        bus,
        keys: Arc::new(AuthKeys::new(config.jwt_secret.expose())),
        config: Arc::new(config),
        clock,
        redis,
        limiter: Arc::new(limiter),
        dummy_password_hash: dummy_password_hash.into(),
        provider,
        mailer,
        sessions,
        shutdown: Arc::new(tokio::sync::watch::channel(false).0),
        db_statements,
        commit_hooks: COMMIT_HOOKS,
    })
}

/// Rows every unit of work writes with its events: webhook deliveries, then notification mails.
const COMMIT_HOOKS: &[crate::domain::activity::CommitHook] =
    &[crate::domain::webhook::commit_hook, crate::domain::notification_mail::commit_hook];

/// The payment provider the configuration names.
fn payment_provider(
    config: &Config,
    clock: Arc<dyn Clock>,
) -> anyhow::Result<Arc<dyn crate::domain::ledger::provider::PaymentProvider>> {
    use crate::domain::ledger::provider::{SimulatedProvider, stripe::StripeProvider};
    let payments = &config.payments;
    Ok(match payments.provider {
        crate::config::ProviderKind::Simulated => Arc::new(SimulatedProvider::with_clock(payments.simulated, clock)),
        crate::config::ProviderKind::Stripe => {
            let key = payments.stripe.secret_key.clone().context("PAYMENT_PROVIDER=stripe needs STRIPE_SECRET_KEY")?;
            Arc::new(
                StripeProvider::new(&payments.stripe.api_base, key, payments.stripe.timeout)
                    .map_err(|e| anyhow::anyhow!("the Stripe client: {e}"))?,
            )
        }
    })
}

async fn shutdown_signal() {
    let ctrl_c = async {
        let _ = tokio::signal::ctrl_c().await;
    };
    #[cfg(unix)]
    let terminate = async {
        match tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()) {
            Ok(mut sig) => {
                sig.recv().await;
            }
            Err(_) => std::future::pending::<()>().await,
        }
    };
    #[cfg(not(unix))]
    let terminate = std::future::pending::<()>();
    tokio::select! {
        () = ctrl_c => {},
        () = terminate => {},
    }
    tracing::info!("shutdown signal received; draining requests");
}

#[cfg(test)]
mod tests {
    use super::postgres_url;

    #[test]
    fn loopback_postgres_goes_without_tls_and_every_url_gets_generic_plans_unless_it_says_otherwise() {
        let generic = "options[plan_cache_mode]=force_generic_plan";
        assert_eq!(
            postgres_url("postgres://postgres@127.0.0.1:5432/test"),
            format!("postgres://postgres@127.0.0.1:5432/test?sslmode=disable&{generic}")
        );
        assert_eq!(
            postgres_url("postgres://u:p@localhost/db?application_name=x"),
            format!("postgres://u:p@localhost/db?application_name=x&sslmode=disable&{generic}")
        );
        assert_eq!(
            postgres_url("postgres://[::1]:5432/db"),
            format!("postgres://[::1]:5432/db?sslmode=disable&{generic}")
        );
        // A remote host keeps sqlx's TLS default; the URL's own choices win.
        assert_eq!(
            postgres_url("postgres://db.internal:5432/app"),
            format!("postgres://db.internal:5432/app?{generic}")
        );
        assert_eq!(
            postgres_url("postgres://127.0.0.1/db?sslmode=require&options[plan_cache_mode]=auto"),
            "postgres://127.0.0.1/db?sslmode=require&options[plan_cache_mode]=auto"
        );
    }
}
