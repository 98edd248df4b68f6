//! The background sweep: offers nobody answered in time lapse and go to the next candidate;
//! assignees who let the due date pass lose the task, which is re-routed. The tasks one pass
//! releases are re-routed together per contract, as one assignment problem
//! (`work::route_jointly`).
//!
//! Safe with several server instances: each task is handled in its own transaction that
//! locks the row with `FOR UPDATE SKIP LOCKED` on PostgreSQL (an instance skips what another
//! is handling) and re-checks the condition under the lock, so a task is never handled twice.
//! SQLite has one writer and a single connection per process, so the re-check suffices there.
use entity::{
    contract::{self as contract_db, ContractStatus},
    task::{self, TaskStatus},
};
use sea_orm::{
    ColumnTrait, EntityTrait, QueryFilter, QueryOrder, QuerySelect,
    sea_query::{Expr, ExprTrait, LockBehavior, LockType, Query},
};
use uuid::Uuid;

use super::work;
use crate::{
    auth::Viewer,
    domain::UnitOfWork,
    error::{AppError, AppResult},
    state::AppState,
};

/// What one pass did.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct SweepReport {
    /// Offers that lapsed (and were offered to the next candidate).
    pub lapsed: usize,
    /// Assignments ended because the due date passed.
    pub overdue: usize,
    /// Earnings whose hold passed (now withdrawable).
    pub payouts_available: usize,
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
        ..SweepReport::default()
    };
    // Contracts with released tasks, re-routed afterwards.
    let mut released: Vec<Uuid> = Vec::new();
    for kind in [Kind::Lapsed, Kind::Overdue] {
        for id in due_ids(state, kind).await? {
            match handle(state, id, kind).await {
                Ok(Some(contract)) => {
                    if kind == Kind::Lapsed {
                        report.lapsed = report.lapsed.saturating_add(1);
                    } else {
                        report.overdue = report.overdue.saturating_add(1);
                    }
                    if !released.contains(&contract) {
                        released.push(contract);
                    }
                }
                Ok(None) => {}
                // One task failing never stops the others; the next pass retries it.
                Err(error) => tracing::warn!(task = %id, error = %error, "sweep could not handle a task"),
            }
        }
    }
    for contract in released {
        if let Err(error) = reroute(state, contract).await {
            tracing::warn!(contract = %contract, error = %error, "sweep could not re-route released tasks");
        }
    }
    Ok(report)
}

/// Routes every OPEN task of a contract jointly (`work::route_jointly`), in one transaction:
/// the ones just released and any left OPEN before for want of capacity; tasks someone
/// claimed meanwhile are left alone. The contract row is locked, so sweeps of several
/// instances re-route one contract in turn, each seeing the offers the one before made (and
/// the last one, every release committed), instead of splitting its tasks blindly.
async fn reroute(state: &AppState, contract_id: Uuid) -> AppResult<()> {
    let system = Viewer::Anonymous;
    let mut work = UnitOfWork::begin(state, &system).await?;
    let Some(contract) = contract_db::Entity::find_by_id(contract_id).lock_exclusive().one(work.txn()).await? else {
        return Ok(());
    };
    if contract.status != ContractStatus::Active {
        return Ok(());
    }
    let tasks = task::Entity::find()
        .filter(task::Column::ContractId.eq(contract_id))
        .filter(task::Column::Status.eq(TaskStatus::Open))
        .order_by_asc(task::Column::CreatedAt)
        .order_by_asc(task::Column::Id)
        .lock_with_behavior(LockType::Update, LockBehavior::SkipLocked)
        .all(work.txn())
        .await?;
    work::route_jointly(&mut work, state, tasks, &contract).await?;
    work.commit().await
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

async fn due_ids(state: &AppState, kind: Kind) -> AppResult<Vec<Uuid>> {
    let now = state.clock.now();
    let query = task::Entity::find()
        .select_only()
        .column(task::Column::Id)
        .filter(task::Column::ContractId.in_subquery(active_contracts()));
    let query = match kind {
        Kind::Lapsed => query
            .filter(task::Column::Status.eq(TaskStatus::Offered))
            .filter(task::Column::OfferExpiresAt.lte(now))
            .order_by_asc(task::Column::OfferExpiresAt),
        Kind::Overdue => query
            .filter(task::Column::Status.is_in([TaskStatus::Assigned, TaskStatus::Rejected]))
            .filter(task::Column::DueAt.lte(now))
            // Someone given the task after its due date is not overdue at once.
            .filter(Expr::col(task::Column::AssignedAt).lt(Expr::col(task::Column::DueAt)))
            .order_by_asc(task::Column::DueAt),
    };
    Ok(query.limit(state.config.work.sweep_batch).into_tuple().all(&state.db).await?)
}

/// Releases one task in its own transaction and returns its contract; `None` when another
/// instance holds it or it no longer qualifies.
async fn handle(state: &AppState, id: Uuid, kind: Kind) -> AppResult<Option<Uuid>> {
    let system = Viewer::Anonymous;
    let mut work = UnitOfWork::begin(state, &system).await?;
    let Some(task) = task::Entity::find_by_id(id)
        .lock_with_behavior(LockType::Update, LockBehavior::SkipLocked)
        .one(work.txn())
        .await?
    else {
        return Ok(None);
    };
    let now = state.clock.now();
    let still = match kind {
        Kind::Lapsed => task.status == TaskStatus::Offered && task.offer_expires_at.is_some_and(|at| at <= now),
        Kind::Overdue => {
            matches!(task.status, TaskStatus::Assigned | TaskStatus::Rejected)
                && matches!((task.due_at, task.assigned_at), (Some(due), Some(at)) if due <= now && at < due)
        }
    };
    let contract = contract_db::Entity::find_by_id(task.contract_id)
        .one(work.txn())
        .await?
        .ok_or(AppError::NotFound("contract"))?;
    if !still || contract.status != ContractStatus::Active {
        return Ok(None);
    }
    let reason = if kind == Kind::Lapsed { "lapsed" } else { "overdue" };
    work::release(&mut work, state, task, reason).await?;
    work.commit().await?;
    Ok(Some(contract.id))
}
