//! Disputes: either side may dispute a rejected or overdue outcome; its amount moves from
//! escrow into the dispute's hold, which nothing but the dispute's resolution moves (a contract
//! with an open dispute cannot be cancelled). The parties are the client side (its current
//! owners and admins act for it) and the workers on the outcome's tasks (an agent's operator
//! acts for its agent). A party concedes only its own share: the client releases what is held
//! to the workers; a worker refunds its weighted share to the client, and the dispute closes
//! once every worker has conceded. An arbiter (`arbiter`) decides the rest — release, refund
//! or split — and is never a party to the dispute it decides. An outcome is disputed at most
//! once, and a disputed outcome is never paid by acceptance.
//!
//! Here: opening a dispute, who is a party and the reads; `resolution`: deciding and conceding.
pub mod resolution;

pub use resolution::{Resolve, resolve};

use entity::{
    contract::{self as contract_db, ContractStatus},
    dispute::{self, DisputeStatus},
    dispute_share,
    ledger_account::AccountKind,
    ledger_transaction::TransactionKind,
    outcome::{self, OutcomeStatus},
    profile,
    task::{self, TaskStatus},
};
use sea_orm::{ActiveModelTrait, ColumnTrait, ConnectionTrait, EntityTrait, QueryFilter, QuerySelect, Set};
use serde_json::json;
use uuid::Uuid;

use super::{Entry, Posting, account, idempotency, payer_of, post};
use crate::{
    auth::Viewer,
    domain::{
        Action, NewActivity, UnitOfWork,
        contract::{self, Access},
        money::{self, Money},
        validate, wire,
    },
    error::{AppError, AppResult},
    state::AppState,
};

