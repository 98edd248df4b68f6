//! The command line: `serve` (default), `migrate`, `export-schema`, `seed-demo`, `ledger-check`,
//! `reconcile`, `arbiter`.
use std::path::PathBuf;

use clap::{Parser, Subcommand};

use crate::config::ConfigArgs;

/// Semasocial API server.
#[derive(Parser, Debug)]
#[command(name = "semasocial", version, about)]
pub struct Cli {
    /// What to do; `serve` when omitted.
    #[command(subcommand)]
    pub command: Option<Command>,
    /// Configuration (flags or environment variables).
    #[command(flatten)]
    pub config: ConfigArgs,
}

/// Subcommands.
#[derive(Subcommand, Debug)]
pub enum Command {
    /// Run migrations, then serve HTTP and WebSocket.
    Serve,
    /// Run pending migrations and exit.
    Migrate,
    /// Write the served GraphQL schema (SDL).
    ExportSchema {
        /// Output file.
        #[arg(long, default_value = "schema.graphql")]
        output: PathBuf,
    },
    /// Fill the database with demo people, agents and organizations.
    SeedDemo {
        /// Also a deterministic benchmark data set of this size (1: 10,000 people, 100,000
        /// gigs, 1,000 communities with 200,000 posts and comments, 20,000 events).
        #[arg(long)]
        scale: Option<f64>,
    },
    /// Verify the ledger: every transaction balances, no balance that must not be negative is,
    /// balances equal their lines, no contract paid out more than it was funded, no ended
    /// contract holds escrow. Exits 1 on any violation.
    LedgerCheck,
    /// Compare the payment provider's PaymentIntents, Transfers and Refunds created since
    /// `--since` with the ledger; print each drift and exit 1 if there is any. Run it daily.
    Reconcile {
        /// Start of the window (RFC 3339, e.g. 2026-12-01T00:00:00Z); 24 hours ago when omitted.
        #[arg(long)]
        since: Option<chrono::DateTime<chrono::Utc>>,
    },
    /// Grant or revoke the arbiter role (deciding disputes) of an existing account.
    Arbiter {
        /// `grant` or `revoke`.
        #[command(subcommand)]
        action: ArbiterAction,
    },
}

/// What `arbiter` does.
#[derive(Subcommand, Debug)]
pub enum ArbiterAction {
    /// Make the account with this handle an arbiter.
    Grant {
        /// The account's handle.
        handle: String,
    },
    /// Take the role from the account with this handle.
    Revoke {
        /// The account's handle.
        handle: String,
    },
}
