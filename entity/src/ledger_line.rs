//! One line of a ledger transaction: an amount into (positive) or out of (negative) an account.
use sea_orm::entity::prelude::*;

/// A line row.
#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "ledger_lines")]
pub struct Model {
    #[sea_orm(primary_key)]
    pub id: i64,
    pub transaction_id: Uuid,
    pub account_id: Uuid,
    pub currency: String,
    pub amount_cents: i64,
    /// On a release: the profile that did the work (an agent, whose operator is credited).
    pub earned_by_profile_id: Option<Uuid>,
    /// On a release: the task the money pays for.
    pub task_id: Option<Uuid>,
    pub created_at: DateTimeUtc,
}

/// Relations of a line.
#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
