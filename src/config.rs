//! Typed configuration from environment variables and flags. Passed around, never global.
use std::{fmt, net::SocketAddr, path::PathBuf, time::Duration};

use anyhow::{Context, bail};
use clap::{Args, ValueEnum};

/// Where the service runs; production refuses unsafe defaults.
#[derive(Clone, Copy, Debug, PartialEq, Eq, ValueEnum)]
pub enum AppEnv {
    /// Local development (the default).
    Development,
    /// Automated tests.
    Test,
    /// Real deployment: needs an explicit `JWT_SECRET`, hides field suggestions.
    Production,
}

/// A secret value whose `Debug` and `Display` never show it.
#[derive(Clone)]
pub struct Secret(String);

impl Secret {
    /// Wraps a secret string.
    pub fn new(value: impl Into<String>) -> Self {
        Self(value.into())
    }
    /// The secret itself; call only where it is used.
    pub fn expose(&self) -> &str {
        &self.0
    }
}

impl fmt::Debug for Secret {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("Secret([redacted])")
    }
}

/// Flags and environment variables, as clap reads them.
#[derive(Args, Debug, Clone)]
pub struct ConfigArgs {
    /// Database URL; defaults to a SQLite file under the data directory.
    #[arg(long, env = "DATABASE_URL")]
    pub database_url: Option<String>,
    /// Database connections per instance (PostgreSQL; SQLite always uses one).
    #[arg(long, env = "DB_POOL_SIZE", default_value_t = 20)]
    pub db_pool_size: u32,
    /// Redis URL; without it events stay in-process and limits in memory.
    #[arg(long, env = "REDIS_URL")]
    pub redis_url: Option<String>,
    /// Prefix of Redis keys and channels; instances of one deployment share it.
    #[arg(long, env = "REDIS_NAMESPACE", default_value = "semasocial")]
    pub redis_namespace: String,
    /// Address to listen on.
    #[arg(long, env = "BIND_ADDR", default_value = "127.0.0.1:8000")]
    pub bind_addr: SocketAddr,
    /// Secret for signing access tokens.
    #[arg(long, env = "JWT_SECRET", hide_env_values = true)]
    pub jwt_secret: Option<String>,
    /// development, test or production.
    #[arg(long, env = "APP_ENV", value_enum, default_value = "development")]
    pub app_env: AppEnv,
    /// Directory for the SQLite file and the generated development secret.
    #[arg(long, env = "DATA_DIR", default_value = "./data")]
    pub data_dir: PathBuf,
    /// Log as JSON lines instead of human-readable text.
    #[arg(long, env = "LOG_JSON", default_value_t = false)]
    pub log_json: bool,
    /// argon2 memory cost in KiB (production default 19456).
    #[arg(long, env = "ARGON2_MEMORY_KIB", default_value_t = 19_456)]
    pub argon2_memory_kib: u32,
    /// argon2 iterations (production default 2).
    #[arg(long, env = "ARGON2_ITERATIONS", default_value_t = 2)]
    pub argon2_iterations: u32,
    /// Failed-or-not login attempts allowed per email and window.
    #[arg(long, env = "LOGIN_RATE_LIMIT", default_value_t = 10)]
    pub login_rate_limit: u32,
    /// Login attempts allowed per client address per 15 minutes.
    #[arg(long, env = "LOGIN_IP_RATE_LIMIT", default_value_t = 100)]
    pub login_ip_rate_limit: u32,
    /// Mutations allowed per caller and minute.
    #[arg(long, env = "MUTATION_RATE_LIMIT", default_value_t = 120)]
    pub mutation_rate_limit: u32,
    /// Seconds a person has to answer a task offer before it lapses.
    #[arg(long, env = "OFFER_TTL_SECS", default_value_t = 24 * 3600)]
    pub offer_ttl_secs: u64,
    /// Seconds between sweeps for lapsed offers and overdue tasks; 0 turns the sweep off.
    #[arg(long, env = "SWEEP_INTERVAL_SECS", default_value_t = 30)]
    pub sweep_interval_secs: u64,
    /// Tasks a worker may hold or be offered at once; routing passes over workers at the cap.
    #[arg(long, env = "MAX_OPEN_TASKS", default_value_t = 5)]
    pub max_open_tasks: u64,
    /// Platform fee on released money, in basis points (250 = 2.5%).
    #[arg(long, env = "PLATFORM_FEE_BPS", default_value_t = 250)]
    pub platform_fee_bps: u32,
    /// Seconds earnings stay PENDING before they can be withdrawn.
    #[arg(long, env = "PAYOUT_HOLD_SECS", default_value_t = 3 * 24 * 3600)]
    pub payout_hold_secs: u64,
    /// Seconds a withdrawal may stay PROCESSING before the sweep asks the provider and
    /// finishes it (a crash between its steps).
    #[arg(long, env = "PAYOUT_STUCK_AFTER_SECS", default_value_t = 15 * 60)]
    pub payout_stuck_after_secs: u64,
    /// Seconds an idempotency key is kept (at least a day).
    #[arg(long, env = "IDEMPOTENCY_TTL_SECS", default_value_t = 24 * 3600)]
    pub idempotency_ttl_secs: u64,
    /// Handles of the people who may resolve disputes either way, comma separated.
    #[arg(long, env = "ARBITER_HANDLES", value_delimiter = ',', default_value = "")]
    pub arbiter_handles: Vec<String>,
    /// Simulated provider: charges of at least this many minor units are declined.
    #[arg(long, env = "SIMULATED_DECLINE_CHARGES_FROM_CENTS")]
    pub simulated_decline_charges_from_cents: Option<i64>,
    /// Simulated provider: payouts of at least this many minor units fail.
    #[arg(long, env = "SIMULATED_FAIL_PAYOUTS_FROM_CENTS")]
    pub simulated_fail_payouts_from_cents: Option<i64>,
    /// The payment provider: `simulated` (default; in memory) or `stripe` (Stripe Connect).
    #[arg(long, env = "PAYMENT_PROVIDER", default_value = "simulated")]
    pub payment_provider: String,
    /// Stripe's secret API key (`sk_…`); required with PAYMENT_PROVIDER=stripe.
    #[arg(long, env = "STRIPE_SECRET_KEY")]
    pub stripe_secret_key: Option<String>,
    /// The signing secret of the Stripe webhook endpoint (`whsec_…`); required in production.
    #[arg(long, env = "STRIPE_WEBHOOK_SECRET")]
    pub stripe_webhook_secret: Option<String>,
    /// Where Stripe's API is (tests point it at a local Stripe-shaped server).
    #[arg(long, env = "STRIPE_API_BASE", default_value = "https://api.stripe.com")]
    pub stripe_api_base: String,
    /// Answer introspection queries (default: on, off when APP_ENV=production).
    #[arg(long, env = "GRAPHQL_INTROSPECTION")]
    pub graphql_introspection: Option<bool>,
    /// Serve GraphiQL to browsers (default: on, off when APP_ENV=production).
    #[arg(long, env = "GRAPHIQL")]
    pub graphiql: Option<bool>,
    /// Bearer token `/metrics` requires; in production `/metrics` is served only with one.
    #[arg(long, env = "METRICS_TOKEN", hide_env_values = true)]
    pub metrics_token: Option<String>,
    /// WebSocket read buffer per connection, in bytes (grows for larger messages).
    #[arg(long, env = "WS_READ_BUFFER_BYTES", default_value_t = 2048)]
    pub ws_read_buffer_bytes: usize,
    /// Largest WebSocket message a client may send, in bytes.
    #[arg(long, env = "WS_MAX_MESSAGE_BYTES", default_value_t = 64 * 1024)]
    pub ws_max_message_bytes: usize,
    /// Seconds a WebSocket client has to send `connection_init`.
    #[arg(long, env = "WS_INIT_TIMEOUT_SECS", default_value_t = 10)]
    pub ws_init_timeout_secs: u64,
}

