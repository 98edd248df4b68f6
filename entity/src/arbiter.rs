//! An account that may decide disputes it is not a party to.
use sea_orm::entity::prelude::*;

/// An arbiter row: the profile, and whether configuration (`ARBITER_HANDLES`) or an operator
/// command granted the role.
#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "arbiters")]
pub struct Model {
    #[sea_orm(primary_key, auto_increment = false)]
    pub profile_id: Uuid,
    /// `config` or `granted`.
    pub source: String,
    pub granted_at: DateTimeUtc,
}

/// Relations of an arbiter.
#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
