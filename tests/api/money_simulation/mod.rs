//! A deterministic money simulation in the spirit of TigerBeetle's VOPR. A seed drives a long
//! sequence of operations on the real domain functions (no GraphQL): funding with reused keys
//! from several admins, work, acceptance with replays, rejection, disputes by either side,
//! concessions, arbitration, cancellation, completion, withdrawals within and past the balance,
//! provider declines, a crash between a withdrawal's two transactions, a charge whose answer is
//! lost (the retry must find it), pending charges whose signed webhooks come late, twice, out of
//! order or contradicted, role changes of an admin who then moves money, and time passing with
//! the sweep. After every step, aggregate queries
//! over a bounded world (an ended contract is replaced) check that:
//! - every currency sums to zero and no account that may not go negative is;
//! - per live contract, funded = escrow + released + refunded + held, funded and released match
//!   the model, and an ended contract's escrow is empty;
//! - a key applies once per paying account: a replay returns the first transaction, another
//!   body is a CONFLICT; only current managers move a contract's money;
//! - a refused or money-less step leaves every balance as it was;
//! - each withdrawal is paid at most once, in-flight and held money match their payouts, and
//!   none stays PROCESSING past the bound after a sweep;
//! - every cent refunded to a client is queued back to its payments at the provider;
//! - a webhook applies once (a repeat is a duplicate, a late word on a settled funding nothing);
//! - no error is INTERNAL.
//!
//! `ledger-check` runs every `CHECK_EVERY` steps and at the end. `SIMULATION_WORLDS` worlds
//! (seeds `SIMULATION_SEED`, +1, …) run concurrently and share `SIMULATION_OPS` operations. A
//! failure prints the world's seed, the step, the last operations, a shorter failing sequence
//! (`SIMULATION_SHRINK_SECS` to find it) and the variables that replay it.
use std::{
    collections::HashMap,
    sync::{
        Arc,
        atomic::{AtomicU8, Ordering},
    },
    time::Instant,
};

use chrono::{DateTime, Duration, Utc};
use entity::{
    contract::{self as contract_db, ContractStatus},
    dispute::{self as dispute_db, DisputeStatus, Resolution},
    funding::FundingStatus,
    idempotency_key,
    ledger_account::{self as account_db, AccountKind},
    organization_member::OrgRole,
    outcome::{self as outcome_db, OutcomeStatus},
    payout::{self as payout_db, PayoutKind, PayoutStatus},
    task::{self as task_db, TaskMode, TaskStatus},
};
use futures_util::future::{BoxFuture, FutureExt};
use sea_orm::{
    ColumnTrait, Condition, ConnectionTrait, EntityTrait, JoinType, QueryFilter, QueryOrder, QuerySelect, Select,
    sea_query::{Alias, Expr, ExprTrait, Func},
};
use semasocial::{
    auth::{AgentScope, Viewer},
    domain::{
        contract::{self, ContractInput, machine::ContractAction},
        ledger::{
            self, PLATFORM, dispute,
            funding::{FundInput, Funded, fund_contract},
            payout::{self, PayoutInput},
            provider::{
                ChargeError, ChargeRequest, Charged, Declined, Onboarding, PaymentProvider, PayoutRequest, Sent,
                SimulatedProvider,
            },
        },
        organization::{self, Answer},
        outcome::{self, OutcomeInput},
        task::{self, TaskInput, lifecycle, review, sweep, work},
    },
    error::{AppError, AppResult},
    state::AppState,
};
use serde_json::json;
use uuid::Uuid;

use crate::{
    helpers::{TestApp, spawn_app_with},
    organizations::{add as add_member, create_org},
    work::{agent, worker},
};

const DEFAULT_SEED: u64 = 20_261_205;
const DEFAULT_OPS: usize = 100_000;
const DEFAULT_WORLDS: usize = 2;
/// Contracts live at once in a world.
const SLOTS: usize = 3;
const BUDGET: i64 = 10_000;
/// Outcomes of every contract (the first has a design and an automated data task, the second
/// a design task); the budget's rest is refunded when the contract ends.
const OUTCOMES: [i64; 2] = [5_000, 3_000];
const CHECK_EVERY: usize = 2_500;
const FUNDS: [i64; 8] = [8_000, 8_000, 8_000, 5_000, 3_000, 2_000, 9_600, 12_000];
/// Actors; `by` fields index this list, `who` fields index `PAYEES`.
const NAMES: [&str; 7] = ["ada", "dan", "bob", "cat", "oper", "judge", "data_bot"];
const ADA: usize = 0;
const DAN: usize = 1;
const BOB: usize = 2;
const CAT: usize = 3;
const OPER: usize = 4;
const JUDGE: usize = 5;
const BOT: usize = 6;
const PAYEES: [usize; 3] = [BOB, CAT, OPER];

