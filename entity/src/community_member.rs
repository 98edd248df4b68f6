//! Membership of a profile in a community, with a role.
use sea_orm::entity::prelude::*;

/// A member's role in a community.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, EnumIter, DeriveActiveEnum)]
#[sea_orm(rs_type = "String", db_type = "String(StringLen::N(16))")]
pub enum CommunityRole {
    /// Created or was given the community.
    #[sea_orm(string_value = "OWNER")]
    Owner,
    /// Approves joins, removes and pins posts, bans.
    #[sea_orm(string_value = "MODERATOR")]
    Moderator,
    /// Reads and posts.
    #[sea_orm(string_value = "MEMBER")]
    Member,
}

/// A community membership row; the key is (community, profile).
#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "community_members")]
pub struct Model {
    #[sea_orm(primary_key, auto_increment = false)]
    pub community_id: Uuid,
    #[sea_orm(primary_key, auto_increment = false)]
    pub profile_id: Uuid,
    pub role: CommunityRole,
    pub created_at: DateTimeUtc,
}

/// Relations of a community membership.
#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
