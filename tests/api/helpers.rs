//! `spawn_app()` and small helpers to call the API like a client would.
#![allow(dead_code)]

use std::{path::PathBuf, sync::Arc};

use chrono::Utc;
use reqwest::StatusCode;
use sea_orm::{ConnectionTrait, Database};
use semasocial::{
    clock::ManualClock,
    config::{AppEnv, Config, HashingConfig},
    startup::Application,
    state::AppState,
};
use serde_json::{Value, json};
use uuid::Uuid;

/// Secret every test app signs access tokens with.
pub const TEST_JWT_SECRET: &str = "test-secret-test-secret-test-secret-0000";
/// Password every test user registers with.
pub const PASSWORD: &str = "correct horse battery";

/// A running application with its own database.
pub struct TestApp {
    /// `http://127.0.0.1:<port>`.
    pub address: String,
    /// The bound port.
    pub port: u16,
    /// The application's state (database, bus, config).
    pub state: AppState,
    /// The clock the application reads; tests move it.
    pub clock: ManualClock,
    /// HTTP client.
    pub client: reqwest::Client,
    /// The served schema, for in-process operations (`execute`).
    pub schema: semasocial::graphql::AppSchema,
    _db: TestDatabase,
}

/// A signed-in test user.
#[derive(Clone, Debug)]
pub struct TestUser {
    pub email: String,
    pub handle: String,
    pub access_token: String,
    pub refresh_token: String,
    pub profile_id: String,
    pub user_id: Uuid,
}

/// Starts the application with test defaults.
pub async fn spawn_app() -> TestApp {
    spawn_app_with(|_| {}).await
}

/// Starts the application after `customize` adjusted the test configuration.
pub async fn spawn_app_with(customize: impl FnOnce(&mut Config)) -> TestApp {
    let db = TestDatabase::create().await;
    let mut config = Config::new(db.url.clone(), TEST_JWT_SECRET);
    config.bind_addr = "127.0.0.1:0".parse().expect("address");
    config.app_env = AppEnv::Test;
    config.hashing = HashingConfig { memory_kib: 64, iterations: 1 };
    config.redis_url =
        std::env::var("TEST_REDIS_URL").ok().filter(|u| !u.is_empty()).map(semasocial::config::Secret::new);
    // Each test is its own deployment: its own channel and rate-limit counters.
    config.redis_namespace = format!("semasocial-test-{}", Uuid::new_v4().simple());
    // Tests run the sweep themselves, at the time they set (`TestApp::sweep`).
    config.work.sweep_interval = None;
    // Mails are written where this test reads them (`TestApp::mails`).
    config.mail.dir = std::env::temp_dir().join(format!("semasocial-mail-{}", Uuid::new_v4().simple()));
    config.mail.public_url = "https://app.example".into();
    customize(&mut config);
    let clock = ManualClock::new(Utc::now());
    let app = Application::build_with_clock(config, Arc::new(clock.clone())).await.expect("app builds");
    let port = app.port();
    let state = app.state().clone();
    tokio::spawn(app.run_until_stopped());
    let schema = semasocial::graphql::build_schema(state.clone());
    TestApp {
        address: format!("http://127.0.0.1:{port}"),
        port,
        state,
        clock,
        client: reqwest::Client::new(),
        schema,
        _db: db,
    }
}

impl TestApp {
    /// Runs an operation as the bearer of `token`, in-process: `schema.execute` with the viewer
    /// and request data the HTTP handler would give it (the level of every test not about HTTP).
    /// A token the server refuses is sent over HTTP, where refusing it lives; tests of what only
    /// HTTP does (statuses, limits, headers, batches) use `gql_http` / `gql_status`.
    pub async fn gql(&self, query: &str, variables: Value, token: Option<&str>) -> Value {
        let Ok(viewer) = semasocial::auth::authenticate(&self.state, token).await else {
            return self.gql_http(query, variables, token).await;
        };
        self.clock.advance(chrono::Duration::milliseconds(1));
        let request = async_graphql::Request::new(query)
            .variables(async_graphql::Variables::from_json(variables))
            .data(semasocial::auth::ClientIp(std::net::Ipv4Addr::LOCALHOST.into()))
            .data(semasocial::graphql::ComplexityBudget::default());
        let (response, _) = semasocial::graphql::execute(&self.schema, &self.state, viewer, request).await;
        let request_error = response.data == async_graphql::Value::Null
            && !response.errors.is_empty()
            && response.errors.iter().all(|e| e.path.is_empty());
        let mut body = serde_json::to_value(&response).expect("a JSON response");
        if let (true, Value::Object(map)) = (request_error, &mut body) {
            // As over HTTP: a request that failed before execution carries no `data`.
            map.remove("data");
        }
        body
    }

