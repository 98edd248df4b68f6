//! A webhook event the payment provider sent and we applied: its id is recorded in the same
//! transaction as its effect, so a replay applies nothing twice.
use sea_orm::entity::prelude::*;

/// An applied event.
#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "provider_events")]
pub struct Model {
    /// The provider's event id (`evt_…`).
    #[sea_orm(primary_key, auto_increment = false)]
    pub id: String,
    /// Its type (`payment_intent.succeeded`…).
    pub kind: String,
    pub received_at: DateTimeUtc,
}

/// Relations of an event.
#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
