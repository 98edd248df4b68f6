//! Task work: routing, offers, claims, reassignment, submission and review.
use async_graphql::{Context, ID, InputObject, Object};

use crate::{
    domain::{
        outcome::checks::Metric,
        task::{
            provenance::Provenance,
            review::{self, Deliverable},
            work,
        },
    },
    graphql::{
        GqlResult, state,
        types::{
            contract::Outcome,
            parse_id,
            playbook::TaskDraftInput,
            task::{Review, Task},
        },
        viewer,
    },
};

/// A task to act on.
#[derive(InputObject)]
pub struct TaskIdInput {
    /// The task.
    pub task_id: ID,
}

/// Input of `reassignTask`.
#[derive(InputObject)]
pub struct ReassignTaskInput {
    /// The task.
    pub task_id: ID,
    /// Give it to this person or agent; without it the next best candidate gets an offer.
    pub profile_id: Option<ID>,
}

/// A reported metric.
#[derive(InputObject)]
pub struct MetricInput {
    /// Name, matching a criterion's metric.
    pub name: String,
    /// Value.
    pub value: f64,
}

/// What is delivered: a text, a URL or both, and metric values.
#[derive(InputObject)]
pub struct DeliverableInput {
    /// Free text.
    pub text: Option<String>,
    /// Where the result lives (http or https).
    pub url: Option<String>,
    /// Metric values, checked against the criteria the task carries.
    #[graphql(default)]
    pub metrics: Vec<MetricInput>,
    /// How agent work was produced; required for AUTOMATED tasks submitted with an agent token.
    pub provenance: Option<ProvenanceInput>,
    /// For a PLAN task (and only one): the tasks proposed, validated against the outcome.
    pub plan: Option<Vec<TaskDraftInput>>,
}

/// How agent work was produced.
#[derive(InputObject)]
pub struct ProvenanceInput {
    /// The model.
    pub model: String,
    /// The tool or pipeline that ran it.
    pub tool: String,
    /// The tool's version.
    pub tool_version: String,
    /// The run's id in the operator's system.
    pub run_id: String,
    /// Digest of the input, `algorithm:hex` (e.g. `sha256:` and 64 hex digits).
    pub input_digest: String,
    /// Digest of the output, `algorithm:hex`.
    pub output_digest: String,
    /// What the run cost, in minor units.
    pub cost_cents: i64,
    /// The cost's currency (ISO 4217).
    pub cost_currency: Option<String>,
}

/// Input of `tickCriterion`.
#[derive(InputObject)]
pub struct TickCriterionInput {
    /// The outcome.
    pub outcome_id: ID,
    /// The checkbox criterion's key.
    pub key: String,
    /// False unticks it.
    #[graphql(default = true)]
    pub ticked: bool,
}

/// Input of `submitTask`.
#[derive(InputObject)]
pub struct SubmitTaskInput {
    /// The task.
    pub task_id: ID,
    /// The deliverable.
    pub deliverable: DeliverableInput,
}

/// Input of `rejectTask`.
#[derive(InputObject)]
pub struct RejectTaskInput {
    /// The task.
    pub task_id: ID,
    /// What to change (required).
    pub feedback: String,
}

/// Input of `acceptOutcome`.
#[derive(InputObject)]
pub struct OutcomeIdInput {
    /// A SUBMITTED outcome.
    pub outcome_id: ID,
    /// The paying account's key for this request (acceptance moves money): the same key and
    /// outcome from anyone acting for the contract's client returns the first result.
    pub idempotency_key: String,
}

/// Input of `rejectOutcome`.
#[derive(InputObject)]
pub struct RejectOutcomeInput {
    /// The outcome.
    pub outcome_id: ID,
    /// What to change (required).
    pub feedback: String,
}

/// Input of `reviewTask`.
#[derive(InputObject)]
pub struct ReviewTaskInput {
    /// An ACCEPTED task.
    pub task_id: ID,
    /// 1–5.
    pub rating: i32,
    /// Words.
    #[graphql(default)]
    pub text: String,
}

/// Task mutations.
#[derive(Default)]
pub struct TaskMutation;

#[Object]
impl TaskMutation {
    /// Offers an OPEN task to its best candidate: agents accept at once, people get an offer
    /// with a time limit (the client's owners and admins; ACTIVE contracts).
    async fn route_task(&self, ctx: &Context<'_>, input: TaskIdInput) -> GqlResult<Task> {
        let (task, access) = work::route(state(ctx)?, viewer(ctx), parse_id(&input.task_id, "taskId")?).await?;
        Ok(Task(task, access))
    }

    /// Accepts an offer made to you.
    async fn accept_task_offer(&self, ctx: &Context<'_>, input: TaskIdInput) -> GqlResult<Task> {
        let (task, access) = work::accept_offer(state(ctx)?, viewer(ctx), parse_id(&input.task_id, "taskId")?).await?;
        Ok(Task(task, access))
    }

