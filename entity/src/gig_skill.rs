//! A skill a gig requires.
use sea_orm::entity::prelude::*;

/// A gig skill row; the key is (gig, skill).
#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "gig_skills")]
pub struct Model {
    #[sea_orm(primary_key, auto_increment = false)]
    pub gig_id: Uuid,
    #[sea_orm(primary_key, auto_increment = false)]
    pub skill: String,
}

/// Relations of a gig skill.
#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
