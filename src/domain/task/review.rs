//! Submission and review: the assignee submits a deliverable (its metrics are checked against
//! the outcome's criteria), the client accepts or rejects it; the second rejection re-routes
//! the task. When every task of an outcome is accepted the outcome awaits the client, who
//! accepts it (`outcome::acceptance`) or sends it back for rework (here, for the tasks' part).
//! Reviews of accepted work feed the reviewed profile's reputation.
use entity::{
    contract::ContractStatus,
    outcome::OutcomeStatus,
    profile, review,
    task::{self, TaskKind, TaskStatus},
    task_submission::{self, SubmissionStatus},
};
use sea_orm::{
    ActiveModelTrait, ColumnTrait, ConnectionTrait, EntityTrait, IntoActiveModel, QueryFilter, QueryOrder, Set,
};
use serde_json::json;
use uuid::Uuid;

use super::{
    assignment, escalation,
    provenance::{self, Provenance},
    work::{self, activity, locked_for},
};
use crate::{
    auth::{AgentScope, Viewer},
    domain::{
        Action, UnitOfWork,
        contract::{Access, hold_manager, machine},
        outcome::{
            self,
            checks::{self, Metric},
        },
        validate, wire,
    },
    error::{AppError, AppResult},
    state::AppState,
};

/// What an assignee delivers.
pub struct Deliverable {
    /// Free text (a summary, the result itself).
    pub text: Option<String>,
    /// Where the result lives.
    pub url: Option<String>,
    /// Reported metric values, checked against the criteria the task carries.
    pub metrics: Vec<Metric>,
    /// How agent work was produced (required for AUTOMATED tasks submitted by an agent).
    pub provenance: Option<Provenance>,
    /// A PLAN task's proposed breakdown of the outcome.
    pub plan: Option<Vec<super::plan::Draft>>,
}

/// `submitTask`: the assignee delivers an ASSIGNED task (or reworks a REJECTED one).
pub async fn submit(
    state: &AppState,
    viewer: &Viewer,
    task_id: Uuid,
    deliverable: Deliverable,
) -> AppResult<(task::Model, task_submission::Model, Access)> {
    let me = viewer.require_profile(AgentScope::TasksWrite)?;
    let text = validate::optional_text(deliverable.text.as_deref(), "deliverable.text", 20_000, true)?;
    let url = validate::optional_url(deliverable.url.as_deref(), "deliverable.url", 2048)?;
    if text.is_none() && url.is_none() {
        return Err(AppError::bad_input("deliverable", "give a text, a URL or both"));
    }
    let metrics = checks::validate_metrics(deliverable.metrics)?;
    let provenance = deliverable.provenance.map(provenance::validate).transpose()?;
    let by_agent = matches!(viewer, Viewer::Agent { .. });
    let mut work = UnitOfWork::begin(state, viewer).await?;
    let (task, contract, access) = locked_for(work.txn(), viewer, task_id).await?;
    if task.assignee_profile_id != Some(me) || task.status == TaskStatus::Offered {
        return Err(AppError::forbidden("only the task's assignee submits work"));
    }
    machine::task(task.status, TaskStatus::Submitted)?;
    if provenance.is_none() && by_agent && task.mode == entity::task::TaskMode::Automated {
        return Err(AppError::bad_input(
            "deliverable.provenance",
            "agent work on an AUTOMATED task carries its provenance (model, tool and version, run, digests, cost)",
        ));
    }
    let outcome = outcome::lock(work.txn(), task.outcome_id).await?;
    let all = outcome::criteria_of(&outcome)?;
    let plan = match (task.kind, deliverable.plan) {
        (TaskKind::Plan, Some(drafts)) => {
            let now = state.clock.now();
            super::plan::validate_drafts(&drafts, &all, now, "deliverable.plan")?;
            Some(json!(drafts))
        }
        (TaskKind::Plan, None) => {
            return Err(AppError::bad_input("deliverable.plan", "a PLAN task delivers a plan: the tasks to create"));
        }
        (TaskKind::Work, Some(_)) => {
            return Err(AppError::bad_input("deliverable.plan", "only a PLAN task delivers a plan"));
        }
        (TaskKind::Work, None) => None,
    };
    let results = checks::check(&outcome::of_task(&all, &task)?, &metrics);
    let passed = checks::all_passed(&results);
    let now = state.clock.now();
    // An agent's attempt that fails its checks counts towards escalation (once).
    let failed = by_agent && passed == Some(false);
    let escalate = failed && escalation::due(&task, task.agent_failures.saturating_add(1));
    let submission = task_submission::ActiveModel {
        id: Set(Uuid::new_v4()),
        task_id: Set(task.id),
        profile_id: Set(me),
        text: Set(text),
        url: Set(url),
        metrics: Set(json!(metrics)),
        checks: Set(json!(results)),
        checks_passed: Set(passed),
        // Escalated work is not the client's to review: it goes back with the reason.
        status: Set(if escalate { SubmissionStatus::Rejected } else { SubmissionStatus::Pending }),
        feedback: Set(escalate.then(|| escalation::feedback("its checks failed"))),
        created_at: Set(now),
        reviewed_at: Set(escalate.then_some(now)),
        provenance: Set(provenance.as_ref().map(|p| json!(p))),
        plan: Set(plan),
    }
    .insert(work.txn())
    .await?;
    let failures = if failed { task.agent_failures.saturating_add(1) } else { task.agent_failures };
    let mut active = task.into_active_model();
    active.status = Set(TaskStatus::Submitted);
    active.submitted_at = Set(Some(now));
    active.updated_at = Set(now);
    active.agent_failures = Set(failures);
    if escalate {
        // Straight from the attempt back to routing: the task never waits on the client.
        active.status = Set(TaskStatus::Rejected);
    }
    let mut task = active.update(work.txn()).await?;
    work.record(activity(
        Action::TaskSubmitted,
        &task,
        json!({ "checksPassed": submission.checks_passed, "submissionId": submission.id, "provenance": provenance }),
    ))
    .await?;
    if escalate {
        task = escalation::escalate(&mut work, state, task, &contract, "checks_failed").await?;
        crate::domain::reputation::recompute(work.txn(), &[me]).await?;
    } else {
        // Work delivered on a PENDING outcome (a proposal's contract) or a REJECTED one
        // (rework) means the outcome is in progress.
        outcome::start_locked(&mut work, state, outcome).await?;
    }
    work.commit().await?;
    Ok((task, submission, access))
}

