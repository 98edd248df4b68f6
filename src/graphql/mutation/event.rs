//! Events and RSVPs.
use async_graphql::{Context, ID, InputObject, Object};
use chrono::{DateTime, Utc};

use crate::{
    domain::event::{self, EventInput},
    graphql::{
        GqlResult, state,
        types::{
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
