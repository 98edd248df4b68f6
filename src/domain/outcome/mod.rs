//! Outcomes: the measurable milestones a contract pays for, their acceptance criteria and
//! their lifecycle (PENDING → IN_PROGRESS → SUBMITTED → ACCEPTED / REJECTED → rework).
//! Outcomes depend on contracts; tasks depend on outcomes, never the other way round.
//!
//! - `criteria`: the acceptance criteria, their scope, ticks and outcome-level checks;
//! - `checks`: a deliverable's metrics against the criteria (pure);
//! - `acceptance`: accept (releasing the amount), reject, and completing the contract.
pub mod acceptance;
pub mod checks;
pub mod criteria;

pub(crate) use criteria::check_at_submission;
pub use criteria::{
    Criterion, Tick, checks_of, criteria_of, of_task, outcome_level, task_keys, ticks_of, unticked, validate_task_keys,
};

use std::collections::HashMap;

use entity::{
    contract::ContractStatus,
    ledger_account::AccountKind,
    outcome::{self, OutcomeStatus},
};
use sea_orm::{
    ActiveModelTrait, ColumnTrait, ConnectionTrait, EntityTrait, IntoActiveModel, QueryFilter, QuerySelect, Set,
};
use serde_json::json;
use uuid::Uuid;

use self::criteria::validate_criteria;
use super::{
    Action, NewActivity, UnitOfWork,
    contract::{self, Access, machine},
    ledger, money, validate, wire,
};
use crate::{
    auth::Viewer,
    error::{AppError, AppResult},
    state::AppState,
};

/// `tickCriterion`: the client side ticks (or unticks) a checkbox criterion of an outcome
/// that is not accepted yet: one without a metric that no task carries.
pub async fn tick(
    state: &AppState,
    viewer: &Viewer,
    outcome_id: Uuid,
    key: &str,
    ticked: bool,
) -> AppResult<(outcome::Model, Access)> {
    let (_, me) = viewer.require_user()?;
    let mut work = UnitOfWork::begin(state, viewer).await?;
    let Managed { outcome, tasks, access, .. } = managed(&work, viewer, outcome_id).await?;
    let all = criteria_of(&outcome)?;
    let Some(criterion) = all.iter().find(|c| c.key == key) else {
        return Err(AppError::bad_input("key", format!("the outcome has no criterion {key:?}")));
    };
    if criterion.metric.is_some() {
        return Err(AppError::bad_input("key", "a metric criterion is checked from reported metrics, not ticked"));
    }
    if !outcome_level(&all, &tasks)?.iter().any(|c| c.key == key) {
        return Err(AppError::bad_input(
            "key",
            "a task carries this criterion: it is judged when the task is accepted",
        ));
    }
    if outcome.status == OutcomeStatus::Accepted {
        return Err(AppError::conflict("the outcome is ACCEPTED; its criteria are settled"));
    }
    let mut ticks = ticks_of(&outcome)?;
    let was = ticks.iter().any(|t| t.key == key);
    if was == ticked {
        return Ok((outcome, access));
    }
    let now = state.clock.now();
    if ticked {
        ticks.push(Tick { key: key.to_owned(), profile_id: me, at: now });
    } else {
        ticks.retain(|t| t.key != key);
    }
    let mut active = outcome.into_active_model();
    active.ticks = Set(Some(json!(ticks)));
    active.updated_at = Set(now);
    let outcome = active.update(work.txn()).await?;
    let mut record = activity(Action::OutcomeCriterionTicked, &outcome);
    if let Some(serde_json::Value::Object(after)) = record.after.as_mut() {
        after.insert("criterion".into(), json!(key));
        after.insert("ticked".into(), json!(ticked));
    }
    work.record(record).await?;
    work.commit().await?;
    Ok((outcome, access))
}

/// Input of `addOutcome`.
pub struct OutcomeInput {
    /// Title.
    pub title: String,
    /// Acceptance criteria.
    pub criteria: Vec<Criterion>,
    /// Amount in minor units.
    pub amount_cents: i64,
    /// Due date.
    pub due_at: Option<chrono::DateTime<chrono::Utc>>,
}

