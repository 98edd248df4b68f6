//! Disputes: either side may dispute a rejected or overdue outcome; its amount moves from
//! escrow into the dispute's hold. An arbiter resolves it by releasing the hold to the workers,
//! refunding it to the client, or splitting it; either side may also concede (the client
//! releases in full, a worker refunds in full). An outcome is disputed at most once, and a
//! disputed outcome is never paid by acceptance.
use entity::{
    contract::{self as contract_db, ContractStatus},
    dispute::{self, DisputeStatus, Resolution},
    ledger_account::AccountKind,
    ledger_transaction::TransactionKind,
    outcome::{self, OutcomeStatus},
    profile,
    task::{self, TaskStatus},
};
use sea_orm::{
    ActiveModelTrait, ColumnTrait, ConnectionTrait, EntityTrait, IntoActiveModel, QueryFilter, QuerySelect, Set,
};
use serde_json::json;
use uuid::Uuid;

use super::{Entry, Posting, account, payer_of, post, release};
use crate::{
    auth::Viewer,
    domain::{
        Action, NewActivity, UnitOfWork,
        contract::{self, Access},
        validate, wire,
    },
    error::{AppError, AppResult},
    state::AppState,
};

/// `openDispute`: the client's owners and admins, or a worker on one of the outcome's tasks,
/// dispute a REJECTED or overdue outcome with a reason; its amount is held.
pub async fn open(
    state: &AppState,
    viewer: &Viewer,
    outcome_id: Uuid,
    reason: &str,
    idempotency_key: Option<&str>,
) -> AppResult<dispute::Model> {
    let (_, me) = viewer.require_user()?;
    let reason = validate::text(reason, "reason", 1, 5_000, true)?;
    let mut work = UnitOfWork::begin(state, viewer).await?;
    let found = outcome::Entity::find_by_id(outcome_id).one(work.txn()).await?.ok_or(AppError::NotFound("outcome"))?;
    let contract = contract::lock(work.txn(), found.contract_id).await?;
    let outcome = crate::domain::outcome::lock(work.txn(), outcome_id).await?;
    let tasks = task::Entity::find().filter(task::Column::OutcomeId.eq(outcome.id)).all(work.txn()).await?;
    let side = side_of(work.txn(), viewer, &contract, &tasks).await?.ok_or(AppError::NotFound("outcome"))?;
    if side == Side::Client {
        contract::require_manager(work.txn(), viewer, &contract).await?;
    }
    let request = json!({ "outcomeId": outcome_id, "reason": reason });
    if let Some(first) =
        super::idempotency::replayed(work.txn(), state, me, idempotency_key, "openDispute", &request).await?
    {
        let id = super::idempotency::replayed_id(&first, "disputeId")?;
        return dispute::Entity::find_by_id(id).one(work.txn()).await?.ok_or(AppError::NotFound("dispute"));
    }
    if !matches!(contract.status, ContractStatus::Active | ContractStatus::Disputed) {
        return Err(AppError::conflict(format!("a {} contract takes no disputes", wire(contract.status))));
    }
    let now = state.clock.now();
    let overdue = outcome.due_at.is_some_and(|due| due < now)
        && !matches!(outcome.status, OutcomeStatus::Accepted | OutcomeStatus::Submitted);
    if outcome.status != OutcomeStatus::Rejected && !overdue {
        return Err(AppError::conflict(format!(
            "the outcome is {}; only a REJECTED or overdue outcome is disputed",
            wire(outcome.status)
        )));
    }
    if dispute::Entity::find().filter(dispute::Column::OutcomeId.eq(outcome.id)).one(work.txn()).await?.is_some() {
        return Err(AppError::conflict("this outcome has been disputed already"));
    }
    let escrow = account(work.txn(), AccountKind::Escrow, contract.id, &contract.currency, true).await?;
    if escrow.balance_cents < outcome.amount_cents {
        return Err(AppError::conflict(format!(
            "escrow holds {} of the {} in dispute; fund the contract first",
            escrow.balance_cents, outcome.amount_cents
        )));
    }
    let dispute = dispute::ActiveModel {
        id: Set(Uuid::new_v4()),
        contract_id: Set(contract.id),
        outcome_id: Set(outcome.id),
        opened_by_profile_id: Set(me),
        reason: Set(reason),
        currency: Set(contract.currency.clone()),
        amount_cents: Set(outcome.amount_cents),
        status: Set(DisputeStatus::Open),
        resolution: Set(None),
        released_cents: Set(None),
        refunded_cents: Set(None),
        resolved_by_profile_id: Set(None),
        created_at: Set(now),
        resolved_at: Set(None),
    }
    .insert(work.txn())
    .await?;
    let hold = account(work.txn(), AccountKind::DisputeHold, dispute.id, &contract.currency, false).await?;
    let mut posting = Posting::new(TransactionKind::DisputeHold, &contract.currency, "outcome disputed");
    posting.contract = Some(contract.id);
    posting.outcome = Some(outcome.id);
    posting.dispute = Some(dispute.id);
    posting.actor = Some(me);
    posting.entries = Entry::transfer(&escrow, &hold, outcome.amount_cents);
    post(work.txn(), now, posting).await?;
    work.record(activity(Action::DisputeOpened, &dispute)).await?;
    super::idempotency::finish_optional(work.txn(), me, idempotency_key, json!({ "disputeId": dispute.id })).await?;
    work.commit().await?;
    Ok(dispute)
}

