//! What the viewer sees of tasks: their work, submissions, history and candidates. What of a
//! task's work each side may see is decided by `domain::contract::Access`.
use async_graphql::{Context, Enum, ID, Object, SimpleObject};
use chrono::{DateTime, Utc};
use entity::{review as review_db, task as task_db, task_assignment, task_submission as submission_db};

use super::{
    common::{Money, rounded},
    contract::Outcome,
    profile::Profile,
};
use crate::{
    domain::{
        self,
        contract::Access,
        outcome::checks::{Check, Metric},
    },
    error::AppError,
    graphql::{GqlResult, loaders, state, viewer},
};

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

/// What a task produces.
#[derive(Enum, Copy, Clone, Eq, PartialEq, Debug)]
pub enum TaskKind {
    /// Part of the outcome's work.
    Work,
    /// A proposed breakdown of the outcome into tasks, approved with `approvePlan`.
    Plan,
}

mirror_enum!(TaskMode, task_db::TaskMode, [Automated, Judgment, Any]);
mirror_enum!(TaskKind, task_db::TaskKind, [Work, Plan]);
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

/// A task, with what the viewer may see of its work (`Access::Assignee` for workers).
pub struct Task(pub task_db::Model, pub Access);

impl Task {
    async fn visible_submissions(&self, ctx: &Context<'_>) -> GqlResult<Vec<Submission>> {
        if !self.1.sees_task(&self.0) {
            return Ok(Vec::new());
        }
        let rows = loaders(ctx)?.submissions.load_one(self.0.id).await?.unwrap_or_default();
        Ok(rows.into_iter().map(Submission).collect())
    }
}

