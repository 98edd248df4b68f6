//! Domain events: what happened, published after the database transaction commits.
//!
//! With Redis every instance publishes to one channel and one subscriber connection per
//! process fans events out through a tokio broadcast; without Redis the broadcast is all.
mod in_process;
mod redis_bus;

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use tokio::sync::broadcast;
use uuid::Uuid;

pub use in_process::InProcessBus;
pub use redis_bus::RedisBus;

/// A committed state change, as subscribers receive it.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct DomainEvent {
    /// The id of the activity record: ordered, unique.
    pub id: i64,
    /// Where it is published, e.g. `organization:<uuid>`.
    pub topic: String,
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

/// Carries domain events to every subscriber of every instance.
pub trait EventBus: Send + Sync + 'static {
    /// Publishes committed events, in order. Never blocks on the network.
    fn publish(&self, events: Vec<DomainEvent>);
    /// A receiver of every event published from now on.
    fn subscribe(&self) -> broadcast::Receiver<DomainEvent>;
    /// Receivers currently subscribed in this process (live subscriptions hold one each).
    fn subscriber_count(&self) -> usize;
}

/// Capacity of the per-process broadcast; a subscriber lagging further loses the oldest events
/// (and is told so by `RecvError::Lagged`).
pub const BROADCAST_CAPACITY: usize = 1024;
