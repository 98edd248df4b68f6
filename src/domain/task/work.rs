//! Who does a task: routing to the best candidate, offers (agents accept at once, people
//! accept or decline within the offer time limit), claims, manual reassignment, and the
//! release of a task back to routing. Every change keeps the assignment history.
//!
//! Lock order: a task row first, then its outcome row; nothing here locks a contract.
use entity::{
    contract::{self as contract_db, ContractStatus},
    outcome::OutcomeStatus,
    profile::{self, ProfileKind},
    task::{self, TaskStatus},
    task_assignment,
};
use sea_orm::{
    ActiveModelTrait, ColumnTrait, ConnectionTrait, EntityTrait, IntoActiveModel, QueryFilter, QueryOrder, QuerySelect,
    Set, sea_query::Expr,
};
use serde_json::{Value, json};
use uuid::Uuid;

use super::{profiles, rank, routing, tried};
use crate::{
    auth::{AgentScope, Viewer},
    domain::{
        NewActivity, UnitOfWork,
        contract::{self, Access, machine, require_manages},
    },
    error::{AppError, AppResult},
    state::AppState,
};

/// Locks a task row for the rest of the transaction.
pub(crate) async fn lock(db: &impl ConnectionTrait, id: Uuid) -> AppResult<task::Model> {
    task::Entity::find_by_id(id).lock_exclusive().one(db).await?.ok_or(AppError::NotFound("task"))
}

/// Locks a task and returns it with its contract and the viewer's access; NOT_FOUND when the
/// viewer is not on the contract.
pub(crate) async fn locked_for(
    db: &impl ConnectionTrait,
    viewer: &Viewer,
    id: Uuid,
) -> AppResult<(task::Model, contract_db::Model, Access)> {
    let task = lock(db, id).await?;
    let contract =
        contract_db::Entity::find_by_id(task.contract_id).one(db).await?.ok_or(AppError::NotFound("task"))?;
    let access = contract::access(db, viewer, &contract).await?.ok_or(AppError::NotFound("task"))?;
    Ok((task, contract, access))
}

fn require_active(contract: &contract_db::Model) -> AppResult<()> {
    if contract.status == ContractStatus::Active {
        Ok(())
    } else {
        Err(AppError::conflict(format!(
            "the contract is {}; work is routed once it is ACTIVE",
            machine::contract_name(contract.status)
        )))
    }
}

/// `routeTask`: offers an OPEN task to its best candidate (client managers, ACTIVE contract).
pub async fn route(state: &AppState, viewer: &Viewer, task_id: Uuid) -> AppResult<task::Model> {
    viewer.require_user()?;
    let mut work = UnitOfWork::begin(state, viewer).await?;
    let (task, contract, access) = locked_for(work.txn(), viewer, task_id).await?;
    require_manages(access)?;
    require_active(&contract)?;
    if task.status != TaskStatus::Open {
        return Err(AppError::conflict(format!(
            "the task is {}; only OPEN tasks are routed (reassign it instead)",
            machine::task_name(task.status)
        )));
    }
    let task = route_locked(&mut work, state, task, &contract).await?;
    work.commit().await?;
    Ok(task)
}

/// Routes every OPEN task of a contract that just became ACTIVE, oldest first.
pub(crate) async fn route_open_tasks(
    work: &mut UnitOfWork<'_>,
    state: &AppState,
    contract: &contract_db::Model,
) -> AppResult<()> {
    let open = task::Entity::find()
        .filter(task::Column::ContractId.eq(contract.id))
        .filter(task::Column::Status.eq(TaskStatus::Open))
        .order_by_asc(task::Column::CreatedAt)
        .order_by_asc(task::Column::Id)
        .lock_exclusive()
        .all(work.txn())
        .await?;
    for task in open {
        route_locked(work, state, task, contract).await?;
    }
    Ok(())
}

/// Offers a locked OPEN task to the best candidate nobody has tried yet; leaves it OPEN (and
/// records `task.unrouted`) when there is none.
pub(crate) async fn route_locked(
    work: &mut UnitOfWork<'_>,
    state: &AppState,
    task: task::Model,
    contract: &contract_db::Model,
) -> AppResult<task::Model> {
    let tried = tried(work.txn(), task.id).await?;
    let best = rank(work.txn(), &task, contract, &tried).await?.into_iter().next();
    match best {
        Some(best) => {
            let immediate = best.profile.kind == ProfileKind::Agent;
            give(work, state, task, &best.profile, "routed", immediate).await
        }
        None => {
            work.record(activity("task.unrouted", &task, json!({}))).await?;
            Ok(task)
        }
    }
}

