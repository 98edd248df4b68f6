//! Typed configuration from environment variables and flags. Passed around, never global.
use std::{fmt, net::SocketAddr, path::PathBuf, time::Duration};

use anyhow::{Context, bail};
use clap::{Args, ValueEnum};

mod mail;
mod payments;

pub use self::mail::{MailArgs, MailConfig};
pub use self::payments::{PaymentArgs, PaymentsConfig, ProviderKind, SimulatedProviderConfig, StripeConfig};

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
    /// Requests allowed per API key and minute.
    #[arg(long, env = "API_KEY_RATE_LIMIT", default_value_t = 600)]
    pub api_key_rate_limit: u32,
    /// Seconds a person has to answer a task offer before it lapses.
    #[arg(long, env = "OFFER_TTL_SECS", default_value_t = 24 * 3600)]
    pub offer_ttl_secs: u64,
    /// Seconds between sweeps for lapsed offers and overdue tasks; 0 turns the sweep off.
    #[arg(long, env = "SWEEP_INTERVAL_SECS", default_value_t = 30)]
    pub sweep_interval_secs: u64,
    /// Tasks a worker may hold or be offered at once; routing passes over workers at the cap.
    #[arg(long, env = "MAX_OPEN_TASKS", default_value_t = 5)]
    pub max_open_tasks: u64,
    /// Payments: fees, holds, keys, arbiters and the provider.
    #[command(flatten)]
    pub payments: PaymentArgs,
    #[command(flatten)]
    pub mail: MailArgs,
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
    /// Requests per API key per minute (queries, mutations and WebSocket connections).
    pub api_key_requests_per_minute: u32,
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
    /// How mail leaves.
    pub mail: MailConfig,
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
            api_key_requests_per_minute: 600,
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
            mail: MailConfig::default(),
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
        config.limits.api_key_requests_per_minute = args.api_key_rate_limit;
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
        config.payments = PaymentsConfig::from_args(args.payments, args.app_env)?;
        config.mail = MailConfig::from_args(args.mail, &args.data_dir, args.app_env)?;
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
pub(crate) mod tests {
    use super::*;

    #[test]
    fn credentials_are_removed_from_urls() {
        assert_eq!(redact_url("postgres://u:pw@localhost:5432/db"), "postgres://[redacted]@localhost:5432/db");
        assert_eq!(redact_url("sqlite://data/x.db"), "sqlite://data/x.db");
    }

    pub(super) fn args(extra: &[&str]) -> ConfigArgs {
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
        let secret = "k".repeat(40);
        let no_mail = Config::from_args(args(&["--app-env", "production", "--jwt-secret", &secret]));
        assert!(no_mail.err().is_some_and(|e| e.to_string().contains("SMTP_URL")), "mail would stay on disk");
        let smtp = "smtps://mailer:s3cret-pass@mail.example.com:465";
        let ok = Config::from_args(args(&["--app-env", "production", "--jwt-secret", &secret, "--smtp-url", smtp]));
        assert!(ok.as_ref().is_ok());
        assert!(!format!("{ok:?}").contains("s3cret-pass"), "the SMTP password never prints");
        let bad = Config::from_args(args(&["--smtp-url", "mail.example.com:25"]));
        assert!(bad.err().is_some_and(|e| e.to_string().contains("SMTP_URL")));
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
    fn secrets_do_not_show_in_debug_output() {
        let config = Config::new("postgres://u:hunter2@h/db", "s".repeat(40));
        let printed = format!("{config:?}");
        assert!(!printed.contains("hunter2"));
        assert!(!printed.contains(&"s".repeat(40)));
    }
}