    /// POSTs a GraphQL operation as `application/json`; returns the response body.
    pub async fn gql_http(&self, query: &str, variables: Value, token: Option<&str>) -> Value {
        let (_, body) = self.gql_status(query, variables, token).await;
        body
    }

    /// Like `gql`, with the HTTP status.
    pub async fn gql_status(&self, query: &str, variables: Value, token: Option<&str>) -> (StatusCode, Value) {
        // Time passes between requests, as it does for real clients.
        self.clock.advance(chrono::Duration::milliseconds(1));
        let mut request = self
            .client
            .post(format!("{}/graphql", self.address))
            .header("content-type", "application/json")
            .json(&json!({ "query": query, "variables": variables }));
        if let Some(token) = token {
            request = request.bearer_auth(token);
        }
        let response = request.send().await.expect("request sent");
        let status = response.status();
        (status, response.json().await.expect("JSON body"))
    }

    /// Runs an operation in-process (no HTTP) as the bearer of `token`, exactly as the HTTP
    /// handler would once the token is checked: the fast level for rule tests. Returns the
    /// response body and the SQL statements the operation cost (authentication not included).
    pub async fn execute(&self, query: &str, variables: Value, token: Option<&str>) -> (Value, u64) {
        self.clock.advance(chrono::Duration::milliseconds(1));
        let viewer = semasocial::auth::authenticate(&self.state, token).await.expect("a valid token");
        let request = async_graphql::Request::new(query).variables(async_graphql::Variables::from_json(variables));
        let (response, statements) = semasocial::graphql::execute(&self.schema, &self.state, viewer, request).await;
        (serde_json::to_value(&response).expect("a JSON response"), statements)
    }

    /// Like `execute`, as a given viewer (tests whose clock outruns access tokens).
    pub async fn execute_as(&self, query: &str, variables: Value, viewer: semasocial::auth::Viewer) -> Value {
        let request = async_graphql::Request::new(query).variables(async_graphql::Variables::from_json(variables));
        let (response, _) = semasocial::graphql::execute(&self.schema, &self.state, viewer, request).await;
        serde_json::to_value(&response).expect("a JSON response")
    }

    /// Returns once at least `n` subscribers listen on this instance's event bus (a
    /// subscription holds one from the moment the server starts it).
    pub async fn wait_for_subscribers(&self, n: usize) {
        let bus = self.state.bus.clone();
        let waited = tokio::time::timeout(std::time::Duration::from_secs(10), async move {
            while bus.subscriber_count() < n {
                tokio::time::sleep(std::time::Duration::from_millis(1)).await;
            }
        })
        .await;
        assert!(waited.is_ok(), "the server never held {n} subscriber(s)");
    }

    /// A signed-in person with a verified address (a builder: written through the domain, see
    /// `builders.rs`; tests of registration itself use `register_unverified`, over the API).
    pub async fn register(&self, handle: &str) -> TestUser {
        self.a_person(handle).await
    }

    /// The mails sent so far to `to` (without an SMTP server they are `.eml` files), each as
    /// its whole text, oldest first.
    pub async fn mails_to(&self, to: &str) -> Vec<String> {
        use sea_orm::{ColumnTrait, EntityTrait, QueryFilter, QueryOrder};
        // Mails leave in the background after commit: wait until none to `to` is still queued.
        let unsent = format!("mail_outbox WHERE recipient = '{to}' AND sent_at IS NULL");
        let waited = tokio::time::timeout(std::time::Duration::from_secs(10), async {
            while self.count(&unsent).await > 0 {
                tokio::task::yield_now().await;
            }
        })
        .await;
        assert!(waited.is_ok(), "a mail to {to} never left");
        let rows = entity::mail_outbox::Entity::find()
            .filter(entity::mail_outbox::Column::Recipient.eq(to))
            .filter(entity::mail_outbox::Column::SentAt.is_not_null())
            .order_by_asc(entity::mail_outbox::Column::CreatedAt)
            .all(&self.state.db)
            .await
            .unwrap();
        let dir = &self.state.config.mail.dir;
        rows.iter()
            .map(|r| std::fs::read_to_string(dir.join(format!("{}.eml", r.id))).expect("the .eml file"))
            .collect()
    }

