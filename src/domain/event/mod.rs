//! Events with RSVPs: capacity is never exceeded and the waitlist is served in order, even
//! under concurrent RSVPs (the event row is locked for every change of its attendance).
pub mod ics;

use crate::domain::Action;
use std::collections::HashMap;

use chrono::{DateTime, Utc};
use entity::{
    community::CommunityVisibility,
    community_member,
    event::{self, EventStatus},
    event_rsvp::{self, RsvpStatus},
};
use sea_orm::{
    ActiveModelTrait, ColumnTrait, Condition, ConnectionTrait, EntityTrait, IntoActiveModel, PaginatorTrait,
    QueryFilter, QueryOrder, QuerySelect, Set,
    sea_query::{Expr, Func, Query},
};
use serde_json::json;
use uuid::Uuid;

use super::{
    Change, NewActivity, UnitOfWork, community,
    page::{Cursor, Direction, Page, PageRequest, keyset},
    validate,
};
use crate::{
    auth::Viewer,
    error::{AppError, AppResult},
    state::AppState,
};

/// Topic of an event's changes (RSVP counts, promotions).
pub fn topic(event: &event::Model) -> String {
    match event.community_id {
        Some(c) => community::topic(c),
        None => format!("event:{}", event.id),
    }
}

/// Input of `createEvent`.
pub struct EventInput {
    /// Host community (moderators only); `None` hosts as yourself.
    pub community_id: Option<Uuid>,
    /// Title.
    pub title: String,
    /// Description.
    pub description: Option<String>,
    /// Start.
    pub starts_at: DateTime<Utc>,
    /// End.
    pub ends_at: DateTime<Utc>,
    /// IANA time zone the event is presented in.
    pub timezone: String,
    /// Where it happens in person.
    pub venue: Option<String>,
    /// Where it happens online (shown to GOING attendees and hosts only).
    pub online_url: Option<String>,
    /// Places.
    pub capacity: i32,
}

/// Creates an event for a community (moderators) or as yourself.
pub async fn create(state: &AppState, viewer: &Viewer, input: EventInput) -> AppResult<event::Model> {
    let (_, me) = viewer.require_user()?;
    let now = state.clock.now();
    let title = validate::text(&input.title, "title", 1, 200, false)?;
    let description = validate::optional_text(input.description.as_deref(), "description", 10_000, true)?;
    let timezone = validate::timezone(&input.timezone, "timezone")?;
    let venue = validate::optional_text(input.venue.as_deref(), "venue", 200, false)?;
    let online_url = validate::optional_url(input.online_url.as_deref(), "onlineUrl", 500)?;
    if venue.is_none() && online_url.is_none() {
        return Err(AppError::bad_input("venue", "give a venue or an online link"));
    }
    if input.starts_at <= now {
        return Err(AppError::bad_input("startsAt", "must be in the future"));
    }
    if input.ends_at <= input.starts_at {
        return Err(AppError::bad_input("endsAt", "must be after startsAt"));
    }
    if !(1..=100_000).contains(&input.capacity) {
        return Err(AppError::bad_input("capacity", "must be between 1 and 100000"));
    }
    let mut work = UnitOfWork::begin(state, viewer).await?;
    if let Some(c) = input.community_id {
        community::by_id(work.txn(), c)
            .await?
            .ok_or_else(|| AppError::bad_input("communityId", "no such community"))?;
        community::rules::require_moderator(community::role_of(work.txn(), c, me).await?)?;
    }
    let event = event::ActiveModel {
        id: Set(Uuid::new_v4()),
        community_id: Set(input.community_id),
        host_profile_id: Set(me),
        title: Set(title),
        description: Set(description),
        starts_at: Set(input.starts_at),
        ends_at: Set(input.ends_at),
        timezone: Set(timezone),
        venue: Set(venue),
        online_url: Set(online_url),
        capacity: Set(input.capacity),
        going_count: Set(0),
        waitlist_seq: Set(0),
        status: Set(EventStatus::Scheduled),
        created_at: Set(now),
        updated_at: Set(now),
    }
    .insert(work.txn())
    .await?;
    work.record(event_activity(Action::EventCreated, &event, None)).await?;
    work.commit().await?;
    Ok(event)
}

