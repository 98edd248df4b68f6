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

/// A kind of notification mail, chosen per person.
#[derive(async_graphql::Enum, Copy, Clone, Eq, PartialEq, Debug)]
pub enum NotificationMailKind {
    /// A task offered to you.
    OfferReceived,
    /// An outcome submitted for your review, or one you worked on accepted.
    Outcome,
    /// A payout paid or failed.
    Payout,
    /// Events you attend: a place off the waitlist, changes, cancellations.
    Event,
    /// Replies to your posts.
    Reply,
}

mirror_enum!(
    NotificationMailKind,
    crate::domain::notification_mail::MailKind,
    [OfferReceived, Outcome, Payout, Event, Reply]
);

/// How a kind of notification reaches your (verified) address.
#[derive(async_graphql::Enum, Copy, Clone, Eq, PartialEq, Debug)]
pub enum NotificationMailMode {
    /// A mail for each, as it happens (the default).
    Immediate,
    /// One mail a day listing them.
    DailyDigest,
    /// No mail (the inbox still has them).
    Off,
}

mirror_enum!(NotificationMailMode, crate::domain::notification_mail::MailMode, [Immediate, DailyDigest, Off]);

/// Your choice for one kind of notification mail.
#[derive(async_graphql::SimpleObject)]
pub struct NotificationMailPreference {
    /// The kind.
    pub kind: NotificationMailKind,
    /// How it reaches you.
    pub mode: NotificationMailMode,
}

impl NotificationMailPreference {
    /// Every choice, from the domain's.
    pub fn all(
        choices: Vec<(crate::domain::notification_mail::MailKind, crate::domain::notification_mail::MailMode)>,
    ) -> Vec<Self> {
        choices.into_iter().map(|(kind, mode)| Self { kind: kind.into(), mode: mode.into() }).collect()
    }
}
