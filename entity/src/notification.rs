//! An activity that reached a user's inbox, with its read state.
use sea_orm::entity::prelude::*;

/// A notification.
#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "notifications")]
pub struct Model {
    #[sea_orm(primary_key)]
    pub id: i64,
    pub user_id: Uuid,
    pub activity_id: i64,
    pub read_at: Option<DateTimeUtc>,
    pub created_at: DateTimeUtc,
}

/// Relations of a notification.
#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {
    /// What happened.
    #[sea_orm(belongs_to = "super::activity::Entity", from = "Column::ActivityId", to = "super::activity::Column::Id")]
    Activity,
}

impl Related<super::activity::Entity> for Entity {
    fn to() -> RelationDef {
        Relation::Activity.def()
    }
}

impl ActiveModelBehavior for ActiveModel {}
