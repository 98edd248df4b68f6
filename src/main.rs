//! Thin entry point: config → telemetry → subcommand.
use anyhow::Context;
use clap::Parser;
use migration::{Migrator, MigratorTrait};
use semasocial::{
    cli::{ArbiterAction, Cli, Command},
    clock::SystemClock,
    config::Config,
    domain::ledger::reconcile,
    graphql, seed,
    startup::{Application, build_state, connect_database},
    telemetry,
};

#[global_allocator]
static ALLOCATOR: tikv_jemallocator::Jemalloc = tikv_jemallocator::Jemalloc;

/// jemalloc's options (its `malloc_conf`; `_RJEM_MALLOC_CONF` in the environment overrides
/// them): a background thread returns freed pages to the system after a second, even while
/// the server is idle, so the memory that thousands of subscriptions starting at once used
/// for a moment leaves the resident set (bench/fanout: ~25 → ~10 KiB per idle connection).
#[unsafe(export_name = "_rjem_malloc_conf")]
static MALLOC_CONF: &[u8; 43] = b"background_thread:true,dirty_decay_ms:1000\0";

#[tokio::main]
async fn main() -> anyhow::Result<()> {
    let cli = Cli::parse();
    if let Some(Command::ExportSchema { output }) = &cli.command {
        std::fs::write(output, graphql::sdl()).with_context(|| format!("writing {}", output.display()))?;
        println!("wrote {}", output.display());
        return Ok(());
    }
    let config = Config::from_args(cli.config)?;
    telemetry::init(config.log_json);
    match cli.command.unwrap_or(Command::Serve) {
        Command::Serve => {
            // Every WebSocket subscriber holds a socket: lift the soft open-file limit to the hard one.
            match rlimit::increase_nofile_limit(u64::MAX) {
                Ok(limit) => tracing::info!(limit, "open-file limit"),
                Err(err) => tracing::warn!(error = %err, "could not raise the open-file limit"),
            }
            let app = Application::build(config).await?;
            let port = app.port();
            let host = app.state().config.bind_addr.ip();
            tracing::info!(database = %app.state().config.database_display(), redis = app.state().redis.is_some(), "server ready");
            println!("Semasocial API listening on http://{host}:{port}");
            println!("GraphiQL: http://{host}:{port}/graphql");
            app.run_until_stopped().await
        }
        Command::Migrate => {
            let db = connect_database(&config).await?;
            Migrator::up(&db, None).await.context("running migrations")?;
            println!("migrations applied to {}", config.database_display());
            Ok(())
        }
        Command::SeedDemo { scale } => {
            let summary = match scale {
                Some(scale) => seed::run_scaled(config, scale).await?,
                None => seed::run(config).await?,
            };
            println!("{summary}");
            Ok(())
        }
        Command::Arbiter { action } => {
            let db = connect_database(&config).await?;
            Migrator::up(&db, None).await.context("running migrations")?;
            use semasocial::domain::ledger::arbiter;
            match action {
                ArbiterAction::Grant { handle } => {
                    let id =
                        arbiter::grant(&db, &handle, chrono::Utc::now()).await.map_err(|e| anyhow::anyhow!("{e}"))?;
                    println!("arbiter granted: {handle} ({id})");
                }
                ArbiterAction::Revoke { handle } => {
                    let had = arbiter::revoke(&db, &handle).await.map_err(|e| anyhow::anyhow!("{e}"))?;
                    println!(
                        "{}",
                        if had { format!("arbiter revoked: {handle}") } else { format!("{handle} was not an arbiter") }
                    );
                }
            }
            Ok(())
        }
        Command::LedgerCheck => {
            let db = connect_database(&config).await?;
            Migrator::up(&db, None).await.context("running migrations")?;
            let violations = semasocial::domain::ledger::check::run(&db).await.map_err(|e| anyhow::anyhow!("{e:?}"))?;
            if violations.is_empty() {
                println!("ledger-check: the ledger is sound");
                Ok(())
            } else {
                for violation in &violations {
                    eprintln!("ledger-check: {violation}");
                }
                eprintln!("ledger-check: {} violation(s)", violations.len());
                std::process::exit(1);
            }
        }
        Command::Reconcile { since } => {
            let since = since.unwrap_or_else(|| chrono::Utc::now() - chrono::Duration::days(1));
            let state = build_state(config, std::sync::Arc::new(SystemClock)).await?;
            match reconcile::run(&state, since).await.map_err(|e| anyhow::anyhow!("{e:?}"))? {
                None => {
                    println!("reconcile: the simulated payment provider keeps nothing to compare");
                    Ok(())
                }
                Some(drift) if drift.is_empty() => {
                    println!("reconcile: the provider and the ledger agree since {since}");
                    Ok(())
                }
                Some(drift) => {
                    for d in &drift {
                        println!("drift: {d}");
                    }
                    eprintln!("reconcile: {} drift(s) since {since}", drift.len());
                    std::process::exit(1);
                }
            }
        }
        Command::ExportSchema { .. } => Ok(()),
    }
}
