//! Progress views: a contract's and an organization's dashboards, and a worker's desk.
use crate::graphql::types::common::List;
use async_graphql::{Context, Object, SimpleObject};
use sea_orm::ConnectionTrait;
use uuid::Uuid;

use super::{
    common::{Money, connection, rounded},
    contract::ContractStatus,
    task::{Task, TaskStatus},
};
use crate::{
    domain::{contract::Access, dashboard, page::PageRequest},
    graphql::{GqlResult, state, types::activity::ActivityEvent},
};

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
    /// Amounts of accepted outcomes.
    pub accepted: Money,
    /// Budget not yet promised to an outcome.
    pub remaining: Money,
    /// Paid into escrow.
    pub funded: Money,
    /// Released from escrow to workers (and fees).
    pub released: Money,
    /// Refunded to the client.
    pub refunded: Money,
    /// What escrow holds now.
    pub escrow: Money,
}

impl From<&dashboard::BudgetLine> for BudgetSummary {
    fn from(l: &dashboard::BudgetLine) -> Self {
        let money = |amount_cents| Money::new(amount_cents, l.currency.clone());
        Self {
            budget: money(l.budget_cents),
            committed: money(l.committed_cents),
            accepted: money(l.accepted_cents),
            remaining: money(l.remaining_cents),
            funded: money(l.funded_cents),
            released: money(l.released_cents),
            refunded: money(l.refunded_cents),
            escrow: money(l.escrow_cents),
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
        self.0.agent_share.map(rounded)
    }
    /// Share (0–1) of accepted tasks submitted by their due date.
    async fn on_time_rate(&self) -> Option<f64> {
        self.0.on_time_rate.map(rounded)
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

impl ContractDashboard {
    /// The dashboard of a contract read with `access` (the client side only).
    pub async fn load(db: &impl ConnectionTrait, access: Access, contract_id: Uuid) -> GqlResult<Self> {
        let summary = dashboard::for_contract(db, access, contract_id).await?;
        Ok(Self { contract_id, access, summary })
    }
}

#[Object]
impl ContractDashboard {
    /// Stable id of this contract's dashboard.
    async fn id(&self) -> async_graphql::ID {
        super::common::derived_id("ContractDashboard", &[self.contract_id])
    }
    /// Outcomes, tasks, agent/human share, on-time rate.
    async fn summary(&self) -> WorkSummary {
        WorkSummary(self.summary.clone())
    }
    /// Budget committed to outcomes, accepted and remaining.
    async fn budget(&self) -> Option<BudgetSummary> {
        self.summary.budget.first().map(BudgetSummary::from)
    }
    /// Everything that happened on the contract, newest first.
    #[graphql(complexity = "crate::graphql::page_cost(first, child_complexity)")]
    async fn activity(
        &self,
        ctx: &Context<'_>,
        first: Option<i32>,
        after: Option<String>,
    ) -> GqlResult<List<ActivityEvent>> {
        let state = state(ctx)?;
        let page = PageRequest::new(first, after.as_deref(), &state.config.limits)?;
        let page = dashboard::activity_feed(&state.db, self.access, self.contract_id, page).await?;
        Ok(connection(page, ActivityEvent::from))
    }
}

/// A worker's desk.
pub struct WorkDashboard(pub dashboard::WorkDesk);

#[Object]
impl WorkDashboard {
    /// Tasks I hold: assigned, in rework, or awaiting review (at most 50, soonest due first).
    async fn active_tasks(&self) -> Vec<Task> {
        self.0.active_tasks.iter().cloned().map(|t| Task(t, self.0.access)).collect()
    }
    /// Offers awaiting my answer (at most 50).
    async fn offers(&self) -> Vec<Task> {
        self.0.offers.iter().cloned().map(|t| Task(t, self.0.access)).collect()
    }
    /// Accepted over reviewed submissions; null before any review.
    async fn acceptance_rate(&self) -> Option<f64> {
        self.0.acceptance_rate.map(rounded)
    }
    /// Net amounts released for my work, by currency (for an agent: what its work earned its
    /// operator).
    async fn earnings(&self) -> Vec<Money> {
        self.0.earnings.iter().map(|(currency, cents)| Money::new(*cents, currency.clone())).collect()
    }
    /// My reputation score (0–5; its parts are on `profile.reputation`).
    async fn reputation(&self) -> f64 {
        rounded(self.0.reputation)
    }
}