/// Adds an outcome; the outcomes' amounts never exceed the budget.
pub async fn add(
    state: &AppState,
    viewer: &Viewer,
    contract_id: Uuid,
    input: OutcomeInput,
) -> AppResult<(outcome::Model, Access)> {
    let title = validate::text(&input.title, "title", 1, 200, false)?;
    money::amount(input.amount_cents, "amountCents")?;
    let criteria = validate_criteria(input.criteria)?;
    let mut work = UnitOfWork::begin(state, viewer).await?;
    // The row lock makes the budget check safe against concurrent additions.
    let contract = contract::lock(work.txn(), contract_id).await?;
    let access = contract::require_manager(work.txn(), viewer, &contract).await?;
    if matches!(contract.status, ContractStatus::Completed | ContractStatus::Cancelled) {
        return Err(AppError::conflict(format!("a {} contract takes no new outcomes", wire(contract.status))));
    }
    money::Money::positive(input.amount_cents, &contract.currency, "amountCents")?;
    let committed = committed_cents(work.txn(), contract_id).await?;
    let total = money::checked_sum([committed, input.amount_cents], "amountCents")?;
    if total > contract.budget_cents {
        return Err(AppError::bad_input(
            "amountCents",
            format!("outcomes would total {total} of a {} budget", contract.budget_cents),
        ));
    }
    if contract.status == ContractStatus::Active {
        // Work on a running contract is paid from escrow: it must cover the new outcome too.
        let owed = ledger::escrow::unreleased_commitments(work.txn(), contract.id).await?;
        let escrow = ledger::balance(work.txn(), AccountKind::Escrow, contract.id, &contract.currency).await?;
        let short = money::checked_sum([owed, input.amount_cents], "amountCents")?.saturating_sub(escrow);
        if short > 0 {
            return Err(AppError::bad_input(
                "amountCents",
                format!("escrow is {short} short of this outcome on an ACTIVE contract; fund the contract first"),
            ));
        }
    }
    let now = state.clock.now();
    let outcome = insert(work.txn(), contract_id, title, criteria, input.amount_cents, input.due_at, now).await?;
    work.record(activity(Action::OutcomeAdded, &outcome)).await?;
    work.commit().await?;
    Ok((outcome, access))
}

/// Inserts a PENDING outcome.
pub(crate) async fn insert(
    db: &impl ConnectionTrait,
    contract_id: Uuid,
    title: String,
    criteria: Vec<Criterion>,
    amount_cents: i64,
    due_at: Option<chrono::DateTime<chrono::Utc>>,
    now: chrono::DateTime<chrono::Utc>,
) -> AppResult<outcome::Model> {
    Ok(outcome::ActiveModel {
        id: Set(Uuid::new_v4()),
        contract_id: Set(contract_id),
        title: Set(title),
        criteria: Set(json!(criteria)),
        amount_cents: Set(amount_cents),
        due_at: Set(due_at),
        status: Set(OutcomeStatus::Pending),
        created_at: Set(now),
        updated_at: Set(now),
        feedback: Set(None),
        accepted_at: Set(None),
        checks: Set(None),
        ticks: Set(None),
    }
    .insert(db)
    .await?)
}

/// Locks an outcome row for the rest of the transaction.
pub(crate) async fn lock(db: &impl ConnectionTrait, id: Uuid) -> AppResult<outcome::Model> {
    outcome::Entity::find_by_id(id).lock_exclusive().one(db).await?.ok_or(AppError::NotFound("outcome"))
}

/// Moves a locked outcome along its machine, keeping feedback of a rejection and the time of
/// acceptance, and records the change.
pub(crate) async fn move_to(
    work: &mut UnitOfWork<'_>,
    state: &AppState,
    outcome: outcome::Model,
    to: OutcomeStatus,
    feedback: Option<String>,
) -> AppResult<outcome::Model> {
    machine::outcome(outcome.status, to)?;
    let now = state.clock.now();
    let mut active = outcome.into_active_model();
    active.status = Set(to);
    active.updated_at = Set(now);
    if to == OutcomeStatus::Accepted {
        active.accepted_at = Set(Some(now));
    }
    if feedback.is_some() {
        active.feedback = Set(feedback);
    }
    let outcome = active.update(work.txn()).await?;
    let action = match to {
        OutcomeStatus::Pending => Action::OutcomeStatusChanged,
        OutcomeStatus::InProgress => Action::OutcomeStarted,
        OutcomeStatus::Submitted => Action::OutcomeSubmitted,
        OutcomeStatus::Accepted => Action::OutcomeAccepted,
        OutcomeStatus::Rejected => Action::OutcomeRejected,
    };
    // The client side's managers learn an outcome awaits their review; its workers that it
    // was accepted.
    let notify = match to {
        OutcomeStatus::Submitted => {
            let contract = entity::contract::Entity::find_by_id(outcome.contract_id).one(work.txn()).await?;
            match contract {
                Some(contract) => ledger::escrow::client_managers(work.txn(), &contract).await?,
                None => Vec::new(),
            }
        }
        OutcomeStatus::Accepted => entity::task::Entity::find()
            .select_only()
            .column(entity::task::Column::AssigneeProfileId)
            .filter(entity::task::Column::OutcomeId.eq(outcome.id))
            .filter(entity::task::Column::AssigneeProfileId.is_not_null())
            .into_tuple::<Option<Uuid>>()
            .all(work.txn())
            .await?
            .into_iter()
            .flatten()
            .collect(),
        _ => Vec::new(),
    };
    work.record_notifying(activity(action, &outcome), notify).await?;
    Ok(outcome)
}