/// splitmix64: small, fast and the same everywhere.
struct Rng(u64);

impl Rng {
    fn next(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9E37_79B9_7F4A_7C15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
        z ^ (z >> 31)
    }
    fn below(&mut self, n: usize) -> usize {
        usize::try_from(self.next() % u64::try_from(n).unwrap()).unwrap()
    }
    fn cents(&mut self, n: usize) -> i64 {
        i64::try_from(self.below(n)).unwrap()
    }
    fn pick<T: Copy>(&mut self, from: &[T]) -> T {
        from[self.below(from.len())]
    }
    /// A key: mostly fresh (unique to step `i`), sometimes one of a few reused ones.
    fn key(&mut self, i: usize) -> usize {
        if self.below(10) < 3 { self.below(4) } else { 100 + i }
    }
}

/// One step. `by` indexes `NAMES`, `who` indexes `PAYEES`. A withdrawal `within` asks for
/// `1 + cents % available`; `crash` 1 dies before the provider hears of it, 2 after the
/// provider answered, both before the answer is booked. A funding's `fault` 1 loses the
/// provider's answer to a charge it made (the request is retried at once), 2 leaves the charge
/// pending with its webhooks owed; `Deliver` sends one of those (in any order, `again` keeps it
/// owed so it comes twice).
#[derive(Clone, Copy, Debug)]
#[rustfmt::skip]
enum Op {
    Fund { slot: usize, by: usize, cents: i64, key: usize, fault: u8 },
    Status { slot: usize, by: usize, action: ContractAction, key: Option<usize> },
    Work { slot: usize, task: usize, reject: bool },
    Accept { slot: usize, outcome: usize, by: usize, key: usize },
    Reject { slot: usize, outcome: usize, by: usize },
    Dispute { slot: usize, outcome: usize, by: usize, key: usize },
    Resolve { slot: usize, outcome: usize, by: usize, how: usize, part: i64, key: usize },
    Withdraw { who: usize, cents: i64, within: bool, key: usize, crash: u8 },
    Role { change: usize },
    Pass { minutes: i64 },
    Deliver { pick: usize, again: bool },
}

fn generate(seed: u64, n: usize) -> Vec<Op> {
    let mut r = Rng(seed);
    let mut ops: Vec<Op> = Vec::with_capacity(n);
    for i in 0..n {
        // A retry of a recent money request, by the other admin where there is one.
        let recent = ops.iter().rev().take(5).find(|o| !matches!(o, Op::Work { .. } | Op::Pass { .. }));
        if r.below(100) < 8
            && let Some(mut again) = recent.copied()
        {
            if let Op::Fund { by, .. } | Op::Status { by, .. } | Op::Accept { by, .. } = &mut again {
                *by = if *by == ADA { DAN } else { ADA };
            }
            ops.push(again);
            continue;
        }
        let (slot, outcome) = (r.below(SLOTS), r.below(2));
        let by = r.pick(&[ADA, ADA, ADA, ADA, DAN, DAN, DAN, BOB]);
        ops.push(match r.below(100) {
            0..27 => Op::Work { slot, task: r.below(3), reject: r.below(8) == 0 },
            27..30 => Op::Deliver { pick: r.below(16), again: r.below(4) == 0 },
            30..40 => {
                Op::Fund { slot, by, cents: r.pick(&FUNDS), key: r.key(i), fault: r.pick(&[0, 0, 0, 0, 0, 1, 2, 2]) }
            }
            40..50 => {
                let action = match r.below(20) {
                    0..6 => ContractAction::Open,
                    6..15 => ContractAction::Activate,
                    15..19 => ContractAction::Complete,
                    _ => ContractAction::Cancel,
                };
                Op::Status { slot, by, action, key: (r.below(7) > 0).then(|| r.key(i)) }
            }
            50..58 => Op::Accept { slot, outcome, by, key: r.key(i) },
            58..61 => Op::Reject { slot, outcome, by },
            61..66 => Op::Dispute { slot, outcome, by: r.pick(&[ADA, DAN, BOB, CAT, OPER]), key: r.key(i) },
            66..73 => {
                let by = r.pick(&[ADA, DAN, BOB, CAT, OPER, JUDGE, JUDGE]);
                Op::Resolve { slot, outcome, by, how: r.below(3), part: 1 + r.cents(6_000), key: r.key(i) }
            }
            73..84 => {
                let (within, crash) = (r.below(2) == 0, r.pick(&[0, 0, 0, 0, 0, 1, 2]));
                let cents = if within { r.cents(1_000_000) } else { r.pick(&[500, 1_500, 5_000, 90_000]) };
                Op::Withdraw { who: r.below(PAYEES.len()), cents, within, key: r.key(i), crash }
            }
            84..87 => Op::Role { change: r.below(4) },
            _ => Op::Pass { minutes: if r.below(4) == 0 { r.pick(&[180, 600, 1_500]) } else { 1 + r.cents(30) } },
        });
    }
    ops
}

