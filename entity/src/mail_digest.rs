//! Where a person's daily digest stands: the last notification it carried and when it left.
use sea_orm::entity::prelude::*;

/// A digest row.
#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "mail_digests")]
pub struct Model {
    #[sea_orm(primary_key, auto_increment = false)]
    pub user_id: Uuid,
    /// The newest notification (activity id) a digest carried.
    pub last_activity_id: i64,
    /// When the last digest left.
    pub sent_at: DateTimeUtc,
}

/// Relations of a digest (none navigated).
#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
