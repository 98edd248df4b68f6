//! Where an activity is delivered: one row per stream (topic, worker, inbox) with a position
//! that is dense per stream and increases in commit order.
use sea_orm::entity::prelude::*;

/// An activity filed under a stream.
#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "activity_streams")]
pub struct Model {
    #[sea_orm(primary_key, auto_increment = false)]
    pub stream: String,
    #[sea_orm(primary_key, auto_increment = false)]
    pub seq: i64,
    pub activity_id: i64,
}

/// Relations of a stream row.
#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {
    /// The activity delivered.
    #[sea_orm(belongs_to = "super::activity::Entity", from = "Column::ActivityId", to = "super::activity::Column::Id")]
    Activity,
}

impl Related<super::activity::Entity> for Entity {
    fn to() -> RelationDef {
        Relation::Activity.def()
    }
}

impl ActiveModelBehavior for ActiveModel {}
