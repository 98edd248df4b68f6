//! A request to join a private community, decided by a moderator.
use sea_orm::entity::prelude::*;

/// Where a join request stands.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, EnumIter, DeriveActiveEnum)]
#[sea_orm(rs_type = "String", db_type = "String(StringLen::N(16))")]
pub enum JoinRequestStatus {
    /// Waiting for a moderator.
    #[sea_orm(string_value = "PENDING")]
    Pending,
    /// Approved: the requester became a member.
    #[sea_orm(string_value = "APPROVED")]
    Approved,
    /// Rejected by a moderator.
    #[sea_orm(string_value = "REJECTED")]
    Rejected,
}

/// A join request row.
#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "community_join_requests")]
pub struct Model {
    #[sea_orm(primary_key, auto_increment = false)]
    pub id: Uuid,
    pub community_id: Uuid,
    pub profile_id: Uuid,
    pub message: Option<String>,
    pub status: JoinRequestStatus,
    pub decided_by: Option<Uuid>,
    pub created_at: DateTimeUtc,
    pub decided_at: Option<DateTimeUtc>,
}

/// Relations of a join request.
#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