/// Input of `resolveDispute`.
pub struct Resolve {
    /// The dispute.
    pub dispute_id: Uuid,
    /// RELEASE, REFUND or SPLIT.
    pub resolution: Resolution,
    /// With SPLIT: what goes to the workers (the rest is refunded).
    pub release_cents: Option<i64>,
    /// The resolver's key for this request.
    pub idempotency_key: Option<String>,
}

/// `resolveDispute`: an arbiter releases, refunds or splits the held amount; the client side's
/// owners and admins may release in full and a worker may refund in full.
pub async fn resolve(state: &AppState, viewer: &Viewer, input: Resolve) -> AppResult<dispute::Model> {
    let (_, me) = viewer.require_user()?;
    let mut work = UnitOfWork::begin(state, viewer).await?;
    let found =
        dispute::Entity::find_by_id(input.dispute_id).one(work.txn()).await?.ok_or(AppError::NotFound("dispute"))?;
    let contract = contract::lock(work.txn(), found.contract_id).await?;
    let outcome = crate::domain::outcome::lock(work.txn(), found.outcome_id).await?;
    let dispute = dispute::Entity::find_by_id(found.id)
        .lock_exclusive()
        .one(work.txn())
        .await?
        .ok_or(AppError::NotFound("dispute"))?;
    let tasks = task::Entity::find().filter(task::Column::OutcomeId.eq(outcome.id)).all(work.txn()).await?;
    let arbiter = is_arbiter(work.txn(), state, me).await?;
    let side = side_of(work.txn(), viewer, &contract, &tasks).await?;
    if !arbiter && side.is_none() {
        return Err(AppError::NotFound("dispute"));
    }
    let key = input.idempotency_key.as_deref();
    let request = json!({
        "disputeId": dispute.id,
        "resolution": wire(input.resolution),
        "releaseCents": input.release_cents,
    });
    if super::idempotency::replayed(work.txn(), state, me, key, "resolveDispute", &request).await?.is_some() {
        return Ok(dispute);
    }
    let conceding = match (side, input.resolution) {
        (Some(Side::Client), Resolution::Release) => {
            contract::require_manager(work.txn(), viewer, &contract).await.is_ok()
        }
        (Some(Side::Worker), Resolution::Refund) => true,
        _ => false,
    };
    if !arbiter && !conceding {
        return Err(AppError::forbidden(
            "only an arbiter decides a dispute; a party may only concede it (the client releases, a worker refunds)",
        ));
    }
    if dispute.status != DisputeStatus::Open {
        return Err(AppError::conflict("this dispute is resolved already"));
    }
    let (released, refunded) = match input.resolution {
        Resolution::Release => (dispute.amount_cents, 0),
        Resolution::Refund => (0, dispute.amount_cents),
        Resolution::Split => {
            let part = input.release_cents.filter(|c| (1..dispute.amount_cents).contains(c)).ok_or_else(|| {
                AppError::bad_input(
                    "releaseCents",
                    format!("a split releases between 1 and {} minor units", dispute.amount_cents.saturating_sub(1)),
                )
            })?;
            (part, dispute.amount_cents.saturating_sub(part))
        }
    };
    let hold = account(work.txn(), AccountKind::DisputeHold, dispute.id, &dispute.currency, true).await?;
    let now = state.clock.now();
    if refunded > 0 {
        let source =
            account(work.txn(), AccountKind::ClientFunding, payer_of(&contract), &contract.currency, false).await?;
        let mut posting = Posting::new(TransactionKind::DisputeResolution, &contract.currency, "dispute refunded");
        posting.contract = Some(contract.id);
        posting.outcome = Some(outcome.id);
        posting.dispute = Some(dispute.id);
        posting.actor = Some(me);
        posting.entries = Entry::transfer(&hold, &source, refunded);
        post(work.txn(), now, posting).await?;
    }
    if released > 0 {
        let workers: Vec<&task::Model> =
            tasks.iter().filter(|t| t.status != TaskStatus::Cancelled && t.assignee_profile_id.is_some()).collect();
        if workers.is_empty() {
            return Err(AppError::bad_input("resolution", "no worker holds a task of this outcome; refund it"));
        }
        release::pay(
            &mut work,
            state,
            &contract,
            &outcome,
            &hold,
            released,
            &workers,
            TransactionKind::DisputeResolution,
            Some(dispute.id),
        )
        .await?;
    }
    let mut active = dispute.into_active_model();
    active.status = Set(DisputeStatus::Resolved);
    active.resolution = Set(Some(input.resolution));
    active.released_cents = Set(Some(released));
    active.refunded_cents = Set(Some(refunded));
    active.resolved_by_profile_id = Set(Some(me));
    active.resolved_at = Set(Some(now));
    let dispute = active.update(work.txn()).await?;
    work.record(activity(Action::DisputeResolved, &dispute)).await?;
    super::idempotency::finish_optional(work.txn(), me, key, json!({ "disputeId": dispute.id })).await?;
    work.commit().await?;
    Ok(dispute)
}