    /// Returns once every mail written so far has left (mails leave in the background after
    /// their commit; a sweep run before that would send them itself).
    pub async fn mails_settled(&self) {
        let waited = tokio::time::timeout(std::time::Duration::from_secs(10), async {
            while self.count("mail_outbox WHERE sent_at IS NULL").await > 0 {
                tokio::task::yield_now().await;
            }
        })
        .await;
        assert!(waited.is_ok(), "mails never left");
    }

    /// Marks the account of `email` verified directly.
    pub async fn verify(&self, email: &str) {
        use sea_orm::{ColumnTrait, EntityTrait, QueryFilter};
        let user = entity::user::Entity::find()
            .filter(entity::user::Column::Email.eq(email))
            .one(&self.state.db)
            .await
            .unwrap()
            .expect("the account");
        semasocial::domain::credentials::mark_verified(&self.state.db, user.id, self.clock_now()).await.unwrap();
    }

    /// Registers a user whose address is not verified yet.
    pub async fn register_unverified(&self, handle: &str) -> TestUser {
        use sea_orm::{ColumnTrait, EntityTrait, QueryFilter};
        let email = format!("{handle}@example.com");
        let body = self
            .gql(
                "mutation($i: RegisterInput!) { register(input: $i) { accessToken refreshToken me { profile { id } } } }",
                json!({ "i": { "email": email, "password": PASSWORD, "handle": handle, "displayName": handle } }),
                None,
            )
            .await;
        let payload = &body["data"]["register"];
        assert!(payload.is_object(), "register failed: {body}");
        let user = entity::user::Entity::find()
            .filter(entity::user::Column::Email.eq(&email))
            .one(&self.state.db)
            .await
            .unwrap()
            .expect("the account");
        TestUser {
            user_id: user.id,
            email,
            handle: handle.to_owned(),
            access_token: payload["accessToken"].as_str().expect("access token").to_owned(),
            refresh_token: payload["refreshToken"].as_str().expect("refresh token").to_owned(),
            profile_id: payload["me"]["profile"]["id"].as_str().expect("profile id").to_owned(),
        }
    }

    /// The actions of `who`'s latest notifications, newest first.
    pub async fn inbox(&self, who: &TestUser) -> Vec<String> {
        let body = self
            .gql("{ notifications(first: 20) { edges { node { action } } } }", json!({}), Some(&who.access_token))
            .await;
        body["data"]["notifications"]["edges"]
            .as_array()
            .unwrap_or_else(|| panic!("{body}"))
            .iter()
            .map(|e| e["node"]["action"].as_str().expect("an action").to_owned())
            .collect()
    }

    /// Signs `user` in again (after the test clock outran the access token) with fresh tokens.
    pub async fn login(&self, user: &TestUser) -> TestUser {
        let body = self
            .gql(
                "mutation($i: LoginInput!) { login(input: $i) { accessToken refreshToken } }",
                json!({ "i": { "email": user.email, "password": PASSWORD } }),
                None,
            )
            .await;
        let session = &body["data"]["login"];
        TestUser {
            access_token: session["accessToken"].as_str().unwrap_or_else(|| panic!("login failed: {body}")).to_owned(),
            refresh_token: session["refreshToken"].as_str().unwrap_or_default().to_owned(),
            ..user.clone()
        }
    }

    /// The state of a second server instance on the same database and Redis namespace.
    pub async fn another_instance(&self) -> AppState {
        let config = (*self.state.config).clone();
        semasocial::startup::build_state(config, Arc::new(self.clock.clone())).await.expect("second instance")
    }

    /// A second server instance on the same database and Redis namespace, serving HTTP and
    /// WebSocket on its own port: (its state, its port).
    pub async fn serve_another_instance(&self) -> (AppState, u16) {
        let state = self.another_instance().await;
        let schema = semasocial::graphql::build_schema(state.clone());
        let router = semasocial::http::router(state.clone(), schema);
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.expect("a port");
        let port = listener.local_addr().expect("bound").port();
        tokio::spawn(async move {
            axum::serve(listener, router.into_make_service_with_connect_info::<std::net::SocketAddr>()).await
        });
        (state, port)
    }

    /// Runs one sweep pass (lapsed offers, overdue tasks) at the test clock's time.
    pub async fn sweep(&self) -> semasocial::domain::task::sweep::SweepReport {
        semasocial::domain::task::sweep::run_once(&self.state).await.expect("sweep runs")
    }

    /// Starts another instance on the same database with `customize`d configuration, as an
    /// operator restarting the service would: its startup error, if any.
    pub async fn restart_with(&self, customize: impl FnOnce(&mut Config)) -> anyhow::Result<AppState> {
        let mut config = (*self.state.config).clone();
        customize(&mut config);
        semasocial::startup::build_state(config, Arc::new(self.clock.clone())).await
    }

