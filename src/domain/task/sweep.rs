//! The background sweep: offers nobody answered in time lapse and go to the next candidate;
//! assignees who let the due date pass lose the task, which is re-routed. A contract is swept
//! in one transaction: its due tasks are released and every OPEN task of it is re-routed
//! together, as one assignment problem (`work::route_jointly`).
//!
//! Safe with several server instances: a pass locks each contract row with
//! `FOR UPDATE SKIP LOCKED` on PostgreSQL, so one instance sweeps a contract while the others
//! skip it, and re-checks every condition under the lock, so a task is never handled twice.
//! Locking per contract rather than per task matters for routing: two instances each releasing
//! and routing part of a contract's tasks route the first part blind to the second and can
//! fill the only workers the second part may go to. SQLite has one writer and a single
//! connection per process, so the re-check suffices there.
use entity::{
    contract::{self as contract_db, ContractStatus},
    task::{self, TaskStatus},
};
use sea_orm::{
    ColumnTrait, EntityTrait, QueryFilter, QueryOrder, QuerySelect, Select,
    sea_query::{Expr, ExprTrait, LockBehavior, LockType, Query},
};
use uuid::Uuid;

use super::work;
use crate::{auth::Viewer, domain::UnitOfWork, error::AppResult, state::AppState};

/// What one pass did.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct SweepReport {
    /// Offers that lapsed (and were offered to the next candidate).
    pub lapsed: usize,
    /// Assignments ended because the due date passed.
    pub overdue: usize,
    /// Earnings whose hold passed (now withdrawable).
    pub payouts_available: usize,
    /// Withdrawals stuck in PROCESSING past the bound, finished (PAID or FAILED).
    pub payouts_finished: usize,
    /// Refunds to clients' payments the provider had not answered, answered now.
    pub refunds_sent: usize,
    /// Mails from the outbox that left now (retries, and any a crash left unsent).
    pub mails_sent: usize,
    /// Webhook deliveries that got a 2xx now (retries, and any a crash left unsent).
    pub webhooks_delivered: usize,
    /// Daily digests of notifications written now.
    pub digests_written: usize,
}

#[derive(Clone, Copy, PartialEq, Eq)]
enum Kind {
    Lapsed,
    Overdue,
}

/// Runs one pass at the state's clock time.
pub async fn run_once(state: &AppState) -> AppResult<SweepReport> {
    let mut report = SweepReport {
        payouts_available: crate::domain::ledger::payout::release_holds(state, state.config.work.sweep_batch).await?,
        payouts_finished: crate::domain::ledger::payout::finish_stuck_payouts(state, state.config.work.sweep_batch)
            .await?,
        refunds_sent: crate::domain::ledger::refund::send_pending(state, state.config.work.sweep_batch).await?,
        mails_sent: crate::domain::mail::send_due(state, state.config.work.sweep_batch).await?,
        webhooks_delivered: crate::domain::webhook::send_due(state, state.config.work.sweep_batch).await?,
        digests_written: crate::domain::notification_mail::send_digests(state, state.config.work.sweep_batch).await?,
        ..SweepReport::default()
    };
    // Contracts with due tasks, in the order their earliest due task came up.
    let mut contracts: Vec<Uuid> = Vec::new();
    for kind in [Kind::Lapsed, Kind::Overdue] {
        for contract in due_contracts(state, kind).await? {
            if !contracts.contains(&contract) {
                contracts.push(contract);
            }
        }
    }
    for contract in contracts {
        match sweep_contract(state, contract).await {
            Ok(swept) => {
                report.lapsed = report.lapsed.saturating_add(swept.lapsed);
                report.overdue = report.overdue.saturating_add(swept.overdue);
            }
            // One contract failing never stops the others; the next pass retries it.
            Err(error) => tracing::warn!(contract = %contract, error = %error, "sweep could not handle a contract"),
        }
    }
    Ok(report)
}