/// Gives an OPEN task to `profile`: assigned at once (agents, claims) or offered with a time
/// limit (people). Starts the assignment row and, once assigned, the outcome.
async fn give(
    work: &mut UnitOfWork<'_>,
    state: &AppState,
    task: task::Model,
    profile: &profile::Model,
    reason: &str,
    immediate: bool,
) -> AppResult<task::Model> {
    let to = if immediate { TaskStatus::Assigned } else { TaskStatus::Offered };
    machine::task(task.status, to)?;
    let now = state.clock.now();
    let ttl = chrono::Duration::from_std(state.config.work.offer_ttl).unwrap_or(chrono::Duration::hours(24));
    let mut active = task.into_active_model();
    active.status = Set(to);
    active.assignee_profile_id = Set(Some(profile.id));
    active.offer_expires_at = Set((!immediate).then(|| now + ttl));
    active.assigned_at = Set(immediate.then_some(now));
    active.rejection_count = Set(0);
    active.updated_at = Set(now);
    let task = active.update(work.txn()).await?;
    start_assignment(work.txn(), task.id, profile.id, reason, now, immediate).await?;
    let action = if immediate { "task.assigned" } else { "task.offered" };
    work.record(activity(action, &task, json!({ "reason": reason, "offerExpiresAt": task.offer_expires_at }))).await?;
    if immediate {
        start_outcome(work, state, task.outcome_id).await?;
    }
    Ok(task)
}

/// Ends the current assignment or offer of a task with `end_reason` and puts it back to OPEN.
pub(crate) async fn release(
    work: &mut UnitOfWork<'_>,
    state: &AppState,
    task: task::Model,
    end_reason: &str,
) -> AppResult<task::Model> {
    machine::task(task.status, TaskStatus::Open)?;
    let now = state.clock.now();
    let previous = task.assignee_profile_id;
    end_assignment(work.txn(), task.id, now, end_reason).await?;
    let mut active = task.into_active_model();
    active.status = Set(TaskStatus::Open);
    active.assignee_profile_id = Set(None);
    active.offer_expires_at = Set(None);
    active.assigned_at = Set(None);
    active.rejection_count = Set(0);
    active.updated_at = Set(now);
    let task = active.update(work.txn()).await?;
    work.record(activity(
        "task.released",
        &task,
        json!({ "reason": end_reason, "previousAssigneeProfileId": previous }),
    ))
    .await?;
    Ok(task)
}

/// Opens an assignment row: `accepted` when the work is taken at once (agents, claims,
/// direct assignment), otherwise an offer awaiting an answer.
pub(crate) async fn start_assignment(
    db: &impl ConnectionTrait,
    task_id: Uuid,
    profile_id: Uuid,
    reason: &str,
    now: chrono::DateTime<chrono::Utc>,
    accepted: bool,
) -> AppResult<()> {
    task_assignment::ActiveModel {
        id: Set(Uuid::new_v4()),
        task_id: Set(task_id),
        profile_id: Set(profile_id),
        reason: Set(reason.to_owned()),
        started_at: Set(now),
        ended_at: Set(None),
        end_reason: Set(None),
        accepted_at: Set(accepted.then_some(now)),
    }
    .insert(db)
    .await?;
    Ok(())
}

/// Closes the open assignment row of a task.
pub(crate) async fn end_assignment(
    db: &impl ConnectionTrait,
    task_id: Uuid,
    now: chrono::DateTime<chrono::Utc>,
    end_reason: &str,
) -> AppResult<()> {
    task_assignment::Entity::update_many()
        .col_expr(task_assignment::Column::EndedAt, Expr::value(now))
        .col_expr(task_assignment::Column::EndReason, Expr::value(end_reason))
        .filter(task_assignment::Column::TaskId.eq(task_id))
        .filter(task_assignment::Column::EndedAt.is_null())
        .exec(db)
        .await?;
    Ok(())
}

/// Moves an outcome to IN_PROGRESS when work on it starts (from PENDING, or REJECTED for rework).
pub(crate) async fn start_outcome(work: &mut UnitOfWork<'_>, state: &AppState, outcome_id: Uuid) -> AppResult<()> {
    let outcome = contract::lock_outcome(work.txn(), outcome_id).await?;
    if matches!(outcome.status, OutcomeStatus::Pending | OutcomeStatus::Rejected) {
        contract::move_outcome(work, state, outcome, OutcomeStatus::InProgress, None).await?;
    }
    Ok(())
}