    /// Grants the arbiter role to the account with `handle`, as `semasocial arbiter grant` does.
    pub async fn grant_arbiter(&self, handle: &str) {
        let now = self.clock_now();
        semasocial::domain::ledger::arbiter::grant(&self.state.db, handle, now).await.expect("granted");
    }

    /// Fails unless `ledger-check` finds the ledger sound.
    pub async fn assert_ledger_sound(&self) {
        let violations = semasocial::domain::ledger::check::run(&self.state.db).await.expect("ledger-check runs");
        assert!(violations.is_empty(), "ledger-check: {violations:#?}");
    }

    /// Counts rows of a table.
    pub async fn count(&self, table: &str) -> i64 {
        let backend = self.state.db.get_database_backend();
        let row = self
            .state
            .db
            .query_one_raw(sea_orm::Statement::from_string(backend, format!("SELECT COUNT(*) AS n FROM {table}")))
            .await
            .expect("count query")
            .expect("a row");
        row.try_get::<i64>("", "n").expect("count")
    }
}

/// Fails unless the response has no errors: a negative assertion on a field (null, empty)
/// only means something when the operation itself succeeded.
pub fn assert_ok(body: &Value) {
    assert!(body.get("errors").is_none(), "the operation failed: {body}");
    assert!(body["data"].is_object(), "no data: {body}");
}

/// The `extensions.code` of the first error.
pub fn error_code(body: &Value) -> &str {
    body["errors"][0]["extensions"]["code"].as_str().unwrap_or("<no error>")
}

/// The `extensions.field` of the first error.
pub fn error_field(body: &Value) -> &str {
    body["errors"][0]["extensions"]["field"].as_str().unwrap_or("<no field>")
}

/// A database used by one test only, removed afterwards.
struct TestDatabase {
    url: String,
    cleanup: Cleanup,
}

enum Cleanup {
    File(PathBuf),
    Postgres { admin_url: String, name: String },
}

/// The migrated database every test database of this process starts as a copy of (crates.io's
/// `crates_io_test_db`): migrations run once per build of the tests, not once per test.
static TEMPLATE: tokio::sync::OnceCell<String> = tokio::sync::OnceCell::const_new();

/// Names this build's template: the migrations it holds and the test binary that applied them
/// (a rebuilt binary may carry changed migrations, so it makes its own).
fn template_fingerprint() -> String {
    use migration::MigratorTrait;
    use std::hash::{Hash, Hasher};
    let mut hasher = std::collections::hash_map::DefaultHasher::new();
    for m in migration::Migrator::migrations() {
        m.name().hash(&mut hasher);
    }
    if let Ok(exe) = std::env::current_exe() {
        exe.hash(&mut hasher);
        if let Ok(modified) = std::fs::metadata(&exe).and_then(|m| m.modified()) {
            modified.hash(&mut hasher);
        }
    }
    format!("{:016x}", hasher.finish())
}

/// Where SQLite test databases live: memory-backed when the machine has it (a test's
/// durability is not what it tests), the temp dir otherwise.
fn sqlite_dir() -> PathBuf {
    let shm = std::path::Path::new("/dev/shm");
    let base = if shm.is_dir() { shm.to_path_buf() } else { std::env::temp_dir() };
    let dir = base.join("semasocial-tests");
    std::fs::create_dir_all(&dir).expect("test database dir");
    dir
}

/// Migrates a new SQLite template file (once per build), removing older builds' templates.
async fn sqlite_template() -> String {
    use migration::MigratorTrait;
    let dir = sqlite_dir();
    let path = dir.join(format!("template-{}.db", template_fingerprint()));
    if !path.exists() {
        // Written under a unique name, then renamed: a concurrent run never copies half a file.
        let partial = dir.join(format!("partial-{}.db", Uuid::new_v4().simple()));
        let db = Database::connect(format!("sqlite://{}?mode=rwc", partial.display())).await.expect("template db");
        migration::Migrator::up(&db, None).await.expect("migrate the template");
        db.close().await.expect("template closed");
        std::fs::rename(&partial, &path).expect("template in place");
        for entry in std::fs::read_dir(&dir).into_iter().flatten().flatten() {
            let name = entry.file_name().to_string_lossy().into_owned();
            if name.starts_with("template-") && entry.path() != path {
                let _ = std::fs::remove_file(entry.path());
            }
        }
    }
    path.display().to_string()
}

