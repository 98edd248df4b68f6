//! A worker's concession of its own share of a disputed amount (refunded to the client).
use sea_orm::entity::prelude::*;

/// One concession per worker and dispute.
#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "dispute_concessions")]
pub struct Model {
    #[sea_orm(primary_key, auto_increment = false)]
    pub dispute_id: Uuid,
    #[sea_orm(primary_key, auto_increment = false)]
    pub profile_id: Uuid,
    pub refunded_cents: i64,
    pub created_at: DateTimeUtc,
}

/// Relations of a concession.
#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
