//! Events with RSVPs: capacity is never exceeded and the waitlist is served in order, even
//! under concurrent RSVPs (the event row is locked for every change of its attendance).
//! Here: topics, who sees and hosts an event, listings; creating, editing and cancelling in
//! `lifecycle`; RSVPs and the waitlist in `rsvp`; the iCalendar export in `ics`.
pub mod ics;
pub mod lifecycle;
pub mod rsvp;

pub use lifecycle::{EventChanges, EventInput, cancel, create, update};
pub use rsvp::{cancel_rsvp, rsvp, rsvps_of, waitlist_counts, waitlist_position};

use chrono::{DateTime, Utc};
use entity::{
    community::CommunityVisibility,
    community_member, event,
    event_rsvp::{self, RsvpStatus},
};
use sea_orm::{ColumnTrait, Condition, ConnectionTrait, EntityTrait, QueryFilter, QuerySelect, sea_query::Query};
use uuid::Uuid;

use super::{
    community,
    page::{Cursor, Direction, Page, PageRequest, keyset},
};
use crate::{
    auth::Viewer,
    error::{AppError, AppResult},
};

/// Topic of an event's changes (RSVP counts, promotions).
pub fn topic(event: &event::Model) -> String {
    match event.community_id {
        Some(c) => community::topic(c),
        None => format!("event:{}", event.id),
    }
}

/// Whether the viewer hosts the event: its host, or a moderator of its community.
pub async fn is_host(db: &impl ConnectionTrait, viewer: &Viewer, event: &event::Model) -> AppResult<bool> {
    let Some(me) = viewer.profile_id() else { return Ok(false) };
    if event.host_profile_id == me {
        return Ok(true);
    }
    match event.community_id {
        Some(c) => Ok(community::rules::moderates(community::role_of(db, c, me).await?)),
        None => Ok(false),
    }
}

/// Requires that the viewer may see the event (private communities' events: members only).
async fn require_visible(db: &impl ConnectionTrait, viewer: &Viewer, event: &event::Model) -> AppResult<()> {
    if let Some(c) = event.community_id {
        community::require_read(db, viewer, c).await.map_err(|_| AppError::NotFound("event"))?;
    }
    Ok(())
}

/// An event the viewer may see.
pub async fn visible(db: &impl ConnectionTrait, viewer: &Viewer, id: Uuid) -> AppResult<event::Model> {
    let event = event::Entity::find_by_id(id).one(db).await?.ok_or(AppError::NotFound("event"))?;
    require_visible(db, viewer, &event).await?;
    Ok(event)
}

/// An event anyone may see (for the public iCalendar export): not in a private community.
pub async fn public(db: &impl ConnectionTrait, id: Uuid) -> AppResult<event::Model> {
    let event = event::Entity::find_by_id(id).one(db).await?.ok_or(AppError::NotFound("event"))?;
    if let Some(c) = event.community_id {
        let community = community::by_id(db, c).await?.ok_or(AppError::NotFound("event"))?;
        if community.visibility != CommunityVisibility::Public {
            return Err(AppError::NotFound("event"));
        }
    }
    Ok(event)
}

/// Events the viewer may see: outside communities, in public ones, or in communities it belongs to.
fn visible_to(viewer: &Viewer) -> Condition {
    let public_communities = Query::select()
        .column(entity::community::Column::Id)
        .from(entity::community::Entity)
        .and_where(entity::community::Column::Visibility.eq(CommunityVisibility::Public))
        .to_owned();
    let mut visible = Condition::any()
        .add(event::Column::CommunityId.is_null())
        .add(event::Column::CommunityId.in_subquery(public_communities));
    if let Some(me) = viewer.profile_id() {
        visible = visible.add(
            event::Column::CommunityId.in_subquery(
                Query::select()
                    .column(community_member::Column::CommunityId)
                    .from(community_member::Entity)
                    .and_where(community_member::Column::ProfileId.eq(me))
                    .to_owned(),
            ),
        );
    }
    visible
}

/// Which of the viewer's events.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum When {
    /// Not over yet, soonest first.
    Upcoming,
    /// Over, latest first.
    Past,
}

/// Events the viewer hosts or has an RSVP to (going or waitlisted), among those it may still
/// see; upcoming soonest first, past latest first.
pub async fn mine(
    db: &impl ConnectionTrait,
    viewer: &Viewer,
    now: DateTime<Utc>,
    when: When,
    page: PageRequest,
) -> AppResult<Page<event::Model>> {
    let me = viewer.require_any()?;
    let attending = Query::select()
        .column(event_rsvp::Column::EventId)
        .from(event_rsvp::Entity)
        .and_where(event_rsvp::Column::ProfileId.eq(me))
        .and_where(event_rsvp::Column::Status.ne(RsvpStatus::Cancelled))
        .to_owned();
    let mine = Condition::any().add(event::Column::HostProfileId.eq(me)).add(event::Column::Id.in_subquery(attending));
    let (timing, direction) = match when {
        When::Upcoming => (event::Column::EndsAt.gt(now), Direction::Ascending),
        When::Past => (event::Column::EndsAt.lte(now), Direction::Descending),
    };
    let query = event::Entity::find().filter(mine).filter(timing).filter(visible_to(viewer));
    keyset(db, query, (event::Column::StartsAt, event::Column::Id), direction, &page, |e| Cursor {
        key: 0,
        at: e.starts_at,
        id: e.id,
    })
    .await
}

/// Upcoming visible events (or a community's), soonest first; with `search`, those whose title,
/// description or venue hold every word.
pub async fn list(
    db: &impl ConnectionTrait,
    viewer: &Viewer,
    community_id: Option<Uuid>,
    search: Option<&str>,
    now: DateTime<Utc>,
    page: PageRequest,
) -> AppResult<Page<event::Model>> {
    let mut query = event::Entity::find().filter(event::Column::EndsAt.gt(now));
    if let Some(text) = search {
        let words = super::search::words(text, "search")?;
        query = query.filter(super::search::all_words_in(
            &[event::Column::Title, event::Column::Description, event::Column::Venue],
            &words,
        ));
    }
    match community_id {
        Some(c) => {
            community::require_read(db, viewer, c).await?;
            query = query.filter(event::Column::CommunityId.eq(c));
        }
        None => query = query.filter(visible_to(viewer)),
    }
    keyset(db, query, (event::Column::StartsAt, event::Column::Id), Direction::Ascending, &page, |e| Cursor {
        key: 0,
        at: e.starts_at,
        id: e.id,
    })
    .await
}

async fn lock(db: &impl ConnectionTrait, id: Uuid) -> AppResult<event::Model> {
    event::Entity::find_by_id(id).lock_exclusive().one(db).await?.ok_or(AppError::NotFound("event"))
}
