//! What the client sees of contracts, outcomes and tasks. Assignees see only their own tasks.
use async_graphql::{Context, Enum, ID, Object, SimpleObject, connection::Connection};
use chrono::{DateTime, Utc};
use entity::{
    contract as db, outcome as outcome_db, review as review_db, task as task_db, task_assignment,
    task_submission as submission_db,
};
use uuid::Uuid;

use super::{
    common::{Money, connection},
    organization::Organization,
    profile::Profile,
};
use crate::{
    domain::{
        contract::{Access, criteria_of, dashboard},
        page::PageRequest,
        task::{
            checks::{Check, Metric},
            review::may_see_work,
            routing::share_cents,
        },
    },
    error::AppError,
    graphql::{GqlResult, loaders, state, subscription::ActivityEvent, viewer},
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
mirror_enum!(SubmissionStatus, submission_db::SubmissionStatus, [Pending, Accepted, Rejected]);

/// The client's verdict on a submission.
#[derive(Enum, Copy, Clone, Eq, PartialEq, Debug)]
pub enum SubmissionStatus {
    /// Awaiting review.
    Pending,
    /// Accepted.
    Accepted,
    /// Rejected with feedback.
    Rejected,
}

/// Status changes a client makes.
#[derive(Enum, Copy, Clone, Eq, PartialEq, Debug)]
pub enum ContractAction {
    /// DRAFT → OPEN.
    Open,
    /// OPEN → ACTIVE: every OPEN task is routed (funding moves money here once the ledger exists).
    Activate,
    /// ACTIVE → COMPLETED.
    Complete,
    /// → CANCELLED.
    Cancel,
    /// ACTIVE → DISPUTED.
    Dispute,
    /// DISPUTED → ACTIVE.
    Resolve,
}

mirror_enum!(
    ContractAction,
    crate::domain::contract::machine::ContractAction,
    [Open, Activate, Complete, Cancel, Dispute, Resolve]
);

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
    /// Progress, money and activity (the client side only).
    async fn dashboard(&self, ctx: &Context<'_>) -> GqlResult<ContractDashboard> {
        let summary = dashboard::for_contract(&state(ctx)?.db, self.1, self.0.id).await?;
        Ok(ContractDashboard { contract_id: self.0.id, access: self.1, summary })
    }
}

/// A count of tasks in one status.
#[derive(SimpleObject)]
pub struct TaskStatusCount {
    /// The status.
    pub status: TaskStatus,
    /// Tasks in it.
    pub count: u64,
}

/// A count of contracts in one status.
#[derive(SimpleObject)]
pub struct ContractStatusCount {
    /// The status.
    pub status: ContractStatus,
    /// Contracts in it.
    pub count: u64,
}

/// Money figures of one currency.
#[derive(SimpleObject)]
pub struct BudgetSummary {
    /// Sum of budgets.
    pub budget: Money,
    /// Promised to outcomes.
    pub committed: Money,
    /// Earned by accepted outcomes (released once payments exist).
    pub accepted: Money,
    /// Budget not yet promised to an outcome.
    pub remaining: Money,
}

impl From<&dashboard::BudgetLine> for BudgetSummary {
    fn from(l: &dashboard::BudgetLine) -> Self {
        let money = |amount_cents| Money { amount_cents, currency: l.currency.clone() };
        Self {
            budget: money(l.budget_cents),
            committed: money(l.committed_cents),
            accepted: money(l.accepted_cents),
            remaining: money(l.remaining_cents),
        }
    }
}

/// Progress across contracts, shared by the contract and organization dashboards.
pub struct WorkSummary(pub dashboard::WorkSummary);

