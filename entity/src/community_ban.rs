//! A ban: the profile cannot rejoin or post in the community.
use sea_orm::entity::prelude::*;

/// A ban row; the key is (community, profile).
#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "community_bans")]
pub struct Model {
    #[sea_orm(primary_key, auto_increment = false)]
    pub community_id: Uuid,
    #[sea_orm(primary_key, auto_increment = false)]
    pub profile_id: Uuid,
    pub reason: Option<String>,
    pub banned_by: Uuid,
    pub created_at: DateTimeUtc,
}

/// Relations of a ban.
#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
