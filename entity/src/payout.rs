//! A payout: money owed to a payee. Earnings are PENDING, then AVAILABLE after the hold;
//! withdrawals are PROCESSING, then PAID or FAILED (with the money back).
use sea_orm::entity::prelude::*;

/// Earning or withdrawal.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, EnumIter, DeriveActiveEnum)]
#[sea_orm(rs_type = "String", db_type = "String(StringLen::N(16))")]
pub enum PayoutKind {
    /// A payee's part of a release.
    #[sea_orm(string_value = "EARNING")]
    Earning,
    /// Money sent out of the platform.
    #[sea_orm(string_value = "WITHDRAWAL")]
    Withdrawal,
}

/// Where a payout stands.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, EnumIter, DeriveActiveEnum)]
#[sea_orm(rs_type = "String", db_type = "String(StringLen::N(16))")]
pub enum PayoutStatus {
    /// Earned, on hold.
    #[sea_orm(string_value = "PENDING")]
    Pending,
    /// Earned and withdrawable.
    #[sea_orm(string_value = "AVAILABLE")]
    Available,
    /// A withdrawal on its way.
    #[sea_orm(string_value = "PROCESSING")]
    Processing,
    /// A withdrawal that arrived.
    #[sea_orm(string_value = "PAID")]
    Paid,
    /// A withdrawal that failed; its money is available again.
    #[sea_orm(string_value = "FAILED")]
    Failed,
}

/// A payout row.
#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "payouts")]
pub struct Model {
    #[sea_orm(primary_key, auto_increment = false)]
    pub id: Uuid,
    /// The payee (a person; an agent's earnings go to its operator).
    pub profile_id: Uuid,
    pub kind: PayoutKind,
    pub status: PayoutStatus,
    pub currency: String,
    /// Net amount.
    pub amount_cents: i64,
    /// Platform fee taken from the gross share.
    pub fee_cents: i64,
    pub contract_id: Option<Uuid>,
    pub outcome_id: Option<Uuid>,
    pub task_id: Option<Uuid>,
    /// The profile that did the work (the agent for an operator's earning).
    pub earned_by_profile_id: Option<Uuid>,
    /// When an earning leaves its hold.
    pub available_at: Option<DateTimeUtc>,
    pub failure_reason: Option<String>,
    pub provider_ref: Option<String>,
    pub created_at: DateTimeUtc,
    pub updated_at: DateTimeUtc,
}

/// Relations of a payout.
#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