#[Object]
impl WorkSummary {
    /// Outcomes the client accepted.
    async fn outcomes_accepted(&self) -> u64 {
        self.0.outcomes_accepted
    }
    /// Outcomes in all.
    async fn outcomes_total(&self) -> u64 {
        self.0.outcomes_total
    }
    /// Tasks per status (every status, zeros included).
    async fn tasks_by_status(&self) -> Vec<TaskStatusCount> {
        self.0.tasks_by_status.iter().map(|(s, n)| TaskStatusCount { status: (*s).into(), count: *n }).collect()
    }
    /// Accepted tasks done by agents.
    async fn accepted_by_agents(&self) -> u64 {
        self.0.accepted_by_agents
    }
    /// Accepted tasks done by people.
    async fn accepted_by_people(&self) -> u64 {
        self.0.accepted_by_people
    }
    /// Share (0–1) of the value of accepted work done by agents; people did the rest.
    async fn agent_share(&self) -> Option<f64> {
        self.0.agent_share
    }
    /// Share (0–1) of accepted tasks submitted by their due date.
    async fn on_time_rate(&self) -> Option<f64> {
        self.0.on_time_rate
    }
    /// Money per currency.
    async fn budget(&self) -> Vec<BudgetSummary> {
        self.0.budget.iter().map(BudgetSummary::from).collect()
    }
    /// Contracts per status.
    async fn contracts_by_status(&self) -> Vec<ContractStatusCount> {
        self.0.contracts_by_status.iter().map(|(s, n)| ContractStatusCount { status: (*s).into(), count: *n }).collect()
    }
}

/// A contract's dashboard.
pub struct ContractDashboard {
    contract_id: Uuid,
    access: Access,
    summary: dashboard::WorkSummary,
}

