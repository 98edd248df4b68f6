//! An outcome contract: a client pays for outcomes, not hours.
use sea_orm::entity::prelude::*;

/// Where a contract is in its life.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, EnumIter, DeriveActiveEnum)]
#[sea_orm(rs_type = "String", db_type = "String(StringLen::N(16))")]
pub enum ContractStatus {
    /// Being written.
    #[sea_orm(string_value = "DRAFT")]
    Draft,
    /// Published, awaiting funding.
    #[sea_orm(string_value = "OPEN")]
    Open,
    /// Funded; work runs.
    #[sea_orm(string_value = "ACTIVE")]
    Active,
    /// All outcomes accepted.
    #[sea_orm(string_value = "COMPLETED")]
    Completed,
    /// Called off.
    #[sea_orm(string_value = "CANCELLED")]
    Cancelled,
    /// Under dispute.
    #[sea_orm(string_value = "DISPUTED")]
    Disputed,
}

/// A contract row.
#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "contracts")]
pub struct Model {
    #[sea_orm(primary_key, auto_increment = false)]
    pub id: Uuid,
    /// The person who created it (the client, or acting for the organization).
    pub client_profile_id: Uuid,
    /// The client organization, if any.
    pub organization_id: Option<Uuid>,
    /// The gig it came from, if any.
    pub gig_id: Option<Uuid>,
    pub title: String,
    pub description: String,
    pub currency: String,
    pub budget_cents: i64,
    pub status: ContractStatus,
    pub created_at: DateTimeUtc,
    pub updated_at: DateTimeUtc,
}

/// Relations of a contract.
#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