/// Cancels an event (its host or the community's moderators).
pub async fn cancel(state: &AppState, viewer: &Viewer, id: Uuid) -> AppResult<event::Model> {
    viewer.require_user()?;
    let mut work = UnitOfWork::begin(state, viewer).await?;
    let event = lock(work.txn(), id).await?;
    if !is_host(work.txn(), viewer, &event).await? {
        return Err(AppError::forbidden("only the event's hosts cancel it"));
    }
    if event.status != EventStatus::Scheduled {
        return Err(AppError::conflict(format!(
            "an event cannot go from {} to CANCELLED",
            crate::domain::wire(event.status)
        )));
    }
    let mut active = event.into_active_model();
    active.status = Set(EventStatus::Cancelled);
    active.updated_at = Set(state.clock.now());
    let event = active.update(work.txn()).await?;
    // Its attendees are told (inbox, and mail as they chose).
    let attendees = attendees(work.txn(), event.id).await?;
    work.record_notifying(event_activity(Action::EventCancelled, &event, None), attendees).await?;
    work.commit().await?;
    Ok(event)
}

/// Changes to a scheduled event; `None` and `Change::Keep` leave a field as it is.
#[derive(Default)]
pub struct EventChanges {
    /// New title.
    pub title: Option<String>,
    /// New description.
    pub description: Change<String>,
    /// New start (in the future).
    pub starts_at: Option<DateTime<Utc>>,
    /// New end (after the start).
    pub ends_at: Option<DateTime<Utc>>,
    /// New IANA time zone.
    pub timezone: Option<String>,
    /// New venue.
    pub venue: Change<String>,
    /// New online link.
    pub online_url: Change<String>,
    /// New capacity: never below the people going; a larger one promotes from the waitlist.
    pub capacity: Option<i32>,
}

/// Edits a scheduled event (its hosts). A larger capacity promotes waitlisted people in order
/// in the same transaction; people going or waitlisted are notified of a change of anything
/// but the capacity. Nothing changes when no field does.
pub async fn update(state: &AppState, viewer: &Viewer, id: Uuid, changes: EventChanges) -> AppResult<event::Model> {
    viewer.require_user()?;
    let now = state.clock.now();
    let mut work = UnitOfWork::begin(state, viewer).await?;
    let event = lock(work.txn(), id).await?;
    require_visible(work.txn(), viewer, &event).await?;
    if !is_host(work.txn(), viewer, &event).await? {
        return Err(AppError::forbidden("only the event's hosts edit it"));
    }
    if event.status != EventStatus::Scheduled {
        return Err(AppError::conflict(format!("a {} event cannot be edited", crate::domain::wire(event.status))));
    }
    let next = apply(&event, changes, now)?;
    let changed = changed_fields(&event, &next);
    if changed.is_empty() {
        return Ok(event);
    }
    let attendees =
        if changed.iter().any(|f| *f != "capacity") { attendees(work.txn(), id).await? } else { Vec::new() };
    let room = next.capacity.saturating_sub(event.going_count);
    let mut active = next.clone().into_active_model();
    for column in [
        event::Column::Title,
        event::Column::Description,
        event::Column::StartsAt,
        event::Column::EndsAt,
        event::Column::Timezone,
        event::Column::Venue,
        event::Column::OnlineUrl,
        event::Column::Capacity,
    ] {
        active.reset(column);
    }
    active.updated_at = Set(now);
    let mut updated = active.update(work.txn()).await?;
    let promoted = promote_waitlisted(&mut work, id, u64::try_from(room).unwrap_or(0), now).await?;
    if !promoted.is_empty() {
        let mut active = updated.into_active_model();
        active.going_count = Set(event.going_count.saturating_add(i32::try_from(promoted.len()).unwrap_or(i32::MAX)));
        updated = active.update(work.txn()).await?;
    }
    let before = snapshot(&event, &changed);
    let mut after = snapshot(&updated, &changed);
    after["changed"] = json!(changed);
    let activity = NewActivity {
        topic: topic(&updated),
        action: Action::EventUpdated,
        subject_type: "event",
        subject_id: updated.id,
        before: Some(before),
        after: Some(after),
    };
    work.record_notifying(activity, attendees).await?;
    for p in &promoted {
        work.record(rsvp_activity(Action::EventRsvpPromoted, &updated, p)).await?;
    }
    work.commit().await?;
    Ok(updated)
}

