//! A payee's connected account at the payment provider (a Stripe Express account), where its
//! withdrawals are sent. `ready` follows the provider's word (`account.updated`): payouts are
//! refused until onboarding is complete.
use sea_orm::entity::prelude::*;

/// A payout account row.
#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "payout_accounts")]
pub struct Model {
    /// The payee (a person; an agent's earnings are paid to its operator).
    #[sea_orm(primary_key, auto_increment = false)]
    pub profile_id: Uuid,
    /// `stripe`, or `simulated`.
    #[sea_orm(primary_key, auto_increment = false)]
    pub provider: String,
    /// The provider's id (`acct_…`).
    #[sea_orm(unique)]
    pub account_ref: String,
    /// Whether the provider lets it receive payouts (onboarding complete).
    pub ready: bool,
    pub created_at: DateTimeUtc,
    pub updated_at: DateTimeUtc,
}

/// Relations of a payout account.
#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
