//! Tasks: creation and reading (here), routing candidates (ranked in `ranking`, the scoring
//! itself is in `routing`), offers and claims (`work`), the assignment history (`assignment`),
//! what a contract's status change does to its work (`lifecycle`), submissions and review
//! (`review`), a plan's task drafts (`plan`), metric checks (`checks`) and the background sweep
//! of lapsed offers and overdue work (`sweep`).
pub mod assign;
pub mod assignment;
pub mod escalation;
pub mod lifecycle;
pub mod plan;
pub mod provenance;
pub mod ranking;
pub mod review;
pub mod routing;
pub mod sweep;
pub mod work;

pub use ranking::{Candidate, MAX_CANDIDATES, OPEN_LOAD, candidates};
pub(crate) use ranking::{Ranking, rank};
pub use work::add;

use std::collections::HashMap;

use entity::{
    contract::{self as contract_db},
    organization_member,
    profile::{self, ProfileKind},
    profile_skill,
    task::{self, TaskMode, TaskStatus},
    task_assignment, task_skill,
};
use sea_orm::{
    ActiveModelTrait, ColumnTrait, ConnectionTrait, EntityTrait, QueryFilter, Set,
    sea_query::{Expr, ExprTrait, Query},
};
use serde_json::json;
use uuid::Uuid;

use super::{
    contract,
    contract::Access,
    page::{Cursor, Direction, Page, PageRequest, keyset},
    profile as profiles, validate,
};
use crate::{
    auth::{AgentScope, Viewer},
    error::{AppError, AppResult},
};

/// Input of `addTask`.
pub struct TaskInput {
    /// Title.
    pub title: String,
    /// Description.
    pub description: String,
    /// Required skills.
    pub skills: Vec<String>,
    /// AUTOMATED, JUDGMENT or ANY.
    pub mode: TaskMode,
    /// Share of the outcome's amount relative to sibling tasks (1–10000).
    pub weight: i32,
    /// Due date.
    pub due_at: Option<chrono::DateTime<chrono::Utc>>,
    /// Keys of the outcome criteria the task carries.
    pub criteria: Vec<String>,
    /// Failed agent attempts before the task goes to people; 0 never.
    pub escalate_after: i32,
}

/// Validates the fields every new task shares (from `addTask`, a playbook or an approved
/// plan); `field` prefixes the fields at fault (`""` or `tasks[2].`).
pub(crate) fn validate_draft(
    input: TaskInput,
    criteria: &[super::outcome::Criterion],
    field: &str,
) -> AppResult<ValidDraft> {
    let f = |name: &str| format!("{field}{name}");
    let title = validate::text(&input.title, &f("title"), 1, 200, false)?;
    let description = validate::text(&input.description, &f("description"), 0, 20_000, true)?;
    if !(1..=10_000).contains(&input.weight) {
        return Err(AppError::bad_input(&f("weight"), "must be between 1 and 10000"));
    }
    if !(0..=10).contains(&input.escalate_after) {
        return Err(AppError::bad_input(&f("escalateAfter"), "must be between 0 (never) and 10"));
    }
    validate::at_most(input.skills.len(), 20, &f("skills"))?;
    let mut skills = Vec::new();
    for (i, s) in input.skills.iter().enumerate() {
        let skill = validate::skill_name(s, &f(&format!("skills[{i}]")))?;
        if !skills.contains(&skill) {
            skills.push(skill);
        }
    }
    let keys = super::outcome::validate_task_keys(criteria, &input.criteria, &f("criteria"))?;
    Ok(ValidDraft {
        title,
        description,
        skills,
        mode: input.mode,
        weight: input.weight,
        due_at: input.due_at,
        criteria: keys,
        escalate_after: input.escalate_after,
    })
}

/// A validated task draft.
#[derive(Clone, Debug)]
pub struct ValidDraft {
    pub title: String,
    pub description: String,
    pub skills: Vec<String>,
    pub mode: TaskMode,
    pub weight: i32,
    pub due_at: Option<chrono::DateTime<chrono::Utc>>,
    pub criteria: Vec<String>,
    pub escalate_after: i32,
}

impl ValidDraft {
    /// The task to insert for this draft.
    pub(crate) fn into_new(
        self,
        contract_id: Uuid,
        outcome_id: Uuid,
        kind: task::TaskKind,
        now: chrono::DateTime<chrono::Utc>,
    ) -> NewTask {
        NewTask {
            contract_id,
            outcome_id,
            title: self.title,
            description: self.description,
            skills: self.skills,
            mode: self.mode,
            weight: self.weight,
            due_at: self.due_at,
            criteria: self.criteria,
            kind,
            escalate_after: self.escalate_after,
            now,
        }
    }
}