mod world;

use self::world::Sim;

/// Runs `ops` on a fresh world: `Err((step, why))` at the first violation.
async fn run(ops: Vec<Op>) -> Result<(), (usize, String)> {
    let mut sim = Sim::new().await;
    sim.observe(true).await.map_err(|why| (0, why))?;
    for (i, &op) in ops.iter().enumerate() {
        let step = async {
            sim.app.clock.advance(Duration::seconds(1));
            let moved = sim.apply(op).await?;
            sim.observe(moved).await?;
            sim.recycle().await?;
            if (i + 1).is_multiple_of(CHECK_EVERY) || i + 1 == ops.len() {
                let violations = ledger::check::run(&sim.st.db).await.map_err(|e| format!("{e:?}"))?;
                if !violations.is_empty() {
                    return Err(format!("ledger-check: {violations:#?}"));
                }
            }
            Ok::<(), String>(())
        };
        step.await.map_err(|why| (i, why))?;
    }
    let statements = sim.st.db_statements.load(std::sync::atomic::Ordering::Relaxed);
    println!(
        "money simulation: provider faults {:?}; {statements} SQL statements ({} per operation, checks included)",
        sim.faults,
        statements / ops.len().max(1) as u64
    );
    Ok(())
}

/// A shorter failing sequence: chunks of the failing prefix are dropped while it still fails,
/// for `secs` at most.
async fn shrink(mut ops: Vec<Op>, secs: u64) -> Vec<Op> {
    let deadline = Instant::now() + std::time::Duration::from_secs(secs);
    let mut chunk = ops.len() / 2;
    while chunk > 0 && Instant::now() < deadline {
        let mut at = 0;
        while at < ops.len() && Instant::now() < deadline {
            let mut candidate = ops.clone();
            candidate.drain(at..(at + chunk).min(ops.len()));
            match run(candidate.clone()).await {
                Err((step, _)) => ops = candidate[..=step].to_vec(),
                Ok(()) => at += chunk,
            }
        }
        chunk /= 2;
    }
    ops
}

fn env<T: std::str::FromStr>(name: &str, default: T) -> T {
    std::env::var(name).ok().and_then(|v| v.trim().parse().ok()).unwrap_or(default)
}

fn listing(ops: &[Op], from: usize) -> String {
    ops.iter().enumerate().map(|(i, op)| format!("  {:>7}: {op:?}\n", from + i)).collect()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_seeded_simulation_of_money_flows_keeps_every_ledger_invariant() {
    let (seed, total, worlds) = (
        env("SIMULATION_SEED", DEFAULT_SEED),
        // The 100,000 of a CI run are the SQLite run's; against PostgreSQL (where each statement
        // crosses a socket) the same code runs a tenth of them unless told otherwise.
        env(
            "SIMULATION_OPS",
            if std::env::var("TEST_DATABASE_URL").is_ok_and(|u| u.starts_with("postgres")) {
                DEFAULT_OPS / 10
            } else {
                DEFAULT_OPS
            },
        ),
        env("SIMULATION_WORLDS", DEFAULT_WORLDS),
    );
    let per_world = total.div_ceil(worlds.max(1));
    println!(
        "money simulation: seed {seed}, {worlds} world(s) of {per_world} operations (SIMULATION_SEED, SIMULATION_OPS, SIMULATION_WORLDS)"
    );
    let started = Instant::now();
    let runs: Vec<_> = (0..worlds)
        .map(|w| tokio::spawn(run(generate(seed.wrapping_add(u64::try_from(w).unwrap()), per_world))))
        .collect();
    for (w, run) in runs.into_iter().enumerate() {
        let Err((step, why)) = run.await.unwrap() else { continue };
        let seed = seed.wrapping_add(u64::try_from(w).unwrap());
        let ops = generate(seed, step + 1);
        let shrunk = shrink(ops.clone(), env("SIMULATION_SHRINK_SECS", 90)).await;
        let from = step.saturating_sub(30);
        panic!(
            "money simulation failed: world seed {seed}, step {step}: {why}\nthe last operations:\n{}\
             a shorter failing sequence ({} operations):\n{}replay: SIMULATION_SEED={seed} SIMULATION_WORLDS=1 SIMULATION_OPS={}",
            listing(&ops[from..], from),
            shrunk.len(),
            listing(&shrunk, 0),
            step + 1,
        );
    }
    let secs = started.elapsed().as_secs_f64();
    let done = per_world * worlds;
    println!(
        "money simulation: {done} ops in {secs:.1} s, {:.0} ops/s (seed {seed}, {worlds} worlds)",
        done as f64 / secs
    );
}
