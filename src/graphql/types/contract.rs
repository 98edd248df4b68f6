//! What the client sees of contracts, outcomes and tasks. Assignees see only their own tasks.
use async_graphql::{Context, Enum, ID, Object, SimpleObject};
use chrono::{DateTime, Utc};
use entity::{contract as db, outcome as outcome_db, task as task_db};

use super::{common::Money, organization::Organization, profile::Profile};
use crate::{
    domain::contract::{Access, criteria_of},
    error::AppError,
    graphql::{GqlResult, loaders, state, viewer},
};

/// Where a contract is in its life.
#[derive(Enum, Copy, Clone, Eq, PartialEq, Debug)]
pub enum ContractStatus {
    /// Being written.
    Draft,
    /// Published, awaiting funding.
    Open,
    /// Funded; work runs.
    Active,
    /// All outcomes accepted.
    Completed,
    /// Called off.
    Cancelled,
    /// Under dispute.
    Disputed,
}

/// Where an outcome stands.
#[derive(Enum, Copy, Clone, Eq, PartialEq, Debug)]
pub enum OutcomeStatus {
    /// Not started.
    Pending,
    /// Work runs.
    InProgress,
    /// Awaiting the client's review.
    Submitted,
    /// Accepted.
    Accepted,
    /// Sent back for rework.
    Rejected,
}

/// Who may do a task.
#[derive(Enum, Copy, Clone, Eq, PartialEq, Debug)]
pub enum TaskMode {
    /// Agents.
    Automated,
    /// People.
    Judgment,
    /// Either.
    Any,
}

/// Where a task stands.
#[derive(Enum, Copy, Clone, Eq, PartialEq, Debug)]
pub enum TaskStatus {
    /// Waiting for an assignee.
    Open,
    /// Offered to a candidate.
    Offered,
    /// Someone works on it.
    Assigned,
    /// Delivered, awaiting review.
    Submitted,
    /// Accepted.
    Accepted,
    /// Sent back.
    Rejected,
    /// Dropped.
    Cancelled,
}

mirror_enum!(ContractStatus, db::ContractStatus, [Draft, Open, Active, Completed, Cancelled, Disputed]);
mirror_enum!(OutcomeStatus, outcome_db::OutcomeStatus, [Pending, InProgress, Submitted, Accepted, Rejected]);
mirror_enum!(TaskMode, task_db::TaskMode, [Automated, Judgment, Any]);
mirror_enum!(TaskStatus, task_db::TaskStatus, [Open, Offered, Assigned, Submitted, Accepted, Rejected, Cancelled]);

/// An acceptance criterion.
#[derive(SimpleObject)]
pub struct Criterion {
    /// What must be true.
    pub description: String,
    /// Metric the submission reports.
    pub metric: Option<String>,
    /// Comparator: >=, <=, >, <, ==.
    pub comparator: Option<String>,
    /// Target value.
    pub target: Option<f64>,
}

/// An outcome contract as the viewer may see it.
pub struct Contract(pub db::Model, pub Access);

#[Object]
impl Contract {
    /// Contract id.
    async fn id(&self) -> ID {
        ID(self.0.id.to_string())
    }
    /// Title.
    async fn title(&self) -> &str {
        &self.0.title
    }
    /// Description.
    async fn description(&self) -> &str {
        &self.0.description
    }
    /// Budget.
    async fn budget(&self) -> Money {
        Money { amount_cents: self.0.budget_cents, currency: self.0.currency.clone() }
    }
    /// Status.
    async fn status(&self) -> ContractStatus {
        self.0.status.into()
    }
    /// The person who created it.
    async fn client(&self, ctx: &Context<'_>) -> GqlResult<Profile> {
        let p =
            loaders(ctx)?.profiles.load_one(self.0.client_profile_id).await?.ok_or(AppError::NotFound("profile"))?;
        Ok(Profile(p))
    }
    /// The client organization.
    async fn organization(&self, ctx: &Context<'_>) -> GqlResult<Option<Organization>> {
        let Some(id) = self.0.organization_id else { return Ok(None) };
        Ok(loaders(ctx)?.organizations.load_one(id).await?.map(Organization))
    }
    /// The gig it came from.
    async fn gig_id(&self) -> Option<ID> {
        self.0.gig_id.map(|g| ID(g.to_string()))
    }
    /// True when the viewer is on the client side (sees every outcome and task).
    async fn viewer_is_client(&self) -> bool {
        matches!(self.1, Access::Client { .. })
    }
    /// Outcomes, oldest first. Assignees see only outcomes holding their tasks.
    async fn outcomes(&self, ctx: &Context<'_>) -> GqlResult<Vec<Outcome>> {
        let loaders = loaders(ctx)?;
        let outcomes = loaders.outcomes.load_one(self.0.id).await?.unwrap_or_default();
        let mut visible = Vec::with_capacity(outcomes.len());
        for outcome in outcomes {
            if let Access::Assignee(me) = self.1 {
                let tasks = loaders.tasks.load_one(outcome.id).await?.unwrap_or_default();
                if !tasks.iter().any(|t| t.assignee_profile_id == Some(me)) {
                    continue;
                }
            }
            visible.push(Outcome(outcome, self.1));
        }
        Ok(visible)
    }
    /// When it was created.
    async fn created_at(&self) -> DateTime<Utc> {
        self.0.created_at
    }
}

