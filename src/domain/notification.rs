//! The inbox: activities that concern a person, stored per recipient with read state.
//!
//! Who is notified is decided here, once, from the activity itself (offers, assignments,
//! acceptances and rejections, payouts, join-request decisions, replies to my posts, RSVP
//! promotions, invitations, changes to events I attend); the unit of work files each notified activity under the recipient's inbox
//! stream, so the `notifications` subscription resumes like every other. A notification's id
//! is its activity's id (unique per recipient, increasing in time).
use std::collections::{HashMap, HashSet};

use entity::{activity, notification, profile};
use sea_orm::{
    ColumnTrait, ConnectionTrait, EntityTrait, PaginatorTrait, QueryFilter, QueryOrder, QuerySelect, sea_query::Expr,
};
use uuid::Uuid;

use super::{
    Action,
    activity::NewActivity,
    page::{Cursor, Page, PageRequest, Total},
};
use crate::{
    auth::Viewer,
    error::{AppError, AppResult},
    state::AppState,
};

/// The inbox stream of a user.
pub fn inbox_stream(user_id: Uuid) -> String {
    format!("inbox:{user_id}")
}

/// The profiles an activity notifies (before leaving out the actor).
fn recipients(a: &NewActivity) -> Vec<Uuid> {
    let profile_at = |key: &str| a.profile_at(key);
    match a.action {
        Action::TaskOffered | Action::TaskAssigned | Action::TaskAccepted => {
            profile_at("assigneeProfileId").into_iter().collect()
        }
        Action::TaskRejected => {
            profile_at("assigneeProfileId").or_else(|| profile_at("previousAssigneeProfileId")).into_iter().collect()
        }
        Action::PayoutPending
        | Action::PayoutAvailable
        | Action::PayoutProcessing
        | Action::PayoutPaid
        | Action::PayoutFailed => a.topic.strip_prefix("payouts:").and_then(|p| p.parse().ok()).into_iter().collect(),
        Action::CommunityJoinApproved | Action::CommunityJoinRejected => vec![a.subject_id],
        Action::CommentCreated => profile_at("postAuthorProfileId").into_iter().collect(),
        Action::EventRsvpPromoted => profile_at("profileId").into_iter().collect(),
        Action::OrganizationInvitationSent | Action::OrganizationInvitationRevoked => {
            profile_at("profileId").into_iter().collect()
        }
        Action::OrganizationInvitationAccepted | Action::OrganizationInvitationDeclined => {
            profile_at("invitedBy").into_iter().collect()
        }
        _ => Vec::new(),
    }
}

/// For each activity, the users whose inbox it reaches: its recipients' accounts (an agent's
/// operator for an agent), never the actor's own. One query for the whole unit of work.
pub(crate) async fn inboxes<'a>(
    db: &impl ConnectionTrait,
    activities: impl Iterator<Item = (&'a NewActivity, &'a [Uuid], Option<Uuid>)>,
) -> AppResult<Vec<Vec<Uuid>>> {
    let wanted: Vec<Vec<Uuid>> = activities
        .map(|(a, also, actor)| {
            recipients(a).into_iter().chain(also.iter().copied()).filter(|p| Some(*p) != actor).collect()
        })
        .collect();
    let profiles: Vec<Uuid> = wanted.iter().flatten().copied().collect::<HashSet<Uuid>>().into_iter().collect();
    if profiles.is_empty() {
        return Ok(vec![Vec::new(); wanted.len()]);
    }
    let mut owners: HashMap<Uuid, Uuid> = HashMap::new();
    // In chunks: a statement's parameters are bounded (an event's attendees can be many).
    for chunk in profiles.chunks(1_000) {
        let rows = profile::Entity::find()
            .select_only()
            .columns([profile::Column::Id, profile::Column::UserId, profile::Column::OperatorUserId])
            .filter(profile::Column::Id.is_in(chunk.iter().copied()))
            .into_tuple::<(Uuid, Option<Uuid>, Option<Uuid>)>()
            .all(db)
            .await?;
        owners.extend(rows.into_iter().filter_map(|(id, user, operator)| user.or(operator).map(|u| (id, u))));
    }
    Ok(wanted
        .into_iter()
        .map(|profiles| {
            let mut users: Vec<Uuid> = profiles.iter().filter_map(|p| owners.get(p).copied()).collect();
            users.sort_unstable();
            users.dedup();
            users
        })
        .collect())
}

/// My notifications, newest first, optionally only unread ones.
pub async fn list(
    db: &impl ConnectionTrait,
    viewer: &Viewer,
    unread_only: bool,
    page: PageRequest,
) -> AppResult<Page<(notification::Model, activity::Model)>> {
    let (me, _) = viewer.require_user()?;
    let mut query = notification::Entity::find().filter(notification::Column::UserId.eq(me));
    if unread_only {
        query = query.filter(notification::Column::ReadAt.is_null());
    }
    let total = Total::of(&query);
    if let Some(after) = page.after {
        query = query.filter(notification::Column::ActivityId.lt(after.key));
    }
    let rows: Vec<(notification::Model, activity::Model)> = query
        .order_by_desc(notification::Column::ActivityId)
        .limit(page.fetch())
        .find_also_related(activity::Entity)
        .all(db)
        .await?
        .into_iter()
        .filter_map(|(n, a)| a.map(|a| (n, a)))
        .collect();
    Ok(Page::from_rows(rows, &page, |(n, _)| Cursor { key: n.activity_id, at: n.created_at, id: Uuid::nil() })
        .counting(total))
}

/// How many of my notifications are unread.
pub async fn unread_count(db: &impl ConnectionTrait, viewer: &Viewer) -> AppResult<u64> {
    let (me, _) = viewer.require_user()?;
    Ok(notification::Entity::find()
        .filter(notification::Column::UserId.eq(me))
        .filter(notification::Column::ReadAt.is_null())
        .count(db)
        .await?)
}

/// What to mark read.
pub enum MarkRead {
    /// These notifications (ids of mine; others' are ignored, as if they did not exist).
    Ids(Vec<i64>),
    /// Everything up to and including this notification id (ids increase with time).
    UpTo(i64),
    /// Everything.
    All,
}

/// Marks notifications read; returns how many changed. Idempotent.
pub async fn mark_read(state: &AppState, viewer: &Viewer, which: MarkRead) -> AppResult<u64> {
    let (me, _) = viewer.require_user()?;
    let mut update = notification::Entity::update_many()
        .col_expr(notification::Column::ReadAt, Expr::value(state.clock.now()))
        .filter(notification::Column::UserId.eq(me))
        .filter(notification::Column::ReadAt.is_null());
    update = match which {
        MarkRead::Ids(ids) => {
            let max = state.config.limits.max_page_size;
            if ids.len() > max {
                return Err(AppError::bad_input("ids", format!("at most {max} ids at once")));
            }
            update.filter(notification::Column::ActivityId.is_in(ids))
        }
        MarkRead::UpTo(id) => update.filter(notification::Column::ActivityId.lte(id)),
        MarkRead::All => update,
    };
    Ok(update.exec(&state.db).await?.rows_affected)
}
