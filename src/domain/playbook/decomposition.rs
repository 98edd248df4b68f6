//! Decomposing an outcome into tasks: from a playbook (`decomposeOutcome`), or by a planner
//! agent's PLAN task (`planOutcome`) whose plan the client approves (`approvePlan`).
use entity::{
    contract::ContractStatus,
    outcome::OutcomeStatus,
    playbook,
    task::{self, TaskKind, TaskMode, TaskStatus},
    task_submission::{self, SubmissionStatus},
};
use sea_orm::{ColumnTrait, EntityTrait, QueryFilter, QueryOrder};
use serde_json::json;
use uuid::Uuid;

use super::{PLANNING_SKILL, steps_of};
use crate::{
    auth::Viewer,
    domain::{
        Action, NewActivity, UnitOfWork, contract,
        contract::Access,
        outcome,
        task::{
            ValidDraft,
            plan::{Draft, validate_drafts},
            work,
        },
        validate, wire,
    },
    error::{AppError, AppResult},
    state::AppState,
};

/// `decomposeOutcome`: creates an outcome's tasks from a playbook (client managers; the
/// platform's playbooks or the contract organization's), on an outcome with no tasks yet.
pub async fn decompose(
    state: &AppState,
    viewer: &Viewer,
    outcome_id: Uuid,
    playbook_id: Uuid,
) -> AppResult<Decomposition> {
    viewer.require_user()?;
    let mut work = UnitOfWork::begin(state, viewer).await?;
    let outcome::Managed { contract, outcome, tasks, access } = outcome::managed(&work, viewer, outcome_id).await?;
    require_open_for_work(&outcome)?;
    // A playbook splits an outcome that has no work yet: a second request (a retry, a double
    // click, two admins at once) finds the first one's tasks and is refused.
    if tasks.iter().any(|t| t.kind == TaskKind::Work && t.status != TaskStatus::Cancelled) {
        return Err(AppError::conflict(
            "this outcome already has tasks; add more with addTask, or cancel them to decompose it again",
        ));
    }
    let book = playbook::Entity::find_by_id(playbook_id).one(work.txn()).await?;
    let book = book
        .filter(|b| b.organization_id.is_none() || b.organization_id == contract.organization_id)
        .ok_or_else(|| AppError::bad_input("playbookId", "no such playbook for this contract"))?;
    let now = state.clock.now();
    let drafts =
        validate_drafts(&steps_of(&book)?, &outcome::criteria_of(&outcome)?, now, "steps").map_err(|e| match e {
            AppError::BadInput { field, message } => {
                AppError::bad_input("playbookId", format!("the playbook does not fit this outcome: {field}: {message}"))
            }
            other => other,
        })?;
    let tasks = create_tasks(&mut work, state, &contract, &outcome, drafts).await?;
    work.record(decomposed(&outcome, json!({ "playbookId": book.id, "playbook": book.name, "tasks": tasks.len() })))
        .await?;
    let tasks = route_if_active(&mut work, state, &contract, tasks).await?;
    let outcome = reload(&work, outcome.id).await?;
    work.commit().await?;
    Ok(Decomposition { outcome, tasks, plan_task: None, access })
}

/// `planOutcome`: adds a PLAN task to an outcome, routed to an agent with the planning skill.
/// It is work like any other: `weight` sets the planner's share of the outcome's amount.
pub async fn plan(
    state: &AppState,
    viewer: &Viewer,
    outcome_id: Uuid,
    instructions: &str,
    weight: i32,
) -> AppResult<(task::Model, Access)> {
    viewer.require_user()?;
    let instructions = validate::text(instructions, "instructions", 0, 20_000, true)?;
    if !(1..=10_000).contains(&weight) {
        return Err(AppError::bad_input("weight", "must be between 1 and 10000"));
    }
    let mut work = UnitOfWork::begin(state, viewer).await?;
    let outcome::Managed { contract, outcome, tasks, access } = outcome::managed(&work, viewer, outcome_id).await?;
    require_open_for_work(&outcome)?;
    if tasks
        .iter()
        .any(|t| t.kind == TaskKind::Plan && !matches!(t.status, TaskStatus::Accepted | TaskStatus::Cancelled))
    {
        return Err(AppError::conflict("this outcome already has a plan in the works"));
    }
    let now = state.clock.now();
    let draft = ValidDraft {
        title: format!("Plan: {}", outcome.title),
        description: instructions,
        skills: vec![PLANNING_SKILL.to_owned()],
        mode: TaskMode::Automated,
        weight,
        due_at: None,
        criteria: Vec::new(),
        escalate_after: 0,
    };
    let task =
        crate::domain::task::insert(work.txn(), draft.into_new(contract.id, outcome.id, TaskKind::Plan, now)).await?;
    work.record(work::activity(Action::TaskAdded, &task, json!({ "kind": "PLAN" }))).await?;
    let task = route_if_active(&mut work, state, &contract, vec![task]).await?.into_iter().next();
    let task = task.ok_or(AppError::NotFound("task"))?;
    work.commit().await?;
    Ok((task, access))
}

