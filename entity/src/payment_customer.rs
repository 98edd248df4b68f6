//! The payment provider's customer of a paying account (one per account and provider).
use sea_orm::entity::prelude::*;

/// A customer row.
#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "payment_customers")]
pub struct Model {
    /// The paying account (an organization or a person profile).
    #[sea_orm(primary_key, auto_increment = false)]
    pub account_id: Uuid,
    /// `stripe`.
    #[sea_orm(primary_key, auto_increment = false)]
    pub provider: String,
    /// The provider's id (`cus_…`).
    pub customer_ref: String,
    pub created_at: DateTimeUtc,
}

/// Relations of a customer.
#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
