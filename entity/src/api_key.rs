//! An API key: a long-lived credential a person makes for their own systems, acting as them
//! (or, bound to an organization, for that organization) within its scopes. Stored hashed.
use sea_orm::entity::prelude::*;

/// An API key row.
#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "api_keys")]
pub struct Model {
    #[sea_orm(primary_key, auto_increment = false)]
    pub id: Uuid,
    /// The account that made it (and that it acts as).
    pub user_id: Uuid,
    /// The organization it is bound to, if any.
    pub organization_id: Option<Uuid>,
    pub name: String,
    /// Space-separated scopes, e.g. `contracts:read contracts:write`.
    pub scopes: String,
    /// The first characters of the secret, shown to tell keys apart (`ssk_AbCd`).
    pub prefix: String,
    #[sea_orm(unique)]
    pub token_hash: String,
    pub created_at: DateTimeUtc,
    pub last_used_at: Option<DateTimeUtc>,
    pub expires_at: Option<DateTimeUtc>,
    pub revoked_at: Option<DateTimeUtc>,
}

/// Relations of an API key (none navigated).
#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