/// The event as `changes` would leave it, every field checked as at creation.
fn apply(event: &event::Model, changes: EventChanges, now: DateTime<Utc>) -> AppResult<event::Model> {
    let mut next = event.clone();
    if let Some(title) = changes.title {
        next.title = validate::text(&title, "title", 1, 200, false)?;
    }
    if !matches!(changes.description, Change::Keep) {
        let description = changes.description.apply(None);
        next.description = validate::optional_text(description.as_deref(), "description", 10_000, true)?;
    }
    if let Some(timezone) = changes.timezone {
        next.timezone = validate::timezone(&timezone, "timezone")?;
    }
    if !matches!(changes.venue, Change::Keep) {
        next.venue = validate::optional_text(changes.venue.apply(None).as_deref(), "venue", 200, false)?;
    }
    if !matches!(changes.online_url, Change::Keep) {
        next.online_url = validate::optional_url(changes.online_url.apply(None).as_deref(), "onlineUrl", 500)?;
    }
    if next.venue.is_none() && next.online_url.is_none() {
        return Err(AppError::bad_input("venue", "give a venue or an online link"));
    }
    if let Some(starts_at) = changes.starts_at {
        if starts_at != event.starts_at && starts_at <= now {
            return Err(AppError::bad_input("startsAt", "must be in the future"));
        }
        next.starts_at = starts_at;
    }
    next.ends_at = changes.ends_at.unwrap_or(event.ends_at);
    if next.ends_at <= next.starts_at {
        return Err(AppError::bad_input("endsAt", "must be after startsAt"));
    }
    if let Some(capacity) = changes.capacity {
        if !(1..=100_000).contains(&capacity) {
            return Err(AppError::bad_input("capacity", "must be between 1 and 100000"));
        }
        if capacity < event.going_count {
            return Err(AppError::bad_input(
                "capacity",
                format!("{} people are going: the capacity cannot be lower", event.going_count),
            ));
        }
        next.capacity = capacity;
    }
    Ok(next)
}

/// The names of the fields that differ, in the order clients see them.
fn changed_fields(a: &event::Model, b: &event::Model) -> Vec<&'static str> {
    let mut changed = Vec::new();
    let mut check = |name, differs: bool| {
        if differs {
            changed.push(name);
        }
    };
    check("title", a.title != b.title);
    check("description", a.description != b.description);
    check("startsAt", a.starts_at != b.starts_at);
    check("endsAt", a.ends_at != b.ends_at);
    check("timezone", a.timezone != b.timezone);
    check("venue", a.venue != b.venue);
    check("onlineUrl", a.online_url != b.online_url);
    check("capacity", a.capacity != b.capacity);
    changed
}

/// The changed fields' values, for the activity record. The online link is for attendees
/// only, and an activity reaches everyone who follows the community: it says "changed".
fn snapshot(e: &event::Model, changed: &[&str]) -> serde_json::Value {
    let mut out = json!({ "title": e.title, "goingCount": e.going_count, "capacity": e.capacity });
    for field in changed {
        out[*field] = match *field {
            "title" => json!(e.title),
            "description" => json!(e.description),
            "startsAt" => json!(e.starts_at),
            "endsAt" => json!(e.ends_at),
            "timezone" => json!(e.timezone),
            "venue" => json!(e.venue),
            "capacity" => json!(e.capacity),
            _ => json!(e.online_url.is_some()),
        };
    }
    out
}

/// Profiles going to or waitlisted for an event.
async fn attendees(db: &impl ConnectionTrait, event_id: Uuid) -> AppResult<Vec<Uuid>> {
    Ok(event_rsvp::Entity::find()
        .select_only()
        .column(event_rsvp::Column::ProfileId)
        .filter(event_rsvp::Column::EventId.eq(event_id))
        .filter(event_rsvp::Column::Status.is_in([RsvpStatus::Going, RsvpStatus::Waitlisted]))
        .into_tuple()
        .all(db)
        .await?)
}

