//! What the viewer sees of contracts and outcomes. Tasks are in `task`, progress in `dashboard`.
use async_graphql::{Context, Enum, ID, Object, SimpleObject};
use chrono::{DateTime, Utc};
use entity::{contract as db, outcome as outcome_db};

use super::{common::Money, dashboard::ContractDashboard, organization::Organization, profile::Profile, task::Task};
use crate::{
    domain::{contract::Access, outcome::criteria_of},
    error::AppError,
    graphql::{GqlResult, loaders, state},
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

mirror_enum!(ContractStatus, db::ContractStatus, [Draft, Open, Active, Completed, Cancelled, Disputed]);
mirror_enum!(OutcomeStatus, outcome_db::OutcomeStatus, [Pending, InProgress, Submitted, Accepted, Rejected]);

/// Status changes a client makes.
#[derive(Enum, Copy, Clone, Eq, PartialEq, Debug)]
pub enum ContractAction {
    /// DRAFT → OPEN.
    Open,
    /// OPEN → ACTIVE once escrow covers every unpaid outcome (see `fundContract`); every OPEN
    /// task is routed.
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
    /// Stable id: the outcome and the criterion's place in it.
    pub id: ID,
    /// Key tasks name it by (`addTask(criteria: [...])`).
    pub key: String,
    /// When a client-side person ticked it (checkbox criteria: no metric, carried by no task).
    pub ticked_at: Option<DateTime<Utc>>,
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
    /// Budget.
    async fn budget(&self) -> Money {
        Money::new(self.0.budget_cents, self.0.currency.clone())
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
        if self.1.is_client() {
            return Ok(outcomes.into_iter().map(|o| Outcome(o, self.1)).collect());
        }
        let tasks = loaders.tasks.load_many(outcomes.iter().map(|o| o.id)).await?;
        Ok(outcomes
            .into_iter()
            .filter(|o| self.1.sees_outcome(tasks.get(&o.id).map(Vec::as_slice).unwrap_or_default()))
            .map(|o| Outcome(o, self.1))
            .collect())
    }
    /// When it was created.
    async fn created_at(&self) -> DateTime<Utc> {
        self.0.created_at
    }
    /// What escrow received, released, refunded and holds (the client side only).
    async fn escrow(&self, ctx: &Context<'_>) -> GqlResult<super::ledger::Escrow> {
        crate::domain::ledger::reading::require_escrow_access(self.1)?;
        let totals = loaders(ctx)?.escrow.load_one(self.0.id).await?.unwrap_or_default();
        Ok(super::ledger::Escrow::new(totals, &self.0.currency))
    }
    /// Progress, money and activity (the client side only).
    async fn dashboard(&self, ctx: &Context<'_>) -> GqlResult<ContractDashboard> {
        ContractDashboard::load(&state(ctx)?.db, self.1, self.0.id).await
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
    async fn criteria(&self) -> GqlResult<Vec<Criterion>> {
        let ticks = crate::domain::outcome::ticks_of(&self.0)?;
        Ok(criteria_of(&self.0)?
            .into_iter()
            .enumerate()
            .map(|(i, c)| Criterion {
                id: ID(format!("Criterion:{}:{i}", self.0.id)),
                ticked_at: ticks.iter().find(|t| t.key == c.key).map(|t| t.at),
                key: c.key,
                description: c.description,
                metric: c.metric,
                comparator: c.comparator,
                target: c.target,
            })
            .collect())
    }
    /// Amount paid when accepted.
    async fn amount(&self, ctx: &Context<'_>) -> GqlResult<Money> {
        let contract_currency =
            loaders(ctx)?.contracts.load_one(self.0.contract_id).await?.map(|c| c.currency).unwrap_or_default();
        Ok(Money::new(self.0.amount_cents, contract_currency))
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
    /// Its dispute, if one was opened.
    async fn dispute(&self, ctx: &Context<'_>) -> GqlResult<Option<super::ledger::Dispute>> {
        Ok(loaders(ctx)?.disputes.load_one(self.0.id).await?.map(super::ledger::Dispute))
    }
    /// Tasks, oldest first (assignees see only their own).
    async fn tasks(&self, ctx: &Context<'_>) -> GqlResult<Vec<Task>> {
        let tasks = loaders(ctx)?.tasks.load_one(self.0.id).await?.unwrap_or_default();
        Ok(tasks.into_iter().filter(|t| self.1.sees_task(t)).map(|t| Task(t, self.1)).collect())
    }
}
