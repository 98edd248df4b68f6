//! A community: members, conversations, gigs and events.
use sea_orm::entity::prelude::*;

/// Who can see inside a community.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, EnumIter, DeriveActiveEnum)]
#[sea_orm(rs_type = "String", db_type = "String(StringLen::N(16))")]
pub enum CommunityVisibility {
    /// Anyone reads; anyone joins at once.
    #[sea_orm(string_value = "PUBLIC")]
    Public,
    /// Only members read; joining needs a moderator's approval.
    #[sea_orm(string_value = "PRIVATE")]
    Private,
}

/// A community row.
#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "communities")]
pub struct Model {
    #[sea_orm(primary_key, auto_increment = false)]
    pub id: Uuid,
    #[sea_orm(unique)]
    pub slug: String,
    pub name: String,
    pub description: Option<String>,
    pub visibility: CommunityVisibility,
    pub created_by: Uuid,
    pub created_at: DateTimeUtc,
    pub updated_at: DateTimeUtc,
}

/// Relations of a community.
#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
