//! `me` and the operator's view of agent tokens.
use async_graphql::{Context, ID, Object};

use crate::{
    domain,
    graphql::{
        GqlResult, state,
        types::{AgentToken, Me, parse_id},
        viewer,
    },
};

/// Queries about the caller.
#[derive(Default)]
pub struct AccountQuery;

#[Object]
impl AccountQuery {
    /// The authenticated caller (UNAUTHENTICATED without a token).
    async fn me(&self, ctx: &Context<'_>) -> GqlResult<Me> {
        let viewer = viewer(ctx);
        viewer.require_any()?;
        Ok(Me(viewer.clone()))
    }

    /// Tokens of an agent you operate, newest first.
    async fn agent_tokens(&self, ctx: &Context<'_>, agent_id: ID) -> GqlResult<Vec<AgentToken>> {
        let state = state(ctx)?;
        let agent_id = parse_id(&agent_id, "agentId")?;
        domain::agent::require_operated(&state.db, viewer(ctx), agent_id).await?;
        let tokens = domain::agent::tokens_of(&state.db, agent_id).await?;
        Ok(tokens.into_iter().map(AgentToken).collect())
    }
}
