//! A worker's share of a disputed amount, fixed when the dispute opens: what the task's weight
//! was worth then, and who held the task. Concessions and the arbiter's release follow these
//! rows, whatever happens to the tasks afterwards.
use sea_orm::entity::prelude::*;

/// One share per task of the disputed outcome that had a worker when the dispute opened.
#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "dispute_shares")]
pub struct Model {
    #[sea_orm(primary_key, auto_increment = false)]
    pub dispute_id: Uuid,
    #[sea_orm(primary_key, auto_increment = false)]
    pub task_id: Uuid,
    /// The worker that held the task (a person, or an agent).
    pub profile_id: Uuid,
    /// The task's exact part of the disputed amount (the shares add up to it).
    pub cents: i64,
    /// The share's place in the split (the tasks' creation order): a remainder cent of a later
    /// release goes by it.
    pub position: i32,
}

/// Relations of a share.
#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