#[Object]
impl Task {
    /// Task id.
    pub(crate) async fn id(&self) -> ID {
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
    /// Required skills, by name.
    async fn skills(&self, ctx: &Context<'_>) -> GqlResult<Vec<String>> {
        Ok(loaders(ctx)?.task_skills.load_one(self.0.id).await?.unwrap_or_default())
    }
    /// Who may do it.
    async fn mode(&self) -> TaskMode {
        self.0.mode.into()
    }
    /// WORK, or PLAN: a planner's proposed breakdown of the outcome.
    async fn kind(&self) -> TaskKind {
        self.0.kind.into()
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
    /// The task's exact share of its outcome's amount (its weight over the weights of the
    /// outcome's tasks that are not cancelled, cents by largest remainder): what the work is worth.
    async fn share(&self, ctx: &Context<'_>) -> GqlResult<Money> {
        let loaders = loaders(ctx)?;
        // Independent keys: each joins its loader's batch at once instead of one after another.
        let (outcome, siblings, contract) = futures_util::try_join!(
            loaders.outcome.load_one(self.0.outcome_id),
            loaders.tasks.load_one(self.0.outcome_id),
            loaders.contracts.load_one(self.0.contract_id),
        )?;
        let outcome = outcome.ok_or(AppError::NotFound("outcome"))?;
        let currency = contract.map(|c| c.currency).unwrap_or_default();
        let cents = domain::money::task_share(outcome.amount_cents, &self.0, &siblings.unwrap_or_default());
        Ok(Money::new(cents, currency))
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
    /// Keys of the outcome criteria this task is held to; null for a task from before tasks
    /// named their criteria (it is held to all of them).
    async fn criteria(&self) -> GqlResult<Option<Vec<String>>> {
        Ok(domain::outcome::task_keys(&self.0)?)
    }
    /// Failed agent attempts (failed checks or rejections) after which it goes to people; 0 never.
    async fn escalate_after(&self) -> i32 {
        self.0.escalate_after
    }
    /// Agent attempts that failed their checks or were rejected.
    async fn agent_failures(&self) -> i32 {
        self.0.agent_failures
    }
    /// When it was escalated to people.
    async fn escalated_at(&self) -> Option<DateTime<Utc>> {
        self.0.escalated_at
    }
    /// Its mode before escalation.
    async fn escalated_from(&self) -> Option<TaskMode> {
        self.0.escalated_from.map(Into::into)
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
        Ok(rows.into_iter().filter(|a| self.1.sees_assignment(a)).map(Assignment).collect())
    }
    /// Who holds it (or is offered it).
    async fn assignee(&self, ctx: &Context<'_>) -> GqlResult<Option<Profile>> {
        let Some(id) = self.0.assignee_profile_id else { return Ok(None) };
        Ok(loaders(ctx)?.profiles.load_one(id).await?.map(Profile))
    }
    /// Ranked candidates with the parts of their score (the client only): agents for
    /// AUTOMATED, people for JUDGMENT, both for ANY.
    async fn candidates(&self, ctx: &Context<'_>) -> GqlResult<Vec<TaskCandidate>> {
        let state = state(ctx)?;
        let ranked =
            domain::task::candidates(&state.db, viewer(ctx), self.0.id, state.config.work.max_open_tasks).await?;
        Ok(ranked
            .into_iter()
            .map(|c| TaskCandidate {
                id: super::common::derived_id("TaskCandidate", &[self.0.id, c.profile.id]),
                profile: Profile(c.profile),
                score: rounded(c.score.total),
                skill_match: rounded(c.score.skill_match),
                reputation: rounded(c.score.reputation),
                availability: rounded(c.score.availability),
                rate_fit: rounded(c.score.rate_fit),
                community_standing: rounded(c.score.community_standing),
                open_tasks: c.open_tasks,
            })
            .collect())
    }
}

/// A candidate for a task and why it ranks where it does (every part is between 0 and 1,
/// rounded to 4 decimal places; the ranking uses the exact values).
#[derive(SimpleObject)]
pub struct TaskCandidate {
    /// Stable id: the task and the candidate.
    pub id: ID,
    /// The person or agent.
    pub profile: Profile,
    /// Weighted total: 0.45 skill match + 0.2 reputation + 0.15 availability + 0.1 rate fit
    /// + 0.1 community standing.
    pub score: f64,
    /// Average of level / 5 over the required skills.
    pub skill_match: f64,
    /// Reputation / 5.
    pub reputation: f64,
    /// 1 / (1 + open tasks).
    pub availability: f64,
    /// 1 when the rate fits the task's share of the outcome, less when above it, 0.5 unknown.
    pub rate_fit: f64,
    /// Standing in communities tagged with the required skills: 0.5 for a member, up to 1
    /// with ten posts there, averaged over the skills.
    pub community_standing: f64,
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
    /// Stable id: the submission and the check's place in it.
    pub id: ID,
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
    async fn metrics(&self) -> GqlResult<Vec<MetricValue>> {
        let metrics: Vec<Metric> = domain::decode(&self.0.metrics, "submission metrics")?;
        Ok(metrics.into_iter().map(|m| MetricValue { name: m.name, value: m.value }).collect())
    }
    /// Each metric criterion of the outcome, checked.
    async fn checks(&self) -> GqlResult<Vec<MetricCheck>> {
        let checks: Vec<Check> = domain::decode(&self.0.checks, "submission checks")?;
        Ok(checks
            .into_iter()
            .enumerate()
            .map(|(i, c)| MetricCheck {
                id: ID(format!("MetricCheck:{}:{i}", self.0.id)),
                description: c.description,
                metric: c.metric,
                comparator: c.comparator,
                target: c.target,
                value: c.value,
                passed: c.passed,
            })
            .collect())
    }
    /// Whether every metric criterion passed; null when the outcome has none.
    async fn checks_passed(&self) -> Option<bool> {
        self.0.checks_passed
    }
    /// How agent work was produced (model, tool and version, run, digests, cost).
    async fn provenance(&self) -> GqlResult<Option<SubmissionProvenance>> {
        let Some(value) = &self.0.provenance else { return Ok(None) };
        let p: domain::task::provenance::Provenance = domain::decode(value, "submission provenance")?;
        Ok(Some(SubmissionProvenance {
            model: p.model,
            tool: p.tool,
            tool_version: p.tool_version,
            run_id: p.run_id,
            input_digest: p.input_digest,
            output_digest: p.output_digest,
            cost_cents: p.cost_cents,
            cost_currency: p.cost_currency,
        }))
    }
    /// For a PLAN task: the tasks the planner proposes.
    async fn plan(&self) -> GqlResult<Option<Vec<super::playbook::TaskDraft>>> {
        let Some(value) = &self.0.plan else { return Ok(None) };
        let drafts: Vec<domain::playbook::Draft> = domain::decode(value, "submitted plan")?;
        Ok(Some(drafts.into_iter().map(super::playbook::TaskDraft::of).collect::<GqlResult<_>>()?))
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

/// How agent work was produced.
#[derive(SimpleObject)]
pub struct SubmissionProvenance {
    /// The model.
    pub model: String,
    /// The tool or pipeline.
    pub tool: String,
    /// The tool's version.
    pub tool_version: String,
    /// The run's id.
    pub run_id: String,
    /// Digest of the input.
    pub input_digest: String,
    /// Digest of the output.
    pub output_digest: String,
    /// Cost in minor units.
    pub cost_cents: i64,
    /// The cost's currency.
    pub cost_currency: Option<String>,
}

/// One entry of a task's assignment history.
pub struct Assignment(pub task_assignment::Model);

#[Object]
impl Assignment {
    /// Id of this assignment (a task may have several over its life).
    async fn id(&self) -> ID {
        ID(self.0.id.to_string())
    }
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
