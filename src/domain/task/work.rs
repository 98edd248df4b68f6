//! Who does a task: routing to the best candidate, offers (agents accept at once, people
//! accept or decline within the offer time limit), claims, manual reassignment, and the
//! release of a task back to routing. Every change keeps the assignment history.
//!
//! Locks follow the order written down in `domain/mod.rs`: tasks before their outcome.
use entity::{
    contract::{self as contract_db, ContractStatus},
    profile::{self, ProfileKind},
    task::{self, TaskStatus},
};
use sea_orm::{
    ActiveModelTrait, ColumnTrait, ConnectionTrait, EntityTrait, IntoActiveModel, QueryFilter, QueryOrder, QuerySelect,
    Set,
};
use serde_json::{Value, json};
use uuid::Uuid;

use super::{Ranking, TaskInput, assignment, insert, profiles, rank, required_skills, routing, validate_draft};
use crate::{
    auth::{AgentScope, Viewer},
    domain::{
        Action, NewActivity, UnitOfWork,
        contract::{self, Access, hold_manager},
        outcome, wire,
    },
    error::{AppError, AppResult},
    state::AppState,
};

/// Adds a task to an outcome (client managers only); on an ACTIVE contract it is routed at
/// once. An outcome awaiting or past the client's acceptance takes no new work.
pub async fn add(
    state: &AppState,
    viewer: &Viewer,
    outcome_id: Uuid,
    input: TaskInput,
) -> AppResult<(task::Model, Access)> {
    let mut work = UnitOfWork::begin(state, viewer).await?;
    let found =
        entity::outcome::Entity::find_by_id(outcome_id).one(work.txn()).await?.ok_or(AppError::NotFound("outcome"))?;
    // Lock order: the contract, then the outcome (acceptance takes them in the same order).
    let contract = contract::lock(work.txn(), found.contract_id).await?;
    let outcome = outcome::lock(work.txn(), outcome_id).await?;
    let access = contract::require_manager(work.txn(), viewer, &contract).await.map_err(|e| match e {
        AppError::NotFound(_) => AppError::NotFound("outcome"),
        other => other,
    })?;
    if matches!(outcome.status, entity::outcome::OutcomeStatus::Submitted | entity::outcome::OutcomeStatus::Accepted) {
        return Err(AppError::conflict(format!(
            "a {} outcome takes no new tasks; reject it first to add work",
            wire(outcome.status)
        )));
    }
    let draft = validate_draft(input, &outcome::criteria_of(&outcome)?, "")?;
    let now = state.clock.now();
    let mut task = insert(work.txn(), draft.into_new(contract.id, outcome.id, task::TaskKind::Work, now)).await?;
    work.record(activity(Action::TaskAdded, &task, json!({}))).await?;
    if contract.status == ContractStatus::Active {
        // Work already runs: the new task is routed at once.
        task = route_locked(&mut work, state, task, &contract).await?;
    }
    work.commit().await?;
    Ok((task, access))
}

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
        Err(AppError::conflict(format!("the contract is {}; work is routed once it is ACTIVE", wire(contract.status))))
    }
}

/// `routeTask`: offers an OPEN task to its best candidate (client managers, ACTIVE contract).
pub async fn route(state: &AppState, viewer: &Viewer, task_id: Uuid) -> AppResult<(task::Model, Access)> {
    viewer.require_user()?;
    let mut work = UnitOfWork::begin(state, viewer).await?;
    let (task, contract, access) = locked_for(work.txn(), viewer, task_id).await?;
    hold_manager(work.txn(), viewer, &contract, access).await?;
    require_active(&contract)?;
    if task.status != TaskStatus::Open {
        return Err(AppError::conflict(format!(
            "the task is {}; only OPEN tasks are routed (reassign it instead)",
            wire(task.status)
        )));
    }
    let task = route_locked(&mut work, state, task, &contract).await?;
    work.commit().await?;
    Ok((task, access))
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
    route_jointly(work, state, open, contract).await?;
    Ok(())
}

/// How many candidates per task joint routing weighs: in a contested market (fewer free
/// slots than tasks) 25 kept it at 94% of the optimum, 50 at 99% (`bench/routing`).
pub const JOINT_CANDIDATES: usize = 50;

