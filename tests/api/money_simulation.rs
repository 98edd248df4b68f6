//! A deterministic money simulation in the spirit of TigerBeetle's VOPR. A seed drives a long
//! sequence of operations on the real domain functions (no GraphQL): funding with reused keys
//! from several admins, work, acceptance with replays, rejection, disputes by either side,
//! concessions, arbitration, cancellation, completion, withdrawals within and past the balance,
//! provider declines, a crash between a withdrawal's two transactions, role changes of an admin
//! who then moves money, and time passing with the sweep. After every step, aggregate queries
//! over a bounded world (an ended contract is replaced) check that:
//! - every currency sums to zero and no account that may not go negative is;
//! - per live contract, funded = escrow + released + refunded + held, funded and released match
//!   the model, and an ended contract's escrow is empty;
//! - a key applies once per paying account: a replay returns the first transaction, another
//!   body is a CONFLICT; only current managers move a contract's money;
//! - a refused or money-less step leaves every balance as it was;
//! - each withdrawal is paid at most once, in-flight and held money match their payouts, and
//!   none stays PROCESSING past the bound after a sweep;
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
            funding::{FundInput, fund_contract},
            payout::{self, PayoutInput},
            provider::{Declined, PaymentProvider, SimulatedProvider},
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
/// provider answered, both before the answer is booked.
#[derive(Clone, Copy, Debug)]
#[rustfmt::skip]
enum Op {
    Fund { slot: usize, by: usize, cents: i64, key: usize },
    Status { slot: usize, by: usize, action: ContractAction, key: Option<usize> },
    Work { slot: usize, task: usize, reject: bool },
    Accept { slot: usize, outcome: usize, by: usize, key: usize },
    Reject { slot: usize, outcome: usize, by: usize },
    Dispute { slot: usize, outcome: usize, by: usize, key: usize },
    Resolve { slot: usize, outcome: usize, by: usize, how: usize, part: i64, key: usize },
    Withdraw { who: usize, cents: i64, within: bool, key: usize, crash: u8 },
    Role { change: usize },
    Pass { minutes: i64 },
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
            0..30 => Op::Work { slot, task: r.below(3), reject: r.below(8) == 0 },
            30..40 => Op::Fund { slot, by, cents: r.pick(&FUNDS), key: r.key(i) },
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

/// The simulated provider, whose next payout can be made to never answer: the step then drops
/// the request's future there, as a process dying between the withdrawal's two transactions.
struct CrashingProvider {
    inner: SimulatedProvider,
    /// 0: answer; 1: never hear of the next payout; 2: make it, then never answer.
    mode: AtomicU8,
    reached: tokio::sync::Notify,
}

impl PaymentProvider for CrashingProvider {
    fn charge(&self, key: &str, payer: Uuid, cents: i64, currency: &str) -> BoxFuture<'_, Result<String, Declined>> {
        self.inner.charge(key, payer, cents, currency)
    }
    fn void(&self, reference: &str) -> BoxFuture<'_, ()> {
        self.inner.void(reference)
    }
    fn payout(&self, key: &str, payee: Uuid, cents: i64, currency: &str) -> BoxFuture<'_, Result<String, Declined>> {
        let mode = self.mode.swap(0, Ordering::SeqCst);
        if mode == 0 {
            return self.inner.payout(key, payee, cents, currency);
        }
        if mode == 2 {
            let _ = self.inner.payout(key, payee, cents, currency).now_or_never();
        }
        self.reached.notify_one();
        futures_util::future::pending().boxed()
    }
    fn find_payout(&self, key: &str) -> BoxFuture<'_, Option<Result<String, Declined>>> {
        self.inner.find_payout(key)
    }
}

struct Slot {
    contract: Uuid,
    payer: Uuid,
    org: bool,
    outcomes: [Uuid; 2],
    /// What fundings that applied (not replays) moved into escrow.
    funded: i64,
}

/// A key the model saw applied: its request and, for a funding, the transaction it made.
#[derive(Clone)]
struct Applied {
    body: String,
    txn: Option<Uuid>,
    expires: DateTime<Utc>,
}

