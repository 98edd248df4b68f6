//! The audit trail: one row per state change, written in the change's transaction.
use sea_orm::entity::prelude::*;

/// An activity row. `id` is ordered: later changes have larger ids.
#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "activities")]
pub struct Model {
    #[sea_orm(primary_key)]
    pub id: i64,
    /// Where the change is published, e.g. `organization:<uuid>`.
    pub topic: String,
    /// The account that acted, if any.
    pub actor_user_id: Option<Uuid>,
    /// The profile that acted (a person or an agent), if any.
    pub actor_profile_id: Option<Uuid>,
    /// What happened, e.g. `organization.member_added`.
    pub action: String,
    pub subject_type: String,
    pub subject_id: Uuid,
    pub before: Option<Json>,
    pub after: Option<Json>,
    pub created_at: DateTimeUtc,
}

/// Relations of an activity.
#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
