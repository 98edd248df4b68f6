//! Domain events: what happened, published after the database transaction commits.
//!
//! The activity table is the outbox. Each activity is filed under the streams it is delivered
//! on (`activity_streams`: its topic, the workers a task change concerns, the inboxes it
//! notifies, the people whose access it changes) at a position that is dense per stream and
//! increases in commit order. Events carry those positions, so a listener knows exactly when
//! it missed one and re-reads the stream from the database ([`follow`]).
//!
//! With Redis every instance publishes to one channel and one subscriber connection per
//! process hands events to the [`Hub`], which routes them to the listeners of their streams;
//! without Redis the hub is fed directly.
pub mod follow;
mod hub;
mod in_process;
mod redis_bus;

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use std::sync::Arc;
use uuid::Uuid;

pub use hub::{Delivery, Hub, Listener, Missed};

/// The stream every session revocation is also filed under: each instance follows it to
/// refuse the session's tokens (`auth::session`). An internal listener, not a subscriber.
pub const SESSIONS_STREAM: &str = "sessions";
pub use in_process::InProcessBus;
pub use redis_bus::RedisBus;

/// A committed state change, as subscribers receive it.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct DomainEvent {
    /// The id of the activity record: ordered, unique.
    pub id: i64,
    /// Where it is published, e.g. `organization:<uuid>`.
    pub topic: String,
    /// Every stream it is filed under, with its position there (the topic is one of them).
    #[serde(default)]
    pub streams: Vec<StreamPos>,
    /// What happened, e.g. `organization.member_added`.
    pub action: String,
    /// Kind of the changed thing.
    pub subject_type: String,
    /// Id of the changed thing.
    pub subject_id: Uuid,
    /// The profile that acted, if any.
    pub actor_profile_id: Option<Uuid>,
    /// State after the change, if recorded.
    pub after: Option<serde_json::Value>,
    /// When it happened.
    pub occurred_at: DateTime<Utc>,
}

/// A position on a stream.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct StreamPos {
    /// The stream, e.g. `community:<uuid>` or `inbox:<user uuid>`.
    pub stream: String,
    /// Dense, increasing in commit order.
    pub seq: i64,
}

impl DomainEvent {
    /// The event of a stored activity (positions are not needed when read back in order).
    pub fn from_row(a: entity::activity::Model) -> Self {
        Self {
            id: a.id,
            topic: a.topic,
            streams: Vec::new(),
            action: a.action,
            subject_type: a.subject_type,
            subject_id: a.subject_id,
            actor_profile_id: a.actor_profile_id,
            after: a.after,
            occurred_at: a.created_at,
        }
    }
}

/// Carries domain events to every listener of every instance.
pub trait EventBus: Send + Sync + 'static {
    /// Publishes committed events, in order. Never blocks on the network.
    fn publish(&self, events: Vec<DomainEvent>);
    /// Where this process's listeners wait for events.
    fn hub(&self) -> &Arc<Hub>;
    /// Listeners currently held in this process (a live subscription holds one or two).
    fn subscriber_count(&self) -> usize {
        self.hub().listener_count()
    }
    /// Whether events published now reach the other instances (always, in process).
    fn connected(&self) -> bool {
        true
    }
}
