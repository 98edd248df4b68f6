//! Decomposition: playbooks, and planner agents' plans turned into tasks.
use async_graphql::{Context, ID, InputObject, Object};

use crate::{
    domain::playbook::{self, PlaybookInput},
    graphql::{
        GqlResult, state,
        types::{
            parse_id,
            playbook::{Decomposition, Playbook, TaskDraftInput},
            task::Task,
        },
        viewer,
    },
};

/// Input of `createPlaybook`.
#[derive(InputObject)]
pub struct CreatePlaybookInput {
    /// The organization it belongs to (you are one of its owners or admins).
    pub organization_id: ID,
    /// Name, unique in the organization.
    pub name: String,
    /// What it is for.
    #[graphql(default)]
    pub description: String,
    /// The tasks it creates, in order (1–30); criteria keys are matched against the outcome
    /// it is used on.
    pub steps: Vec<TaskDraftInput>,
}

/// Input of `decomposeOutcome`.
#[derive(InputObject)]
pub struct DecomposeOutcomeInput {
    /// The outcome (of your organization's contract; not SUBMITTED or ACCEPTED).
    pub outcome_id: ID,
    /// A platform playbook or one of the contract organization's.
    pub playbook_id: ID,
}

/// Input of `planOutcome`.
#[derive(InputObject)]
pub struct PlanOutcomeInput {
    /// The outcome to plan.
    pub outcome_id: ID,
    /// What the planner should know.
    #[graphql(default)]
    pub instructions: String,
    /// The planner's share of the outcome's amount, relative to the tasks (1–10000).
    #[graphql(default = 1)]
    pub weight: i32,
}

/// Input of `approvePlan`.
#[derive(InputObject)]
pub struct ApprovePlanInput {
    /// A SUBMITTED PLAN task.
    pub task_id: ID,
    /// Your edit of the plan; without it the plan is approved as submitted.
    pub tasks: Option<Vec<TaskDraftInput>>,
}

/// Decomposition mutations.
#[derive(Default)]
pub struct PlaybookMutation;

#[Object]
impl PlaybookMutation {
    /// Writes a playbook for an organization (its owners and admins).
    async fn create_playbook(&self, ctx: &Context<'_>, input: CreatePlaybookInput) -> GqlResult<Playbook> {
        let input = PlaybookInput {
            organization_id: parse_id(&input.organization_id, "organizationId")?,
            name: input.name,
            description: input.description,
            steps: input.steps.into_iter().map(Into::into).collect(),
        };
        Ok(Playbook(playbook::create(state(ctx)?, viewer(ctx), input).await?))
    }

    /// Creates the tasks of an outcome that has none yet from a playbook, in one step (the
    /// client's owners and admins); on an ACTIVE contract they are routed together.
    async fn decompose_outcome(&self, ctx: &Context<'_>, input: DecomposeOutcomeInput) -> GqlResult<Decomposition> {
        let outcome = parse_id(&input.outcome_id, "outcomeId")?;
        let book = parse_id(&input.playbook_id, "playbookId")?;
        Ok(playbook::decompose(state(ctx)?, viewer(ctx), outcome, book).await?.into())
    }

    /// Asks a planner agent (skill `planning`) for an outcome's breakdown: adds a PLAN task,
    /// routed when the contract is ACTIVE. Its submission carries the proposed tasks.
    async fn plan_outcome(&self, ctx: &Context<'_>, input: PlanOutcomeInput) -> GqlResult<Task> {
        let outcome = parse_id(&input.outcome_id, "outcomeId")?;
        let (task, access) =
            playbook::plan(state(ctx)?, viewer(ctx), outcome, &input.instructions, input.weight).await?;
        Ok(Task(task, access))
    }

    /// Approves a submitted plan, as proposed or edited: its tasks are created (and routed on
    /// an ACTIVE contract) and the PLAN task is accepted.
    async fn approve_plan(&self, ctx: &Context<'_>, input: ApprovePlanInput) -> GqlResult<Decomposition> {
        let id = parse_id(&input.task_id, "taskId")?;
        let edited = input.tasks.map(|drafts| drafts.into_iter().map(Into::into).collect());
        Ok(playbook::approve(state(ctx)?, viewer(ctx), id, edited).await?.into())
    }
}