/// A measurable outcome.
pub struct Outcome(pub outcome_db::Model, pub Access);

#[Object]
impl Outcome {
    /// Outcome id.
    async fn id(&self) -> ID {
        ID(self.0.id.to_string())
    }
    /// Title.
    async fn title(&self) -> &str {
        &self.0.title
    }
    /// Acceptance criteria.
    async fn criteria(&self) -> Vec<Criterion> {
        criteria_of(&self.0)
            .into_iter()
            .map(|c| Criterion {
                description: c.description,
                metric: c.metric,
                comparator: c.comparator,
                target: c.target,
            })
            .collect()
    }
    /// Amount paid when accepted.
    async fn amount(&self, ctx: &Context<'_>) -> GqlResult<Money> {
        let contract_currency =
            loaders(ctx)?.contracts.load_one(self.0.contract_id).await?.map(|c| c.currency).unwrap_or_default();
        Ok(Money { amount_cents: self.0.amount_cents, currency: contract_currency })
    }
    /// Due date.
    async fn due_at(&self) -> Option<DateTime<Utc>> {
        self.0.due_at
    }
    /// Status.
    async fn status(&self) -> OutcomeStatus {
        self.0.status.into()
    }
    /// Tasks, oldest first (assignees see only their own).
    async fn tasks(&self, ctx: &Context<'_>) -> GqlResult<Vec<Task>> {
        let tasks = loaders(ctx)?.tasks.load_one(self.0.id).await?.unwrap_or_default();
        Ok(tasks
            .into_iter()
            .filter(|t| match self.1 {
                Access::Client { .. } => true,
                Access::Assignee(me) => t.assignee_profile_id == Some(me),
            })
            .map(Task)
            .collect())
    }
}

/// A task.
pub struct Task(pub task_db::Model);

#[Object]
impl Task {
    /// Task id.
    async fn id(&self) -> ID {
        ID(self.0.id.to_string())
    }
    /// Title.
    async fn title(&self) -> &str {
        &self.0.title
    }
    /// Description.
    async fn description(&self) -> &str {
        &self.0.description
    }
    /// Required skills.
    async fn skills(&self) -> Vec<String> {
        serde_json::from_value(self.0.skills.clone()).unwrap_or_default()
    }
    /// Who may do it.
    async fn mode(&self) -> TaskMode {
        self.0.mode.into()
    }
    /// Share of the outcome's amount relative to sibling tasks.
    async fn weight(&self) -> i32 {
        self.0.weight
    }
    /// Due date.
    async fn due_at(&self) -> Option<DateTime<Utc>> {
        self.0.due_at
    }
    /// Status.
    async fn status(&self) -> TaskStatus {
        self.0.status.into()
    }
    /// Who holds it.
    async fn assignee(&self, ctx: &Context<'_>) -> GqlResult<Option<Profile>> {
        let Some(id) = self.0.assignee_profile_id else { return Ok(None) };
        Ok(loaders(ctx)?.profiles.load_one(id).await?.map(Profile))
    }
    /// Ranked candidates with the parts of their score (the client only): agents for
    /// AUTOMATED, people for JUDGMENT, both for ANY.
    async fn candidates(&self, ctx: &Context<'_>) -> GqlResult<Vec<TaskCandidate>> {
        let ranked = crate::domain::task::candidates(&state(ctx)?.db, viewer(ctx), self.0.id).await?;
        Ok(ranked
            .into_iter()
            .map(|c| TaskCandidate {
                profile: Profile(c.profile),
                score: c.score.total,
                skill_match: c.score.skill_match,
                reputation: c.score.reputation,
                availability: c.score.availability,
                rate_fit: c.score.rate_fit,
                open_tasks: c.open_tasks,
            })
            .collect())
    }
}

/// A candidate for a task and why it ranks where it does (every part is between 0 and 1).
#[derive(SimpleObject)]
pub struct TaskCandidate {
    /// The person or agent.
    pub profile: Profile,
    /// Weighted total: 0.5 skill match + 0.2 reputation + 0.15 availability + 0.15 rate fit.
    pub score: f64,
    /// Average of level / 5 over the required skills.
    pub skill_match: f64,
    /// Reputation / 5.
    pub reputation: f64,
    /// 1 / (1 + open tasks).
    pub availability: f64,
    /// 1 when the rate fits the task's share of the outcome, less when above it, 0.5 unknown.
    pub rate_fit: f64,
    /// Tasks currently offered to or held by the candidate.
    pub open_tasks: u64,
}
