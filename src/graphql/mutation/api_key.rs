//! People make and revoke API keys (signed in, never with a key).
use async_graphql::{Context, ID, InputObject, Object};
use chrono::{DateTime, Utc};

use crate::{
    domain::api_key::{self, NewApiKey},
    graphql::{
        GqlResult, state,
        types::{ApiKey, CreatedApiKey, parse_id},
        viewer,
    },
};

/// Input of `createApiKey`.
#[derive(InputObject)]
pub struct CreateApiKeyInput {
    /// A name to recognise the key by (1 to 100 characters).
    pub name: String,
    /// What it allows: `area:read` or `area:write` for the areas profile, organizations,
    /// contracts, payments, payouts, gigs, communities, notifications, webhooks (an
    /// organization's key: organizations, contracts, payments, webhooks).
    pub scopes: Vec<String>,
    /// The organization it acts for (its owners and admins make these); none for a personal
    /// key.
    pub organization_id: Option<ID>,
    /// When it stops working (in the future); never if not given.
    pub expires_at: Option<DateTime<Utc>>,
}

/// Input of `revokeApiKey`.
#[derive(InputObject)]
pub struct RevokeApiKeyInput {
    /// The key to revoke.
    pub api_key_id: ID,
}

/// API key mutations.
#[derive(Default)]
pub struct ApiKeyMutation;

#[Object]
impl ApiKeyMutation {
    /// Makes an API key acting as you (or, given an organization you own or administer, for
    /// the organization) within its scopes and never beyond your current role. The secret is
    /// shown only in this answer and stored hashed. Needs a signed-in session, not a key.
    async fn create_api_key(&self, ctx: &Context<'_>, input: CreateApiKeyInput) -> GqlResult<CreatedApiKey> {
        let organization_id = input.organization_id.as_ref().map(|id| parse_id(id, "organizationId")).transpose()?;
        let new = NewApiKey { name: input.name, scopes: input.scopes, organization_id, expires_at: input.expires_at };
        let (secret, row) = api_key::create(state(ctx)?, viewer(ctx), new).await?;
        Ok(CreatedApiKey { secret, api_key: ApiKey(row) })
    }

    /// Revokes an API key (its maker, or an owner or admin of its organization): refused from
    /// now on, and live subscriptions made with it end.
    async fn revoke_api_key(&self, ctx: &Context<'_>, input: RevokeApiKeyInput) -> GqlResult<ApiKey> {
        let id = parse_id(&input.api_key_id, "apiKeyId")?;
        Ok(ApiKey(api_key::revoke(state(ctx)?, viewer(ctx), id).await?))
    }
}
