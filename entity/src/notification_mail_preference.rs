//! A person's choice of how one kind of notification reaches them by mail (no row: IMMEDIATE).
use sea_orm::entity::prelude::*;

/// A preference row.
#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "notification_mail_preferences")]
pub struct Model {
    #[sea_orm(primary_key, auto_increment = false)]
    pub user_id: Uuid,
    /// `offer_received`, `outcome`, `payout`, `event`, `reply`.
    #[sea_orm(primary_key, auto_increment = false)]
    pub kind: String,
    /// `immediate`, `daily_digest`, `off`.
    pub mode: String,
    pub updated_at: DateTimeUtc,
}

/// Relations of a preference (none navigated).
#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
