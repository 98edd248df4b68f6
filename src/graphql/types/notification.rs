//! The inbox as clients see it.
use async_graphql::SimpleObject;
use chrono::{DateTime, Utc};

use super::activity::ActivityEvent;
use crate::events::DomainEvent;

/// Something that happened that concerns you: an offer, an assignment, an acceptance or
/// rejection, a payout, a join-request decision, a reply to your post, an RSVP promotion.
#[derive(SimpleObject, Clone)]
pub struct Notification {
    /// What happened. Its `id` is the activity's id: increasing in time, the `after` of the
    /// `notifications` subscription and what `markNotificationsRead` takes.
    #[graphql(flatten)]
    pub event: ActivityEvent,
    /// When you marked it read; `null` while unread.
    pub read_at: Option<DateTime<Utc>>,
}

impl Notification {
    /// A notification as it arrives live: unread.
    pub fn unread(e: &DomainEvent) -> Self {
        Self { event: ActivityEvent::from(e), read_at: None }
    }

    /// A stored notification with its read state.
    pub fn stored(n: entity::notification::Model, a: entity::activity::Model) -> Self {
        Self { event: ActivityEvent::from(a), read_at: n.read_at }
    }
}
