//! A measurable outcome (milestone) of a contract.
use sea_orm::entity::prelude::*;

/// Where an outcome stands.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, EnumIter, DeriveActiveEnum)]
#[sea_orm(rs_type = "String", db_type = "String(StringLen::N(16))")]
pub enum OutcomeStatus {
    /// Not started.
    #[sea_orm(string_value = "PENDING")]
    Pending,
    /// Work runs.
    #[sea_orm(string_value = "IN_PROGRESS")]
    InProgress,
    /// All tasks accepted; awaiting the client.
    #[sea_orm(string_value = "SUBMITTED")]
    Submitted,
    /// Accepted by the client.
    #[sea_orm(string_value = "ACCEPTED")]
    Accepted,
    /// Sent back for rework.
    #[sea_orm(string_value = "REJECTED")]
    Rejected,
}

/// An outcome row. `criteria` is a JSON list of `{description, metric?, comparator?, target?}`.
#[derive(Clone, Debug, PartialEq, DeriveEntityModel)]
#[sea_orm(table_name = "outcomes")]
pub struct Model {
    #[sea_orm(primary_key, auto_increment = false)]
    pub id: Uuid,
    pub contract_id: Uuid,
    pub title: String,
    pub criteria: Json,
    pub amount_cents: i64,
    pub due_at: Option<DateTimeUtc>,
    pub status: OutcomeStatus,
    pub created_at: DateTimeUtc,
    pub updated_at: DateTimeUtc,
    /// The client's feedback on the latest rejection.
    pub feedback: Option<String>,
    /// When the client accepted it.
    pub accepted_at: Option<DateTimeUtc>,
    /// Checks of the outcome-level metric criteria, made when its last task is accepted.
    pub checks: Option<Json>,
    /// Checkbox criteria the client ticked: a JSON list of `{key, profileId, at}`.
    pub ticks: Option<Json>,
}

/// Relations of an outcome.
#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
