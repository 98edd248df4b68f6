//! What the client sees of organizations and memberships.
use crate::graphql::types::common::List;
use async_graphql::{Context, Enum, ID, Object};
use chrono::{DateTime, Utc};
use entity::{organization as db, organization_invitation as invitation_db, organization_member as member_db};

use super::{common::connection, profile::Profile};
use crate::{
    domain::{self, page::PageRequest},
    error::AppError,
    graphql::{GqlResult, loaders, state, viewer},
};

/// A member's role.
#[derive(Enum, Copy, Clone, Eq, PartialEq, Debug)]
pub enum OrgRole {
    /// Full control.
    Owner,
    /// Manages members and work.
    Admin,
    /// Sees the organization's work.
    Member,
}

mirror_enum!(OrgRole, member_db::OrgRole, [Owner, Admin, Member]);

/// A company or team.
pub struct Organization(pub db::Model);

#[Object]
impl Organization {
    /// Organization id.
    pub(crate) async fn id(&self) -> ID {
        ID(self.0.id.to_string())
    }
    /// Unique URL name.
    async fn slug(&self) -> &str {
        &self.0.slug
    }
    /// Display name.
    async fn name(&self) -> &str {
        &self.0.name
    }
    /// Description.
    async fn description(&self) -> Option<&str> {
        self.0.description.as_deref()
    }
    /// When it was created.
    async fn created_at(&self) -> DateTime<Utc> {
        self.0.created_at
    }
    /// Progress across the organization's contracts (members only).
    async fn dashboard(&self, ctx: &Context<'_>) -> GqlResult<super::dashboard::WorkSummary> {
        let summary = domain::dashboard::for_organization(&state(ctx)?.db, viewer(ctx), self.0.id).await?;
        Ok(super::dashboard::WorkSummary(summary))
    }
    /// The organization's API keys, not revoked, newest first (owners and admins; not
    /// readable with an API key).
    async fn api_keys(&self, ctx: &Context<'_>) -> GqlResult<Vec<super::ApiKey>> {
        let keys = domain::api_key::of_organization(&state(ctx)?.db, viewer(ctx), self.0.id).await?;
        Ok(keys.into_iter().map(super::ApiKey).collect())
    }
    /// Webhook endpoints, oldest first. Owners and admins only.
    #[graphql(complexity = "crate::graphql::page_cost(first, child_complexity)")]
    async fn webhook_endpoints(
        &self,
        ctx: &Context<'_>,
        first: Option<i32>,
        after: Option<String>,
    ) -> GqlResult<List<super::webhook::WebhookEndpoint>> {
        super::webhook::endpoints_of(ctx, self.0.id, first, after).await
    }
    /// The caller's role here (null when not a member).
    async fn my_role(&self, ctx: &Context<'_>) -> GqlResult<Option<OrgRole>> {
        let Some(me) = viewer(ctx).profile_id() else { return Ok(None) };
        Ok(domain::organization::role_of(&state(ctx)?.db, self.0.id, me).await?.map(Into::into))
    }
    /// Members, oldest first. Only members may list them.
    #[graphql(complexity = "crate::graphql::page_cost(first, child_complexity)")]
    async fn members(
        &self,
        ctx: &Context<'_>,
        first: Option<i32>,
        after: Option<String>,
    ) -> GqlResult<List<OrganizationMember>> {
        let state = state(ctx)?;
        let page = PageRequest::new(first, after.as_deref(), &state.config.limits)?;
        let page = domain::organization::members(&state.db, viewer(ctx), self.0.id, page).await?;
        Ok(connection(page, OrganizationMember))
    }
    /// The audit log, newest first: the organization's own changes, its members and
    /// invitations, and its contracts' activity (what `organizationActivity` delivers live).
    /// Owners and admins only.
    #[graphql(complexity = "crate::graphql::page_cost(first, child_complexity)")]
    async fn activity(
        &self,
        ctx: &Context<'_>,
        first: Option<i32>,
        after: Option<String>,
    ) -> GqlResult<List<super::activity::ActivityEvent>> {
        let state = state(ctx)?;
        let page = PageRequest::new(first, after.as_deref(), &state.config.limits)?;
        let page = domain::audit::organization_log(&state.db, viewer(ctx), self.0.id, page).await?;
        Ok(connection(page, super::activity::ActivityEvent::from))
    }
    /// Pending invitations, oldest first. Owners and admins only.
    #[graphql(complexity = "crate::graphql::page_cost(first, child_complexity)")]
    async fn invitations(
        &self,
        ctx: &Context<'_>,
        first: Option<i32>,
        after: Option<String>,
    ) -> GqlResult<List<OrganizationInvitation>> {
        let state = state(ctx)?;
        let page = PageRequest::new(first, after.as_deref(), &state.config.limits)?;
        let page = domain::organization::invitations(&state.db, viewer(ctx), self.0.id, page).await?;
        Ok(connection(page, OrganizationInvitation))
    }
}