/// What the server shows beyond the API itself.
#[derive(Clone, Debug)]
pub struct ExposureConfig {
    /// Introspection queries are answered.
    pub introspection: bool,
    /// GraphiQL is served to browsers.
    pub graphiql: bool,
    /// The token `/metrics` requires, if any.
    pub metrics_token: Option<Secret>,
    /// Without a token, `/metrics` is served (development) or not at all (production).
    pub metrics_open: bool,
}

impl Default for ExposureConfig {
    fn default() -> Self {
        Self { introspection: true, graphiql: true, metrics_token: None, metrics_open: true }
    }
}

/// How money moves.
#[derive(Clone, Debug)]
pub struct PaymentsConfig {
    /// Platform fee in basis points.
    pub fee_bps: u32,
    /// Hold on earnings before they are withdrawable.
    pub payout_hold: Duration,
    /// How long idempotency keys are kept.
    pub idempotency_ttl: Duration,
    /// How long a withdrawal may stay PROCESSING before the sweep finishes it.
    pub payout_stuck_after: Duration,
    /// Handles of dispute arbiters.
    pub arbiter_handles: Vec<String>,
    /// Failures the simulated provider produces.
    pub simulated: SimulatedProviderConfig,
    /// Which provider moves money across the platform's edge.
    pub provider: ProviderKind,
    /// Stripe's settings (used with `ProviderKind::Stripe`).
    pub stripe: StripeConfig,
}