/// A task to insert.
pub(crate) struct NewTask {
    pub contract_id: Uuid,
    pub outcome_id: Uuid,
    pub title: String,
    pub description: String,
    pub skills: Vec<String>,
    pub mode: TaskMode,
    pub weight: i32,
    pub due_at: Option<chrono::DateTime<chrono::Utc>>,
    pub criteria: Vec<String>,
    pub kind: task::TaskKind,
    pub escalate_after: i32,
    pub now: chrono::DateTime<chrono::Utc>,
}

/// Inserts an OPEN task and its required skills.
pub(crate) async fn insert(db: &impl ConnectionTrait, t: NewTask) -> AppResult<task::Model> {
    let task = task::ActiveModel {
        id: Set(Uuid::new_v4()),
        contract_id: Set(t.contract_id),
        outcome_id: Set(t.outcome_id),
        title: Set(t.title),
        description: Set(t.description),
        mode: Set(t.mode),
        weight: Set(t.weight),
        due_at: Set(t.due_at),
        status: Set(TaskStatus::Open),
        assignee_profile_id: Set(None),
        created_at: Set(t.now),
        updated_at: Set(t.now),
        offer_expires_at: Set(None),
        assigned_at: Set(None),
        rejection_count: Set(0),
        submitted_at: Set(None),
        accepted_at: Set(None),
        criteria: Set(Some(json!(t.criteria))),
        kind: Set(t.kind),
        escalate_after: Set(t.escalate_after),
        agent_failures: Set(0),
        escalated_at: Set(None),
        escalated_from: Set(None),
    }
    .insert(db)
    .await?;
    if !t.skills.is_empty() {
        task_skill::Entity::insert_many(
            t.skills.iter().map(|skill| task_skill::ActiveModel { task_id: Set(task.id), skill: Set(skill.clone()) }),
        )
        .exec(db)
        .await?;
    }
    Ok(task)
}

/// Tasks of many outcomes in one statement, oldest first (for loaders).
pub async fn of_outcomes(
    db: &impl ConnectionTrait,
    outcome_ids: &[Uuid],
) -> AppResult<HashMap<Uuid, Vec<task::Model>>> {
    crate::domain::children_of::<task::Entity, _>(
        db,
        task::Column::OutcomeId,
        outcome_ids,
        &[(task::Column::CreatedAt, sea_orm::Order::Asc), (task::Column::Id, sea_orm::Order::Asc)],
        |r| r.outcome_id,
        |r| r,
    )
    .await
}

/// Required skills of many tasks in one statement, by name (for loaders and checks).
pub async fn skills_of(db: &impl ConnectionTrait, task_ids: &[Uuid]) -> AppResult<HashMap<Uuid, Vec<String>>> {
    crate::domain::children_of::<task_skill::Entity, _>(
        db,
        task_skill::Column::TaskId,
        task_ids,
        &[(task_skill::Column::TaskId, sea_orm::Order::Asc), (task_skill::Column::Skill, sea_orm::Order::Asc)],
        |r| r.task_id,
        |r| r.skill,
    )
    .await
}

/// Required skills of one task.
pub(crate) async fn required_skills(db: &impl ConnectionTrait, task_id: Uuid) -> AppResult<Vec<String>> {
    Ok(skills_of(db, &[task_id]).await?.remove(&task_id).unwrap_or_default())
}

/// Tasks offered to or held by the viewer, newest first, seen as their assignee; `statuses`
/// narrows them (default: OFFERED, ASSIGNED, REJECTED and SUBMITTED). Agents need the
/// `tasks:read` scope.
pub async fn mine(
    db: &impl ConnectionTrait,
    viewer: &Viewer,
    statuses: Option<Vec<TaskStatus>>,
    page: PageRequest,
) -> AppResult<(Page<task::Model>, Access)> {
    let me = viewer.require_profile(AgentScope::TasksRead)?;
    validate::at_most(statuses.as_ref().map_or(0, Vec::len), 7, "statuses")?;
    let statuses = statuses.filter(|s| !s.is_empty()).unwrap_or_else(|| {
        vec![TaskStatus::Offered, TaskStatus::Assigned, TaskStatus::Rejected, TaskStatus::Submitted]
    });
    let query = task::Entity::find()
        .filter(task::Column::AssigneeProfileId.eq(me))
        .filter(task::Column::Status.is_in(statuses));
    Ok((newest_first(db, query, page).await?, Access::Assignee(me)))
}

