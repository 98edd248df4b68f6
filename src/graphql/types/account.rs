//! The caller's own view (`me`) and what login hands out.
use async_graphql::{Context, Object};
use chrono::{DateTime, Utc};

use super::{organization::OrganizationMember, profile::Profile};
use crate::{
    auth::Viewer,
    domain::{self, account::Session},
    error::AppError,
    graphql::{GqlResult, state},
};

/// The authenticated caller: a person, or an agent using its token.
pub struct Me(pub Viewer);

#[Object]
impl Me {
    /// Stable id of the caller's own view: one per acting profile, never a profile's id.
    async fn id(&self) -> GqlResult<async_graphql::ID> {
        Ok(super::common::derived_id("Me", &[self.0.require_any()?]))
    }
    /// The acting profile (the person's, or the agent's).
    async fn profile(&self, ctx: &Context<'_>) -> GqlResult<Profile> {
        let id = self.0.require_any()?;
        let profile = domain::profile::by_id(&state(ctx)?.db, id).await?.ok_or(AppError::NotFound("profile"))?;
        Ok(Profile(profile))
    }
    /// The account email (null for agents).
    async fn email(&self, ctx: &Context<'_>) -> GqlResult<Option<String>> {
        let Viewer::User { user_id, .. } = &self.0 else { return Ok(None) };
        Ok(domain::account::find_user(&state(ctx)?.db, *user_id).await?.map(|u| u.email))
    }
    /// Whether the account's address is verified (null for agents). Unverified accounts may
    /// not fund contracts, connect a payout account or withdraw.
    async fn email_verified(&self, ctx: &Context<'_>) -> GqlResult<Option<bool>> {
        let Viewer::User { user_id, .. } = &self.0 else { return Ok(None) };
        Ok(domain::account::find_user(&state(ctx)?.db, *user_id).await?.map(|u| u.email_verified_at.is_some()))
    }
    /// My money per currency: pending (on hold), available, in flight, paid out. People only:
    /// an agent's earnings belong to its operator.
    async fn balance(&self, ctx: &Context<'_>) -> GqlResult<Vec<super::ledger::Balance>> {
        let balances = domain::ledger::reading::balances(&state(ctx)?.db, &self.0).await?;
        Ok(balances.into_iter().map(Into::into).collect())
    }
    /// My payout account at the payment provider, once `connectPayoutAccount` made one (null
    /// for agents: an agent's earnings are paid to its operator).
    async fn payout_account(&self, ctx: &Context<'_>) -> GqlResult<Option<super::ledger::PayoutAccount>> {
        let Viewer::User { profile_id, .. } = &self.0 else { return Ok(None) };
        let state = state(ctx)?;
        Ok(domain::ledger::payout_account::of(&state.db, state, *profile_id).await?.map(Into::into))
    }
    /// My payouts (earnings and withdrawals), newest first.
    #[graphql(complexity = "crate::graphql::page_cost(first, child_complexity)")]
    async fn payouts(
        &self,
        ctx: &Context<'_>,
        first: Option<i32>,
        after: Option<String>,
    ) -> GqlResult<super::common::List<super::ledger::Payout>> {
        let state = state(ctx)?;
        let page = domain::page::PageRequest::new(first, after.as_deref(), &state.config.limits)?;
        let page = domain::ledger::reading::payouts(&state.db, &self.0, page).await?;
        Ok(super::common::connection(page, super::ledger::Payout))
    }
    /// My net earnings by month, by contract and by who did the work (me or my agents).
    async fn earnings(&self, ctx: &Context<'_>) -> GqlResult<super::ledger::Earnings> {
        Ok(super::ledger::Earnings(domain::ledger::reading::earnings(&state(ctx)?.db, &self.0).await?))
    }
    /// My work: offers awaiting me, active tasks, acceptance rate, earnings (agents need
    /// `tasks:read`).
    async fn work_dashboard(&self, ctx: &Context<'_>) -> GqlResult<super::dashboard::WorkDashboard> {
        let desk = domain::dashboard::work_desk(&state(ctx)?.db, &self.0).await?;
        Ok(super::dashboard::WorkDashboard(desk))
    }
    /// True when the caller is an agent using an API token.
    async fn is_agent(&self) -> bool {
        matches!(self.0, Viewer::Agent { .. })
    }
    /// Agents this person operates (empty for agents).
    async fn agents(&self, ctx: &Context<'_>) -> GqlResult<Vec<Profile>> {
        let Viewer::User { user_id, .. } = &self.0 else { return Ok(Vec::new()) };
        let agents = domain::agent::operated_by(&state(ctx)?.db, *user_id).await?;
        Ok(agents.into_iter().map(Profile).collect())
    }
    /// Your own API keys (not an organization's), not revoked, newest first. Not readable with
    /// an API key.
    async fn api_keys(&self, ctx: &Context<'_>) -> GqlResult<Vec<super::ApiKey>> {
        let keys = domain::api_key::of_person(&state(ctx)?.db, &self.0).await?;
        Ok(keys.into_iter().map(super::ApiKey).collect())
    }
    /// How each kind of notification reaches your verified address (IMMEDIATE unless you chose).
    async fn notification_mail_preferences(
        &self,
        ctx: &Context<'_>,
    ) -> GqlResult<Vec<super::notification::NotificationMailPreference>> {
        let choices = domain::notification_mail::preferences(&state(ctx)?.db, &self.0).await?;
        Ok(super::notification::NotificationMailPreference::all(choices))
    }
    /// Organizations this person belongs to, with the role held.
    async fn organizations(&self, ctx: &Context<'_>) -> GqlResult<Vec<OrganizationMember>> {
        let Viewer::User { profile_id, .. } = &self.0 else { return Ok(Vec::new()) };
        let rows = domain::organization::memberships_of(&state(ctx)?.db, *profile_id).await?;
        Ok(rows.into_iter().map(|(m, _)| OrganizationMember(m)).collect())
    }
}

/// Tokens for a signed-in session.
pub struct AuthPayload(pub Session);

#[Object]
impl AuthPayload {
    /// JWT for the `Authorization: Bearer` header; short-lived.
    async fn access_token(&self) -> &str {
        &self.0.access_token
    }
    /// When the access token expires.
    async fn access_token_expires_at(&self) -> DateTime<Utc> {
        self.0.access_token_expires_at
    }
    /// Single-use token for `refreshToken`; keep it secret.
    async fn refresh_token(&self) -> &str {
        &self.0.refresh_token
    }
    /// When the refresh token expires.
    async fn refresh_token_expires_at(&self) -> DateTime<Utc> {
        self.0.refresh_token_expires_at
    }
    /// The signed-in caller.
    async fn me(&self) -> Me {
        Me(Viewer::User { user_id: self.0.user.id, profile_id: self.0.profile.id, session_id: None, key: None })
    }
}
