//! Events and RSVPs.
use async_graphql::{Context, ID, InputObject, MaybeUndefined, Object};
use chrono::{DateTime, Utc};

use crate::{
    domain::event::{self, EventChanges, EventInput},
    graphql::{
        GqlResult, state,
        types::{
            common::change,
            event::{Event, Rsvp},
            parse_id,
        },
        viewer,
    },
};

/// Input of `createEvent`.
#[derive(InputObject)]
pub struct CreateEventInput {
    /// Host community (moderators); omit to host as yourself.
    pub community_id: Option<ID>,
    /// Title.
    pub title: String,
    /// Description.
    pub description: Option<String>,
    /// Start (UTC).
    pub starts_at: DateTime<Utc>,
    /// End (UTC).
    pub ends_at: DateTime<Utc>,
    /// IANA time zone to present it in.
    pub timezone: String,
    /// Venue.
    pub venue: Option<String>,
    /// Online link (shown to GOING attendees and hosts only).
    pub online_url: Option<String>,
    /// Places.
    pub capacity: i32,
}

/// Input of `updateEvent`: only the fields given change; `null` clears description, venue or
/// online link (one of venue and link stays).
#[derive(InputObject)]
pub struct UpdateEventInput {
    /// The event.
    pub event_id: ID,
    /// New title.
    pub title: Option<String>,
    /// New description.
    pub description: MaybeUndefined<String>,
    /// New start (UTC, in the future).
    pub starts_at: Option<DateTime<Utc>>,
    /// New end (UTC).
    pub ends_at: Option<DateTime<Utc>>,
    /// New IANA time zone.
    pub timezone: Option<String>,
    /// New venue.
    pub venue: MaybeUndefined<String>,
    /// New online link.
    pub online_url: MaybeUndefined<String>,
    /// New capacity: not below the people going; a larger one promotes from the waitlist.
    pub capacity: Option<i32>,
}

/// Input naming an event.
#[derive(InputObject)]
pub struct EventIdInput {
    /// The event.
    pub event_id: ID,
}

/// Event mutations.
#[derive(Default)]
pub struct EventMutation;

#[Object]
impl EventMutation {
    /// Creates an event.
    async fn create_event(&self, ctx: &Context<'_>, input: CreateEventInput) -> GqlResult<Event> {
        let fields = EventInput {
            community_id: input.community_id.map(|c| parse_id(&c, "communityId")).transpose()?,
            title: input.title,
            description: input.description,
            starts_at: input.starts_at,
            ends_at: input.ends_at,
            timezone: input.timezone,
            venue: input.venue,
            online_url: input.online_url,
            capacity: input.capacity,
        };
        Ok(Event(event::create(state(ctx)?, viewer(ctx), fields).await?))
    }

    /// Edits a scheduled event (hosts). A larger capacity promotes waitlisted people in order;
    /// people going or waitlisted are notified of any other change.
    async fn update_event(&self, ctx: &Context<'_>, input: UpdateEventInput) -> GqlResult<Event> {
        let id = parse_id(&input.event_id, "eventId")?;
        let changes = EventChanges {
            title: input.title,
            description: change(input.description, |v| v),
            starts_at: input.starts_at,
            ends_at: input.ends_at,
            timezone: input.timezone,
            venue: change(input.venue, |v| v),
            online_url: change(input.online_url, |v| v),
            capacity: input.capacity,
        };
        Ok(Event(event::update(state(ctx)?, viewer(ctx), id, changes).await?))
    }

    /// Cancels an event (hosts).
    async fn cancel_event(&self, ctx: &Context<'_>, input: EventIdInput) -> GqlResult<Event> {
        Ok(Event(event::cancel(state(ctx)?, viewer(ctx), parse_id(&input.event_id, "eventId")?).await?))
    }

    /// GOING if there is room, else WAITLISTED with a position.
    async fn rsvp(&self, ctx: &Context<'_>, input: EventIdInput) -> GqlResult<Rsvp> {
        Ok(Rsvp(event::rsvp(state(ctx)?, viewer(ctx), parse_id(&input.event_id, "eventId")?).await?))
    }

    /// Cancels your RSVP; the first waitlisted person takes the place.
    async fn cancel_rsvp(&self, ctx: &Context<'_>, input: EventIdInput) -> GqlResult<Rsvp> {
        Ok(Rsvp(event::cancel_rsvp(state(ctx)?, viewer(ctx), parse_id(&input.event_id, "eventId")?).await?))
    }
}
