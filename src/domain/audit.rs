//! An organization's audit log as a query: everything filed under the organization's stream
//! (its own changes, its members and invitations, and the activity of its contracts), newest
//! first, for its owners and admins — what `organizationActivity` delivers live.
use entity::{activity, activity_stream, organization_member::OrgRole};
use sea_orm::{ColumnTrait, ConnectionTrait, EntityTrait, QueryFilter, sea_query::Query};
use uuid::Uuid;

use super::{
    activity::organization_topic,
    organization,
    page::{Page, PageRequest},
};
use crate::{
    auth::Viewer,
    error::{AppError, AppResult},
};

/// The organization's audit log, newest first (owners and admins, by their role now).
pub async fn organization_log(
    db: &impl ConnectionTrait,
    viewer: &Viewer,
    organization_id: Uuid,
    page: PageRequest,
) -> AppResult<Page<activity::Model>> {
    let me = viewer.require_any()?;
    viewer.require_acting_in(Some(organization_id))?;
    match organization::role_of(db, organization_id, me).await? {
        Some(OrgRole::Owner | OrgRole::Admin) => {}
        Some(_) => return Err(AppError::forbidden("only owners and admins read the organization's audit log")),
        None => return Err(AppError::forbidden("only members of the organization can read it")),
    }
    let filed = Query::select()
        .column(activity_stream::Column::ActivityId)
        .from(activity_stream::Entity)
        .and_where(activity_stream::Column::Stream.eq(organization_topic(organization_id)))
        .to_owned();
    let query = activity::Entity::find().filter(activity::Column::Id.in_subquery(filed));
    super::activity::newest_first(db, query, &page).await
}