    /// Declines an offer made to you; the next candidate gets it.
    async fn decline_task_offer(&self, ctx: &Context<'_>, input: TaskIdInput) -> GqlResult<Task> {
        let (task, access) = work::decline_offer(state(ctx)?, viewer(ctx), parse_id(&input.task_id, "taskId")?).await?;
        Ok(Task(task, access))
    }

    /// Claims an OPEN task you qualify for (agents: AUTOMATED or ANY tasks matching their
    /// capabilities; people: JUDGMENT or ANY tasks matching their skills).
    async fn claim_task(&self, ctx: &Context<'_>, input: TaskIdInput) -> GqlResult<Task> {
        let (task, access) = work::claim(state(ctx)?, viewer(ctx), parse_id(&input.task_id, "taskId")?).await?;
        Ok(Task(task, access))
    }

    /// Ends the current assignment or offer and gives the task to a chosen profile or the
    /// next best candidate (the client's owners and admins).
    async fn reassign_task(&self, ctx: &Context<'_>, input: ReassignTaskInput) -> GqlResult<Task> {
        let to = input.profile_id.map(|p| parse_id(&p, "profileId")).transpose()?;
        let (task, access) = work::reassign(state(ctx)?, viewer(ctx), parse_id(&input.task_id, "taskId")?, to).await?;
        Ok(Task(task, access))
    }

    /// Delivers your task; metrics are checked against the outcome's criteria.
    async fn submit_task(&self, ctx: &Context<'_>, input: SubmitTaskInput) -> GqlResult<Task> {
        let deliverable = Deliverable {
            text: input.deliverable.text,
            url: input.deliverable.url,
            metrics: input.deliverable.metrics.into_iter().map(|m| Metric { name: m.name, value: m.value }).collect(),
            provenance: input.deliverable.provenance.map(|p| Provenance {
                model: p.model,
                tool: p.tool,
                tool_version: p.tool_version,
                run_id: p.run_id,
                input_digest: p.input_digest,
                output_digest: p.output_digest,
                cost_cents: p.cost_cents,
                cost_currency: p.cost_currency,
            }),
            plan: input.deliverable.plan.map(|drafts| drafts.into_iter().map(Into::into).collect()),
        };
        let (task, _, access) =
            review::submit(state(ctx)?, viewer(ctx), parse_id(&input.task_id, "taskId")?, deliverable).await?;
        Ok(Task(task, access))
    }

    /// Accepts a submitted task (the client's owners and admins).
    async fn accept_task(&self, ctx: &Context<'_>, input: TaskIdInput) -> GqlResult<Task> {
        let (task, access) = review::accept(state(ctx)?, viewer(ctx), parse_id(&input.task_id, "taskId")?).await?;
        Ok(Task(task, access))
    }

    /// Sends a submitted task back with feedback; the second rejection re-routes it.
    async fn reject_task(&self, ctx: &Context<'_>, input: RejectTaskInput) -> GqlResult<Task> {
        let id = parse_id(&input.task_id, "taskId")?;
        let (task, access) = review::reject(state(ctx)?, viewer(ctx), id, &input.feedback).await?;
        Ok(Task(task, access))
    }

    /// Accepts a SUBMITTED outcome (all its tasks accepted) on an ACTIVE contract and, in the
    /// same transaction, releases its amount from escrow to the workers (fee taken) as PENDING
    /// payouts.
    async fn accept_outcome(&self, ctx: &Context<'_>, input: OutcomeIdInput) -> GqlResult<Outcome> {
        let (outcome, access) = crate::domain::outcome::acceptance::accept(
            state(ctx)?,
            viewer(ctx),
            parse_id(&input.outcome_id, "outcomeId")?,
            &input.idempotency_key,
        )
        .await?;
        Ok(Outcome(outcome, access))
    }

    /// Ticks (or unticks) a checkbox criterion of an outcome: one without a metric that no task
    /// carries (the client's owners and admins). Acceptance waits for every checkbox.
    async fn tick_criterion(&self, ctx: &Context<'_>, input: TickCriterionInput) -> GqlResult<Outcome> {
        let id = parse_id(&input.outcome_id, "outcomeId")?;
        let (outcome, access) =
            crate::domain::outcome::tick(state(ctx)?, viewer(ctx), id, input.key.trim(), input.ticked).await?;
        Ok(Outcome(outcome, access))
    }

    /// Sends a SUBMITTED outcome back with feedback; its tasks return to their assignees.
    async fn reject_outcome(&self, ctx: &Context<'_>, input: RejectOutcomeInput) -> GqlResult<Outcome> {
        let id = parse_id(&input.outcome_id, "outcomeId")?;
        let (outcome, access) = review::reject_outcome(state(ctx)?, viewer(ctx), id, &input.feedback).await?;
        Ok(Outcome(outcome, access))
    }

    /// Rates accepted work 1–5 (once per task); feeds the worker's reputation.
    async fn review_task(&self, ctx: &Context<'_>, input: ReviewTaskInput) -> GqlResult<Review> {
        let id = parse_id(&input.task_id, "taskId")?;
        let review = review::review_task(state(ctx)?, viewer(ctx), id, input.rating, &input.text).await?;
        Ok(Review(review))
    }
}
