//! Membership of a profile in an organization, with a role.
use sea_orm::entity::prelude::*;

/// A member's role in an organization.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, EnumIter, DeriveActiveEnum)]
#[sea_orm(rs_type = "String", db_type = "String(StringLen::N(16))")]
pub enum OrgRole {
    /// Full control, including other owners.
    #[sea_orm(string_value = "OWNER")]
    Owner,
    /// Manages members and work.
    #[sea_orm(string_value = "ADMIN")]
    Admin,
    /// Sees the organization's work.
    #[sea_orm(string_value = "MEMBER")]
    Member,
}

/// A membership row; the key is (organization, profile).
#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "organization_members")]
pub struct Model {
    #[sea_orm(primary_key, auto_increment = false)]
    pub organization_id: Uuid,
    #[sea_orm(primary_key, auto_increment = false)]
    pub profile_id: Uuid,
    pub role: OrgRole,
    pub created_at: DateTimeUtc,
}

/// Relations of a membership.
#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {
    /// The organization.
    #[sea_orm(
        belongs_to = "super::organization::Entity",
        from = "Column::OrganizationId",
        to = "super::organization::Column::Id"
    )]
    Organization,
    /// The member's profile.
    #[sea_orm(belongs_to = "super::profile::Entity", from = "Column::ProfileId", to = "super::profile::Column::Id")]
    Profile,
}

impl Related<super::organization::Entity> for Entity {
    fn to() -> RelationDef {
        Relation::Organization.def()
    }
}

impl Related<super::profile::Entity> for Entity {
    fn to() -> RelationDef {
        Relation::Profile.def()
    }
}

impl ActiveModelBehavior for ActiveModel {}
