//! The audit trail as clients see it: in dashboards' activity feeds and on every subscription.
use async_graphql::{ID, Json, SimpleObject};
use chrono::{DateTime, Utc};

use crate::events::DomainEvent;

/// A committed change, as subscribers see it.
#[derive(SimpleObject, Clone)]
pub struct ActivityEvent {
    /// Ordered id of the activity record; pass the last one received as `after` to resume.
    pub id: ID,
    /// What happened, e.g. `organization.member_added`.
    pub action: String,
    /// Kind of the changed thing.
    pub subject_type: String,
    /// Id of the changed thing.
    pub subject_id: ID,
    /// Profile that acted.
    pub actor_profile_id: Option<ID>,
    /// State after the change.
    pub after: Option<Json<serde_json::Value>>,
    /// When it happened.
    pub occurred_at: DateTime<Utc>,
}

impl From<&DomainEvent> for ActivityEvent {
    fn from(e: &DomainEvent) -> Self {
        Self {
            id: ID(e.id.to_string()),
            action: e.action.clone(),
            subject_type: e.subject_type.clone(),
            subject_id: ID(e.subject_id.to_string()),
            actor_profile_id: e.actor_profile_id.map(|p| ID(p.to_string())),
            after: e.after.clone().map(Json),
            occurred_at: e.occurred_at,
        }
    }
}

impl From<entity::activity::Model> for ActivityEvent {
    fn from(a: entity::activity::Model) -> Self {
        Self::from(&DomainEvent::from_row(a))
    }
}