/// `openDispute`: the client's owners and admins, or a worker on one of the outcome's tasks (an
/// agent's operator for its agent), dispute a REJECTED or overdue outcome with a reason; its
/// amount is held.
pub async fn open(
    state: &AppState,
    viewer: &Viewer,
    outcome_id: Uuid,
    reason: &str,
    idempotency_key: &str,
) -> AppResult<dispute::Model> {
    let (user, me) = viewer.require_user()?;
    let reason = validate::text(reason, "reason", 1, 5_000, true)?;
    let key = idempotency::validate(idempotency_key)?;
    let mut work = UnitOfWork::begin(state, viewer).await?;
    let found = outcome::Entity::find_by_id(outcome_id).one(work.txn()).await?.ok_or(AppError::NotFound("outcome"))?;
    let contract = contract::lock(work.txn(), found.contract_id).await?;
    // An organization's API key disputes only its organization's contracts (as their client).
    viewer.require_acting_in(contract.organization_id)?;
    let outcome = lock_outcome(work.txn(), outcome_id).await?;
    let tasks = task::Entity::find().filter(task::Column::OutcomeId.eq(outcome.id)).all(work.txn()).await?;
    // The workers with a share: the outcome's live tasks that have one.
    let workers: Vec<task::Model> =
        tasks.into_iter().filter(|t| t.status != TaskStatus::Cancelled && t.assignee_profile_id.is_some()).collect();
    let holders: Vec<Uuid> = workers.iter().filter_map(|t| t.assignee_profile_id).collect();
    let party = party_of(work.txn(), viewer, user, &contract, &holders).await?.ok_or(AppError::NotFound("outcome"))?;
    if let Party::Client { .. } = party {
        // Only the client's owners and admins dispute for it, with the role held to commit.
        contract::require_manager(work.txn(), viewer, &contract).await?;
    }
    let scope = party.key_scope(&contract, me);
    let request = json!({ "outcomeId": outcome_id, "reason": reason });
    if let idempotency::Claim::Replay(first) =
        idempotency::claim(work.txn(), state, scope, &key, "openDispute", &request).await?
    {
        let id = idempotency::replayed_id(&first, "disputeId")?;
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
    let amount = Money::of(outcome.amount_cents, &contract.currency, "amountCents")?;
    let escrow = super::escrow::require_covers(&work, &contract, &amount, "in dispute").await?;
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
    // Each worker's share is fixed now: later changes to the tasks move none of it.
    for (position, (task_id, cents)) in (0_i32..).zip(money::task_shares(dispute.amount_cents, &workers)) {
        let Some(profile_id) = workers.iter().find(|t| t.id == task_id).and_then(|t| t.assignee_profile_id) else {
            continue;
        };
        dispute_share::ActiveModel {
            dispute_id: Set(dispute.id),
            task_id: Set(task_id),
            profile_id: Set(profile_id),
            cents: Set(cents),
            position: Set(position),
        }
        .insert(work.txn())
        .await?;
    }
    let hold = account(&work, AccountKind::DisputeHold, dispute.id, &contract.currency, false).await?;
    let mut posting = Posting::new(TransactionKind::DisputeHold, &contract.currency, "outcome disputed");
    posting.contract = Some(contract.id);
    posting.outcome = Some(outcome.id);
    posting.dispute = Some(dispute.id);
    posting.actor = Some(me);
    posting.entries = Entry::transfer(&escrow, &hold, &amount);
    post(work.txn(), now, posting).await?;
    work.record(activity(Action::DisputeOpened, &dispute)).await?;
    idempotency::finish(work.txn(), scope, &key, json!({ "disputeId": dispute.id })).await?;
    work.commit().await?;
    Ok(dispute)
}

/// Locks the disputed outcome's row after its contract's (the ledger reads outcomes as rows;
/// their rules are `domain::outcome`'s, which calls into the ledger, never the other way).
async fn lock_outcome(db: &impl ConnectionTrait, id: Uuid) -> AppResult<outcome::Model> {
    outcome::Entity::find_by_id(id).lock_exclusive().one(db).await?.ok_or(AppError::NotFound("outcome"))
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

/// Whether a contract has an open dispute (its held money is the arbiter's to move).
pub async fn open_on(db: &impl ConnectionTrait, contract_id: Uuid) -> AppResult<bool> {
    let open = dispute::Entity::find()
        .filter(dispute::Column::ContractId.eq(contract_id))
        .filter(dispute::Column::Status.eq(DisputeStatus::Open))
        .one(db)
        .await?;
    Ok(open.is_some())
}

/// The dispute of an outcome, if any (callers have checked that the viewer sees the outcome).
pub async fn of_outcome(db: &impl ConnectionTrait, outcome_id: Uuid) -> AppResult<Option<dispute::Model>> {
    Ok(dispute::Entity::find().filter(dispute::Column::OutcomeId.eq(outcome_id)).one(db).await?)
}

/// A party to a dispute.
#[derive(Clone, Debug, PartialEq, Eq)]
enum Party {
    /// Someone on the client side now (`manages`: an owner or admin, or a personal contract's client).
    Client { manages: bool },
    /// A worker on the outcome: these profiles (the caller, and agents it operates) hold tasks.
    Worker { profiles: Vec<Uuid> },
}

impl Party {
    /// The account a party's idempotency keys belong to: the paying account for the client
    /// side, the worker itself otherwise.
    fn key_scope(&self, contract: &contract_db::Model, me: Uuid) -> Uuid {
        match self {
            Self::Client { .. } => payer_of(contract),
            Self::Worker { .. } => me,
        }
    }
}

/// The caller's party to an outcome's dispute, if any: the client side, or one of the workers
/// with a share (`assignees`) itself or through an agent it operates.
async fn party_of(
    db: &impl ConnectionTrait,
    viewer: &Viewer,
    user: Uuid,
    contract: &contract_db::Model,
    assignees: &[Uuid],
) -> AppResult<Option<Party>> {
    let Some(me) = viewer.profile_id() else { return Ok(None) };
    if let Some(Access::Client { manages }) = contract::access(db, viewer, contract).await? {
        return Ok(Some(Party::Client { manages }));
    }
    let agents: Vec<Uuid> = profile::Entity::find()
        .select_only()
        .column(profile::Column::Id)
        .filter(profile::Column::Id.is_in(assignees.iter().copied()))
        .filter(profile::Column::OperatorUserId.eq(user))
        .into_tuple()
        .all(db)
        .await?;
    let mut profiles: Vec<Uuid> = agents;
    if assignees.contains(&me) {
        profiles.push(me);
    }
    Ok((!profiles.is_empty()).then_some(Party::Worker { profiles }))
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
