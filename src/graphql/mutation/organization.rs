//! Organizations and their members.
use async_graphql::{Context, ID, InputObject, Object};

use crate::{
    domain::organization::{self, CreateOrganizationInput as Create},
    graphql::{
        GqlResult, state,
        types::{OrgRole, Organization, OrganizationMember, parse_id},
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

/// Input of `addOrganizationMember`.
#[derive(InputObject)]
pub struct AddOrganizationMemberInput {
    /// The organization.
    pub organization_id: ID,
    /// Handle of the person to add.
    pub handle: String,
    /// Their role.
    pub role: OrgRole,
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

    /// Adds a person (OWNER/ADMIN; only owners add owners).
    async fn add_organization_member(
        &self,
        ctx: &Context<'_>,
        input: AddOrganizationMemberInput,
    ) -> GqlResult<OrganizationMember> {
        let org = parse_id(&input.organization_id, "organizationId")?;
        let member = organization::add_member(state(ctx)?, viewer(ctx), org, &input.handle, input.role.into()).await?;
        Ok(OrganizationMember(member))
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