#[Object]
impl ContractDashboard {
    /// Outcomes, tasks, agent/human share, on-time rate.
    async fn summary(&self) -> WorkSummary {
        WorkSummary(self.summary.clone())
    }
    /// Budget committed to outcomes, accepted and remaining.
    async fn budget(&self) -> Option<BudgetSummary> {
        self.summary.budget.first().map(BudgetSummary::from)
    }
    /// Everything that happened on the contract, newest first.
    async fn activity(
        &self,
        ctx: &Context<'_>,
        first: Option<i32>,
        after: Option<String>,
    ) -> GqlResult<Connection<String, ActivityEvent>> {
        let state = state(ctx)?;
        let page = PageRequest::new(first, after.as_deref(), &state.config.limits)?;
        let page = dashboard::activity_feed(&state.db, self.access, self.contract_id, page).await?;
        Ok(connection(page, ActivityEvent::from))
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
    /// The client's feedback on the latest rejection.
    async fn feedback(&self) -> Option<&str> {
        self.0.feedback.as_deref()
    }
    /// When the client accepted it.
    async fn accepted_at(&self) -> Option<DateTime<Utc>> {
        self.0.accepted_at
    }
    /// Tasks, oldest first (assignees see only their own).
    async fn tasks(&self, ctx: &Context<'_>) -> GqlResult<Vec<Task>> {
        let tasks = loaders(ctx)?.tasks.load_one(self.0.id).await?.unwrap_or_default();
        Ok(tasks.into_iter().filter(|t| may_see_work(self.1, t)).map(|t| Task(t, self.1)).collect())
    }
}

/// A task, with what the viewer may see of its work (`Access::Assignee` for workers).
pub struct Task(pub task_db::Model, pub Access);

impl Task {
    async fn visible_submissions(&self, ctx: &Context<'_>) -> GqlResult<Vec<Submission>> {
        if !may_see_work(self.1, &self.0) {
            return Ok(Vec::new());
        }
        let rows = loaders(ctx)?.submissions.load_one(self.0.id).await?.unwrap_or_default();
        Ok(rows.into_iter().map(Submission).collect())
    }
}

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
    /// The contract.
    async fn contract_id(&self) -> ID {
        ID(self.0.contract_id.to_string())
    }
    /// The outcome it is part of.
    async fn outcome_id(&self) -> ID {
        ID(self.0.outcome_id.to_string())
    }
    /// The outcome it is part of: its criteria say which metrics to report.
    async fn outcome(&self, ctx: &Context<'_>) -> GqlResult<Outcome> {
        let outcome = loaders(ctx)?.outcome.load_one(self.0.outcome_id).await?.ok_or(AppError::NotFound("outcome"))?;
        Ok(Outcome(outcome, self.1))
    }
    /// The task's share of its outcome's amount (weight over the weights of the outcome's
    /// tasks that are not cancelled): what the work is worth.
    async fn share(&self, ctx: &Context<'_>) -> GqlResult<Money> {
        let loaders = loaders(ctx)?;
        // Independent keys: each joins its loader's batch at once instead of one after another.
        let (outcome, siblings, contract) = futures_util::try_join!(
            loaders.outcome.load_one(self.0.outcome_id),
            loaders.tasks.load_one(self.0.outcome_id),
            loaders.contracts.load_one(self.0.contract_id),
        )?;
        let outcome = outcome.ok_or(AppError::NotFound("outcome"))?;
        let total: i64 = siblings
            .unwrap_or_default()
            .iter()
            .filter(|t| t.status != task_db::TaskStatus::Cancelled)
            .map(|t| i64::from(t.weight))
            .sum();
        let currency = contract.map(|c| c.currency).unwrap_or_default();
        Ok(Money { amount_cents: share_cents(outcome.amount_cents, self.0.weight, total), currency })
    }
    /// When an open offer lapses.
    async fn offer_expires_at(&self) -> Option<DateTime<Utc>> {
        self.0.offer_expires_at
    }
    /// When the current assignee took it on.
    async fn assigned_at(&self) -> Option<DateTime<Utc>> {
        self.0.assigned_at
    }
    /// When the latest submission arrived.
    async fn submitted_at(&self) -> Option<DateTime<Utc>> {
        self.0.submitted_at
    }
    /// When the client accepted it.
    async fn accepted_at(&self) -> Option<DateTime<Utc>> {
        self.0.accepted_at
    }
    /// Rejections of the current assignee's work; the second one re-routes the task.
    async fn rejection_count(&self) -> i32 {
        self.0.rejection_count
    }
    /// The latest submission (the client side and the assignee).
    async fn submission(&self, ctx: &Context<'_>) -> GqlResult<Option<Submission>> {
        Ok(self.visible_submissions(ctx).await?.into_iter().next())
    }
    /// Every submission, newest first (the client side and the assignee).
    async fn submissions(&self, ctx: &Context<'_>) -> GqlResult<Vec<Submission>> {
        self.visible_submissions(ctx).await
    }
    /// Who held or was offered it, when, and why that ended, oldest first. The client sees
    /// everyone; a worker only its own rows.
    async fn history(&self, ctx: &Context<'_>) -> GqlResult<Vec<Assignment>> {
        let rows = loaders(ctx)?.history.load_one(self.0.id).await?.unwrap_or_default();
        Ok(rows
            .into_iter()
            .filter(|a| match self.1 {
                Access::Client { .. } => true,
                Access::Assignee(me) => a.profile_id == me,
            })
            .map(Assignment)
            .collect())
    }
    /// Who holds it (or is offered it).
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

/// A reported metric value.
#[derive(SimpleObject)]
pub struct MetricValue {
    /// Metric name.
    pub name: String,
    /// Value.
    pub value: f64,
}

/// A metric criterion checked against a submission.
#[derive(SimpleObject)]
pub struct MetricCheck {
    /// The criterion.
    pub description: String,
    /// Metric checked.
    pub metric: String,
    /// Comparator.
    pub comparator: String,
    /// Target.
    pub target: f64,
    /// Reported value (missing values fail).
    pub value: Option<f64>,
    /// Whether the value meets the target.
    pub passed: bool,
}

/// A deliverable and its review.
pub struct Submission(pub submission_db::Model);

#[Object]
impl Submission {
    /// Submission id.
    async fn id(&self) -> ID {
        ID(self.0.id.to_string())
    }
    /// Who submitted it.
    async fn submitted_by(&self, ctx: &Context<'_>) -> GqlResult<Option<Profile>> {
        Ok(loaders(ctx)?.profiles.load_one(self.0.profile_id).await?.map(Profile))
    }
    /// Text.
    async fn text(&self) -> Option<&str> {
        self.0.text.as_deref()
    }
    /// URL.
    async fn url(&self) -> Option<&str> {
        self.0.url.as_deref()
    }
    /// Reported metrics.
    async fn metrics(&self) -> Vec<MetricValue> {
        serde_json::from_value::<Vec<Metric>>(self.0.metrics.clone())
            .unwrap_or_default()
            .into_iter()
            .map(|m| MetricValue { name: m.name, value: m.value })
            .collect()
    }
    /// Each metric criterion of the outcome, checked.
    async fn checks(&self) -> Vec<MetricCheck> {
        serde_json::from_value::<Vec<Check>>(self.0.checks.clone())
            .unwrap_or_default()
            .into_iter()
            .map(|c| MetricCheck {
                description: c.description,
                metric: c.metric,
                comparator: c.comparator,
                target: c.target,
                value: c.value,
                passed: c.passed,
            })
            .collect()
    }
    /// Whether every metric criterion passed; null when the outcome has none.
    async fn checks_passed(&self) -> Option<bool> {
        self.0.checks_passed
    }
    /// The client's verdict.
    async fn status(&self) -> SubmissionStatus {
        self.0.status.into()
    }
    /// The client's feedback on a rejection.
    async fn feedback(&self) -> Option<&str> {
        self.0.feedback.as_deref()
    }
    /// When it was submitted.
    async fn created_at(&self) -> DateTime<Utc> {
        self.0.created_at
    }
    /// When the client reviewed it.
    async fn reviewed_at(&self) -> Option<DateTime<Utc>> {
        self.0.reviewed_at
    }
}

/// One entry of a task's assignment history.
pub struct Assignment(pub task_assignment::Model);

#[Object]
impl Assignment {
    /// The person or agent.
    async fn profile(&self, ctx: &Context<'_>) -> GqlResult<Option<Profile>> {
        Ok(loaders(ctx)?.profiles.load_one(self.0.profile_id).await?.map(Profile))
    }
    /// How it began: routed, claimed, reassigned, proposal_accepted, outcome_rework.
    async fn reason(&self) -> &str {
        &self.0.reason
    }
    /// When it began (the offer, for people).
    async fn started_at(&self) -> DateTime<Utc> {
        self.0.started_at
    }
    /// When the offer was accepted; null for offers never taken.
    async fn accepted_at(&self) -> Option<DateTime<Utc>> {
        self.0.accepted_at
    }
    /// When it ended.
    async fn ended_at(&self) -> Option<DateTime<Utc>> {
        self.0.ended_at
    }
    /// Why it ended: declined, lapsed, overdue, rejected_twice, reassigned, completed, cancelled.
    async fn end_reason(&self) -> Option<&str> {
        self.0.end_reason.as_deref()
    }
}

/// A review of accepted work.
pub struct Review(pub review_db::Model);

#[Object]
impl Review {
    /// Review id.
    async fn id(&self) -> ID {
        ID(self.0.id.to_string())
    }
    /// 1–5.
    async fn rating(&self) -> i16 {
        self.0.rating
    }
    /// Text.
    async fn text(&self) -> &str {
        &self.0.text
    }
    /// The reviewed person or agent.
    async fn subject(&self, ctx: &Context<'_>) -> GqlResult<Option<Profile>> {
        Ok(loaders(ctx)?.profiles.load_one(self.0.subject_profile_id).await?.map(Profile))
    }
    /// When it was written.
    async fn created_at(&self) -> DateTime<Utc> {
        self.0.created_at
    }
}

/// A worker's desk.
pub struct WorkDashboard(pub dashboard::WorkDesk, pub Uuid);

#[Object]
impl WorkDashboard {
    /// Tasks I hold: assigned, in rework, or awaiting review (at most 50, soonest due first).
    async fn active_tasks(&self) -> Vec<Task> {
        self.0.active_tasks.iter().cloned().map(|t| Task(t, Access::Assignee(self.1))).collect()
    }
    /// Offers awaiting my answer (at most 50).
    async fn offers(&self) -> Vec<Task> {
        self.0.offers.iter().cloned().map(|t| Task(t, Access::Assignee(self.1))).collect()
    }
    /// Accepted over reviewed submissions; null before any review.
    async fn acceptance_rate(&self) -> Option<f64> {
        self.0.acceptance_rate
    }
    /// Placeholder until payments exist: the value of my accepted tasks in accepted outcomes,
    /// by currency. No money has moved.
    async fn earnings(&self) -> Vec<Money> {
        self.0
            .earnings
            .iter()
            .map(|(currency, cents)| Money { amount_cents: *cents, currency: currency.clone() })
            .collect()
    }
    /// My reputation (average review rating, 0–5).
    async fn reputation(&self) -> f64 {
        self.0.reputation
    }
}
