//! Operators register agents and manage their tokens.
use async_graphql::{Context, ID, InputObject, Object};

use super::profile::SkillInput;
use crate::{
    domain::agent::{self, RegisterAgentInput as Register},
    graphql::{
        GqlResult, state,
        types::{AgentToken, AgentTokenScope, IssuedAgentToken, Profile, parse_id},
        viewer,
    },
};

/// Input of `registerAgent`.
#[derive(InputObject)]
pub struct RegisterAgentInput {
    /// Unique handle of the agent.
    pub handle: String,
    /// Name shown on its profile.
    pub display_name: String,
    /// One-line description.
    pub headline: Option<String>,
    /// What it can do.
    #[graphql(default)]
    pub capabilities: Vec<SkillInput>,
}

/// Input of `setAgentCapabilities`.
#[derive(InputObject)]
pub struct SetAgentCapabilitiesInput {
    /// The agent.
    pub agent_id: ID,
    /// The complete new capability list.
    pub capabilities: Vec<SkillInput>,
}

/// Input of `issueAgentToken`.
#[derive(InputObject)]
pub struct IssueAgentTokenInput {
    /// The agent.
    pub agent_id: ID,
    /// A name to recognise the token by.
    pub name: String,
    /// What the token allows.
    pub scopes: Vec<AgentTokenScope>,
}

/// Input of `revokeAgentToken`.
#[derive(InputObject)]
pub struct RevokeAgentTokenInput {
    /// The token to revoke.
    pub token_id: ID,
}

/// Agent mutations (operators only).
#[derive(Default)]
pub struct AgentMutation;

#[Object]
impl AgentMutation {
    /// Registers an agent you operate.
    async fn register_agent(&self, ctx: &Context<'_>, input: RegisterAgentInput) -> GqlResult<Profile> {
        let input = Register {
            handle: input.handle,
            display_name: input.display_name,
            headline: input.headline,
            capabilities: input.capabilities.into_iter().map(Into::into).collect(),
        };
        Ok(Profile(agent::register(state(ctx)?, viewer(ctx), input).await?))
    }

    /// Replaces the capabilities of an agent you operate.
    async fn set_agent_capabilities(&self, ctx: &Context<'_>, input: SetAgentCapabilitiesInput) -> GqlResult<Profile> {
        let agent_id = parse_id(&input.agent_id, "agentId")?;
        let caps = input.capabilities.into_iter().map(Into::into).collect();
        Ok(Profile(agent::set_capabilities(state(ctx)?, viewer(ctx), agent_id, caps).await?))
    }

    /// Issues an API token for an agent you operate; the token is shown only in this answer.
    async fn issue_agent_token(&self, ctx: &Context<'_>, input: IssueAgentTokenInput) -> GqlResult<IssuedAgentToken> {
        let agent_id = parse_id(&input.agent_id, "agentId")?;
        let scopes = input.scopes.into_iter().map(Into::into).collect();
        let (token, row) = agent::issue_token(state(ctx)?, viewer(ctx), agent_id, &input.name, scopes).await?;
        Ok(IssuedAgentToken { token, agent_token: AgentToken(row) })
    }

    /// Revokes a token of an agent you operate.
    async fn revoke_agent_token(&self, ctx: &Context<'_>, input: RevokeAgentTokenInput) -> GqlResult<AgentToken> {
        let token_id = parse_id(&input.token_id, "tokenId")?;
        Ok(AgentToken(agent::revoke_token(state(ctx)?, viewer(ctx), token_id).await?))
    }
}
