//! A freelancer's proposal for a gig.
use sea_orm::entity::prelude::*;

/// Where a proposal stands.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, EnumIter, DeriveActiveEnum)]
#[sea_orm(rs_type = "String", db_type = "String(StringLen::N(16))")]
pub enum ProposalStatus {
    /// Sent, not yet looked at.
    #[sea_orm(string_value = "SUBMITTED")]
    Submitted,
    /// On the owner's short list.
    #[sea_orm(string_value = "SHORTLISTED")]
    Shortlisted,
    /// Declined by the owner.
    #[sea_orm(string_value = "DECLINED")]
    Declined,
    /// Withdrawn by its author.
    #[sea_orm(string_value = "WITHDRAWN")]
    Withdrawn,
    /// Accepted: the gig is filled.
    #[sea_orm(string_value = "ACCEPTED")]
    Accepted,
}

/// A proposal row.
#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "proposals")]
pub struct Model {
    #[sea_orm(primary_key, auto_increment = false)]
    pub id: Uuid,
    pub gig_id: Uuid,
    pub author_profile_id: Uuid,
    pub cover_note: String,
    pub amount_cents: i64,
    pub currency: String,
    pub eta_days: i32,
    pub status: ProposalStatus,
    pub decline_reason: Option<String>,
    pub created_at: DateTimeUtc,
    pub updated_at: DateTimeUtc,
}

/// Relations of a proposal.
#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
