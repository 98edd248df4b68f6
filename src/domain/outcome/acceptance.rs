//! Acceptance: the client's verdict on a SUBMITTED outcome. Accepting releases its amount from
//! escrow in the same transaction and, when it was the contract's last open outcome, completes
//! the contract and refunds what escrow did not spend; rejecting sends it back with feedback
//! (what that does to its tasks is `task::review::reject_outcome`'s part). Both run only on an
//! ACTIVE contract, by its current owners and admins, on the outcome locked after its contract
//! and tasks (`outcome::managed`); release and disputes receive that locked outcome.
use entity::{contract::ContractStatus, outcome::OutcomeStatus};
use sea_orm::{ColumnTrait, EntityTrait, PaginatorTrait, QueryFilter};
use serde_json::json;
use uuid::Uuid;

use super::Managed;
use crate::{
    auth::Viewer,
    domain::{
        Action, UnitOfWork,
        contract::{self, Access, machine::ContractAction},
        ledger, wire,
    },
    error::{AppError, AppResult},
    state::AppState,
};

/// `acceptOutcome`: the client accepts a SUBMITTED outcome (its checkbox criteria ticked); its
/// amount leaves escrow to the accepted tasks' workers. The key is the paying account's.
pub async fn accept(
    state: &AppState,
    viewer: &Viewer,
    outcome_id: Uuid,
    idempotency_key: &str,
) -> AppResult<(entity::outcome::Model, Access)> {
    viewer.require_user()?;
    let key = ledger::idempotency::validate(idempotency_key)?;
    let mut work = UnitOfWork::begin(state, viewer).await?;
    let Managed { contract, outcome, tasks, access } = super::managed(&work, viewer, outcome_id).await?;
    let payer = ledger::payer_of(&contract);
    let request = json!({ "outcomeId": outcome.id });
    if let ledger::idempotency::Claim::Replay(_) =
        ledger::idempotency::claim(work.txn(), state, payer, &key, "acceptOutcome", &request).await?
    {
        return Ok((outcome, access));
    }
    require_paying(&contract)?;
    if ledger::dispute::of_outcome(work.txn(), outcome.id).await?.is_some() {
        return Err(AppError::conflict("this outcome is disputed; its money moves when the dispute is resolved"));
    }
    let unticked = super::unticked(&outcome, &tasks)?;
    if !unticked.is_empty() && outcome.status == OutcomeStatus::Submitted {
        return Err(AppError::conflict(format!(
            "tick the outcome's checkbox criteria first (tickCriterion): {}",
            unticked.join(", ")
        )));
    }
    let outcome = super::move_to(&mut work, state, outcome, OutcomeStatus::Accepted, None).await?;
    ledger::release::release_outcome(&mut work, state, &contract, &outcome, &tasks).await?;
    complete_when_done(&mut work, state, &contract).await?;
    ledger::idempotency::finish(work.txn(), payer, &key, json!({ "outcomeId": outcome.id })).await?;
    work.commit().await?;
    Ok((outcome, access))
}

/// The outcome's part of `rejectOutcome`, inside the caller's unit of work: a SUBMITTED outcome
/// of an ACTIVE contract goes back with feedback. Returns it with its locked tasks.
pub(crate) async fn reject(
    work: &mut UnitOfWork<'_>,
    state: &AppState,
    viewer: &Viewer,
    outcome_id: Uuid,
    feedback: &str,
) -> AppResult<(entity::outcome::Model, Vec<entity::task::Model>, Access)> {
    let Managed { contract, outcome, tasks, access } = super::managed(work, viewer, outcome_id).await?;
    require_paying(&contract)?;
    let outcome = super::move_to(work, state, outcome, OutcomeStatus::Rejected, Some(feedback.to_owned())).await?;
    Ok((outcome, tasks, access))
}

/// Completes the (locked, ACTIVE) contract when its last outcome has just been accepted, says
/// so in its activity, and refunds what escrow did not spend (a completed contract holds none).
async fn complete_when_done(
    work: &mut UnitOfWork<'_>,
    state: &AppState,
    contract: &entity::contract::Model,
) -> AppResult<()> {
    let open = entity::outcome::Entity::find()
        .filter(entity::outcome::Column::ContractId.eq(contract.id))
        .filter(entity::outcome::Column::Status.ne(OutcomeStatus::Accepted))
        .count(work.txn())
        .await?;
    if open > 0 {
        return Ok(());
    }
    let after = contract::transition_locked(work, state, contract, ContractAction::Complete).await?;
    let mut record = contract::activity(Action::ContractCompleted, &after, Some(contract.status));
    if let Some(serde_json::Value::Object(a)) = record.after.as_mut() {
        a.insert("reason".into(), json!("all_outcomes_accepted"));
    }
    work.record(record).await?;
    ledger::escrow::refund_rest(work, state, &after, ledger::escrow::Ending::Completed).await?;
    Ok(())
}

/// Money moves, and outcomes are judged, only on an ACTIVE contract.
fn require_paying(contract: &entity::contract::Model) -> AppResult<()> {
    if contract.status == ContractStatus::Active {
        Ok(())
    } else {
        Err(AppError::conflict(format!(
            "the contract is {}; outcomes are accepted or rejected only while it is ACTIVE",
            wire(contract.status)
        )))
    }
}
