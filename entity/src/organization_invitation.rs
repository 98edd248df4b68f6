//! An invitation to join an organization with a role, accepted or declined by the invitee.
use sea_orm::entity::prelude::*;

use crate::organization_member::OrgRole;

/// Where an invitation stands.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, EnumIter, DeriveActiveEnum)]
#[sea_orm(rs_type = "String", db_type = "String(StringLen::N(16))")]
pub enum InvitationStatus {
    /// Waiting for the invitee.
    #[sea_orm(string_value = "PENDING")]
    Pending,
    /// Accepted: the invitee became a member.
    #[sea_orm(string_value = "ACCEPTED")]
    Accepted,
    /// Declined by the invitee.
    #[sea_orm(string_value = "DECLINED")]
    Declined,
    /// Withdrawn by the organization's owners or admins.
    #[sea_orm(string_value = "REVOKED")]
    Revoked,
}

/// An invitation row.
#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "organization_invitations")]
pub struct Model {
    #[sea_orm(primary_key, auto_increment = false)]
    pub id: Uuid,
    pub organization_id: Uuid,
    pub profile_id: Uuid,
    pub role: OrgRole,
    pub invited_by: Uuid,
    pub status: InvitationStatus,
    pub created_at: DateTimeUtc,
    pub decided_by: Option<Uuid>,
    pub decided_at: Option<DateTimeUtc>,
}

/// Relations of an invitation.
#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