/// `approvePlan`: the client turns a submitted plan (or its edited version) into tasks; the
/// PLAN task is accepted.
pub async fn approve(
    state: &AppState,
    viewer: &Viewer,
    task_id: Uuid,
    edited: Option<Vec<Draft>>,
) -> AppResult<Decomposition> {
    viewer.require_user()?;
    let mut work = UnitOfWork::begin(state, viewer).await?;
    let found = task::Entity::find_by_id(task_id).one(work.txn()).await?.ok_or(AppError::NotFound("task"))?;
    let outcome::Managed { contract, outcome, tasks, access } =
        outcome::managed(&work, viewer, found.outcome_id).await.map_err(|e| match e {
            AppError::NotFound(_) => AppError::NotFound("task"),
            other => other,
        })?;
    let plan_task = tasks.into_iter().find(|t| t.id == task_id).ok_or(AppError::NotFound("task"))?;
    if plan_task.kind != TaskKind::Plan {
        return Err(AppError::bad_input("taskId", "not a PLAN task; accept work with acceptTask"));
    }
    if plan_task.status != TaskStatus::Submitted {
        return Err(AppError::conflict(format!(
            "the plan is {}; only a SUBMITTED plan is approved",
            wire(plan_task.status)
        )));
    }
    require_open_for_work(&outcome)?;
    let (drafts, field) = match edited {
        Some(drafts) => (drafts, "tasks"),
        None => {
            let latest = task_submission::Entity::find()
                .filter(task_submission::Column::TaskId.eq(plan_task.id))
                .filter(task_submission::Column::Status.eq(SubmissionStatus::Pending))
                .order_by_desc(task_submission::Column::CreatedAt)
                .one(work.txn())
                .await?
                .and_then(|s| s.plan)
                .ok_or_else(|| AppError::conflict("the plan's submission holds no plan"))?;
            (crate::domain::decode(&latest, "submitted plan")?, "plan")
        }
    };
    let now = state.clock.now();
    let valid = validate_drafts(&drafts, &outcome::criteria_of(&outcome)?, now, field)?;
    let created = create_tasks(&mut work, state, &contract, &outcome, valid).await?;
    work.record(decomposed(
        &outcome,
        json!({ "planTaskId": plan_task.id, "edited": field == "tasks", "tasks": created.len() }),
    ))
    .await?;
    let plan_task = crate::domain::task::review::accept_locked(&mut work, state, plan_task).await?;
    let created = route_if_active(&mut work, state, &contract, created).await?;
    let outcome = reload(&work, outcome.id).await?;
    work.commit().await?;
    Ok(Decomposition { outcome, tasks: created, plan_task: Some(plan_task), access })
}

/// What a decomposition made: the tasks, on their outcome as it now stands.
pub struct Decomposition {
    /// The outcome.
    pub outcome: entity::outcome::Model,
    /// The tasks created (routed when the contract is ACTIVE).
    pub tasks: Vec<task::Model>,
    /// The PLAN task the tasks came from, accepted.
    pub plan_task: Option<task::Model>,
    /// What the viewer sees of the contract's work.
    pub access: Access,
}

async fn reload(work: &UnitOfWork<'_>, outcome_id: Uuid) -> AppResult<entity::outcome::Model> {
    entity::outcome::Entity::find_by_id(outcome_id).one(work.txn()).await?.ok_or(AppError::NotFound("outcome"))
}

fn require_open_for_work(outcome: &entity::outcome::Model) -> AppResult<()> {
    if matches!(outcome.status, OutcomeStatus::Submitted | OutcomeStatus::Accepted) {
        return Err(AppError::conflict(format!(
            "a {} outcome takes no new tasks; reject it first to add work",
            wire(outcome.status)
        )));
    }
    Ok(())
}

async fn create_tasks(
    work: &mut UnitOfWork<'_>,
    state: &AppState,
    contract: &entity::contract::Model,
    outcome: &entity::outcome::Model,
    drafts: Vec<ValidDraft>,
) -> AppResult<Vec<task::Model>> {
    let now = state.clock.now();
    let mut created = Vec::with_capacity(drafts.len());
    for d in drafts {
        let t =
            crate::domain::task::insert(work.txn(), d.into_new(contract.id, outcome.id, TaskKind::Work, now)).await?;
        work.record(work::activity(Action::TaskAdded, &t, json!({}))).await?;
        created.push(t);
    }
    Ok(created)
}

async fn route_if_active(
    work: &mut UnitOfWork<'_>,
    state: &AppState,
    contract: &entity::contract::Model,
    tasks: Vec<task::Model>,
) -> AppResult<Vec<task::Model>> {
    if contract.status == ContractStatus::Active {
        work::route_jointly(work, state, tasks, contract).await
    } else {
        Ok(tasks)
    }
}

fn decomposed(o: &entity::outcome::Model, extra: serde_json::Value) -> NewActivity {
    let mut after = json!({ "title": o.title, "status": wire(o.status) });
    if let (Some(a), serde_json::Value::Object(extra)) = (after.as_object_mut(), extra) {
        a.extend(extra);
    }
    NewActivity {
        topic: contract::topic(o.contract_id),
        action: Action::OutcomeDecomposed,
        subject_type: "outcome",
        subject_id: o.id,
        before: None,
        after: Some(after),
    }
}
