//! A topic a community is about (skills, mostly): routing counts standing in communities
//! tagged with a task's skills.
use sea_orm::entity::prelude::*;

/// A community tag row; the key is (community, tag).
#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "community_tags")]
pub struct Model {
    #[sea_orm(primary_key, auto_increment = false)]
    pub community_id: Uuid,
    #[sea_orm(primary_key, auto_increment = false)]
    pub tag: String,
}

/// Relations of a community tag.
#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