/// The payment provider in use.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub enum ProviderKind {
    /// The built-in in-memory provider (development and tests).
    #[default]
    Simulated,
    /// Stripe Connect.
    Stripe,
}

/// Stripe's settings.
#[derive(Clone, Debug)]
pub struct StripeConfig {
    /// `STRIPE_SECRET_KEY`.
    pub secret_key: Option<Secret>,
    /// `STRIPE_WEBHOOK_SECRET`: webhooks are refused without it.
    pub webhook_secret: Option<Secret>,
    /// `STRIPE_API_BASE`.
    pub api_base: String,
    /// How long a request to Stripe may take.
    pub timeout: Duration,
}

impl Default for StripeConfig {
    fn default() -> Self {
        Self {
            secret_key: None,
            webhook_secret: None,
            api_base: "https://api.stripe.com".to_owned(),
            timeout: Duration::from_secs(30),
        }
    }
}

/// Failures the built-in simulated payment provider produces, for development and tests.
#[derive(Clone, Copy, Debug, Default)]
pub struct SimulatedProviderConfig {
    /// Charges of at least this amount are declined.
    pub decline_charges_from_cents: Option<i64>,
    /// Payouts of at least this amount fail.
    pub fail_payouts_from_cents: Option<i64>,
    /// Payouts of at least this amount are made (or refused) but never answered, as when the
    /// process dies between sending a withdrawal and booking its answer.
    pub hang_payouts_from_cents: Option<i64>,
}

impl Default for PaymentsConfig {
    fn default() -> Self {
        Self {
            fee_bps: 250,
            payout_hold: Duration::from_secs(3 * 24 * 3600),
            idempotency_ttl: Duration::from_secs(24 * 3600),
            payout_stuck_after: Duration::from_secs(15 * 60),
            arbiter_handles: Vec::new(),
            simulated: SimulatedProviderConfig::default(),
            provider: ProviderKind::Simulated,
            stripe: StripeConfig::default(),
        }
    }
}

/// How task work is orchestrated.
#[derive(Clone, Copy, Debug)]
pub struct WorkConfig {
    /// Time a person has to accept or decline an offer.
    pub offer_ttl: Duration,
    /// Interval of the background sweep; `None` runs no sweep in this process.
    pub sweep_interval: Option<Duration>,
    /// Tasks one sweep pass handles at most per kind (lapsed offers, overdue work).
    pub sweep_batch: u64,
    /// Tasks a worker may hold or be offered at once (its load cap in routing).
    pub max_open_tasks: u64,
}

impl Default for WorkConfig {
    fn default() -> Self {
        Self {
            offer_ttl: Duration::from_secs(24 * 3600),
            sweep_interval: Some(Duration::from_secs(30)),
            sweep_batch: 100,
            max_open_tasks: 5,
        }
    }
}

/// argon2id cost parameters.
#[derive(Clone, Copy, Debug)]
pub struct HashingConfig {
    /// Memory cost in KiB.
    pub memory_kib: u32,
    /// Time cost.
    pub iterations: u32,
}

/// GraphQL and HTTP limits.
#[derive(Clone, Copy, Debug)]
pub struct Limits {
    /// Maximum query depth.
    pub max_depth: usize,
    /// Maximum query complexity.
    pub max_complexity: usize,
    /// Maximum operations in one batched request.
    pub max_batch: usize,
    /// Maximum request body in bytes.
    pub max_body_bytes: usize,
    /// Largest page a connection returns.
    pub max_page_size: usize,
    /// Page size when `first` is not given.
    pub default_page_size: usize,
    /// Login attempts per email per window.
    pub login_attempts: u32,
    /// Login attempts allowed per client address and window (password spraying).
    pub login_attempts_per_ip: u32,
    /// Window of the login limit.
    pub login_window: Duration,
    /// Mutations per caller per minute.
    pub mutations_per_minute: u32,
}

