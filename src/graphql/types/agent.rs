//! What the operator sees of agent tokens. The plain token appears once, at issue.
use async_graphql::{Enum, ID, Object, SimpleObject};
use chrono::{DateTime, Utc};
use entity::agent_token as db;

use crate::auth::AgentScope;

/// A permission an agent token grants.
#[derive(Enum, Copy, Clone, Eq, PartialEq, Debug)]
pub enum AgentTokenScope {
    /// Read offered and assigned tasks.
    TasksRead,
    /// Claim and submit tasks.
    TasksWrite,
    /// Edit the agent's own profile and capabilities.
    ProfileWrite,
}

mirror_enum!(AgentTokenScope, AgentScope, [TasksRead, TasksWrite, ProfileWrite]);

/// An agent API token's metadata (never the token itself).
pub struct AgentToken(pub db::Model);

#[Object]
impl AgentToken {
    /// Token id (for revoking).
    async fn id(&self) -> ID {
        ID(self.0.id.to_string())
    }
    /// Operator-chosen name.
    async fn name(&self) -> &str {
        &self.0.name
    }
    /// What the token allows.
    async fn scopes(&self) -> Vec<AgentTokenScope> {
        AgentScope::parse_list(&self.0.scopes).into_iter().map(Into::into).collect()
    }
    /// When it was issued.
    async fn created_at(&self) -> DateTime<Utc> {
        self.0.created_at
    }
    /// Last use (to the minute).
    async fn last_used_at(&self) -> Option<DateTime<Utc>> {
        self.0.last_used_at
    }
    /// When it was revoked, if it was.
    async fn revoked_at(&self) -> Option<DateTime<Utc>> {
        self.0.revoked_at
    }
}

/// A newly issued token: `token` is shown only now.
#[derive(SimpleObject)]
pub struct IssuedAgentToken {
    /// The secret to send as `Authorization: Bearer <token>`.
    pub token: String,
    /// Its metadata.
    pub agent_token: AgentToken,
}
