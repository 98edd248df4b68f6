//! What moderators read of a community: the moderation log, the bans and pending join requests.
use entity::{
    community_ban,
    community_join_request::{self, JoinRequestStatus},
};
use sea_orm::{ColumnTrait, ConnectionTrait, EntityTrait, QueryFilter, QueryOrder, QuerySelect};
use uuid::Uuid;

use super::{role_of, rules, topic};
use crate::{
    auth::Viewer,
    domain::{
        Action,
        page::{Cursor, Direction, Page, PageRequest, keyset},
    },
    error::AppResult,
};

/// What moderators did in a community (removals, pins, bans, role changes, join decisions),
/// newest first; moderators only.
pub async fn moderation_log(
    db: &impl ConnectionTrait,
    viewer: &Viewer,
    community_id: Uuid,
    page: PageRequest,
) -> AppResult<Page<entity::activity::Model>> {
    use entity::activity;
    require_moderating(db, viewer, community_id).await?;
    let moderation = [
        Action::PostRemoved,
        Action::PostPinned,
        Action::CommentRemoved,
        Action::CommunityMemberBanned,
        Action::CommunityMemberUnbanned,
        Action::CommunityMemberRoleChanged,
        Action::CommunityJoinApproved,
        Action::CommunityJoinRejected,
    ];
    let query = activity::Entity::find()
        .filter(activity::Column::Topic.eq(topic(community_id)))
        .filter(activity::Column::Action.is_in(moderation.map(Action::as_str)));
    crate::domain::activity::newest_first(db, query, &page).await
}

/// The people banned from a community, latest first; moderators only.
pub async fn bans(
    db: &impl ConnectionTrait,
    viewer: &Viewer,
    community_id: Uuid,
    page: PageRequest,
) -> AppResult<Page<community_ban::Model>> {
    require_moderating(db, viewer, community_id).await?;
    let query = community_ban::Entity::find().filter(community_ban::Column::CommunityId.eq(community_id));
    keyset(
        db,
        query,
        (community_ban::Column::CreatedAt, community_ban::Column::ProfileId),
        Direction::Descending,
        &page,
        |b| Cursor { key: 0, at: b.created_at, id: b.profile_id },
    )
    .await
}

/// Requires the viewer to moderate the community (moderator or owner).
async fn require_moderating(db: &impl ConnectionTrait, viewer: &Viewer, community_id: Uuid) -> AppResult<()> {
    let me = viewer.require_any()?;
    rules::require_moderator(role_of(db, community_id, me).await?)
}

/// Pending join requests, oldest first (moderators only).
pub async fn pending_requests(
    db: &impl ConnectionTrait,
    viewer: &Viewer,
    community_id: Uuid,
) -> AppResult<Vec<community_join_request::Model>> {
    require_moderating(db, viewer, community_id).await?;
    Ok(community_join_request::Entity::find()
        .filter(community_join_request::Column::CommunityId.eq(community_id))
        .filter(community_join_request::Column::Status.eq(JoinRequestStatus::Pending))
        .order_by_asc(community_join_request::Column::CreatedAt)
        .limit(200)
        .all(db)
        .await?)
}