/// Moves the first `n` waitlisted people of an event to GOING, in waitlist order; the caller
/// holds the event's lock and adjusts its going count.
async fn promote_waitlisted(
    work: &mut UnitOfWork<'_>,
    event_id: Uuid,
    n: u64,
    now: DateTime<Utc>,
) -> AppResult<Vec<event_rsvp::Model>> {
    if n == 0 {
        return Ok(Vec::new());
    }
    let first = event_rsvp::Entity::find()
        .filter(event_rsvp::Column::EventId.eq(event_id))
        .filter(event_rsvp::Column::Status.eq(RsvpStatus::Waitlisted))
        .order_by_asc(event_rsvp::Column::WaitlistSeq)
        .limit(n)
        .all(work.txn())
        .await?;
    let mut promoted = Vec::with_capacity(first.len());
    for rsvp in first {
        let mut active = rsvp.into_active_model();
        active.status = Set(RsvpStatus::Going);
        active.waitlist_seq = Set(None);
        active.updated_at = Set(now);
        promoted.push(active.update(work.txn()).await?);
    }
    Ok(promoted)
}

/// RSVPs: GOING while there is room, otherwise WAITLISTED at the end of the line.
pub async fn rsvp(state: &AppState, viewer: &Viewer, id: Uuid) -> AppResult<event_rsvp::Model> {
    let (_, me) = viewer.require_user()?;
    let now = state.clock.now();
    let mut work = UnitOfWork::begin(state, viewer).await?;
    // The lock serialises every attendance change of this event.
    let event = lock(work.txn(), id).await?;
    require_visible(work.txn(), viewer, &event).await?;
    if let Some(c) = event.community_id
        && community::is_banned(work.txn(), c, me).await?
    {
        return Err(AppError::forbidden("you are banned from this community"));
    }
    if event.status != EventStatus::Scheduled {
        return Err(AppError::conflict("the event is not scheduled"));
    }
    let existing = rsvp_of(work.txn(), id, me).await?;
    if existing.as_ref().is_some_and(|r| r.status != RsvpStatus::Cancelled) {
        return Err(AppError::conflict("you already answered this event"));
    }
    let mut event_active = event.clone().into_active_model();
    let (status, seq) = if event.going_count < event.capacity {
        event_active.going_count = Set(event.going_count.saturating_add(1));
        (RsvpStatus::Going, None)
    } else {
        event_active.waitlist_seq = Set(event.waitlist_seq.saturating_add(1));
        (RsvpStatus::Waitlisted, Some(event.waitlist_seq.saturating_add(1)))
    };
    event_active.updated_at = Set(now);
    let event = event_active.update(work.txn()).await?;
    let rsvp = match existing {
        Some(old) => {
            let mut active = old.into_active_model();
            active.status = Set(status);
            active.waitlist_seq = Set(seq);
            active.updated_at = Set(now);
            active.update(work.txn()).await?
        }
        None => {
            event_rsvp::ActiveModel {
                id: Set(Uuid::new_v4()),
                event_id: Set(id),
                profile_id: Set(me),
                status: Set(status),
                waitlist_seq: Set(seq),
                created_at: Set(now),
                updated_at: Set(now),
            }
            .insert(work.txn())
            .await?
        }
    };
    work.record(rsvp_activity(Action::EventRsvp, &event, &rsvp)).await?;
    work.commit().await?;
    Ok(rsvp)
}

