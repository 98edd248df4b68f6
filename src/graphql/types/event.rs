//! What the client sees of events and RSVPs. The online link reaches GOING attendees and hosts only.
use async_graphql::{Context, Enum, ID, Object};
use chrono::{DateTime, Utc};
use entity::{event as db, event_rsvp as rsvp_db};

use super::{community::Community, profile::Profile};
use crate::{
    domain,
    error::AppError,
    graphql::{GqlResult, loaders, state, viewer},
};

/// Where an event stands.
#[derive(Enum, Copy, Clone, Eq, PartialEq, Debug)]
pub enum EventStatus {
    /// Going ahead.
    Scheduled,
    /// Called off.
    Cancelled,
    /// Over.
    Completed,
}

/// An RSVP's state.
#[derive(Enum, Copy, Clone, Eq, PartialEq, Debug)]
pub enum RsvpStatus {
    /// Has a place.
    Going,
    /// In line for a place.
    Waitlisted,
    /// Gave it up.
    Cancelled,
}

mirror_enum!(EventStatus, db::EventStatus, [Scheduled, Cancelled, Completed]);
mirror_enum!(RsvpStatus, rsvp_db::RsvpStatus, [Going, Waitlisted, Cancelled]);

/// An event.
pub struct Event(pub db::Model);

#[Object]
impl Event {
    /// Event id.
    pub(crate) async fn id(&self) -> ID {
        ID(self.0.id.to_string())
    }
    /// Host community, if any.
    async fn community(&self, ctx: &Context<'_>) -> GqlResult<Option<Community>> {
        let Some(id) = self.0.community_id else { return Ok(None) };
        Ok(loaders(ctx)?.communities.load_one(id).await?.map(Community))
    }
    /// The person hosting.
    async fn host(&self, ctx: &Context<'_>) -> GqlResult<Profile> {
        let p = loaders(ctx)?.profiles.load_one(self.0.host_profile_id).await?.ok_or(AppError::NotFound("profile"))?;
        Ok(Profile(p))
    }
    /// Title.
    async fn title(&self) -> &str {
        &self.0.title
    }
    /// Description.
    async fn description(&self) -> Option<&str> {
        self.0.description.as_deref()
    }
    /// Start (UTC).
    async fn starts_at(&self) -> DateTime<Utc> {
        self.0.starts_at
    }
    /// End (UTC).
    async fn ends_at(&self) -> DateTime<Utc> {
        self.0.ends_at
    }
    /// IANA time zone to present it in.
    async fn timezone(&self) -> &str {
        &self.0.timezone
    }
    /// Venue.
    async fn venue(&self) -> Option<&str> {
        self.0.venue.as_deref()
    }
    /// Whether it happens online (the link itself is in `onlineUrl`).
    async fn is_online(&self) -> bool {
        self.0.online_url.is_some()
    }
    /// The online link: only for GOING attendees and hosts; null for everyone else.
    async fn online_url(&self, ctx: &Context<'_>) -> GqlResult<Option<&str>> {
        let Some(url) = self.0.online_url.as_deref() else { return Ok(None) };
        let going =
            loaders(ctx)?.my_rsvps.load_one(self.0.id).await?.is_some_and(|r| r.status == rsvp_db::RsvpStatus::Going);
        if going || domain::event::is_host(&state(ctx)?.db, viewer(ctx), &self.0).await? {
            Ok(Some(url))
        } else {
            Ok(None)
        }
    }
    /// Places in total.
    async fn capacity(&self) -> i32 {
        self.0.capacity
    }
    /// People going.
    async fn going_count(&self) -> i32 {
        self.0.going_count
    }
    /// People waiting for a place.
    async fn waitlist_count(&self, ctx: &Context<'_>) -> GqlResult<i64> {
        Ok(loaders(ctx)?.waitlist_counts.load_one(self.0.id).await?.unwrap_or(0))
    }
    /// Places left.
    async fn spots_left(&self) -> i32 {
        (self.0.capacity - self.0.going_count).max(0)
    }
    /// Status.
    async fn status(&self) -> EventStatus {
        self.0.status.into()
    }
    /// The caller's RSVP, if any.
    async fn my_rsvp(&self, ctx: &Context<'_>) -> GqlResult<Option<Rsvp>> {
        Ok(loaders(ctx)?.my_rsvps.load_one(self.0.id).await?.map(Rsvp))
    }
    /// Path of the iCalendar file (public events).
    async fn ics_path(&self) -> String {
        format!("/events/{}.ics", self.0.id)
    }
}

/// A person's answer to an event.
pub struct Rsvp(pub rsvp_db::Model);

#[Object]
impl Rsvp {
    /// RSVP id.
    async fn id(&self) -> ID {
        ID(self.0.id.to_string())
    }
    /// GOING, WAITLISTED or CANCELLED.
    async fn status(&self) -> RsvpStatus {
        self.0.status.into()
    }
    /// Place in the waitlist (1 = next in line); null unless waitlisted.
    async fn waitlist_position(&self, ctx: &Context<'_>) -> GqlResult<Option<u64>> {
        Ok(domain::event::waitlist_position(&state(ctx)?.db, &self.0).await?)
    }
    /// The event.
    async fn event_id(&self) -> ID {
        ID(self.0.event_id.to_string())
    }
    /// Who answered.
    async fn profile(&self, ctx: &Context<'_>) -> GqlResult<Profile> {
        let p = loaders(ctx)?.profiles.load_one(self.0.profile_id).await?.ok_or(AppError::NotFound("profile"))?;
        Ok(Profile(p))
    }
    /// When they last changed it.
    async fn updated_at(&self) -> DateTime<Utc> {
        self.0.updated_at
    }
}
