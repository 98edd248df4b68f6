//! A ledger transaction: one movement of money, whose lines sum to zero per currency.
use sea_orm::entity::prelude::*;

/// What moved the money.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, EnumIter, DeriveActiveEnum)]
#[sea_orm(rs_type = "String", db_type = "String(StringLen::N(24))")]
pub enum TransactionKind {
    /// Client money into escrow.
    #[sea_orm(string_value = "FUNDING")]
    Funding,
    /// Escrow to payees (and fees) when an outcome is accepted.
    #[sea_orm(string_value = "RELEASE")]
    Release,
    /// Unreleased escrow back to the client.
    #[sea_orm(string_value = "REFUND")]
    Refund,
    /// Escrow into a dispute's hold.
    #[sea_orm(string_value = "DISPUTE_HOLD")]
    DisputeHold,
    /// A dispute's hold released, refunded or split.
    #[sea_orm(string_value = "DISPUTE_RESOLUTION")]
    DisputeResolution,
    /// Held earnings become withdrawable.
    #[sea_orm(string_value = "EARNINGS_AVAILABLE")]
    EarningsAvailable,
    /// A withdrawal leaves the available balance.
    #[sea_orm(string_value = "PAYOUT_REQUESTED")]
    PayoutRequested,
    /// A withdrawal reached the payee.
    #[sea_orm(string_value = "PAYOUT_PAID")]
    PayoutPaid,
    /// A withdrawal failed; the money is back.
    #[sea_orm(string_value = "PAYOUT_FAILED")]
    PayoutFailed,
}

/// A transaction row.
#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "ledger_transactions")]
pub struct Model {
    #[sea_orm(primary_key, auto_increment = false)]
    pub id: Uuid,
    pub kind: TransactionKind,
    pub contract_id: Option<Uuid>,
    pub outcome_id: Option<Uuid>,
    pub payout_id: Option<Uuid>,
    pub dispute_id: Option<Uuid>,
    pub actor_profile_id: Option<Uuid>,
    /// The payment provider's reference for money that crossed the platform's edge.
    pub provider_ref: Option<String>,
    pub memo: String,
    /// Set once every line is written; a sealed transaction takes no more lines.
    pub sealed: bool,
    pub created_at: DateTimeUtc,
}

/// Relations of a transaction.
#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
