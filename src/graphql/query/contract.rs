//! Reading contracts.
use crate::graphql::types::common::List;
use async_graphql::{Context, ID, Object};

use crate::{
    domain::{self, page::PageRequest},
    graphql::{
        GqlResult, state,
        types::{
            common::connection,
            contract::Contract,
            parse_id,
            playbook::Playbook,
            task::{Task, TaskStatus},
        },
        viewer,
    },
};

/// Contract queries.
#[derive(Default)]
pub struct ContractQuery;

#[Object]
impl ContractQuery {
    /// A contract you are on (client side, or assignee of one of its tasks); NOT_FOUND otherwise.
    async fn contract(&self, ctx: &Context<'_>, id: ID) -> GqlResult<Contract> {
        let (contract, access) = domain::contract::visible(&state(ctx)?.db, viewer(ctx), parse_id(&id, "id")?).await?;
        Ok(Contract(contract, access))
    }

    /// Contracts you are on, newest first.
    #[graphql(complexity = "crate::graphql::page_cost(first, child_complexity)")]
    async fn my_contracts(
        &self,
        ctx: &Context<'_>,
        first: Option<i32>,
        after: Option<String>,
    ) -> GqlResult<List<Contract>> {
        let state = state(ctx)?;
        let page = PageRequest::new(first, after.as_deref(), &state.config.limits)?;
        let page = domain::contract::mine(&state.db, viewer(ctx), page).await?;
        Ok(connection(page, |(c, access)| Contract(c, access)))
    }

    /// Playbooks you may decompose outcomes with: the platform's and, given an organization
    /// you belong to, its own (first). NOT_FOUND for an organization you are not in.
    async fn playbooks(&self, ctx: &Context<'_>, organization_id: Option<ID>) -> GqlResult<Vec<Playbook>> {
        let org = organization_id.map(|id| parse_id(&id, "organizationId")).transpose()?;
        let found = domain::playbook::list(&state(ctx)?.db, viewer(ctx), org).await?;
        Ok(found.into_iter().map(Playbook).collect())
    }

    /// A task: the client side sees any of its contract's tasks; a person or agent the tasks
    /// offered to or held by it. NOT_FOUND otherwise.
    async fn task(&self, ctx: &Context<'_>, id: ID) -> GqlResult<Task> {
        let (task, access) = domain::task::visible(&state(ctx)?.db, viewer(ctx), parse_id(&id, "id")?).await?;
        Ok(Task(task, access))
    }

    /// Tasks offered to or held by you, newest first (default: OFFERED, ASSIGNED, REJECTED,
    /// SUBMITTED). Agents need the `tasks:read` scope.
    #[graphql(complexity = "crate::graphql::page_cost(first, child_complexity)")]
    async fn my_tasks(
        &self,
        ctx: &Context<'_>,
        statuses: Option<Vec<TaskStatus>>,
        first: Option<i32>,
        after: Option<String>,
    ) -> GqlResult<List<Task>> {
        let state = state(ctx)?;
        let page = PageRequest::new(first, after.as_deref(), &state.config.limits)?;
        let statuses = statuses.map(|s| s.into_iter().map(Into::into).collect());
        let (page, access) = domain::task::mine(&state.db, viewer(ctx), statuses, page).await?;
        Ok(connection(page, |t| Task(t, access)))
    }

    /// OPEN tasks of ACTIVE contracts you may claim, newest first: the mode fits you (agents:
    /// AUTOMATED/ANY, people: JUDGMENT/ANY) and you hold every required skill.
    #[graphql(complexity = "crate::graphql::page_cost(first, child_complexity)")]
    async fn claimable_tasks(
        &self,
        ctx: &Context<'_>,
        first: Option<i32>,
        after: Option<String>,
    ) -> GqlResult<List<Task>> {
        let state = state(ctx)?;
        let page = PageRequest::new(first, after.as_deref(), &state.config.limits)?;
        let (page, access) = domain::task::claimable(&state.db, viewer(ctx), page).await?;
        Ok(connection(page, |t| Task(t, access)))
    }
}