/// What the last observation found.
#[derive(Default)]
struct Seen {
    /// Non-zero balances by account.
    accounts: HashMap<Uuid, i64>,
    owned: HashMap<(AccountKind, Uuid), i64>,
    contracts: HashMap<Uuid, ContractStatus>,
    disputes: HashMap<Uuid, dispute_db::Model>,
}

struct Sim {
    app: TestApp,
    st: AppState,
    crash: Arc<CrashingProvider>,
    people: Vec<Viewer>,
    org: Uuid,
    slots: Vec<Slot>,
    created: usize,
    keys: HashMap<(Uuid, String), Applied>,
    dan: Option<OrgRole>,
    unsettled: HashMap<Uuid, (usize, i64)>,
    paid_out: [i64; 3],
    accepted: Vec<Uuid>,
    seen: Seen,
}

/// A domain call's result, unless it failed internally (always a violation).
fn checked<T>(result: AppResult<T>) -> Result<AppResult<T>, String> {
    match result {
        Err(AppError::Internal(cause)) => Err(format!("internal error: {cause:?}")),
        other => Ok(other),
    }
}

fn db(e: sea_orm::DbErr) -> String {
    e.to_string()
}

async fn all<E: EntityTrait>(st: &AppState, query: Select<E>) -> Result<Vec<E::Model>, String> {
    query.all(&st.db).await.map_err(db)
}

impl Sim {
    async fn new() -> Self {
        let app = spawn_app_with(|c| {
            c.payments.payout_hold = std::time::Duration::from_secs(2 * 3600);
            c.payments.simulated.decline_charges_from_cents = Some(9_500);
            c.payments.simulated.fail_payouts_from_cents = Some(4_000);
        })
        .await;
        if app.state.db.get_database_backend() == sea_orm::DbBackend::Sqlite {
            // Durability is not under test; an fsync per commit would dominate the run.
            app.state.db.execute_unprepared("PRAGMA synchronous=OFF").await.unwrap();
        }
        let design = |level: i32| json!([{ "skill": "design", "level": level }]);
        let users = [
            app.register("ada").await,
            app.register("dan").await,
            worker(&app, "bob", design(5)).await,
            worker(&app, "cat", design(3)).await,
            app.register("oper").await,
            app.register("judge").await,
        ];
        let skills = json!([{ "skill": "data", "level": 4 }]);
        let (bot, _) = agent(&app, &users[OPER], "data_bot", skills, json!(["TASKS_READ", "TASKS_WRITE"])).await;
        let org = create_org(&app, &users[ADA], "acme").await;
        let joined = add_member(&app, &users[ADA], &org, "dan", "ADMIN").await;
        assert_eq!(joined["data"]["acceptOrganizationInvitation"]["role"], "ADMIN", "{joined}");
        let mut people = Vec::new();
        for user in &users {
            let profile_id: Uuid = user.profile_id.parse().unwrap();
            let row = entity::profile::Entity::find_by_id(profile_id).one(&app.state.db).await.unwrap().unwrap();
            people.push(Viewer::User { user_id: row.user_id.unwrap(), profile_id });
        }
        let (operator_user_id, scopes) = (people[OPER].user_id().unwrap(), AgentScope::ALL.to_vec());
        people.push(Viewer::Agent { agent_id: bot.parse().unwrap(), operator_user_id, token_id: Uuid::nil(), scopes });
        for arbiter in ["judge", "cat"] {
            ledger::arbiter::grant(&app.state.db, arbiter, app.clock_now()).await.unwrap();
        }
        let inner = SimulatedProvider::new(app.state.config.payments.simulated);
        let crash = Arc::new(CrashingProvider { inner, mode: AtomicU8::new(0), reached: tokio::sync::Notify::new() });
        let mut st = app.state.clone();
        st.provider = crash.clone();
        let mut sim = Self {
            app,
            st,
            crash,
            people,
            org: org.parse().unwrap(),
            slots: Vec::new(),
            created: 0,
            keys: HashMap::new(),
            dan: Some(OrgRole::Admin),
            unsettled: HashMap::new(),
            paid_out: [0; 3],
            accepted: Vec::new(),
            seen: Seen::default(),
        };
        for _ in 0..SLOTS {
            let slot = sim.new_contract().await.unwrap();
            sim.slots.push(slot);
        }
        sim
    }

    fn now(&self) -> DateTime<Utc> {
        self.st.clock.now()
    }

