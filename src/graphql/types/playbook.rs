//! Decomposition as clients see it: playbooks, their task drafts, and what a decomposition
//! created.
use async_graphql::{Context, ID, InputObject, Object, SimpleObject};
use chrono::{DateTime, Utc};
use entity::{playbook as playbook_db, task as task_db};
use sea_orm::ActiveEnum;

use super::{
    contract::Outcome,
    organization::Organization,
    task::{Task, TaskMode},
};
use crate::{
    domain::playbook::{self, Decomposition as Made, Draft},
    error::AppError,
    graphql::{GqlResult, loaders},
};

/// A task a playbook or a plan would create.
#[derive(SimpleObject)]
pub struct TaskDraft {
    /// Title.
    pub title: String,
    /// Description.
    pub description: String,
    /// Who may do it.
    pub mode: TaskMode,
    /// Required skills.
    pub skills: Vec<String>,
    /// Share of the outcome's amount relative to the sibling tasks.
    pub weight: i32,
    /// Due this many days after the tasks are created; null for no due date.
    pub due_in_days: Option<i32>,
    /// Keys of the outcome criteria it carries.
    pub criteria: Vec<String>,
    /// Failed agent attempts before it goes to people; 0 never.
    pub escalate_after: i32,
}

impl TaskDraft {
    /// The API view of a stored draft.
    pub fn of(d: Draft) -> GqlResult<Self> {
        let mode = task_db::TaskMode::try_from_value(&d.mode)
            .map_err(|_| AppError::Internal(anyhow::anyhow!("a stored task draft has mode {:?}", d.mode)))?;
        Ok(Self {
            title: d.title,
            description: d.description,
            mode: mode.into(),
            skills: d.skills,
            weight: d.weight,
            due_in_days: d.due_in_days,
            criteria: d.criteria,
            escalate_after: d.escalate_after,
        })
    }
}

/// A task to create: a playbook step, a planner's proposal or the client's edit of one.
#[derive(InputObject)]
pub struct TaskDraftInput {
    /// Title.
    pub title: String,
    /// Description.
    #[graphql(default)]
    pub description: String,
    /// Who may do it.
    pub mode: TaskMode,
    /// Required skills.
    #[graphql(default)]
    pub skills: Vec<String>,
    /// Share of the outcome's amount relative to the sibling tasks (1–10000).
    #[graphql(default = 1)]
    pub weight: i32,
    /// Due this many days after the tasks are created (0–365).
    pub due_in_days: Option<i32>,
    /// Keys of the outcome criteria it carries (none: it is checked at outcome review only).
    #[graphql(default)]
    pub criteria: Vec<String>,
    /// Failed agent attempts before it goes to people; 0 never.
    #[graphql(default = 2)]
    pub escalate_after: i32,
}

impl From<TaskDraftInput> for Draft {
    fn from(d: TaskDraftInput) -> Self {
        Self {
            title: d.title,
            description: d.description,
            mode: task_db::TaskMode::from(d.mode).to_value(),
            skills: d.skills,
            weight: d.weight,
            due_in_days: d.due_in_days,
            criteria: d.criteria,
            escalate_after: d.escalate_after,
        }
    }
}

/// A named recipe of tasks: the platform's (global) or an organization's.
pub struct Playbook(pub playbook_db::Model);

#[Object]
impl Playbook {
    /// Playbook id.
    async fn id(&self) -> ID {
        ID(self.0.id.to_string())
    }
    /// Name.
    async fn name(&self) -> &str {
        &self.0.name
    }
    /// What it is for.
    async fn description(&self) -> &str {
        &self.0.description
    }
    /// Whether it is the platform's, usable by every client.
    async fn global(&self) -> bool {
        self.0.organization_id.is_none()
    }
    /// The organization it belongs to; null for the platform's.
    async fn organization(&self, ctx: &Context<'_>) -> GqlResult<Option<Organization>> {
        let Some(id) = self.0.organization_id else { return Ok(None) };
        Ok(loaders(ctx)?.organizations.load_one(id).await?.map(Organization))
    }
    /// The tasks it creates, in order.
    async fn steps(&self) -> GqlResult<Vec<TaskDraft>> {
        playbook::steps_of(&self.0)?.into_iter().map(TaskDraft::of).collect()
    }
    /// When it was written.
    async fn created_at(&self) -> DateTime<Utc> {
        self.0.created_at
    }
}

/// What a decomposition created.
#[derive(SimpleObject)]
pub struct Decomposition {
    /// The outcome, as it now stands.
    pub outcome: Outcome,
    /// The tasks created, in order (routed when the contract is ACTIVE).
    pub tasks: Vec<Task>,
    /// For an approved plan: the PLAN task, now ACCEPTED.
    pub plan_task: Option<Task>,
}

impl From<Made> for Decomposition {
    fn from(m: Made) -> Self {
        Self {
            outcome: Outcome(m.outcome, m.access),
            tasks: m.tasks.into_iter().map(|t| Task(t, m.access)).collect(),
            plan_task: m.plan_task.map(|t| Task(t, m.access)),
        }
    }
}
