//! One attempt to deliver a webhook: when, what the endpoint answered and how long it took.
use sea_orm::entity::prelude::*;

/// An attempt row.
#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "webhook_attempts")]
pub struct Model {
    #[sea_orm(primary_key)]
    pub id: i64,
    pub delivery_id: Uuid,
    /// When it was made (the `webhook-timestamp` sent).
    pub attempted_at: DateTimeUtc,
    /// The HTTP status answered (none without an answer: refused, timed out, not allowed).
    pub status_code: Option<i32>,
    pub duration_ms: i32,
    /// Whether the endpoint answered 2xx.
    pub succeeded: bool,
    pub error: Option<String>,
}

/// Relations of an attempt.
#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
