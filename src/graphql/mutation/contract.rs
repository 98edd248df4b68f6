//! Contracts, outcomes and tasks.
use async_graphql::{Context, ID, InputObject, Object};
use chrono::{DateTime, Utc};

use crate::graphql::types::money::Cents;
use crate::{
    domain::{
        contract::{self, ContractInput},
        outcome::{self, Criterion, OutcomeInput},
        task::{self, TaskInput, lifecycle},
    },
    graphql::{
        GqlResult, state,
        types::{
            contract::{Contract, ContractAction, Outcome},
            parse_id,
            task::{Task, TaskMode},
        },
        viewer,
    },
};

/// Input of `createContract`.
#[derive(InputObject)]
pub struct CreateContractInput {
    /// Contract for this organization (you must be OWNER or ADMIN).
    pub organization_id: Option<ID>,
    /// Title.
    pub title: String,
    /// Description.
    #[graphql(default)]
    pub description: String,
    /// ISO currency.
    pub currency: String,
    /// Budget in minor units.
    pub budget_cents: Cents,
}

/// Input of `changeContractStatus`.
#[derive(InputObject)]
pub struct ChangeContractStatusInput {
    /// The contract.
    pub contract_id: ID,
    /// What to do.
    pub action: ContractAction,
    /// The paying account's key for this request: a retry with the same key returns the first
    /// result. Required to CANCEL or COMPLETE a contract whose escrow holds money (ending it
    /// refunds that money).
    pub idempotency_key: Option<String>,
}

/// An acceptance criterion.
#[derive(InputObject)]
pub struct CriterionInput {
    /// Key tasks name it by (a-z, 0-9, _ and -; unique in the outcome); `c1`, `c2`… by
    /// position when left out.
    pub key: Option<String>,
    /// What must be true.
    pub description: String,
    /// Metric name a submission reports.
    pub metric: Option<String>,
    /// >=, <=, >, < or ==.
    pub comparator: Option<String>,
    /// Target value.
    pub target: Option<f64>,
}

/// Input of `addOutcome`.
#[derive(InputObject)]
pub struct AddOutcomeInput {
    /// The contract.
    pub contract_id: ID,
    /// Title.
    pub title: String,
    /// Acceptance criteria (1–20).
    pub criteria: Vec<CriterionInput>,
    /// Amount in minor units; all outcomes together stay within the budget.
    pub amount_cents: Cents,
    /// Due date.
    pub due_at: Option<DateTime<Utc>>,
}

/// Input of `addTask`.
#[derive(InputObject)]
pub struct AddTaskInput {
    /// The outcome.
    pub outcome_id: ID,
    /// Title.
    pub title: String,
    /// Description.
    #[graphql(default)]
    pub description: String,
    /// Required skills.
    #[graphql(default)]
    pub skills: Vec<String>,
    /// Who may do it.
    pub mode: TaskMode,
    /// Share of the outcome's amount relative to sibling tasks (1–10000).
    #[graphql(default = 1)]
    pub weight: i32,
    /// Due date.
    pub due_at: Option<DateTime<Utc>>,
    /// Keys of the outcome's criteria this task is held to (its submissions are checked
    /// against them). Criteria no task carries are judged at outcome review.
    #[graphql(default)]
    pub criteria: Vec<String>,
    /// Failed agent attempts (failed checks or rejections) after which an AUTOMATED or ANY
    /// task goes to people (JUDGMENT); 0 never escalates.
    #[graphql(default = 2)]
    pub escalate_after: i32,
}

/// Contract mutations.
#[derive(Default)]
pub struct ContractMutation;

#[Object]
impl ContractMutation {
    /// Creates a DRAFT contract.
    async fn create_contract(&self, ctx: &Context<'_>, input: CreateContractInput) -> GqlResult<Contract> {
        let fields = ContractInput {
            organization_id: input.organization_id.map(|o| parse_id(&o, "organizationId")).transpose()?,
            title: input.title,
            description: input.description,
            currency: input.currency,
            budget_cents: input.budget_cents.0,
        };
        let (created, access) = contract::create(state(ctx)?, viewer(ctx), fields).await?;
        Ok(Contract(created, access))
    }

    /// Moves a contract along DRAFT → OPEN → ACTIVE → COMPLETED (or CANCELLED / DISPUTED).
    async fn change_contract_status(&self, ctx: &Context<'_>, input: ChangeContractStatusInput) -> GqlResult<Contract> {
        let id = parse_id(&input.contract_id, "contractId")?;
        let (changed, access) = lifecycle::change_contract_status(
            state(ctx)?,
            viewer(ctx),
            id,
            input.action.into(),
            input.idempotency_key.as_deref(),
        )
        .await?;
        Ok(Contract(changed, access))
    }

    /// Adds an outcome to a contract.
    async fn add_outcome(&self, ctx: &Context<'_>, input: AddOutcomeInput) -> GqlResult<Outcome> {
        let id = parse_id(&input.contract_id, "contractId")?;
        let fields = OutcomeInput {
            title: input.title,
            criteria: input
                .criteria
                .into_iter()
                .map(|c| Criterion {
                    key: c.key.unwrap_or_default(),
                    description: c.description,
                    metric: c.metric,
                    comparator: c.comparator,
                    target: c.target,
                })
                .collect(),
            amount_cents: input.amount_cents.0,
            due_at: input.due_at,
        };
        let (outcome, access) = outcome::add(state(ctx)?, viewer(ctx), id, fields).await?;
        Ok(Outcome(outcome, access))
    }

    /// Adds a task to an outcome.
    async fn add_task(&self, ctx: &Context<'_>, input: AddTaskInput) -> GqlResult<Task> {
        let id = parse_id(&input.outcome_id, "outcomeId")?;
        let fields = TaskInput {
            title: input.title,
            description: input.description,
            skills: input.skills,
            mode: input.mode.into(),
            weight: input.weight,
            due_at: input.due_at,
            criteria: input.criteria,
            escalate_after: input.escalate_after,
        };
        let (task, access) = task::add(state(ctx)?, viewer(ctx), id, fields).await?;
        Ok(Task(task, access))
    }
}
