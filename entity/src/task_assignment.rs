//! The assignment history of a task: who held it, from when, until when and why it ended.
use sea_orm::entity::prelude::*;

/// An assignment row.
#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "task_assignments")]
pub struct Model {
    #[sea_orm(primary_key, auto_increment = false)]
    pub id: Uuid,
    pub task_id: Uuid,
    pub profile_id: Uuid,
    /// How it began: `proposal_accepted`, `routed`, `claimed`, `reassigned`, `outcome_rework`.
    pub reason: String,
    pub started_at: DateTimeUtc,
    pub ended_at: Option<DateTimeUtc>,
    /// Why it ended: `declined`, `lapsed`, `overdue`, `rejected_twice`, `reassigned`,
    /// `completed`, `cancelled`.
    pub end_reason: Option<String>,
    /// When the offer was accepted (at once for agents and claims); `None` for an offer that
    /// was never taken.
    pub accepted_at: Option<DateTimeUtc>,
}

/// Relations of an assignment.
#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
