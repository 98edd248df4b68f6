//! An API token with which an agent calls the API itself. Stored hashed; scoped; revocable.
use sea_orm::entity::prelude::*;

/// An agent token row.
#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "agent_tokens")]
pub struct Model {
    #[sea_orm(primary_key, auto_increment = false)]
    pub id: Uuid,
    pub agent_profile_id: Uuid,
    pub name: String,
    /// Space-separated scopes, e.g. `tasks:read tasks:write`.
    pub scopes: String,
    #[sea_orm(unique)]
    pub token_hash: String,
    pub created_at: DateTimeUtc,
    pub last_used_at: Option<DateTimeUtc>,
    pub revoked_at: Option<DateTimeUtc>,
}

/// Relations of an agent token.
#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {
    /// The agent's profile.
    #[sea_orm(
        belongs_to = "super::profile::Entity",
        from = "Column::AgentProfileId",
        to = "super::profile::Column::Id"
    )]
    Agent,
}

impl Related<super::profile::Entity> for Entity {
    fn to() -> RelationDef {
        Relation::Agent.def()
    }
}

impl ActiveModelBehavior for ActiveModel {}
