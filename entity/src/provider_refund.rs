//! Money owed back to a client's payment at the provider: queued in the transaction that moved
//! it out of escrow (one row per funding it goes back to, oldest funding first), sent after
//! commit under the row's id as idempotency key, retried by the sweep until the provider answers.
use sea_orm::entity::prelude::*;

/// Where a refund stands.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, EnumIter, DeriveActiveEnum)]
#[sea_orm(rs_type = "String", db_type = "String(StringLen::N(16))")]
pub enum RefundStatus {
    /// Queued: not confirmed by the provider yet.
    #[sea_orm(string_value = "PENDING")]
    Pending,
    /// The provider refunded it.
    #[sea_orm(string_value = "SUCCEEDED")]
    Succeeded,
    /// The provider refused it: the money is owed to the client and needs a person (reconcile
    /// lists it).
    #[sea_orm(string_value = "FAILED")]
    Failed,
}

/// A refund row.
#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "provider_refunds")]
pub struct Model {
    #[sea_orm(primary_key, auto_increment = false)]
    pub id: Uuid,
    /// The funding (its PaymentIntent) the money goes back to.
    pub funding_id: Uuid,
    pub contract_id: Uuid,
    /// The ledger transaction that moved the money out of escrow or a dispute's hold.
    pub transaction_id: Uuid,
    pub amount_cents: i64,
    pub currency: String,
    pub status: RefundStatus,
    /// The provider's refund (`re_…`), once made.
    #[sea_orm(unique)]
    pub provider_ref: Option<String>,
    pub failure_reason: Option<String>,
    pub created_at: DateTimeUtc,
    pub updated_at: DateTimeUtc,
}

/// Relations of a refund.
#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
