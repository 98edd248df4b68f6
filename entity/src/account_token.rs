//! A single-use token mailed to an account's address (stored as its SHA-256 hash): it proves
//! the mailbox to verify the address or reset the password.
use sea_orm::entity::prelude::*;

/// What a token is for.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, EnumIter, DeriveActiveEnum)]
#[sea_orm(rs_type = "String", db_type = "String(StringLen::N(32))")]
pub enum TokenPurpose {
    /// Verifies the address (`verifyEmail`).
    #[sea_orm(string_value = "VERIFY_EMAIL")]
    VerifyEmail,
    /// Sets a new password (`resetPassword`).
    #[sea_orm(string_value = "RESET_PASSWORD")]
    ResetPassword,
}

/// An account token row.
#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "account_tokens")]
pub struct Model {
    #[sea_orm(primary_key, auto_increment = false)]
    pub id: Uuid,
    pub user_id: Uuid,
    pub purpose: TokenPurpose,
    #[sea_orm(unique)]
    pub token_hash: String,
    pub expires_at: DateTimeUtc,
    /// Set when it was used, or replaced by a newer token of the same purpose.
    pub used_at: Option<DateTimeUtc>,
    pub created_at: DateTimeUtc,
}

/// Relations of an account token.
#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
