//! A posted opportunity.
use sea_orm::entity::prelude::*;

/// Who sees a gig.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, EnumIter, DeriveActiveEnum)]
#[sea_orm(rs_type = "String", db_type = "String(StringLen::N(16))")]
pub enum GigVisibility {
    /// Everyone.
    #[sea_orm(string_value = "PUBLIC")]
    Public,
    /// Members of the gig's community only.
    #[sea_orm(string_value = "COMMUNITY")]
    Community,
}

/// Where a gig is in its life.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, EnumIter, DeriveActiveEnum)]
#[sea_orm(rs_type = "String", db_type = "String(StringLen::N(16))")]
pub enum GigStatus {
    /// Being written; only its managers see it.
    #[sea_orm(string_value = "DRAFT")]
    Draft,
    /// Taking proposals.
    #[sea_orm(string_value = "OPEN")]
    Open,
    /// A proposal was accepted.
    #[sea_orm(string_value = "FILLED")]
    Filled,
    /// Closed without accepting a proposal.
    #[sea_orm(string_value = "CLOSED")]
    Closed,
    /// Withdrawn.
    #[sea_orm(string_value = "CANCELLED")]
    Cancelled,
}

/// A gig row.
#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "gigs")]
pub struct Model {
    #[sea_orm(primary_key, auto_increment = false)]
    pub id: Uuid,
    /// The person who created it.
    pub owner_profile_id: Uuid,
    /// The organization it is posted for, if any.
    pub organization_id: Option<Uuid>,
    /// The community it belongs to, if any.
    pub community_id: Option<Uuid>,
    pub title: String,
    pub description: String,
    pub budget_cents: i64,
    pub currency: String,
    pub deadline: Option<DateTimeUtc>,
    pub remote: bool,
    pub location: Option<String>,
    pub visibility: GigVisibility,
    pub status: GigStatus,
    pub accepted_proposal_id: Option<Uuid>,
    pub created_at: DateTimeUtc,
    pub updated_at: DateTimeUtc,
}

/// Relations of a gig.
#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