/// OPEN tasks of ACTIVE contracts the viewer may claim: the mode fits its kind, it holds every
/// required skill, it is not on the client side and never held or declined the task. Seen as
/// a would-be assignee.
pub async fn claimable(
    db: &impl ConnectionTrait,
    viewer: &Viewer,
    page: PageRequest,
) -> AppResult<(Page<task::Model>, Access)> {
    let me = viewer.require_profile(AgentScope::TasksRead)?;
    let kind = profile::Entity::find_by_id(me).one(db).await?.ok_or(AppError::NotFound("profile"))?.kind;
    let modes = match kind {
        ProfileKind::Agent => [TaskMode::Automated, TaskMode::Any],
        ProfileKind::Human => [TaskMode::Judgment, TaskMode::Any],
    };
    let mut contracts = Query::select()
        .column(contract_db::Column::Id)
        .from(contract_db::Entity)
        .and_where(contract_db::Column::Status.eq(contract_db::ContractStatus::Active))
        .and_where(contract_db::Column::ClientProfileId.ne(me))
        .to_owned();
    // The person whose side counts: the viewer, or the person operating the agent.
    let person = match viewer {
        Viewer::Agent { operator_user_id, .. } => profile::Entity::find()
            .filter(profile::Column::UserId.eq(*operator_user_id))
            .filter(profile::Column::Kind.eq(ProfileKind::Human))
            .one(db)
            .await?
            .map(|p| p.id),
        _ => Some(me),
    };
    if let Some(person) = person {
        contracts.and_where(contract_db::Column::ClientProfileId.ne(person));
        contracts.and_where(
            Expr::col(contract_db::Column::OrganizationId).is_null().or(contract_db::Column::OrganizationId
                .not_in_subquery(
                    Query::select()
                        .column(organization_member::Column::OrganizationId)
                        .from(organization_member::Entity)
                        .and_where(organization_member::Column::ProfileId.eq(person))
                        .to_owned(),
                )),
        );
    }
    // A task is out of reach when it requires a skill the viewer lacks.
    let lacking = Query::select()
        .column(task_skill::Column::TaskId)
        .from(task_skill::Entity)
        .and_where(
            task_skill::Column::Skill.not_in_subquery(
                Query::select()
                    .column(profile_skill::Column::Skill)
                    .from(profile_skill::Entity)
                    .and_where(profile_skill::Column::ProfileId.eq(me))
                    .to_owned(),
            ),
        )
        .to_owned();
    let held_before = Query::select()
        .column(task_assignment::Column::TaskId)
        .from(task_assignment::Entity)
        .and_where(task_assignment::Column::ProfileId.eq(me))
        .to_owned();
    let query = task::Entity::find()
        .filter(task::Column::Status.eq(TaskStatus::Open))
        .filter(task::Column::Mode.is_in(modes))
        .filter(task::Column::ContractId.in_subquery(contracts))
        .filter(task::Column::Id.not_in_subquery(lacking))
        .filter(task::Column::Id.not_in_subquery(held_before));
    Ok((newest_first(db, query, page).await?, Access::Assignee(me)))
}

/// A task the viewer may see: the client side sees every task, others only tasks offered to
/// or held by them; NOT_FOUND otherwise.
pub async fn visible(db: &impl ConnectionTrait, viewer: &Viewer, id: Uuid) -> AppResult<(task::Model, Access)> {
    viewer.require_profile(AgentScope::TasksRead)?;
    let task = task::Entity::find_by_id(id).one(db).await?.ok_or(AppError::NotFound("task"))?;
    let (_, access) = contract::visible(db, viewer, task.contract_id).await.map_err(|_| AppError::NotFound("task"))?;
    if access.sees_task(&task) { Ok((task, access)) } else { Err(AppError::NotFound("task")) }
}

async fn newest_first(
    db: &impl ConnectionTrait,
    query: sea_orm::Select<task::Entity>,
    page: PageRequest,
) -> AppResult<Page<task::Model>> {
    keyset(db, query, (task::Column::CreatedAt, task::Column::Id), Direction::Descending, &page, |t| Cursor {
        key: 0,
        at: t.created_at,
        id: t.id,
    })
    .await
}
