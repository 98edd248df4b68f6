//! A client's review (1–5 and text) of accepted work; reviews feed reputation.
use sea_orm::entity::prelude::*;

/// A review row; one per task and reviewer.
#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "reviews")]
pub struct Model {
    #[sea_orm(primary_key, auto_increment = false)]
    pub id: Uuid,
    pub task_id: Uuid,
    pub contract_id: Uuid,
    pub reviewer_profile_id: Uuid,
    /// The person or agent whose work was reviewed.
    pub subject_profile_id: Uuid,
    pub rating: i16,
    pub text: String,
    pub created_at: DateTimeUtc,
}

/// Relations of a review.
#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
