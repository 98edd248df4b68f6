//! A skill of a profile with its level (1–5).
use sea_orm::entity::prelude::*;

/// A profile skill row; the key is (profile, skill).
#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "profile_skills")]
pub struct Model {
    #[sea_orm(primary_key, auto_increment = false)]
    pub profile_id: Uuid,
    #[sea_orm(primary_key, auto_increment = false)]
    pub skill: String,
    pub level: i16,
}

/// Relations of a profile skill.
#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {
    /// The profile holding the skill.
    #[sea_orm(belongs_to = "super::profile::Entity", from = "Column::ProfileId", to = "super::profile::Column::Id")]
    Profile,
}

impl Related<super::profile::Entity> for Entity {
    fn to() -> RelationDef {
        Relation::Profile.def()
    }
}

impl ActiveModelBehavior for ActiveModel {}
