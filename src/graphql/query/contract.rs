//! Reading contracts.
use async_graphql::{Context, ID, Object, connection::Connection};

use crate::{
    domain::{self, page::PageRequest},
    graphql::{
        GqlResult, state,
        types::{common::connection, contract::Contract, parse_id},
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
    async fn my_contracts(
        &self,
        ctx: &Context<'_>,
        first: Option<i32>,
        after: Option<String>,
    ) -> GqlResult<Connection<String, Contract>> {
        let state = state(ctx)?;
        let page = PageRequest::new(first, after.as_deref(), &state.config.limits)?;
        let page = domain::contract::mine(&state.db, viewer(ctx), page).await?;
        let rows: Vec<_> = page.items.iter().map(|(_, c)| c.clone()).collect();
        let access = domain::contract::access_many(&state.db, viewer(ctx), &rows).await?;
        Ok(connection(page, |c| {
            let a = access.get(&c.id).copied().unwrap_or(domain::contract::Access::Assignee(uuid::Uuid::nil()));
            Contract(c, a)
        }))
    }
}