    fn pid(&self, actor: usize) -> Uuid {
        self.people[actor].profile_id().unwrap()
    }

    /// A new contract, every other one for the organization.
    async fn new_contract(&mut self) -> Result<Slot, String> {
        self.created += 1;
        let org = self.created.is_multiple_of(2).then_some(self.org);
        let (st, ada, due) = (&self.st, &self.people[ADA], self.now() + Duration::days(2));
        let fail = |e: AppError| format!("setting up a contract: {e:?}");
        let input = ContractInput {
            organization_id: org,
            title: "Sim".into(),
            description: String::new(),
            currency: "EUR".into(),
            budget_cents: BUDGET,
        };
        let (c, _) = contract::create(st, ada, input).await.map_err(fail)?;
        let mut outcomes = [Uuid::nil(); 2];
        let tasks: [&[(&str, TaskMode, i32)]; 2] = [
            &[("design", TaskMode::Judgment, 2), ("data", TaskMode::Automated, 1)],
            &[("design", TaskMode::Judgment, 1)],
        ];
        let mut n = 0;
        for i in 0..2 {
            let criteria = serde_json::from_value(json!([{ "key": "c1", "description": "Done" }])).unwrap();
            let input = OutcomeInput { title: "Result".into(), criteria, amount_cents: OUTCOMES[i], due_at: Some(due) };
            outcomes[i] = outcome::add(st, ada, c.id, input).await.map_err(fail)?.0.id;
            for &(skill, mode, weight) in tasks[i] {
                let (title, skills, criteria) = (format!("t{n}"), vec![skill.into()], vec!["c1".into()]);
                let input = TaskInput {
                    title,
                    description: String::new(),
                    skills,
                    mode,
                    weight,
                    due_at: None,
                    criteria,
                    escalate_after: 0,
                };
                task::add(st, ada, outcomes[i], input).await.map_err(fail)?;
                n += 1;
            }
        }
        Ok(Slot { contract: c.id, payer: org.unwrap_or(self.pid(ADA)), org: org.is_some(), outcomes, funded: 0 })
    }

    /// Whether `by` manages the slot's contract money now (by its current role).
    fn manages(&self, by: usize, slot: usize) -> bool {
        by == ADA || (by == DAN && self.slots[slot].org && self.dan == Some(OrgRole::Admin))
    }

    /// Checks a keyed request against the keys the model saw applied (per paying account): a
    /// success by someone who does not manage the money, a second application, a refused
    /// replay, or a reuse with another request that is not a CONFLICT are violations. Returns
    /// the first application of a replayed key, or `None` when this one applied anew.
    fn keyed<T>(
        &mut self,
        scope: Uuid,
        key: &str,
        body: String,
        manages: bool,
        r: &AppResult<T>,
    ) -> Result<Option<Applied>, String> {
        let now = self.now();
        let first = self.keys.get(&(scope, key.to_owned())).filter(|k| k.expires > now).cloned();
        match (r, first) {
            (Ok(_), _) if !manages => Err("moved money without managing the contract (its current role)".into()),
            (Ok(_), Some(first)) if first.body != body => {
                Err(format!("key {key} applied to {body} after {}", first.body))
            }
            (Ok(_), Some(first)) => Ok(Some(first)),
            (Ok(_), None) => {
                let expires = now + Duration::from_std(self.st.config.payments.idempotency_ttl).unwrap();
                self.keys.insert((scope, key.to_owned()), Applied { body, txn: None, expires });
                Ok(None)
            }
            (Err(_), _) if !manages => Ok(None),
            (Err(e), Some(first)) if first.body == body => Err(format!("a replay was refused: {e}")),
            (Err(AppError::Conflict(_)), _) | (Err(_), None) => Ok(None),
            (Err(e), Some(_)) => Err(format!("a key reused with another request was not a CONFLICT: {e}")),
        }
    }