/// `acceptTask`: the client accepts the latest submission. When every task of the outcome is
/// accepted, the outcome is SUBMITTED for the client's acceptance.
pub async fn accept(state: &AppState, viewer: &Viewer, task_id: Uuid) -> AppResult<(task::Model, Access)> {
    viewer.require_user()?;
    let mut work = UnitOfWork::begin(state, viewer).await?;
    let (task, contract, access) = locked_for(work.txn(), viewer, task_id).await?;
    hold_manager(work.txn(), viewer, &contract, access).await?;
    if task.kind == TaskKind::Plan {
        return Err(AppError::conflict("a PLAN task is accepted by approving its plan (approvePlan)"));
    }
    machine::task(task.status, TaskStatus::Accepted)?;
    let task = accept_locked(&mut work, state, task).await?;
    work.commit().await?;
    Ok((task, access))
}

/// Accepts a locked SUBMITTED task: its latest submission, its assignment and the assignee's
/// reputation; when it was the outcome's last unfinished task, the outcome is SUBMITTED with
/// its outcome-level metric criteria checked.
pub(crate) async fn accept_locked(
    work: &mut UnitOfWork<'_>,
    state: &AppState,
    task: task::Model,
) -> AppResult<task::Model> {
    let now = state.clock.now();
    review_latest(work.txn(), task.id, SubmissionStatus::Accepted, None, now).await?;
    assignment::end(work.txn(), &[task.id], now, "completed").await?;
    let mut active = task.into_active_model();
    active.status = Set(TaskStatus::Accepted);
    active.accepted_at = Set(Some(now));
    active.updated_at = Set(now);
    let task = active.update(work.txn()).await?;
    let reputation = match task.assignee_profile_id {
        Some(who) => crate::domain::reputation::recompute(work.txn(), &[who]).await?.get(&who).copied(),
        None => None,
    };
    work.record(activity(Action::TaskAccepted, &task, json!({ "assigneeReputation": reputation }))).await?;

    let tasks = task::Entity::find().filter(task::Column::OutcomeId.eq(task.outcome_id)).all(work.txn()).await?;
    let outcome = outcome::lock(work.txn(), task.outcome_id).await?;
    let unfinished = tasks.iter().filter(|t| !matches!(t.status, TaskStatus::Accepted | TaskStatus::Cancelled)).count();
    if unfinished == 0 && outcome.status == OutcomeStatus::InProgress {
        let outcome = outcome::check_at_submission(work.txn(), outcome, &tasks).await?;
        outcome::move_to(work, state, outcome, OutcomeStatus::Submitted, None).await?;
    }
    Ok(task)
}