/// `acceptTaskOffer`: the offered person (or agent) takes the task.
pub async fn accept_offer(state: &AppState, viewer: &Viewer, task_id: Uuid) -> AppResult<task::Model> {
    let me = viewer.require_profile(AgentScope::TasksWrite)?;
    let mut work = UnitOfWork::begin(state, viewer).await?;
    let (task, _, _) = locked_for(work.txn(), viewer, task_id).await?;
    let now = state.clock.now();
    require_open_offer(&task, me, now)?;
    machine::task(task.status, TaskStatus::Assigned)?;
    task_assignment::Entity::update_many()
        .col_expr(task_assignment::Column::AcceptedAt, Expr::value(now))
        .filter(task_assignment::Column::TaskId.eq(task.id))
        .filter(task_assignment::Column::EndedAt.is_null())
        .exec(work.txn())
        .await?;
    let mut active = task.into_active_model();
    active.status = Set(TaskStatus::Assigned);
    active.offer_expires_at = Set(None);
    active.assigned_at = Set(Some(now));
    active.updated_at = Set(now);
    let task = active.update(work.txn()).await?;
    work.record(activity("task.assigned", &task, json!({ "reason": "offer_accepted" }))).await?;
    start_outcome(&mut work, state, task.outcome_id).await?;
    work.commit().await?;
    Ok(task)
}

/// `declineTaskOffer`: the offered person turns it down; the next candidate gets an offer.
pub async fn decline_offer(state: &AppState, viewer: &Viewer, task_id: Uuid) -> AppResult<task::Model> {
    let me = viewer.require_profile(AgentScope::TasksWrite)?;
    let mut work = UnitOfWork::begin(state, viewer).await?;
    let (task, contract, _) = locked_for(work.txn(), viewer, task_id).await?;
    require_open_offer(&task, me, state.clock.now())?;
    let mut task = release(&mut work, state, task, "declined").await?;
    if contract.status == ContractStatus::Active {
        task = route_locked(&mut work, state, task, &contract).await?;
    }
    work.commit().await?;
    Ok(task)
}

fn require_open_offer(task: &task::Model, me: Uuid, now: chrono::DateTime<chrono::Utc>) -> AppResult<()> {
    if task.assignee_profile_id != Some(me) {
        return Err(AppError::forbidden("this task is not offered to you"));
    }
    if task.status != TaskStatus::Offered {
        return Err(AppError::conflict(format!(
            "the task is {}; there is no open offer",
            machine::task_name(task.status)
        )));
    }
    if task.offer_expires_at.is_some_and(|at| at <= now) {
        return Err(AppError::conflict("the offer has lapsed"));
    }
    Ok(())
}

/// `claimTask`: an agent or person takes an OPEN task of an ACTIVE contract it qualifies for
/// (mode fits its kind; it has every required skill).
pub async fn claim(state: &AppState, viewer: &Viewer, task_id: Uuid) -> AppResult<task::Model> {
    let me = viewer.require_profile(AgentScope::TasksWrite)?;
    let mut work = UnitOfWork::begin(state, viewer).await?;
    let task = lock(work.txn(), task_id).await?;
    let contract =
        contract_db::Entity::find_by_id(task.contract_id).one(work.txn()).await?.ok_or(AppError::NotFound("task"))?;
    if matches!(contract::access(work.txn(), viewer, &contract).await?, Some(Access::Client { .. })) {
        return Err(AppError::forbidden("the client side does not claim its own tasks"));
    }
    if contract.status != ContractStatus::Active {
        return Err(AppError::NotFound("task"));
    }
    let profile = profile::Entity::find_by_id(me).one(work.txn()).await?.ok_or(AppError::NotFound("profile"))?;
    if !routing::eligible(task.mode, profile.kind) {
        let kind = if profile.kind == ProfileKind::Agent { "an agent" } else { "a person" };
        return Err(AppError::forbidden(format!("{kind} cannot claim a {} task", machine::mode_name(task.mode))));
    }
    let required: Vec<String> = serde_json::from_value(task.skills.clone()).unwrap_or_default();
    let held = profiles::skills_of(work.txn(), &[me]).await?.remove(&me).unwrap_or_default();
    let missing: Vec<&str> =
        required.iter().filter(|r| !held.iter().any(|h| &h.skill == *r)).map(String::as_str).collect();
    if !missing.is_empty() {
        return Err(AppError::forbidden(format!("missing required skills: {}", missing.join(", "))));
    }
    if task.status != TaskStatus::Open {
        return Err(AppError::conflict(format!(
            "the task is {}; only OPEN tasks can be claimed",
            machine::task_name(task.status)
        )));
    }
    let task = give(&mut work, state, task, &profile, "claimed", true).await?;
    work.commit().await?;
    Ok(task)
}