    /// Runs one operation; whether it may have moved money.
    async fn apply(&mut self, op: Op) -> Result<bool, String> {
        let st = self.st.clone();
        let client = |by: usize| matches!(by, ADA | DAN);
        Ok(match op {
            Op::Fund { slot, by, cents, key } => {
                let (c, payer, manages) = (self.slots[slot].contract, self.slots[slot].payer, self.manages(by, slot));
                let key = format!("fund-{key}");
                let input = FundInput { contract_id: c, amount_cents: cents, idempotency_key: key.clone() };
                let r = checked(fund_contract(&st, &self.people[by], input).await)?;
                let first = self.keyed(payer, &key, format!("{c}:{cents}"), manages, &r)?;
                if let Ok(f) = &r {
                    if f.replayed != first.is_some() || first.is_some_and(|k| k.txn != Some(f.transaction_id)) {
                        return Err(format!("funding with key {key}: replayed {} against the model", f.replayed));
                    }
                    if !f.replayed {
                        self.slots[slot].funded += cents;
                        self.keys.get_mut(&(payer, key)).unwrap().txn = Some(f.transaction_id);
                    }
                }
                r.is_ok()
            }
            Op::Status { slot, by, action, key } => {
                let (c, payer, manages) = (self.slots[slot].contract, self.slots[slot].payer, self.manages(by, slot));
                let key = key.map(|k| format!("status-{k}"));
                let r =
                    checked(lifecycle::change_contract_status(&st, &self.people[by], c, action, key.as_deref()).await)?;
                let replay = match &key {
                    Some(key) => self.keyed(payer, key, format!("{c}:{action:?}"), manages, &r)?.is_some(),
                    None if r.is_ok() && !manages => return Err("changed a contract without managing it".into()),
                    None => false,
                };
                let disputed =
                    self.seen.disputes.values().any(|d| d.contract_id == c && d.status == DisputeStatus::Open);
                if r.is_ok() && !replay && action == ContractAction::Cancel && disputed {
                    return Err("cancelled a contract with an open dispute".into());
                }
                r.is_ok()
            }
            Op::Work { slot, task, reject } => {
                self.work(slot, task, reject).await?;
                false
            }
            Op::Accept { slot, outcome, by, key } => {
                let (o, payer) = (self.slots[slot].outcomes[outcome], self.slots[slot].payer);
                let key = format!("accept-{key}");
                let r = checked(outcome::acceptance::accept(&st, &self.people[by], o, &key).await)?;
                self.keyed(payer, &key, o.to_string(), self.manages(by, slot), &r)?;
                self.accepted.extend(r.as_ref().ok().map(|_| o));
                r.is_ok()
            }
            Op::Reject { slot, outcome, by } => {
                let o = self.slots[slot].outcomes[outcome];
                let r = checked(review::reject_outcome(&st, &self.people[by], o, "again").await)?;
                if r.is_ok() && !self.manages(by, slot) {
                    return Err("rejected an outcome without managing the contract".into());
                }
                false
            }
            Op::Dispute { slot, outcome, by, key } => {
                let o = self.slots[slot].outcomes[outcome];
                let r = checked(dispute::open(&st, &self.people[by], o, "late", &format!("dispute-{key}")).await)?;
                if r.is_ok() && client(by) && !self.manages(by, slot) {
                    return Err("disputed for the client without managing the contract".into());
                }
                r.is_ok()
            }
            Op::Resolve { slot, outcome, by, how, part, key } => {
                let Some(d) = self.seen.disputes.get(&self.slots[slot].outcomes[outcome]).map(|d| d.id) else {
                    return Ok(false);
                };
                let resolution = [Resolution::Release, Resolution::Refund, Resolution::Split][how];
                let release_cents = (resolution == Resolution::Split).then_some(part);
                let input = dispute::Resolve {
                    dispute_id: d,
                    resolution,
                    release_cents,
                    idempotency_key: format!("resolve-{key}"),
                };
                let r = checked(dispute::resolve(&st, &self.people[by], input).await)?;
                if r.is_ok() && client(by) && !self.manages(by, slot) {
                    return Err("resolved for the client without managing the contract".into());
                }
                if r.is_ok() && client(by) && resolution != Resolution::Release && key >= 100 {
                    return Err(format!("the client decided {resolution:?}, beyond its concession"));
                }
                r.is_ok()
            }
            Op::Withdraw { who, cents, within, key, crash } => self.withdraw(who, cents, within, key, crash).await?,
            Op::Role { change } => {
                let (org, dan, ada) = (self.org, self.pid(DAN), &self.people[ADA]);
                let role = match change {
                    0 => checked(organization::change_role(&st, ada, org, dan, OrgRole::Member).await)?
                        .map(|m| Some(m.role)),
                    1 => checked(organization::change_role(&st, ada, org, dan, OrgRole::Admin).await)?
                        .map(|m| Some(m.role)),
                    2 => checked(organization::remove_member(&st, ada, org, dan).await)?.map(|()| None),
                    _ => match checked(organization::invite(&st, ada, org, "dan", OrgRole::Admin).await)? {
                        Ok(i) => checked(organization::answer(&st, &self.people[DAN], i.id, Answer::Accept).await)?
                            .map(|(_, m)| m.map(|m| m.role)),
                        Err(e) => Err(e),
                    },
                };
                if let Ok(role) = role {
                    self.dan = role;
                }
                false
            }
            Op::Pass { minutes } => {
                self.app.clock.advance(Duration::minutes(minutes));
                sweep::run_once(&st).await.map_err(|e| format!("the sweep failed: {e:?}"))?;
                let bound = Duration::from_std(st.config.payments.payout_stuck_after).unwrap();
                let stuck = payout_db::Entity::find()
                    .filter(payout_db::Column::Status.eq(PayoutStatus::Processing))
                    .filter(payout_db::Column::Kind.eq(PayoutKind::Withdrawal))
                    .filter(payout_db::Column::UpdatedAt.lte(self.now() - bound))
                    .one(&st.db)
                    .await
                    .map_err(db)?;
                if let Some(p) = stuck {
                    return Err(format!("withdrawal {} is PROCESSING past the bound after a sweep", p.id));
                }
                true
            }
        })
    }

