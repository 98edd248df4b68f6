//! A dispute over an outcome: its amount is held until it is resolved.
use sea_orm::entity::prelude::*;

/// Open or resolved.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, EnumIter, DeriveActiveEnum)]
#[sea_orm(rs_type = "String", db_type = "String(StringLen::N(16))")]
pub enum DisputeStatus {
    /// The amount is held.
    #[sea_orm(string_value = "OPEN")]
    Open,
    /// The hold was released, refunded or split.
    #[sea_orm(string_value = "RESOLVED")]
    Resolved,
}

/// How a dispute ended.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, EnumIter, DeriveActiveEnum)]
#[sea_orm(rs_type = "String", db_type = "String(StringLen::N(16))")]
pub enum Resolution {
    /// All to the workers.
    #[sea_orm(string_value = "RELEASE")]
    Release,
    /// All back to the client.
    #[sea_orm(string_value = "REFUND")]
    Refund,
    /// Part each.
    #[sea_orm(string_value = "SPLIT")]
    Split,
}

/// A dispute row.
#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "disputes")]
pub struct Model {
    #[sea_orm(primary_key, auto_increment = false)]
    pub id: Uuid,
    pub contract_id: Uuid,
    pub outcome_id: Uuid,
    pub opened_by_profile_id: Uuid,
    pub reason: String,
    pub currency: String,
    pub amount_cents: i64,
    pub status: DisputeStatus,
    pub resolution: Option<Resolution>,
    pub released_cents: Option<i64>,
    pub refunded_cents: Option<i64>,
    pub resolved_by_profile_id: Option<Uuid>,
    pub created_at: DateTimeUtc,
    pub resolved_at: Option<DateTimeUtc>,
}

/// Relations of a dispute.
#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