/// Releases a contract's due tasks and routes every OPEN task of it jointly, in one
/// transaction under the contract's row lock (the ones just released and any left OPEN before
/// for want of capacity; tasks someone is claiming meanwhile are left alone). Nothing when
/// another instance holds the contract or nothing is due any more.
async fn sweep_contract(state: &AppState, contract_id: Uuid) -> AppResult<SweepReport> {
    let system = Viewer::Anonymous;
    let mut work = UnitOfWork::begin(state, &system).await?;
    let Some(contract) = contract_db::Entity::find_by_id(contract_id)
        .lock_with_behavior(LockType::Update, LockBehavior::SkipLocked)
        .one(work.txn())
        .await?
    else {
        return Ok(SweepReport::default());
    };
    if contract.status != ContractStatus::Active {
        return Ok(SweepReport::default());
    }
    let now = state.clock.now();
    let mut swept = SweepReport::default();
    for kind in [Kind::Lapsed, Kind::Overdue] {
        let tasks = due(kind, now)
            .filter(task::Column::ContractId.eq(contract_id))
            .limit(state.config.work.sweep_batch)
            .lock_with_behavior(LockType::Update, LockBehavior::SkipLocked)
            .all(work.txn())
            .await?;
        let reason = if kind == Kind::Lapsed { "lapsed" } else { "overdue" };
        for task in tasks {
            work::release(&mut work, state, task, reason).await?;
            match kind {
                Kind::Lapsed => swept.lapsed = swept.lapsed.saturating_add(1),
                Kind::Overdue => swept.overdue = swept.overdue.saturating_add(1),
            }
        }
    }
    if swept == SweepReport::default() {
        return Ok(swept);
    }
    let open = task::Entity::find()
        .filter(task::Column::ContractId.eq(contract_id))
        .filter(task::Column::Status.eq(TaskStatus::Open))
        .order_by_asc(task::Column::CreatedAt)
        .order_by_asc(task::Column::Id)
        .lock_with_behavior(LockType::Update, LockBehavior::SkipLocked)
        .all(work.txn())
        .await?;
    work::route_jointly(&mut work, state, open, &contract).await?;
    work.commit().await?;
    Ok(swept)
}

/// Runs the sweep every `sweep_interval` until the task is aborted.
pub async fn run_forever(state: AppState, every: std::time::Duration) {
    let mut tick = tokio::time::interval(every);
    tick.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
    loop {
        tick.tick().await;
        match run_once(&state).await {
            Ok(report) if report != SweepReport::default() => {
                tracing::info!(
                    lapsed = report.lapsed,
                    overdue = report.overdue,
                    payouts_available = report.payouts_available,
                    "sweep handled work and payouts"
                );
            }
            Ok(_) => {}
            Err(error) => tracing::warn!(error = %error, "sweep pass failed"),
        }
    }
}

fn active_contracts() -> sea_orm::sea_query::SelectStatement {
    Query::select()
        .column(contract_db::Column::Id)
        .from(contract_db::Entity)
        .and_where(contract_db::Column::Status.eq(ContractStatus::Active))
        .to_owned()
}

/// Tasks of `kind` due at `now`, earliest first.
fn due(kind: Kind, now: chrono::DateTime<chrono::Utc>) -> Select<task::Entity> {
    match kind {
        Kind::Lapsed => task::Entity::find()
            .filter(task::Column::Status.eq(TaskStatus::Offered))
            .filter(task::Column::OfferExpiresAt.lte(now))
            .order_by_asc(task::Column::OfferExpiresAt),
        Kind::Overdue => task::Entity::find()
            .filter(task::Column::Status.is_in([TaskStatus::Assigned, TaskStatus::Rejected]))
            .filter(task::Column::DueAt.lte(now))
            // Someone given the task after its due date is not overdue at once.
            .filter(Expr::col(task::Column::AssignedAt).lt(Expr::col(task::Column::DueAt)))
            // Work under an open dispute stays with its workers: their shares are at stake.
            .filter(
                task::Column::OutcomeId.not_in_subquery(
                    sea_orm::sea_query::Query::select()
                        .column(entity::dispute::Column::OutcomeId)
                        .from(entity::dispute::Entity)
                        .and_where(entity::dispute::Column::Status.eq(entity::dispute::DisputeStatus::Open))
                        .to_owned(),
                ),
            )
            .order_by_asc(task::Column::DueAt),
    }
}

/// The active contracts of the first `sweep_batch` tasks of `kind` due now (repeats possible).
async fn due_contracts(state: &AppState, kind: Kind) -> AppResult<Vec<Uuid>> {
    Ok(due(kind, state.clock.now())
        .select_only()
        .column(task::Column::ContractId)
        .filter(task::Column::ContractId.in_subquery(active_contracts()))
        .limit(state.config.work.sweep_batch)
        .into_tuple()
        .all(&state.db)
        .await?)
}