    /// The next step of one task of a slot, by whoever's turn it is.
    async fn work(&self, slot: usize, task: usize, reject: bool) -> Result<(), String> {
        let of_contract = task_db::Column::ContractId.eq(self.slots[slot].contract);
        let tasks =
            all(&self.st, task_db::Entity::find().filter(of_contract).order_by_asc(task_db::Column::Title)).await?;
        let Some(t) = tasks.get(task) else { return Ok(()) };
        let holder = self.people.iter().find(|v| v.profile_id().is_some() && v.profile_id() == t.assignee_profile_id);
        let (st, ada) = (&self.st, &self.people[ADA]);
        let result = match (t.status, holder) {
            (TaskStatus::Offered, Some(h)) => work::accept_offer(st, h, t.id).await.map(drop),
            (TaskStatus::Assigned | TaskStatus::Rejected, Some(h)) => {
                let digest = |c: &str| format!("sha256:{}", c.repeat(64));
                let provenance = json!({ "model": "m", "tool": "t", "toolVersion": "1", "runId": "r", "costCents": 1,
                    "inputDigest": digest("a"), "outputDigest": digest("b") });
                let deliverable = review::Deliverable {
                    text: Some("done".into()),
                    url: None,
                    metrics: Vec::new(),
                    provenance: matches!(h, Viewer::Agent { .. }).then(|| serde_json::from_value(provenance).unwrap()),
                    plan: None,
                };
                review::submit(st, h, t.id, deliverable).await.map(drop)
            }
            (TaskStatus::Submitted, _) if reject => review::reject(st, ada, t.id, "again").await.map(drop),
            (TaskStatus::Submitted, _) => review::accept(st, ada, t.id).await.map(drop),
            (TaskStatus::Open, _) => {
                let claimer = if t.mode == TaskMode::Automated {
                    BOT
                } else if reject {
                    CAT
                } else {
                    BOB
                };
                work::claim(st, &self.people[claimer], t.id).await.map(drop)
            }
            _ => Ok(()),
        };
        checked(result).map(drop)
    }