/// Routes locked OPEN tasks together: each task's candidates are ranked, then tasks and
/// candidates are matched as one assignment problem under every candidate's load cap
/// (`assign::joint`), instead of each task taking its best candidate in turn. Tasks left
/// without a candidate stay OPEN (`task.unrouted`).
pub(crate) async fn route_jointly(
    work: &mut UnitOfWork<'_>,
    state: &AppState,
    tasks: Vec<task::Model>,
    contract: &contract_db::Model,
) -> AppResult<Vec<task::Model>> {
    if tasks.len() <= 1 {
        let mut out = Vec::new();
        for task in tasks {
            out.push(route_locked(work, state, task, contract).await?);
        }
        return Ok(out);
    }
    let cap = state.config.work.max_open_tasks;
    let mut profiles: Vec<profile::Model> = Vec::new();
    let mut capacity: Vec<u64> = Vec::new();
    let mut edges: Vec<super::assign::Edges> = Vec::with_capacity(tasks.len());
    for task in &tasks {
        let tried = assignment::tried(work.txn(), task.id).await?;
        let ranked =
            rank(work.txn(), task, contract, &Ranking { exclude: &tried, cap, limit: JOINT_CANDIDATES }).await?;
        let mut options = Vec::with_capacity(ranked.len());
        for c in ranked {
            let index = match profiles.iter().position(|p| p.id == c.profile.id) {
                Some(i) => i,
                None => {
                    capacity.push(cap.saturating_sub(c.open_tasks));
                    profiles.push(c.profile);
                    profiles.len().saturating_sub(1)
                }
            };
            options.push((index, c.score.total));
        }
        edges.push(options);
    }
    let chosen = super::assign::joint(&edges, &capacity);
    let mut out = Vec::with_capacity(tasks.len());
    for (task, choice) in tasks.into_iter().zip(chosen) {
        let routed = match choice.and_then(|i| profiles.get(i)) {
            Some(profile) => {
                let immediate = profile.kind == ProfileKind::Agent;
                give(work, state, task, profile, "routed", immediate).await?
            }
            None => {
                work.record(activity(Action::TaskUnrouted, &task, json!({ "reason": "no_candidate_with_capacity" })))
                    .await?;
                task
            }
        };
        out.push(routed);
    }
    Ok(out)
}

