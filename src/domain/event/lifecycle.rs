//! An event's lifecycle: creating it, editing it (a larger capacity promotes from the waitlist) and cancelling it.
use chrono::{DateTime, Utc};
use entity::{
    event::{self, EventStatus},
    event_rsvp::{self, RsvpStatus},
};
use sea_orm::{
    ActiveModelTrait, ColumnTrait, ConnectionTrait, EntityTrait, IntoActiveModel, QueryFilter, QuerySelect, Set,
};
use serde_json::json;
use uuid::Uuid;

use super::{
    is_host, lock, require_visible,
    rsvp::{promote_waitlisted, rsvp_activity},
    topic,
};
use crate::{
    auth::Viewer,
    domain::{Action, Change, NewActivity, UnitOfWork, community, validate},
    error::{AppError, AppResult},
    state::AppState,
};

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