/// Cancels your RSVP; a freed place goes to the first waitlisted person in the same transaction.
pub async fn cancel_rsvp(state: &AppState, viewer: &Viewer, id: Uuid) -> AppResult<event_rsvp::Model> {
    let (_, me) = viewer.require_user()?;
    let now = state.clock.now();
    let mut work = UnitOfWork::begin(state, viewer).await?;
    let event = lock(work.txn(), id).await?;
    let mine = rsvp_of(work.txn(), id, me)
        .await?
        .filter(|r| r.status != RsvpStatus::Cancelled)
        .ok_or_else(|| AppError::conflict("you have no RSVP to cancel"))?;
    let was_going = mine.status == RsvpStatus::Going;
    let mut active = mine.into_active_model();
    active.status = Set(RsvpStatus::Cancelled);
    active.waitlist_seq = Set(None);
    active.updated_at = Set(now);
    let mine = active.update(work.txn()).await?;
    let mut going = event.going_count;
    let mut promoted = None;
    if was_going {
        going = going.saturating_sub(1);
        if event.status == EventStatus::Scheduled {
            promoted = promote_waitlisted(&mut work, id, 1, now).await?.pop();
            if promoted.is_some() {
                going = going.saturating_add(1);
            }
        }
    }
    let mut event_active = event.into_active_model();
    event_active.going_count = Set(going);
    event_active.updated_at = Set(now);
    let event = event_active.update(work.txn()).await?;
    work.record(rsvp_activity(Action::EventRsvpCancelled, &event, &mine)).await?;
    if let Some(p) = &promoted {
        work.record(rsvp_activity(Action::EventRsvpPromoted, &event, p)).await?;
    }
    work.commit().await?;
    Ok(mine)
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

/// The viewer's RSVPs for many events in one statement (for loaders).
pub async fn rsvps_of(
    db: &impl ConnectionTrait,
    profile_id: Uuid,
    event_ids: &[Uuid],
) -> AppResult<HashMap<Uuid, event_rsvp::Model>> {
    let rows = event_rsvp::Entity::find()
        .filter(event_rsvp::Column::ProfileId.eq(profile_id))
        .filter(event_rsvp::Column::EventId.is_in(event_ids.iter().copied()))
        .all(db)
        .await?;
    Ok(rows.into_iter().map(|r| (r.event_id, r)).collect())
}

/// Waitlist lengths of many events in one statement (for loaders).
pub async fn waitlist_counts(db: &impl ConnectionTrait, event_ids: &[Uuid]) -> AppResult<HashMap<Uuid, i64>> {
    let rows: Vec<(Uuid, i64)> = event_rsvp::Entity::find()
        .select_only()
        .column(event_rsvp::Column::EventId)
        .column_as(Expr::expr(Func::count(Expr::col(event_rsvp::Column::Id))), "n")
        .filter(event_rsvp::Column::EventId.is_in(event_ids.iter().copied()))
        .filter(event_rsvp::Column::Status.eq(RsvpStatus::Waitlisted))
        .group_by(event_rsvp::Column::EventId)
        .into_tuple()
        .all(db)
        .await?;
    Ok(rows.into_iter().collect())
}

/// A waitlisted RSVP's place in line (1 = next to be promoted).
pub async fn waitlist_position(db: &impl ConnectionTrait, rsvp: &event_rsvp::Model) -> AppResult<Option<u64>> {
    let Some(seq) = rsvp.waitlist_seq.filter(|_| rsvp.status == RsvpStatus::Waitlisted) else { return Ok(None) };
    let ahead = event_rsvp::Entity::find()
        .filter(event_rsvp::Column::EventId.eq(rsvp.event_id))
        .filter(event_rsvp::Column::Status.eq(RsvpStatus::Waitlisted))
        .filter(event_rsvp::Column::WaitlistSeq.lt(seq))
        .count(db)
        .await?;
    Ok(Some(ahead.saturating_add(1)))
}

async fn rsvp_of(db: &impl ConnectionTrait, event_id: Uuid, profile_id: Uuid) -> AppResult<Option<event_rsvp::Model>> {
    Ok(event_rsvp::Entity::find()
        .filter(event_rsvp::Column::EventId.eq(event_id))
        .filter(event_rsvp::Column::ProfileId.eq(profile_id))
        .one(db)
        .await?)
}

async fn lock(db: &impl ConnectionTrait, id: Uuid) -> AppResult<event::Model> {
    event::Entity::find_by_id(id).lock_exclusive().one(db).await?.ok_or(AppError::NotFound("event"))
}

fn event_activity(action: Action, e: &event::Model, before: Option<serde_json::Value>) -> NewActivity {
    NewActivity {
        topic: topic(e),
        action,
        subject_type: "event",
        subject_id: e.id,
        before,
        after: Some(
            json!({ "title": e.title, "status": crate::domain::wire(e.status), "goingCount": e.going_count, "capacity": e.capacity }),
        ),
    }
}

fn rsvp_activity(action: Action, e: &event::Model, r: &event_rsvp::Model) -> NewActivity {
    NewActivity {
        topic: topic(e),
        action,
        subject_type: "event",
        subject_id: e.id,
        before: None,
        after: Some(json!({
            "profileId": r.profile_id,
            "status": crate::domain::wire(r.status),
            "goingCount": e.going_count,
            "capacity": e.capacity,
        })),
    }
}