    /// A withdrawal, possibly crashing between its two transactions.
    async fn withdraw(&mut self, who: usize, cents: i64, within: bool, key: usize, crash: u8) -> Result<bool, String> {
        let (payee, st) = (self.pid(PAYEES[who]), self.st.clone());
        let available = self.seen.owned.get(&(AccountKind::PayeeAvailable, payee)).copied().unwrap_or(0);
        let cents = if within && available > 0 { 1 + cents % available } else { cents };
        let key = format!("withdraw-{key}");
        let input = PayoutInput { amount_cents: cents, currency: "EUR".into(), idempotency_key: key.clone() };
        self.crash.mode.store(crash, Ordering::SeqCst);
        let request = payout::request(&st, &self.people[PAYEES[who]], input);
        let reached = self.crash.reached.notified();
        let r = tokio::select! {
            biased;
            r = request => Some(r),
            () = reached => None,
        };
        self.crash.mode.store(0, Ordering::SeqCst);
        let Some(r) = r else {
            // Crashed: the first transaction committed; the payout waits for its recovery.
            if cents > available {
                return Err(format!("withdrew {cents} of an available {available}"));
            }
            let row = idempotency_key::Entity::find_by_id((payee, key)).one(&st.db).await.map_err(db)?;
            let id = row.and_then(|k| k.response).and_then(|r| r["payoutId"].as_str().and_then(|s| s.parse().ok()));
            self.unsettled.insert(id.ok_or("a crashed withdrawal saved no result")?, (who, cents));
            return Ok(true);
        };
        let Ok(p) = checked(r)? else { return Ok(false) };
        if p.created_at == self.now() {
            // A new withdrawal (a replay returns its key's first, older one).
            if cents > available {
                return Err(format!("withdrew {cents} of an available {available}"));
            }
            self.unsettled.insert(p.id, (who, p.amount_cents));
        }
        self.settle(&p);
        Ok(true)
    }

    /// Books a payout's settlement in the model, once.
    fn settle(&mut self, p: &payout_db::Model) {
        if matches!(p.status, PayoutStatus::Paid | PayoutStatus::Failed)
            && let Some((who, cents)) = self.unsettled.remove(&p.id)
            && p.status == PayoutStatus::Paid
        {
            self.paid_out[who] += cents;
        }
    }

