//! The inbox as clients see it.
use async_graphql::{ID, Json, SimpleObject};
use chrono::{DateTime, Utc};

use crate::events::DomainEvent;

/// Something that happened that concerns you: an offer, an assignment, an acceptance or
/// rejection, a payout, a join-request decision, a reply to your post, an RSVP promotion.
#[derive(SimpleObject, Clone)]
pub struct Notification {
    /// The id of the activity it tells about (increasing in time; also the `after` of the
    /// `notifications` subscription and what `markNotificationsRead` takes).
    pub id: ID,
    /// What happened, e.g. `task.offered`.
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
    /// When you marked it read; `null` while unread.
    pub read_at: Option<DateTime<Utc>>,
}

impl Notification {
    /// A notification as it arrives live: unread.
    pub fn unread(e: &DomainEvent) -> Self {
        Self {
            id: ID(e.id.to_string()),
            action: e.action.clone(),
            subject_type: e.subject_type.clone(),
            subject_id: ID(e.subject_id.to_string()),
            actor_profile_id: e.actor_profile_id.map(|p| ID(p.to_string())),
            after: e.after.clone().map(Json),
            occurred_at: e.occurred_at,
            read_at: None,
        }
    }

    /// A stored notification with its read state.
    pub fn stored(n: entity::notification::Model, a: entity::activity::Model) -> Self {
        Self { read_at: n.read_at, ..Self::unread(&DomainEvent::from_row(a)) }
    }
}