/// Resolved configuration of one server process.
#[derive(Clone, Debug)]
pub struct Config {
    /// Database URL (may hold a password: never log it whole).
    pub database_url: Secret,
    /// Database connections per instance (PostgreSQL).
    pub db_pool_size: u32,
    /// Redis URL, when Redis is used.
    pub redis_url: Option<Secret>,
    /// Prefix of Redis keys and channels.
    pub redis_namespace: String,
    /// Listen address; port 0 picks a free port.
    pub bind_addr: SocketAddr,
    /// Access-token signing secret.
    pub jwt_secret: Secret,
    /// Environment.
    pub app_env: AppEnv,
    /// Lifetime of an access token.
    pub access_token_ttl: Duration,
    /// Lifetime of a refresh token.
    pub refresh_token_ttl: Duration,
    /// Password hashing cost.
    pub hashing: HashingConfig,
    /// Request limits.
    pub limits: Limits,
    /// JSON logs.
    pub log_json: bool,
    /// Offers and the sweep.
    pub work: WorkConfig,
    /// Fees, holds, idempotency, arbiters and the simulated provider.
    pub payments: PaymentsConfig,
    /// Introspection, GraphiQL and metrics exposure.
    pub exposure: ExposureConfig,
    /// WebSocket connections.
    pub websocket: WebSocketConfig,
}

/// Settings of WebSocket connections: small buffers, so an idle subscriber costs little.
#[derive(Clone, Debug)]
pub struct WebSocketConfig {
    /// Initial read buffer per connection, in bytes.
    pub read_buffer_bytes: usize,
    /// Largest message (and frame) a client may send, in bytes.
    pub max_message_bytes: usize,
    /// Time a client has to send `connection_init` before the socket closes with 4408.
    pub init_timeout: Duration,
}

impl Default for WebSocketConfig {
    fn default() -> Self {
        Self { read_buffer_bytes: 2048, max_message_bytes: 64 * 1024, init_timeout: Duration::from_secs(10) }
    }
}

impl Default for Limits {
    fn default() -> Self {
        Self {
            max_depth: 12,
            max_complexity: 1_000,
            max_batch: 10,
            max_body_bytes: 256 * 1024,
            max_page_size: 50,
            default_page_size: 20,
            login_attempts: 10,
            login_attempts_per_ip: 100,
            login_window: Duration::from_secs(15 * 60),
            mutations_per_minute: 120,
        }
    }
}

impl Config {
    /// A configuration with defaults for everything but the database and the secret.
    pub fn new(database_url: impl Into<String>, jwt_secret: impl Into<String>) -> Self {
        Self {
            database_url: Secret::new(database_url),
            db_pool_size: 20,
            redis_url: None,
            redis_namespace: "semasocial".to_owned(),
            bind_addr: SocketAddr::from(([127, 0, 0, 1], 8000)),
            jwt_secret: Secret::new(jwt_secret),
            app_env: AppEnv::Development,
            access_token_ttl: Duration::from_secs(15 * 60),
            refresh_token_ttl: Duration::from_secs(30 * 24 * 3600),
            hashing: HashingConfig { memory_kib: 19_456, iterations: 2 },
            limits: Limits::default(),
            log_json: false,
            work: WorkConfig::default(),
            payments: PaymentsConfig::default(),
            exposure: ExposureConfig::default(),
            websocket: WebSocketConfig::default(),
        }
    }

