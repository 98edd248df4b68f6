//! A post in a community. Removal is soft: the row and its thread stay, the content is hidden.
use sea_orm::entity::prelude::*;

/// A post row.
#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "posts")]
pub struct Model {
    #[sea_orm(primary_key, auto_increment = false)]
    pub id: Uuid,
    pub community_id: Uuid,
    pub author_profile_id: Uuid,
    pub title: String,
    pub body: String,
    pub pinned: bool,
    pub removed_at: Option<DateTimeUtc>,
    pub removed_reason: Option<String>,
    pub removed_by: Option<Uuid>,
    pub created_at: DateTimeUtc,
    pub updated_at: DateTimeUtc,
}

/// Relations of a post.
#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
