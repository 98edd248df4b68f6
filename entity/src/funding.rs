//! A funding: money a client asked the payment provider to move into a contract's escrow.
//! SUCCEEDED fundings are in the ledger; a PENDING one waits for the provider's word (a bank
//! debit, a webhook); a FAILED one moved nothing.
use sea_orm::entity::prelude::*;

/// Where a funding stands.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, EnumIter, DeriveActiveEnum)]
#[sea_orm(rs_type = "String", db_type = "String(StringLen::N(16))")]
pub enum FundingStatus {
    /// The provider has not settled it yet; escrow is not credited.
    #[sea_orm(string_value = "PENDING")]
    Pending,
    /// The money is in escrow.
    #[sea_orm(string_value = "SUCCEEDED")]
    Succeeded,
    /// The provider refused it; nothing moved.
    #[sea_orm(string_value = "FAILED")]
    Failed,
}

/// A funding row.
#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "fundings")]
pub struct Model {
    #[sea_orm(primary_key, auto_increment = false)]
    pub id: Uuid,
    pub contract_id: Uuid,
    /// The paying account (the organization, or the person).
    pub payer_id: Uuid,
    /// Who asked for it.
    pub actor_profile_id: Uuid,
    pub amount_cents: i64,
    pub currency: String,
    /// The provider's object (a PaymentIntent `pi_…`, or the simulated provider's charge).
    #[sea_orm(unique)]
    pub provider_ref: String,
    pub status: FundingStatus,
    /// The ledger transaction, once SUCCEEDED.
    pub transaction_id: Option<Uuid>,
    pub failure_reason: Option<String>,
    pub created_at: DateTimeUtc,
    pub updated_at: DateTimeUtc,
}

/// Relations of a funding.
#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