/// Moves an outcome to IN_PROGRESS when work on it starts (from PENDING, or REJECTED for rework).
pub(crate) async fn start(work: &mut UnitOfWork<'_>, state: &AppState, outcome_id: Uuid) -> AppResult<()> {
    let outcome = lock(work.txn(), outcome_id).await?;
    start_locked(work, state, outcome).await
}

/// Like `start`, for an outcome the caller has locked already.
pub(crate) async fn start_locked(
    work: &mut UnitOfWork<'_>,
    state: &AppState,
    outcome: outcome::Model,
) -> AppResult<()> {
    if matches!(outcome.status, OutcomeStatus::Pending | OutcomeStatus::Rejected) {
        move_to(work, state, outcome, OutcomeStatus::InProgress, None).await?;
    }
    Ok(())
}

/// An outcome whose contract the viewer manages, the contract, the outcome's tasks and the
/// outcome locked in that order, with the viewer's access; NOT_FOUND for people who are not
/// on the contract.
pub(crate) async fn managed(work: &UnitOfWork<'_>, viewer: &Viewer, outcome_id: Uuid) -> AppResult<Managed> {
    let found = outcome::Entity::find_by_id(outcome_id).one(work.txn()).await?.ok_or(AppError::NotFound("outcome"))?;
    let contract = contract::lock(work.txn(), found.contract_id).await?;
    let access = match contract::require_manager(work.txn(), viewer, &contract).await {
        Err(AppError::NotFound(_)) => return Err(AppError::NotFound("outcome")),
        other => other?,
    };
    // Lock order (domain/mod.rs): the contract, its tasks, then the outcome.
    let tasks = entity::task::Entity::find()
        .filter(entity::task::Column::OutcomeId.eq(outcome_id))
        .lock_exclusive()
        .all(work.txn())
        .await?;
    let outcome = lock(work.txn(), outcome_id).await?;
    Ok(Managed { contract, outcome, tasks, access })
}

/// A managed outcome with its locked contract and tasks.
pub(crate) struct Managed {
    pub contract: entity::contract::Model,
    pub outcome: outcome::Model,
    pub tasks: Vec<entity::task::Model>,
    pub access: Access,
}

/// Outcomes by id in one statement (for loaders; callers check access).
pub async fn by_ids(db: &impl ConnectionTrait, ids: &[Uuid]) -> AppResult<HashMap<Uuid, outcome::Model>> {
    let rows = outcome::Entity::find().filter(outcome::Column::Id.is_in(ids.iter().copied())).all(db).await?;
    Ok(rows.into_iter().map(|o| (o.id, o)).collect())
}

/// Outcomes of many contracts in one statement, oldest first (for loaders).
pub async fn of_contracts(
    db: &impl ConnectionTrait,
    contract_ids: &[Uuid],
) -> AppResult<HashMap<Uuid, Vec<outcome::Model>>> {
    crate::domain::children_of::<outcome::Entity, _>(
        db,
        outcome::Column::ContractId,
        contract_ids,
        &[(outcome::Column::CreatedAt, sea_orm::Order::Asc), (outcome::Column::Id, sea_orm::Order::Asc)],
        |r| r.contract_id,
        |r| r,
    )
    .await
}

/// Sum of the outcome amounts of a contract.
pub async fn committed_cents(db: &impl ConnectionTrait, contract_id: Uuid) -> AppResult<i64> {
    let amounts: Vec<i64> = outcome::Entity::find()
        .select_only()
        .column(outcome::Column::AmountCents)
        .filter(outcome::Column::ContractId.eq(contract_id))
        .into_tuple()
        .all(db)
        .await?;
    money::checked_sum(amounts, "amountCents")
}

/// An activity about an outcome on its contract's topic.
fn activity(action: Action, o: &outcome::Model) -> NewActivity {
    NewActivity {
        topic: contract::topic(o.contract_id),
        action,
        subject_type: "outcome",
        subject_id: o.id,
        before: None,
        after: Some(json!({ "title": o.title, "amountCents": o.amount_cents, "status": wire(o.status) })),
    }
}