    /// Reads the bounded world and checks every per-step invariant; `moved`: whether the step
    /// may have moved money (a refused or money-less step must leave every balance as it was).
    async fn observe(&mut self, moved: bool) -> Result<(), String> {
        let (st, now) = (self.st.clone(), self.now());
        let live: Vec<Uuid> = self.slots.iter().map(|s| s.contract).collect();
        let to_contract = outcome_db::Entity::belongs_to(contract_db::Entity)
            .from(outcome_db::Column::ContractId)
            .to(contract_db::Column::Id)
            .into();
        let outcomes: Vec<(Uuid, Uuid, OutcomeStatus, i64, ContractStatus)> = outcome_db::Entity::find()
            .select_only()
            .columns([outcome_db::Column::Id, outcome_db::Column::ContractId, outcome_db::Column::Status])
            .column(outcome_db::Column::AmountCents)
            .column_as(contract_db::Column::Status, "contract_status")
            .join(JoinType::InnerJoin, to_contract)
            .filter(outcome_db::Column::ContractId.is_in(live.clone()))
            .into_tuple()
            .all(&st.db)
            .await
            .map_err(db)?;
        let disputes =
            all(&st, dispute_db::Entity::find().filter(dispute_db::Column::ContractId.is_in(live.clone()))).await?;
        let mut owners: Vec<Uuid> = live.iter().copied().chain(disputes.iter().map(|d| d.id)).collect();
        owners.extend([self.pid(ADA), self.org, PLATFORM].into_iter().chain(PAYEES.iter().map(|&p| self.pid(p))));
        let accounts = all(&st, account_db::Entity::find().filter(account_db::Column::OwnerId.is_in(owners))).await?;
        let seen = Seen {
            accounts: accounts.iter().filter(|a| a.balance_cents != 0).map(|a| (a.id, a.balance_cents)).collect(),
            owned: accounts.iter().map(|a| ((a.kind, a.owner_id), a.balance_cents)).collect(),
            contracts: outcomes.iter().map(|o| (o.1, o.4)).collect(),
            disputes: disputes.into_iter().map(|d| (d.outcome_id, d)).collect(),
        };
        if !moved && seen.accounts != self.seen.accounts {
            return Err("a refused or money-less request changed balances".into());
        }
        // Over all accounts: each currency sums to zero, and none that may not go negative is.
        let below = Expr::col(account_db::Column::MayGoNegative)
            .eq(false)
            .and(Expr::col(account_db::Column::BalanceCents).lt(0));
        let bigint = |e: Expr| Expr::from(Func::cast_as(Func::sum(e), Alias::new("BIGINT")));
        let sums: Vec<(String, i64, i64)> = account_db::Entity::find()
            .select_only()
            .column(account_db::Column::Currency)
            .column_as(bigint(Expr::col(account_db::Column::BalanceCents)), "total")
            .column_as(bigint(Expr::case(below, 1).finally(0).into()), "negative")
            .group_by(account_db::Column::Currency)
            .into_tuple()
            .all(&st.db)
            .await
            .map_err(db)?;
        if let Some((currency, total, negative)) = sums.iter().find(|(_, t, n)| *t != 0 || *n != 0) {
            return Err(format!("{currency}: accounts sum to {total}, {negative} negative that may not be"));
        }
        let totals = ledger::reading::contract_totals(&st.db, &live).await.map_err(|e| format!("{e:?}"))?;
        for s in &self.slots {
            let t = totals.get(&s.contract).copied().unwrap_or_default();
            if t.funded != t.remaining + t.released + t.refunded + t.held {
                return Err(format!("funded != escrow + released + refunded + held: {t:?}"));
            }
            let ended =
                matches!(seen.contracts.get(&s.contract), Some(ContractStatus::Completed | ContractStatus::Cancelled));
            if ended && t.remaining != 0 {
                return Err(format!("an ended contract's escrow holds {}", t.remaining));
            }
            let accepted = outcomes.iter().filter(|o| o.1 == s.contract && o.2 == OutcomeStatus::Accepted).map(|o| o.3);
            let by_disputes =
                seen.disputes.values().filter(|d| d.contract_id == s.contract).filter_map(|d| d.released_cents);
            let released = accepted.sum::<i64>() + by_disputes.sum::<i64>();
            if t.funded != s.funded || t.released != released {
                return Err(format!("funded {} and released {released} in the model: {t:?}", s.funded));
            }
        }
        if let Some(o) =
            self.accepted.drain(..).find(|o| outcomes.iter().any(|r| r.0 == *o && r.2 != OutcomeStatus::Accepted))
        {
            return Err(format!("outcome {o} was accepted but is not ACCEPTED"));
        }
        for d in seen.disputes.values() {
            let held = seen.owned.get(&(AccountKind::DisputeHold, d.id)).copied().unwrap_or(0);
            if d.status == DisputeStatus::Resolved && held != 0 {
                return Err(format!("resolved dispute {} still holds {held}", d.id));
            }
        }
        // Withdrawals are paid at most once (paid-out balances match the model) and in flight as
        // tracked; earnings on hold match their PENDING payouts.
        let pending = payout_db::Column::Status.eq(PayoutStatus::Pending);
        let open = Condition::any().add(pending).add(payout_db::Column::Id.is_in(self.unsettled.keys().copied()));
        let payouts = all(&st, payout_db::Entity::find().filter(open)).await?;
        payouts.iter().for_each(|p| self.settle(p));
        for (i, &p) in PAYEES.iter().enumerate() {
            let (id, flying) = (self.pid(p), self.unsettled.values().filter(|(w, _)| *w == i).map(|(_, c)| c).sum());
            let held = payouts.iter().filter(|o| o.profile_id == id && o.status == PayoutStatus::Pending);
            let expected = [(AccountKind::PaidOut, self.paid_out[i]), (AccountKind::PayoutInFlight, flying)]
                .into_iter()
                .chain([(AccountKind::PayeePending, held.map(|o| o.amount_cents).sum())]);
            for (kind, cents) in expected {
                let balance = seen.owned.get(&(kind, id)).copied().unwrap_or(0);
                if balance != cents {
                    return Err(format!("{}'s {kind:?} holds {balance}, the model {cents}", NAMES[p]));
                }
            }
        }
        self.keys.retain(|_, k| k.expires > now);
        self.seen = seen;
        Ok(())
    }

    /// Replaces ended contracts that hold no open dispute.
    async fn recycle(&mut self) -> Result<(), String> {
        for i in 0..SLOTS {
            let c = self.slots[i].contract;
            let ended =
                matches!(self.seen.contracts.get(&c), Some(ContractStatus::Completed | ContractStatus::Cancelled));
            if ended && !self.seen.disputes.values().any(|d| d.contract_id == c && d.status == DisputeStatus::Open) {
                self.slots[i] = self.new_contract().await?;
            }
        }
        Ok(())
    }
}

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
