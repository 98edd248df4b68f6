//! Activities: the catalogue of actions (`action`), the unit of work that records them with
//! its transaction and publishes them after commit (`unit_of_work`), and who is told what
//! (`delivery`). The topics and streams activities are filed under are named here.
use entity::activity;
use uuid::Uuid;

mod action;
mod delivery;
mod unit_of_work;

pub use action::{Action, NewActivity};
pub use delivery::inbox_stream;
pub use unit_of_work::{AfterCommit, CommitHook, UnitOfWork};

/// A page of activities matching `query`, newest first, by activity id (a feed: a contract's
/// activity, a community's moderation log).
pub async fn newest_first(
    db: &impl sea_orm::ConnectionTrait,
    query: sea_orm::Select<activity::Entity>,
    page: &super::page::PageRequest,
) -> crate::error::AppResult<super::page::Page<activity::Model>> {
    use sea_orm::{ColumnTrait, QueryFilter, QueryOrder, QuerySelect};
    let total = super::page::Total::of(&query);
    let query = match page.after {
        Some(after) => query.filter(activity::Column::Id.lt(after.key)),
        None => query,
    };
    let rows = query.order_by_desc(activity::Column::Id).limit(page.fetch()).all(db).await?;
    Ok(super::page::Page::from_rows(rows, page, |a| super::page::Cursor {
        key: a.id,
        at: a.created_at,
        id: Uuid::nil(),
    })
    .counting(total))
}

/// The stream of task changes that concern a worker (offered, held, taken away).
pub fn worker_stream(profile_id: Uuid) -> String {
    format!("worker:{profile_id}")
}

/// The stream of changes to a profile's access (memberships, roles, bans, revoked tokens).
pub fn access_stream(profile_id: Uuid) -> String {
    format!("access:{profile_id}")
}

/// Topic of everything about one user account (sessions, agents).
pub fn user_topic(user_id: Uuid) -> String {
    format!("user:{user_id}")
}

/// Topic of a profile's public changes.
pub fn profile_topic(profile_id: Uuid) -> String {
    format!("profile:{profile_id}")
}

/// Topic of an organization and its members.
pub fn organization_topic(organization_id: Uuid) -> String {
    format!("organization:{organization_id}")
}