/// `reassignTask`: the client ends the current assignment or offer and gives the task to
/// `to`, or to the next best candidate.
pub async fn reassign(state: &AppState, viewer: &Viewer, task_id: Uuid, to: Option<Uuid>) -> AppResult<task::Model> {
    viewer.require_user()?;
    let mut work = UnitOfWork::begin(state, viewer).await?;
    let (task, contract, access) = locked_for(work.txn(), viewer, task_id).await?;
    require_manages(access)?;
    require_active(&contract)?;
    let task = match task.status {
        TaskStatus::Open => task,
        TaskStatus::Offered | TaskStatus::Assigned | TaskStatus::Rejected => {
            release(&mut work, state, task, "reassigned").await?
        }
        other => {
            return Err(AppError::conflict(format!(
                "the task is {}; it is reviewed or done, not reassigned",
                machine::task_name(other)
            )));
        }
    };
    let task = match to {
        Some(profile_id) => {
            let profile = profile::Entity::find_by_id(profile_id)
                .one(work.txn())
                .await?
                .ok_or_else(|| AppError::bad_input("profileId", "no such profile"))?;
            if profile.id == contract.client_profile_id {
                return Err(AppError::bad_input("profileId", "the client does not take its own task"));
            }
            if !routing::eligible(task.mode, profile.kind) {
                return Err(AppError::bad_input(
                    "profileId",
                    format!("a {} task cannot go to this kind of profile", machine::mode_name(task.mode)),
                ));
            }
            let immediate = profile.kind == ProfileKind::Agent;
            give(&mut work, state, task, &profile, "reassigned", immediate).await?
        }
        None => route_locked(&mut work, state, task, &contract).await?,
    };
    work.commit().await?;
    Ok(task)
}

/// Cancels the unfinished tasks of a cancelled contract and ends their assignments.
pub(crate) async fn cancel_unfinished(
    db: &impl ConnectionTrait,
    contract_id: Uuid,
    now: chrono::DateTime<chrono::Utc>,
) -> AppResult<()> {
    let unfinished: Vec<Uuid> = task::Entity::find()
        .select_only()
        .column(task::Column::Id)
        .filter(task::Column::ContractId.eq(contract_id))
        .filter(task::Column::Status.is_not_in([TaskStatus::Accepted, TaskStatus::Cancelled]))
        .into_tuple()
        .all(db)
        .await?;
    if unfinished.is_empty() {
        return Ok(());
    }
    task_assignment::Entity::update_many()
        .col_expr(task_assignment::Column::EndedAt, Expr::value(now))
        .col_expr(task_assignment::Column::EndReason, Expr::value("cancelled"))
        .filter(task_assignment::Column::TaskId.is_in(unfinished.clone()))
        .filter(task_assignment::Column::EndedAt.is_null())
        .exec(db)
        .await?;
    task::Entity::update_many()
        .col_expr(task::Column::Status, Expr::value(TaskStatus::Cancelled))
        .col_expr(task::Column::OfferExpiresAt, Expr::value(Option::<chrono::DateTime<chrono::Utc>>::None))
        .col_expr(task::Column::UpdatedAt, Expr::value(now))
        .filter(task::Column::Id.is_in(unfinished))
        .exec(db)
        .await?;
    Ok(())
}

/// An activity about a task on its contract's topic, with `extra` merged into the snapshot.
pub(crate) fn activity(action: &'static str, t: &task::Model, extra: Value) -> NewActivity {
    let mut after = json!({
        "status": machine::task_name(t.status),
        "assigneeProfileId": t.assignee_profile_id,
        "outcomeId": t.outcome_id,
    });
    if let (Some(after), Value::Object(extra)) = (after.as_object_mut(), extra) {
        after.extend(extra);
    }
    NewActivity {
        topic: contract::topic(t.contract_id),
        action,
        subject_type: "task",
        subject_id: t.id,
        before: None,
        after: Some(after),
    }
}

/// Whether a task activity (its `after` snapshot) concerns `profile`: the task is offered to or
/// held by it, or was just taken from it.
pub fn concerns(after: Option<&Value>, profile: Uuid) -> bool {
    let Some(after) = after else { return false };
    let me = profile.to_string();
    ["assigneeProfileId", "previousAssigneeProfileId"].iter().any(|key| after[key].as_str() == Some(me.as_str()))
}
