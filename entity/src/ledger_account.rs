//! A ledger account: where money sits. Its balance is kept by the database (a trigger adds
//! every line) and may go negative only for the outside world's side of funding.
use sea_orm::entity::prelude::*;

/// Kinds of account.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, EnumIter, DeriveActiveEnum)]
#[sea_orm(rs_type = "String", db_type = "String(StringLen::N(24))")]
pub enum AccountKind {
    /// A client's funding source at the payment provider (owner: the client profile or
    /// organization); negative by what the client has paid in.
    #[sea_orm(string_value = "CLIENT_FUNDING")]
    ClientFunding,
    /// A contract's escrow (owner: the contract).
    #[sea_orm(string_value = "ESCROW")]
    Escrow,
    /// Money held by a dispute (owner: the dispute).
    #[sea_orm(string_value = "DISPUTE_HOLD")]
    DisputeHold,
    /// A payee's earnings still on hold (owner: the payee's profile).
    #[sea_orm(string_value = "PAYEE_PENDING")]
    PayeePending,
    /// A payee's withdrawable balance (owner: the payee's profile).
    #[sea_orm(string_value = "PAYEE_AVAILABLE")]
    PayeeAvailable,
    /// Withdrawals on their way out (owner: the payee's profile).
    #[sea_orm(string_value = "PAYOUT_IN_FLIGHT")]
    PayoutInFlight,
    /// What has left the platform to a payee (owner: the payee's profile).
    #[sea_orm(string_value = "PAID_OUT")]
    PaidOut,
    /// The platform's fees (owner: the nil id).
    #[sea_orm(string_value = "PLATFORM_FEES")]
    PlatformFees,
}

/// An account row.
#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "ledger_accounts")]
pub struct Model {
    #[sea_orm(primary_key, auto_increment = false)]
    pub id: Uuid,
    pub kind: AccountKind,
    pub owner_id: Uuid,
    pub currency: String,
    /// The sum of the account's lines, kept by the database.
    pub balance_cents: i64,
    pub may_go_negative: bool,
    pub created_at: DateTimeUtc,
}

/// Relations of an account.
#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