    /// Resolves flags and environment into a configuration, creating the data directory and
    /// the development secret when needed.
    pub fn from_args(args: ConfigArgs) -> anyhow::Result<Self> {
        let needs_data_dir =
            args.database_url.is_none() || (args.jwt_secret.is_none() && args.app_env != AppEnv::Production);
        if needs_data_dir {
            std::fs::create_dir_all(&args.data_dir)
                .with_context(|| format!("creating data directory {}", args.data_dir.display()))?;
        }
        let database_url = match args.database_url {
            Some(url) => url,
            None => format!("sqlite://{}?mode=rwc", args.data_dir.join("semasocial.db").display()),
        };
        let jwt_secret = match (args.jwt_secret, args.app_env) {
            (Some(secret), _) if secret.len() >= 32 => secret,
            (Some(_), _) => bail!("JWT_SECRET must be at least 32 characters"),
            (None, AppEnv::Production) => bail!("APP_ENV=production requires JWT_SECRET"),
            (None, _) => development_secret(&args.data_dir)?,
        };
        let mut config = Self::new(database_url, jwt_secret);
        if args.db_pool_size == 0 {
            bail!("DB_POOL_SIZE must be positive");
        }
        config.db_pool_size = args.db_pool_size;
        config.redis_url = args.redis_url.filter(|u| !u.is_empty()).map(Secret::new);
        config.redis_namespace = args.redis_namespace;
        config.bind_addr = args.bind_addr;
        config.app_env = args.app_env;
        config.log_json = args.log_json;
        config.hashing = HashingConfig { memory_kib: args.argon2_memory_kib, iterations: args.argon2_iterations };
        config.limits.login_attempts = args.login_rate_limit;
        config.limits.login_attempts_per_ip = args.login_ip_rate_limit;
        config.limits.mutations_per_minute = args.mutation_rate_limit;
        if args.ws_init_timeout_secs == 0 || args.ws_max_message_bytes < 1024 {
            bail!("WS_INIT_TIMEOUT_SECS must be positive and WS_MAX_MESSAGE_BYTES at least 1024");
        }
        config.websocket = WebSocketConfig {
            read_buffer_bytes: args.ws_read_buffer_bytes.max(256),
            max_message_bytes: args.ws_max_message_bytes,
            init_timeout: Duration::from_secs(args.ws_init_timeout_secs),
        };
        if args.offer_ttl_secs == 0 {
            bail!("OFFER_TTL_SECS must be positive");
        }
        config.work.offer_ttl = Duration::from_secs(args.offer_ttl_secs);
        if args.max_open_tasks == 0 {
            bail!("MAX_OPEN_TASKS must be positive");
        }
        config.work.max_open_tasks = args.max_open_tasks;
        config.work.sweep_interval =
            (args.sweep_interval_secs > 0).then(|| Duration::from_secs(args.sweep_interval_secs));
        if args.platform_fee_bps > 10_000 {
            bail!("PLATFORM_FEE_BPS must be at most 10000");
        }
        if args.payout_stuck_after_secs == 0 {
            bail!("PAYOUT_STUCK_AFTER_SECS must be positive");
        }
        if args.idempotency_ttl_secs < 24 * 3600 {
            bail!("IDEMPOTENCY_TTL_SECS must be at least 86400 (a day)");
        }
        config.payments = PaymentsConfig {
            fee_bps: args.platform_fee_bps,
            payout_hold: Duration::from_secs(args.payout_hold_secs),
            idempotency_ttl: Duration::from_secs(args.idempotency_ttl_secs),
            payout_stuck_after: Duration::from_secs(args.payout_stuck_after_secs),
            arbiter_handles: args
                .arbiter_handles
                .into_iter()
                .map(|h| h.trim().to_lowercase())
                .filter(|h| !h.is_empty())
                .collect(),
            simulated: SimulatedProviderConfig {
                decline_charges_from_cents: args.simulated_decline_charges_from_cents,
                fail_payouts_from_cents: args.simulated_fail_payouts_from_cents,
                hang_payouts_from_cents: None,
            },
            provider: match args.payment_provider.trim() {
                "simulated" => ProviderKind::Simulated,
                "stripe" => ProviderKind::Stripe,
                other => bail!("PAYMENT_PROVIDER must be `simulated` or `stripe`, not `{other}`"),
            },
            stripe: StripeConfig {
                secret_key: args.stripe_secret_key.filter(|k| !k.is_empty()).map(Secret::new),
                webhook_secret: args.stripe_webhook_secret.filter(|k| !k.is_empty()).map(Secret::new),
                api_base: args.stripe_api_base,
                ..StripeConfig::default()
            },
        };
        if config.payments.provider == ProviderKind::Stripe {
            if config.payments.stripe.secret_key.is_none() {
                bail!("PAYMENT_PROVIDER=stripe needs STRIPE_SECRET_KEY");
            }
            if args.app_env == AppEnv::Production && config.payments.stripe.webhook_secret.is_none() {
                bail!("APP_ENV=production with PAYMENT_PROVIDER=stripe needs STRIPE_WEBHOOK_SECRET");
            }
        }
        let production = args.app_env == AppEnv::Production;
        config.exposure = ExposureConfig {
            introspection: args.graphql_introspection.unwrap_or(!production),
            graphiql: args.graphiql.unwrap_or(!production),
            metrics_token: args.metrics_token.filter(|t| !t.is_empty()).map(Secret::new),
            metrics_open: !production,
        };
        Ok(config)
    }

    /// The database URL without credentials, for logs.
    pub fn database_display(&self) -> String {
        redact_url(self.database_url.expose())
    }

    /// True when this configuration talks to PostgreSQL.
    pub fn is_postgres(&self) -> bool {
        self.database_url.expose().starts_with("postgres")
    }
}