/// `rejectTask`: the client sends the latest submission back with feedback. The assignee
/// reworks it; a second rejection ends the assignment and re-routes the task.
pub async fn reject(
    state: &AppState,
    viewer: &Viewer,
    task_id: Uuid,
    feedback: &str,
) -> AppResult<(task::Model, Access)> {
    viewer.require_user()?;
    let feedback = validate::text(feedback, "feedback", 1, 5_000, true)?;
    let mut work = UnitOfWork::begin(state, viewer).await?;
    let (task, contract, access) = locked_for(work.txn(), viewer, task_id).await?;
    hold_manager(work.txn(), viewer, &contract, access).await?;
    machine::task(task.status, TaskStatus::Rejected)?;
    let now = state.clock.now();
    let latest = review_latest(work.txn(), task.id, SubmissionStatus::Rejected, Some(feedback.clone()), now).await?;
    let rejections = task.rejection_count.saturating_add(1);
    // A rejected agent attempt counts towards escalation, unless its failed checks counted it.
    let agent_failed = match &latest {
        Some(s) if s.checks_passed != Some(false) => profile::Entity::find_by_id(s.profile_id)
            .one(work.txn())
            .await?
            .is_some_and(|p| p.kind == profile::ProfileKind::Agent),
        _ => false,
    };
    let failures = if agent_failed { task.agent_failures.saturating_add(1) } else { task.agent_failures };
    let escalate = agent_failed && escalation::due(&task, failures);
    let mut active = task.into_active_model();
    active.status = Set(TaskStatus::Rejected);
    active.rejection_count = Set(rejections);
    active.agent_failures = Set(failures);
    active.updated_at = Set(now);
    let mut task = active.update(work.txn()).await?;
    work.record(activity(Action::TaskRejected, &task, json!({ "feedback": feedback, "rejections": rejections })))
        .await?;
    if let Some(s) = &latest {
        crate::domain::reputation::recompute(work.txn(), &[s.profile_id]).await?;
    }
    if escalate {
        task = escalation::escalate(&mut work, state, task, &contract, "rejected").await?;
    } else if rejections >= 2 {
        task = work::release(&mut work, state, task, "rejected_twice").await?;
        if contract.status == ContractStatus::Active {
            task = work::route_locked(&mut work, state, task, &contract).await?;
        }
    }
    work.commit().await?;
    Ok((task, access))
}

async fn review_latest(
    db: &impl ConnectionTrait,
    task_id: Uuid,
    status: SubmissionStatus,
    feedback: Option<String>,
    now: chrono::DateTime<chrono::Utc>,
) -> AppResult<Option<task_submission::Model>> {
    let latest = task_submission::Entity::find()
        .filter(task_submission::Column::TaskId.eq(task_id))
        .filter(task_submission::Column::Status.eq(SubmissionStatus::Pending))
        .order_by_desc(task_submission::Column::CreatedAt)
        .one(db)
        .await?;
    if let Some(latest) = latest {
        let mut active = latest.into_active_model();
        active.status = Set(status);
        active.feedback = Set(feedback);
        active.reviewed_at = Set(Some(now));
        return Ok(Some(active.update(db).await?));
    }
    Ok(None)
}