/// Migrates a PostgreSQL template database (once per build), dropping older builds' templates.
async fn postgres_template(admin_url: &str) -> String {
    use migration::MigratorTrait;
    let name = format!("semasocial_template_{}", template_fingerprint());
    let admin = Database::connect(admin_url).await.expect("connect to PostgreSQL");
    let backend = admin.get_database_backend();
    let databases: Vec<String> = admin
        .query_all_raw(sea_orm::Statement::from_string(
            backend,
            "SELECT datname FROM pg_database WHERE datname LIKE 'semasocial_template_%'",
        ))
        .await
        .expect("list templates")
        .iter()
        .map(|row| row.try_get::<String>("", "datname").expect("a name"))
        .collect();
    if !databases.contains(&name) {
        // Migrated under a unique name, then renamed: a concurrent run never copies a half-made one.
        let partial = format!("semasocial_partial_{}", Uuid::new_v4().simple());
        admin.execute_unprepared(&format!("CREATE DATABASE \"{partial}\"")).await.expect("create template");
        let db = Database::connect(database_url(admin_url, &partial)).await.expect("connect to the template");
        migration::Migrator::up(&db, None).await.expect("migrate the template");
        db.close().await.expect("template closed");
        let renamed = admin.execute_unprepared(&format!("ALTER DATABASE \"{partial}\" RENAME TO \"{name}\"")).await;
        if renamed.is_err() {
            // Another run made it first.
            let _ = admin.execute_unprepared(&format!("DROP DATABASE IF EXISTS \"{partial}\"")).await;
        }
        for old in databases.iter().filter(|d| **d != name) {
            let _ = admin.execute_unprepared(&format!("DROP DATABASE IF EXISTS \"{old}\"")).await;
        }
    }
    admin.close().await.ok();
    name
}

/// The URL of database `name` on the server of `admin_url`.
fn database_url(admin_url: &str, name: &str) -> String {
    let base = admin_url.rsplit_once('/').map(|(base, _)| base).unwrap_or(admin_url);
    format!("{base}/{name}")
}

impl TestDatabase {
    async fn create() -> Self {
        match std::env::var("TEST_DATABASE_URL").ok().filter(|u| u.starts_with("postgres")) {
            Some(admin_url) => {
                let template = TEMPLATE.get_or_init(|| postgres_template(&admin_url)).await;
                let name = format!("semasocial_test_{}", Uuid::new_v4().simple());
                let admin = Database::connect(&admin_url).await.expect("connect to PostgreSQL");
                let create = format!("CREATE DATABASE \"{name}\" TEMPLATE \"{template}\"");
                admin.execute_unprepared(&create).await.expect("create test database");
                admin.close().await.ok();
                // A test database outlives no crash of the server: commits need not wait for the disk.
                let url = format!("{}?options[synchronous_commit]=off", database_url(&admin_url, &name));
                Self { url, cleanup: Cleanup::Postgres { admin_url, name } }
            }
            None => {
                let template = TEMPLATE.get_or_init(sqlite_template).await;
                let path = sqlite_dir().join(format!("{}.db", Uuid::new_v4()));
                std::fs::copy(template, &path).expect("copy the template");
                Self { url: format!("sqlite://{}?mode=rwc", path.display()), cleanup: Cleanup::File(path) }
            }
        }
    }
}

impl Drop for TestDatabase {
    fn drop(&mut self) {
        match &self.cleanup {
            Cleanup::File(path) => {
                for suffix in ["", "-wal", "-shm"] {
                    let _ = std::fs::remove_file(format!("{}{suffix}", path.display()));
                }
            }
            Cleanup::Postgres { admin_url, name } => {
                let (admin_url, name) = (admin_url.clone(), name.clone());
                // Drop runs inside the test's runtime: use a thread with its own runtime.
                let _ = std::thread::spawn(move || {
                    let Ok(runtime) = tokio::runtime::Builder::new_current_thread().enable_all().build() else {
                        return;
                    };
                    runtime.block_on(async {
                        if let Ok(admin) = Database::connect(&admin_url).await {
                            let _ = admin
                                .execute_unprepared(&format!("DROP DATABASE IF EXISTS \"{name}\" WITH (FORCE)"))
                                .await;
                            let _ = admin.close().await;
                        }
                    });
                })
                .join();
            }
        }
    }
}

impl TestApp {
    /// The application's current time.
    pub fn clock_now(&self) -> chrono::DateTime<Utc> {
        use semasocial::clock::Clock;
        self.clock.now()
    }
}
