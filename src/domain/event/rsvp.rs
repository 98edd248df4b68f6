//! RSVPs and the waitlist: answering, cancelling, promotion in waitlist order, and the viewer's answers.
use std::collections::HashMap;

use chrono::{DateTime, Utc};
use entity::{
    event::{self, EventStatus},
    event_rsvp::{self, RsvpStatus},
};
use sea_orm::{
    ActiveModelTrait, ColumnTrait, ConnectionTrait, EntityTrait, IntoActiveModel, PaginatorTrait, QueryFilter,
    QueryOrder, QuerySelect, Set,
    sea_query::{Expr, Func},
};
use serde_json::json;
use uuid::Uuid;

use super::{lock, require_visible, topic};
use crate::{
    auth::Viewer,
    domain::{Action, NewActivity, UnitOfWork, community},
    error::{AppError, AppResult},
    state::AppState,
};

/// Moves the first `n` waitlisted people of an event to GOING, in waitlist order; the caller
/// holds the event's lock and adjusts its going count.
pub(super) async fn promote_waitlisted(
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

pub(super) fn rsvp_activity(action: Action, e: &event::Model, r: &event_rsvp::Model) -> NewActivity {
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
