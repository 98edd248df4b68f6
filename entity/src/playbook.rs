//! A playbook: a named recipe that decomposes an outcome into tasks. Global when it belongs
//! to no organization.
use sea_orm::entity::prelude::*;

/// A playbook row. `steps` is a JSON list of task drafts
/// `{title, description, mode, skills, weight, dueInDays?, criteria}`.
#[derive(Clone, Debug, PartialEq, DeriveEntityModel)]
#[sea_orm(table_name = "playbooks")]
pub struct Model {
    #[sea_orm(primary_key, auto_increment = false)]
    pub id: Uuid,
    pub organization_id: Option<Uuid>,
    pub name: String,
    pub description: String,
    pub steps: Json,
    /// The profile that wrote it; none for the platform's own.
    pub created_by: Option<Uuid>,
    pub created_at: DateTimeUtc,
}

/// Relations of a playbook.
#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