/// Reads the development JWT secret from the data directory, generating it on first use.
fn development_secret(data_dir: &std::path::Path) -> anyhow::Result<String> {
    let path = data_dir.join("jwt_secret");
    if let Ok(existing) = std::fs::read_to_string(&path) {
        let existing = existing.trim().to_owned();
        if existing.len() >= 32 {
            return Ok(existing);
        }
    }
    let secret = crate::auth::token::random_token(48);
    std::fs::write(&path, &secret).with_context(|| format!("writing {}", path.display()))?;
    Ok(secret)
}

/// Removes `user:password@` from a URL.
pub fn redact_url(url: &str) -> String {
    match (url.find("://"), url.rfind('@')) {
        (Some(scheme_end), Some(at)) if at > scheme_end => {
            format!("{}://[redacted]@{}", &url[..scheme_end], &url[at + 1..])
        }
        _ => url.to_owned(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn credentials_are_removed_from_urls() {
        assert_eq!(redact_url("postgres://u:pw@localhost:5432/db"), "postgres://[redacted]@localhost:5432/db");
        assert_eq!(redact_url("sqlite://data/x.db"), "sqlite://data/x.db");
    }

    fn args(extra: &[&str]) -> ConfigArgs {
        use clap::Parser;
        #[derive(Parser)]
        struct Wrapper {
            #[command(flatten)]
            args: ConfigArgs,
        }
        let dir = std::env::temp_dir().join(format!("semasocial-config-{}", uuid::Uuid::new_v4()));
        let dir = dir.to_string_lossy().into_owned();
        let mut argv = vec!["semasocial", "--data-dir", dir.as_str()];
        argv.extend_from_slice(extra);
        Wrapper::parse_from(argv).args
    }

    #[test]
    fn production_refuses_to_start_without_a_secret() {
        let err = Config::from_args(args(&["--app-env", "production", "--database-url", "sqlite::memory:"]));
        assert!(err.is_err());
        let short = Config::from_args(args(&["--jwt-secret", "too-short"]));
        assert!(short.is_err());
        let ok = Config::from_args(args(&["--app-env", "production", "--jwt-secret", &"k".repeat(40)]));
        assert!(ok.is_ok());
    }

    #[test]
    fn development_generates_a_secret_once_and_keeps_it() -> anyhow::Result<()> {
        let first = args(&[]);
        let dir = first.data_dir.clone();
        let a = Config::from_args(first)?;
        let mut again = args(&[]);
        again.data_dir = dir.clone();
        let b = Config::from_args(again)?;
        assert_eq!(a.jwt_secret.expose(), b.jwt_secret.expose());
        assert!(a.jwt_secret.expose().len() >= 32);
        assert!(a.database_url.expose().starts_with("sqlite://"));
        std::fs::remove_dir_all(dir)?;
        Ok(())
    }

    #[test]
    fn stripe_in_production_refuses_to_start_without_its_key_and_webhook_secret() {
        let secret = "k".repeat(40);
        let base = ["--app-env", "production", "--jwt-secret", secret.as_str(), "--payment-provider", "stripe"];
        let message = |extra: &[&str]| {
            let all: Vec<&str> = base.iter().copied().chain(extra.iter().copied()).collect();
            Config::from_args(args(&all)).err().map(|e| e.to_string()).unwrap_or_default()
        };
        assert!(message(&[]).contains("STRIPE_SECRET_KEY"));
        assert!(message(&["--stripe-secret-key", "sk_test_1"]).contains("STRIPE_WEBHOOK_SECRET"));
        let all: Vec<&str> = base
            .iter()
            .copied()
            .chain(["--stripe-secret-key", "sk_test_1", "--stripe-webhook-secret", "whsec_1"])
            .collect();
        let config = Config::from_args(args(&all));
        assert!(config.as_ref().is_ok_and(|c| c.payments.provider == ProviderKind::Stripe));
        let printed = format!("{config:?}");
        assert!(!printed.contains("sk_test_1") && !printed.contains("whsec_1"), "secrets never print");
        let unknown = Config::from_args(args(&["--payment-provider", "paypal"]));
        assert!(unknown.err().is_some_and(|e| e.to_string().contains("PAYMENT_PROVIDER")));
    }

    #[test]
    fn secrets_do_not_show_in_debug_output() {
        let config = Config::new("postgres://u:hunter2@h/db", "s".repeat(40));
        let printed = format!("{config:?}");
        assert!(!printed.contains("hunter2"));
        assert!(!printed.contains(&"s".repeat(40)));
    }
}
