//! Organizations and their members.
use async_graphql::{Context, ID, InputObject, Object};

use crate::{
    domain::organization::{self, Answer, CreateOrganizationInput as Create},
    error::AppError,
    graphql::{
        GqlResult, state,
        types::{OrgRole, Organization, OrganizationInvitation, OrganizationMember, parse_id},
        viewer,
    },
};

/// Input of `createOrganization`.
#[derive(InputObject)]
pub struct CreateOrganizationInput {
    /// Unique URL name: 3–48 of a-z, 0-9 and -.
    pub slug: String,
    /// Display name.
    pub name: String,
    /// Description.
    pub description: Option<String>,
}

/// Input of `inviteOrganizationMember`.
#[derive(InputObject)]
pub struct InviteOrganizationMemberInput {
    /// The organization.
    pub organization_id: ID,
    /// Handle of the person to invite.
    pub handle: String,
    /// The role they get on accepting.
    pub role: OrgRole,
}

/// Input naming an invitation.
#[derive(InputObject)]
pub struct InvitationIdInput {
    /// The invitation.
    pub invitation_id: ID,
}

/// Input of `changeMemberRole`.
#[derive(InputObject)]
pub struct ChangeMemberRoleInput {
    /// The organization.
    pub organization_id: ID,
    /// The member's profile id.
    pub profile_id: ID,
    /// The new role.
    pub role: OrgRole,
}

/// Input of `removeMember`.
#[derive(InputObject)]
pub struct RemoveMemberInput {
    /// The organization.
    pub organization_id: ID,
    /// The member's profile id.
    pub profile_id: ID,
}

/// Input of `leaveOrganization`.
#[derive(InputObject)]
pub struct LeaveOrganizationInput {
    /// The organization to leave.
    pub organization_id: ID,
}

/// Organization mutations.
#[derive(Default)]
pub struct OrganizationMutation;

#[Object]
impl OrganizationMutation {
    /// Creates an organization; you become its OWNER.
    async fn create_organization(&self, ctx: &Context<'_>, input: CreateOrganizationInput) -> GqlResult<Organization> {
        let input = Create { slug: input.slug, name: input.name, description: input.description };
        Ok(Organization(organization::create(state(ctx)?, viewer(ctx), input).await?))
    }

    /// Invites a person with a role (OWNER/ADMIN; only owners invite owners). They join when they
    /// accept; one pending invitation per person.
    async fn invite_organization_member(
        &self,
        ctx: &Context<'_>,
        input: InviteOrganizationMemberInput,
    ) -> GqlResult<OrganizationInvitation> {
        let org = parse_id(&input.organization_id, "organizationId")?;
        let invitation = organization::invite(state(ctx)?, viewer(ctx), org, &input.handle, input.role.into()).await?;
        Ok(OrganizationInvitation(invitation))
    }

    /// Accepts an invitation addressed to you: you become a member with its role.
    async fn accept_organization_invitation(
        &self,
        ctx: &Context<'_>,
        input: InvitationIdInput,
    ) -> GqlResult<OrganizationMember> {
        let id = parse_id(&input.invitation_id, "invitationId")?;
        let (_, member) = organization::answer(state(ctx)?, viewer(ctx), id, Answer::Accept).await?;
        Ok(OrganizationMember(member.ok_or(AppError::NotFound("member"))?))
    }

    /// Declines an invitation addressed to you.
    async fn decline_organization_invitation(
        &self,
        ctx: &Context<'_>,
        input: InvitationIdInput,
    ) -> GqlResult<OrganizationInvitation> {
        let id = parse_id(&input.invitation_id, "invitationId")?;
        let (invitation, _) = organization::answer(state(ctx)?, viewer(ctx), id, Answer::Decline).await?;
        Ok(OrganizationInvitation(invitation))
    }

    /// Withdraws a pending invitation (OWNER/ADMIN; only owners withdraw an owner's).
    async fn revoke_organization_invitation(
        &self,
        ctx: &Context<'_>,
        input: InvitationIdInput,
    ) -> GqlResult<OrganizationInvitation> {
        let id = parse_id(&input.invitation_id, "invitationId")?;
        Ok(OrganizationInvitation(organization::revoke_invitation(state(ctx)?, viewer(ctx), id).await?))
    }

    /// Changes a member's role; the last OWNER cannot be demoted.
    async fn change_member_role(
        &self,
        ctx: &Context<'_>,
        input: ChangeMemberRoleInput,
    ) -> GqlResult<OrganizationMember> {
        let org = parse_id(&input.organization_id, "organizationId")?;
        let profile = parse_id(&input.profile_id, "profileId")?;
        let member = organization::change_role(state(ctx)?, viewer(ctx), org, profile, input.role.into()).await?;
        Ok(OrganizationMember(member))
    }

    /// Removes a member; the last OWNER cannot be removed.
    async fn remove_member(&self, ctx: &Context<'_>, input: RemoveMemberInput) -> GqlResult<bool> {
        let org = parse_id(&input.organization_id, "organizationId")?;
        let profile = parse_id(&input.profile_id, "profileId")?;
        organization::remove_member(state(ctx)?, viewer(ctx), org, profile).await?;
        Ok(true)
    }

    /// Leaves an organization; the last OWNER cannot leave.
    async fn leave_organization(&self, ctx: &Context<'_>, input: LeaveOrganizationInput) -> GqlResult<bool> {
        let org = parse_id(&input.organization_id, "organizationId")?;
        organization::leave(state(ctx)?, viewer(ctx), org).await?;
        Ok(true)
    }
}