/// The disputes of many outcomes in one statement, by outcome (for loaders; callers check
/// that the viewer sees the outcomes).
pub async fn of_outcomes(
    db: &impl ConnectionTrait,
    outcome_ids: &[Uuid],
) -> AppResult<std::collections::HashMap<Uuid, dispute::Model>> {
    let rows =
        dispute::Entity::find().filter(dispute::Column::OutcomeId.is_in(outcome_ids.iter().copied())).all(db).await?;
    Ok(rows.into_iter().map(|d| (d.outcome_id, d)).collect())
}

/// The dispute of an outcome, if any (callers have checked that the viewer sees the outcome).
pub async fn of_outcome(db: &impl ConnectionTrait, outcome_id: Uuid) -> AppResult<Option<dispute::Model>> {
    Ok(dispute::Entity::find().filter(dispute::Column::OutcomeId.eq(outcome_id)).one(db).await?)
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Side {
    Client,
    Worker,
}

async fn side_of(
    db: &impl ConnectionTrait,
    viewer: &Viewer,
    contract: &contract_db::Model,
    tasks: &[task::Model],
) -> AppResult<Option<Side>> {
    let Some(me) = viewer.profile_id() else { return Ok(None) };
    if contract::access(db, viewer, contract).await?.is_some_and(Access::is_client) {
        return Ok(Some(Side::Client));
    }
    Ok(tasks.iter().any(|t| t.assignee_profile_id == Some(me)).then_some(Side::Worker))
}

async fn is_arbiter(db: &impl ConnectionTrait, state: &AppState, me: Uuid) -> AppResult<bool> {
    if state.config.payments.arbiter_handles.is_empty() {
        return Ok(false);
    }
    let handle = profile::Entity::find_by_id(me).one(db).await?.map(|p| p.handle.to_lowercase());
    Ok(handle.is_some_and(|h| state.config.payments.arbiter_handles.contains(&h)))
}

fn activity(action: Action, d: &dispute::Model) -> NewActivity {
    NewActivity {
        topic: contract::topic(d.contract_id),
        action,
        subject_type: "dispute",
        subject_id: d.id,
        before: None,
        after: Some(json!({
            "outcomeId": d.outcome_id,
            "status": wire(d.status),
            "amountCents": d.amount_cents,
            "currency": d.currency,
            "resolution": d.resolution.map(wire),
            "releasedCents": d.released_cents,
            "refundedCents": d.refunded_cents,
        })),
    }
}
