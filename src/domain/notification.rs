//! The inbox: activities that concern a person, stored per recipient with read state.
//!
//! Who is notified is decided by the delivery rules (`activity::delivery`) from the activity
//! itself; the unit of work files each notified activity under the recipient's inbox stream,
//! so the `notifications` subscription resumes like every other. A notification's id is its
//! activity's id (unique per recipient, increasing in time).
use entity::{activity, notification};
use sea_orm::{
    ColumnTrait, ConnectionTrait, EntityTrait, PaginatorTrait, QueryFilter, QueryOrder, QuerySelect, sea_query::Expr,
};
use uuid::Uuid;

use super::page::{Cursor, Page, PageRequest, Total};
use crate::{
    auth::Viewer,
    error::{AppError, AppResult},
    state::AppState,
};

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