/// `rejectOutcome`: the client sends a SUBMITTED outcome back with feedback (the outcome's
/// rule is `outcome::acceptance::reject`); its accepted tasks return to their assignees as
/// REJECTED for rework.
pub async fn reject_outcome(
    state: &AppState,
    viewer: &Viewer,
    outcome_id: Uuid,
    feedback: &str,
) -> AppResult<(entity::outcome::Model, Access)> {
    viewer.require_user()?;
    let feedback = validate::text(feedback, "feedback", 1, 5_000, true)?;
    let mut work = UnitOfWork::begin(state, viewer).await?;
    let (outcome, tasks, access) = outcome::acceptance::reject(&mut work, state, viewer, outcome_id, &feedback).await?;
    let now = state.clock.now();
    for task in tasks.into_iter().filter(|t| t.status == TaskStatus::Accepted) {
        machine::task(task.status, TaskStatus::Rejected)?;
        let Some(assignee) = task.assignee_profile_id else { continue };
        assignment::start(work.txn(), task.id, assignee, "outcome_rework", now, true).await?;
        let mut active = task.into_active_model();
        active.status = Set(TaskStatus::Rejected);
        active.accepted_at = Set(None);
        active.assigned_at = Set(Some(now));
        active.updated_at = Set(now);
        let task = active.update(work.txn()).await?;
        work.record(activity(Action::TaskRejected, &task, json!({ "feedback": feedback, "outcomeRejected": true })))
            .await?;
    }
    work.commit().await?;
    Ok((outcome, access))
}

/// `reviewTask`: the client rates accepted work 1–5 once; the rating becomes part of the
/// assignee's reputation (`domain::reputation`).
pub async fn review_task(
    state: &AppState,
    viewer: &Viewer,
    task_id: Uuid,
    rating: i32,
    text: &str,
) -> AppResult<review::Model> {
    let (_, me) = viewer.require_user()?;
    if !(1..=5).contains(&rating) {
        return Err(AppError::bad_input("rating", "must be between 1 and 5"));
    }
    let text = validate::text(text, "text", 0, 5_000, true)?;
    let mut work = UnitOfWork::begin(state, viewer).await?;
    let (task, contract, access) = locked_for(work.txn(), viewer, task_id).await?;
    hold_manager(work.txn(), viewer, &contract, access).await?;
    if task.status != TaskStatus::Accepted {
        return Err(AppError::conflict(format!("the task is {}; only ACCEPTED work is reviewed", wire(task.status))));
    }
    let subject = task.assignee_profile_id.ok_or(AppError::NotFound("assignee"))?;
    if let Some(contract) = entity::contract::Entity::find_by_id(task.contract_id).one(work.txn()).await?
        && crate::domain::contract::access::is_client_side(work.txn(), &contract, subject).await?
    {
        return Err(AppError::forbidden("the client side does not review its own agents' work"));
    }
    // One review per task, whoever on the client side writes it: several admins cannot each
    // rate the same work and inflate a reputation.
    let existing = review::Entity::find().filter(review::Column::TaskId.eq(task.id)).one(work.txn()).await?;
    if existing.is_some() {
        return Err(AppError::conflict("this task has been reviewed already"));
    }
    let review = review::ActiveModel {
        id: Set(Uuid::new_v4()),
        task_id: Set(task.id),
        contract_id: Set(task.contract_id),
        reviewer_profile_id: Set(me),
        subject_profile_id: Set(subject),
        rating: Set(i16::try_from(rating).map_err(|_| AppError::bad_input("rating", "must be between 1 and 5"))?),
        text: Set(text),
        created_at: Set(state.clock.now()),
    }
    .insert(work.txn())
    .await?;
    let reputation =
        crate::domain::reputation::recompute(work.txn(), &[subject]).await?.get(&subject).copied().unwrap_or_default();
    work.record(activity(Action::TaskReviewed, &task, json!({ "rating": rating, "subjectReputation": reputation })))
        .await?;
    work.commit().await?;
    Ok(review)
}

/// Submissions of many tasks in one statement, newest first (for loaders).
pub async fn submissions_of(
    db: &impl ConnectionTrait,
    task_ids: &[Uuid],
) -> AppResult<std::collections::HashMap<Uuid, Vec<task_submission::Model>>> {
    crate::domain::children_of::<task_submission::Entity, _>(
        db,
        task_submission::Column::TaskId,
        task_ids,
        &[
            (task_submission::Column::CreatedAt, sea_orm::Order::Desc),
            (task_submission::Column::Id, sea_orm::Order::Desc),
        ],
        |r| r.task_id,
        |r| r,
    )
    .await
}
