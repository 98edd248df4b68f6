//! An idempotency key of a money-moving request: the request as first seen and, once done,
//! its result, so a replay returns the first result.
use sea_orm::entity::prelude::*;

/// A key row; the key is (paying account, key): anyone acting for that account shares its keys.
#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "idempotency_keys")]
pub struct Model {
    #[sea_orm(primary_key, auto_increment = false)]
    pub account_id: Uuid,
    #[sea_orm(primary_key, auto_increment = false)]
    pub key: String,
    pub operation: String,
    /// The request's fields, to tell a replay from a different request under the same key.
    pub request: Json,
    /// What the first request produced; `None` while it is still in flight.
    pub response: Option<Json>,
    pub created_at: DateTimeUtc,
    pub expires_at: DateTimeUtc,
}

/// Relations of a key.
#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
