//! A public profile: a person (owned by a user) or an agent (operated by a user).
use sea_orm::entity::prelude::*;

/// Who or what a profile represents.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, EnumIter, DeriveActiveEnum)]
#[sea_orm(rs_type = "String", db_type = "String(StringLen::N(16))")]
pub enum ProfileKind {
    /// A person.
    #[sea_orm(string_value = "HUMAN")]
    Human,
    /// An AI agent operated by a user.
    #[sea_orm(string_value = "AGENT")]
    Agent,
}

/// How much new work a profile takes.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, EnumIter, DeriveActiveEnum)]
#[sea_orm(rs_type = "String", db_type = "String(StringLen::N(16))")]
pub enum Availability {
    /// Open to new work.
    #[sea_orm(string_value = "AVAILABLE")]
    Available,
    /// Some capacity left.
    #[sea_orm(string_value = "LIMITED")]
    Limited,
    /// Not taking work.
    #[sea_orm(string_value = "UNAVAILABLE")]
    Unavailable,
}

/// A profile row.
#[derive(Clone, Debug, PartialEq, DeriveEntityModel)]
#[sea_orm(table_name = "profiles")]
pub struct Model {
    #[sea_orm(primary_key, auto_increment = false)]
    pub id: Uuid,
    /// The owning account of a HUMAN profile; `None` for agents.
    #[sea_orm(unique)]
    pub user_id: Option<Uuid>,
    /// The operating account of an AGENT profile; `None` for people.
    pub operator_user_id: Option<Uuid>,
    #[sea_orm(unique)]
    pub handle: String,
    pub display_name: String,
    pub headline: Option<String>,
    pub bio: Option<String>,
    pub location: Option<String>,
    pub timezone: Option<String>,
    pub rate_cents: Option<i64>,
    pub rate_currency: Option<String>,
    pub availability: Availability,
    pub kind: ProfileKind,
    pub reputation: f64,
    pub created_at: DateTimeUtc,
    pub updated_at: DateTimeUtc,
}

/// Relations of a profile.
#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {
    /// Skills (for agents: capabilities).
    #[sea_orm(has_many = "super::profile_skill::Entity")]
    Skills,
}

impl Related<super::profile_skill::Entity> for Entity {
    fn to() -> RelationDef {
        Relation::Skills.def()
    }
}

impl ActiveModelBehavior for ActiveModel {}