/// Offers a locked OPEN task to the best candidate nobody has tried yet; leaves it OPEN (and
/// records `task.unrouted`) when there is none.
pub(crate) async fn route_locked(
    work: &mut UnitOfWork<'_>,
    state: &AppState,
    task: task::Model,
    contract: &contract_db::Model,
) -> AppResult<task::Model> {
    let tried = assignment::tried(work.txn(), task.id).await?;
    let cap = state.config.work.max_open_tasks;
    let best = rank(work.txn(), &task, contract, &Ranking { exclude: &tried, cap, limit: 1 }).await?.into_iter().next();
    match best {
        Some(best) => {
            let immediate = best.profile.kind == ProfileKind::Agent;
            give(work, state, task, &best.profile, "routed", immediate).await
        }
        None => {
            work.record(activity(Action::TaskUnrouted, &task, json!({}))).await?;
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
    contract::machine::task(task.status, to)?;
    let now = state.clock.now();
    let ttl = chrono::Duration::from_std(state.config.work.offer_ttl).unwrap_or(chrono::Duration::hours(24));
    let mut active = task.into_active_model();
    active.status = Set(to);
    active.assignee_profile_id = Set(Some(profile.id));
    active.offer_expires_at = Set(if immediate { None } else { now.checked_add_signed(ttl) });
    active.assigned_at = Set(immediate.then_some(now));
    active.rejection_count = Set(0);
    active.updated_at = Set(now);
    let task = active.update(work.txn()).await?;
    assignment::start(work.txn(), task.id, profile.id, reason, now, immediate).await?;
    let action = if immediate { Action::TaskAssigned } else { Action::TaskOffered };
    work.record(activity(action, &task, json!({ "reason": reason, "offerExpiresAt": task.offer_expires_at }))).await?;
    if immediate {
        outcome::start(work, state, task.outcome_id).await?;
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
    contract::machine::task(task.status, TaskStatus::Open)?;
    let now = state.clock.now();
    let previous = task.assignee_profile_id;
    assignment::end(work.txn(), &[task.id], now, end_reason).await?;
    let mut active = task.into_active_model();
    active.status = Set(TaskStatus::Open);
    active.assignee_profile_id = Set(None);
    active.offer_expires_at = Set(None);
    active.assigned_at = Set(None);
    active.rejection_count = Set(0);
    active.updated_at = Set(now);
    let task = active.update(work.txn()).await?;
    work.record(activity(
        Action::TaskReleased,
        &task,
        json!({ "reason": end_reason, "previousAssigneeProfileId": previous }),
    ))
    .await?;
    Ok(task)
}

/// Gives a freshly inserted OPEN task straight to `profile_id` (an accepted proposal's author).
pub(crate) async fn assign_directly(
    db: &impl ConnectionTrait,
    task: task::Model,
    profile_id: Uuid,
    now: chrono::DateTime<chrono::Utc>,
) -> AppResult<task::Model> {
    contract::machine::task(task.status, TaskStatus::Assigned)?;
    let mut active = task.into_active_model();
    active.status = Set(TaskStatus::Assigned);
    active.assignee_profile_id = Set(Some(profile_id));
    active.assigned_at = Set(Some(now));
    active.updated_at = Set(now);
    Ok(active.update(db).await?)
}

/// `acceptTaskOffer`: the offered person (or agent) takes the task.
pub async fn accept_offer(state: &AppState, viewer: &Viewer, task_id: Uuid) -> AppResult<(task::Model, Access)> {
    let me = viewer.require_profile(AgentScope::TasksWrite)?;
    let mut work = UnitOfWork::begin(state, viewer).await?;
    let (task, _, access) = locked_for(work.txn(), viewer, task_id).await?;
    let now = state.clock.now();
    require_open_offer(&task, me, now)?;
    contract::machine::task(task.status, TaskStatus::Assigned)?;
    assignment::accept(work.txn(), task.id, now).await?;
    let mut active = task.into_active_model();
    active.status = Set(TaskStatus::Assigned);
    active.offer_expires_at = Set(None);
    active.assigned_at = Set(Some(now));
    active.updated_at = Set(now);
    let task = active.update(work.txn()).await?;
    work.record(activity(Action::TaskAssigned, &task, json!({ "reason": "offer_accepted" }))).await?;
    outcome::start(&mut work, state, task.outcome_id).await?;
    work.commit().await?;
    Ok((task, access))
}

/// `declineTaskOffer`: the offered person turns it down; the next candidate gets an offer.
pub async fn decline_offer(state: &AppState, viewer: &Viewer, task_id: Uuid) -> AppResult<(task::Model, Access)> {
    let me = viewer.require_profile(AgentScope::TasksWrite)?;
    let mut work = UnitOfWork::begin(state, viewer).await?;
    let (task, contract, _) = locked_for(work.txn(), viewer, task_id).await?;
    require_open_offer(&task, me, state.clock.now())?;
    let mut task = release(&mut work, state, task, "declined").await?;
    if contract.status == ContractStatus::Active {
        task = route_locked(&mut work, state, task, &contract).await?;
    }
    work.commit().await?;
    // The task is no longer the decliner's: it sees it as a former assignee.
    Ok((task, Access::Assignee(me)))
}

fn require_open_offer(task: &task::Model, me: Uuid, now: chrono::DateTime<chrono::Utc>) -> AppResult<()> {
    if task.assignee_profile_id != Some(me) {
        return Err(AppError::forbidden("this task is not offered to you"));
    }
    if task.status != TaskStatus::Offered {
        return Err(AppError::conflict(format!("the task is {}; there is no open offer", wire(task.status))));
    }
    if task.offer_expires_at.is_some_and(|at| at <= now) {
        return Err(AppError::conflict("the offer has lapsed"));
    }
    Ok(())
}

/// `claimTask`: an agent or person takes an OPEN task of an ACTIVE contract it qualifies for
/// (mode fits its kind; it has every required skill).
pub async fn claim(state: &AppState, viewer: &Viewer, task_id: Uuid) -> AppResult<(task::Model, Access)> {
    let me = viewer.require_profile(AgentScope::TasksWrite)?;
    let mut work = UnitOfWork::begin(state, viewer).await?;
    let task = lock(work.txn(), task_id).await?;
    let contract =
        contract_db::Entity::find_by_id(task.contract_id).one(work.txn()).await?.ok_or(AppError::NotFound("task"))?;
    if contract::access(work.txn(), viewer, &contract).await?.is_some_and(Access::is_client) {
        return Err(AppError::forbidden("the client side does not claim its own tasks"));
    }
    if contract.status != ContractStatus::Active {
        return Err(AppError::NotFound("task"));
    }
    if contract::access::is_client_side(work.txn(), &contract, me).await? {
        return Err(AppError::forbidden("an agent operated by the client side does not work its contract"));
    }
    let profile = profile::Entity::find_by_id(me).one(work.txn()).await?.ok_or(AppError::NotFound("profile"))?;
    if !routing::eligible(task.mode, profile.kind) {
        let kind = if profile.kind == ProfileKind::Agent { "an agent" } else { "a person" };
        return Err(AppError::forbidden(format!("{kind} cannot claim a {} task", wire(task.mode))));
    }
    let required = required_skills(work.txn(), task.id).await?;
    let held = profiles::skills_of(work.txn(), &[me]).await?.remove(&me).unwrap_or_default();
    let missing: Vec<&str> =
        required.iter().filter(|r| !held.iter().any(|h| &h.skill == *r)).map(String::as_str).collect();
    if !missing.is_empty() {
        return Err(AppError::forbidden(format!("missing required skills: {}", missing.join(", "))));
    }
    if assignment::held_before(work.txn(), task.id, me).await? {
        return Err(AppError::forbidden(
            "you held or were offered this task before (declined, lapsed, overdue or rejected); it goes to someone new",
        ));
    }
    if task.status != TaskStatus::Open {
        return Err(AppError::conflict(format!("the task is {}; only OPEN tasks can be claimed", wire(task.status))));
    }
    let task = give(&mut work, state, task, &profile, "claimed", true).await?;
    work.commit().await?;
    Ok((task, Access::Assignee(me)))
}

/// `reassignTask`: the client ends the current assignment or offer and gives the task to
/// `to`, or to the next best candidate.
pub async fn reassign(
    state: &AppState,
    viewer: &Viewer,
    task_id: Uuid,
    to: Option<Uuid>,
) -> AppResult<(task::Model, Access)> {
    viewer.require_user()?;
    let mut work = UnitOfWork::begin(state, viewer).await?;
    let (task, contract, access) = locked_for(work.txn(), viewer, task_id).await?;
    hold_manager(work.txn(), viewer, &contract, access).await?;
    require_active(&contract)?;
    if crate::domain::ledger::dispute::of_outcome(work.txn(), task.outcome_id)
        .await?
        .is_some_and(|d| d.status == entity::dispute::DisputeStatus::Open)
    {
        return Err(AppError::conflict(
            "this task's outcome is under dispute; its work stays with its workers until the dispute is resolved",
        ));
    }
    let task = match task.status {
        TaskStatus::Open => task,
        TaskStatus::Offered | TaskStatus::Assigned | TaskStatus::Rejected => {
            release(&mut work, state, task, "reassigned").await?
        }
        other => {
            return Err(AppError::conflict(format!(
                "the task is {}; it is reviewed or done, not reassigned",
                wire(other)
            )));
        }
    };
    let task = match to {
        Some(profile_id) => {
            let profile = profile::Entity::find_by_id(profile_id)
                .one(work.txn())
                .await?
                .ok_or_else(|| AppError::bad_input("profileId", "no such profile"))?;
            if contract::access::is_client_side(work.txn(), &contract, profile.id).await? {
                return Err(AppError::bad_input(
                    "profileId",
                    "the client side, and the agents it operates, do not take the contract's work",
                ));
            }
            if profile.availability == entity::profile::Availability::Unavailable {
                return Err(AppError::bad_input("profileId", "this profile is unavailable for work"));
            }
            if !routing::eligible(task.mode, profile.kind) {
                return Err(AppError::bad_input(
                    "profileId",
                    format!("a {} task cannot go to this kind of profile", wire(task.mode)),
                ));
            }
            let immediate = profile.kind == ProfileKind::Agent;
            give(&mut work, state, task, &profile, "reassigned", immediate).await?
        }
        None => route_locked(&mut work, state, task, &contract).await?,
    };
    work.commit().await?;
    Ok((task, access))
}

/// An activity about a task on its contract's topic, with `extra` merged into the snapshot.
pub(crate) fn activity(action: Action, t: &task::Model, extra: Value) -> NewActivity {
    let mut after = json!({
        "status": wire(t.status),
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

/// Whether an event is a task activity that concerns `profile`: the task is offered to or
/// held by it, or was just taken from it.
pub fn concerns(event: &crate::events::DomainEvent, profile: Uuid) -> bool {
    if event.subject_type != "task" {
        return false;
    }
    let Some(after) = event.after.as_ref() else { return false };
    let me = profile.to_string();
    ["assigneeProfileId", "previousAssigneeProfileId"].iter().any(|key| after[key].as_str() == Some(me.as_str()))
}