/// A profile's membership in an organization.
pub struct OrganizationMember(pub member_db::Model);

#[Object]
impl OrganizationMember {
    /// Stable id of this membership (organization and member).
    async fn id(&self) -> ID {
        super::common::derived_id("OrganizationMember", &[self.0.organization_id, self.0.profile_id])
    }
    /// The member.
    async fn profile(&self, ctx: &Context<'_>) -> GqlResult<Profile> {
        let p = loaders(ctx)?.profiles.load_one(self.0.profile_id).await?.ok_or(AppError::NotFound("profile"))?;
        Ok(Profile(p))
    }
    /// The organization.
    async fn organization(&self, ctx: &Context<'_>) -> GqlResult<Organization> {
        let o = loaders(ctx)?
            .organizations
            .load_one(self.0.organization_id)
            .await?
            .ok_or(AppError::NotFound("organization"))?;
        Ok(Organization(o))
    }
    /// The role held.
    async fn role(&self) -> OrgRole {
        self.0.role.into()
    }
    /// When the member joined.
    async fn joined_at(&self) -> DateTime<Utc> {
        self.0.created_at
    }
}

/// Where an invitation stands.
#[derive(Enum, Copy, Clone, Eq, PartialEq, Debug)]
pub enum InvitationStatus {
    /// Waiting for the invitee.
    Pending,
    /// Accepted: the invitee became a member.
    Accepted,
    /// Declined by the invitee.
    Declined,
    /// Withdrawn by the organization.
    Revoked,
}

mirror_enum!(InvitationStatus, invitation_db::InvitationStatus, [Pending, Accepted, Declined, Revoked]);

/// An invitation to join an organization with a role; the invitee accepts or declines it.
pub struct OrganizationInvitation(pub invitation_db::Model);

#[Object]
impl OrganizationInvitation {
    /// Invitation id.
    async fn id(&self) -> ID {
        ID(self.0.id.to_string())
    }
    /// The organization.
    async fn organization(&self, ctx: &Context<'_>) -> GqlResult<Organization> {
        let o = loaders(ctx)?
            .organizations
            .load_one(self.0.organization_id)
            .await?
            .ok_or(AppError::NotFound("organization"))?;
        Ok(Organization(o))
    }
    /// The person invited.
    async fn invitee(&self, ctx: &Context<'_>) -> GqlResult<Profile> {
        let p = loaders(ctx)?.profiles.load_one(self.0.profile_id).await?.ok_or(AppError::NotFound("profile"))?;
        Ok(Profile(p))
    }
    /// Who sent it.
    async fn invited_by(&self, ctx: &Context<'_>) -> GqlResult<Profile> {
        let p = loaders(ctx)?.profiles.load_one(self.0.invited_by).await?.ok_or(AppError::NotFound("profile"))?;
        Ok(Profile(p))
    }
    /// The role the invitee gets on accepting.
    async fn role(&self) -> OrgRole {
        self.0.role.into()
    }
    /// Where it stands.
    async fn status(&self) -> InvitationStatus {
        self.0.status.into()
    }
    /// When it was sent.
    async fn created_at(&self) -> DateTime<Utc> {
        self.0.created_at
    }
    /// When it was accepted, declined or revoked.
    async fn decided_at(&self) -> Option<DateTime<Utc>> {
        self.0.decided_at
    }
}
