//! Conversations: posts in a community and threaded comments; moderators remove and pin.
use crate::domain::Action;
use entity::{comment, post};
use sea_orm::{
    ActiveModelTrait, ColumnTrait, ConnectionTrait, EntityTrait, IntoActiveModel, QueryFilter, QueryOrder, QuerySelect,
    Set, sea_query::Expr,
};
use serde_json::json;
use uuid::Uuid;

use super::{
    NewActivity, UnitOfWork, community,
    page::{Cursor, Direction, Page, PageRequest, after_desc, keyset},
    validate,
};
use crate::{
    auth::Viewer,
    error::{AppError, AppResult},
    state::AppState,
};

/// Requires a member who is not banned; returns the profile id.
async fn require_participant(db: &impl ConnectionTrait, viewer: &Viewer, community_id: Uuid) -> AppResult<Uuid> {
    let (_, me) = viewer.require_user()?;
    if community::is_banned(db, community_id, me).await? {
        return Err(AppError::forbidden("you are banned from this community"));
    }
    if community::role_of(db, community_id, me).await?.is_none() {
        return Err(AppError::forbidden("join the community to take part"));
    }
    Ok(me)
}

/// Writes a post in a community (members only).
pub async fn create_post(
    state: &AppState,
    viewer: &Viewer,
    community_id: Uuid,
    title: &str,
    body: &str,
) -> AppResult<post::Model> {
    let title = validate::text(title, "title", 1, 200, false)?;
    let body = validate::text(body, "body", 1, 20_000, true)?;
    let mut work = UnitOfWork::begin(state, viewer).await?;
    community::by_id(work.txn(), community_id).await?.ok_or(AppError::NotFound("community"))?;
    let me = require_participant(work.txn(), viewer, community_id).await?;
    let now = state.clock.now();
    let post = post::ActiveModel {
        id: Set(Uuid::new_v4()),
        community_id: Set(community_id),
        author_profile_id: Set(me),
        title: Set(title),
        body: Set(body),
        pinned: Set(false),
        removed_at: Set(None),
        removed_reason: Set(None),
        removed_by: Set(None),
        created_at: Set(now),
        updated_at: Set(now),
    }
    .insert(work.txn())
    .await?;
    work.record(post_activity(Action::PostCreated, &post, None)).await?;
    work.commit().await?;
    Ok(post)
}

/// Edits your own post (not once removed).
pub async fn edit_post(
    state: &AppState,
    viewer: &Viewer,
    post_id: Uuid,
    title: Option<&str>,
    body: Option<&str>,
) -> AppResult<post::Model> {
    let (_, me) = viewer.require_user()?;
    let title = title.map(|t| validate::text(t, "title", 1, 200, false)).transpose()?;
    let body = body.map(|b| validate::text(b, "body", 1, 20_000, true)).transpose()?;
    let mut work = UnitOfWork::begin(state, viewer).await?;
    let post = post::Entity::find_by_id(post_id).one(work.txn()).await?.ok_or(AppError::NotFound("post"))?;
    if post.author_profile_id != me {
        return Err(AppError::forbidden("only the author edits a post"));
    }
    if post.removed_at.is_some() {
        return Err(AppError::conflict("a removed post cannot be edited"));
    }
    require_participant(work.txn(), viewer, post.community_id).await?;
    let mut active = post.into_active_model();
    if let Some(title) = title {
        active.title = Set(title);
    }
    if let Some(body) = body {
        active.body = Set(body);
    }
    active.updated_at = Set(state.clock.now());
    let post = active.update(work.txn()).await?;
    work.record(post_activity(Action::PostEdited, &post, None)).await?;
    work.commit().await?;
    Ok(post)
}

/// Removes a post (moderators): the content is hidden, the thread stays.
pub async fn remove_post(state: &AppState, viewer: &Viewer, post_id: Uuid, reason: &str) -> AppResult<post::Model> {
    let (_, me) = viewer.require_user()?;
    let reason = validate::text(reason, "reason", 1, 1000, true)?;
    let mut work = UnitOfWork::begin(state, viewer).await?;
    let post = post::Entity::find_by_id(post_id).one(work.txn()).await?.ok_or(AppError::NotFound("post"))?;
    community::rules::require_moderator(community::role_of(work.txn(), post.community_id, me).await?)?;
    if post.removed_at.is_some() {
        return Err(AppError::conflict("the post is already removed"));
    }
    let mut active = post.into_active_model();
    active.removed_at = Set(Some(state.clock.now()));
    active.removed_reason = Set(Some(reason.clone()));
    active.removed_by = Set(Some(me));
    active.pinned = Set(false);
    let post = active.update(work.txn()).await?;
    work.record(post_activity(Action::PostRemoved, &post, Some(json!({ "reason": reason })))).await?;
    work.commit().await?;
    Ok(post)
}

/// Pins or unpins a post (moderators).
pub async fn pin_post(state: &AppState, viewer: &Viewer, post_id: Uuid, pinned: bool) -> AppResult<post::Model> {
    let (_, me) = viewer.require_user()?;
    let mut work = UnitOfWork::begin(state, viewer).await?;
    let post = post::Entity::find_by_id(post_id).one(work.txn()).await?.ok_or(AppError::NotFound("post"))?;
    community::rules::require_moderator(community::role_of(work.txn(), post.community_id, me).await?)?;
    if post.removed_at.is_some() && pinned {
        return Err(AppError::conflict("a removed post cannot be pinned"));
    }
    let mut active = post.into_active_model();
    active.pinned = Set(pinned);
    let post = active.update(work.txn()).await?;
    let action = if pinned { Action::PostPinned } else { Action::PostUnpinned };
    work.record(post_activity(action, &post, None)).await?;
    work.commit().await?;
    Ok(post)
}

/// Comments on a post, or replies to a comment of it (members only).
pub async fn create_comment(
    state: &AppState,
    viewer: &Viewer,
    post_id: Uuid,
    parent_id: Option<Uuid>,
    body: &str,
) -> AppResult<comment::Model> {
    let body = validate::text(body, "body", 1, 10_000, true)?;
    let mut work = UnitOfWork::begin(state, viewer).await?;
    let post = post::Entity::find_by_id(post_id).one(work.txn()).await?.ok_or(AppError::NotFound("post"))?;
    let me = require_participant(work.txn(), viewer, post.community_id).await?;
    if post.removed_at.is_some() {
        return Err(AppError::conflict("the post was removed; it takes no new comments"));
    }
    if let Some(parent_id) = parent_id {
        let parent = comment::Entity::find_by_id(parent_id).one(work.txn()).await?;
        if parent.is_none_or(|p| p.post_id != post_id) {
            return Err(AppError::bad_input("parentId", "is not a comment of this post"));
        }
    }
    let now = state.clock.now();
    let comment = comment::ActiveModel {
        id: Set(Uuid::new_v4()),
        post_id: Set(post_id),
        parent_id: Set(parent_id),
        author_profile_id: Set(me),
        body: Set(body),
        removed_at: Set(None),
        removed_reason: Set(None),
        removed_by: Set(None),
        created_at: Set(now),
        updated_at: Set(now),
    }
    .insert(work.txn())
    .await?;
    work.record(comment_activity(Action::CommentCreated, &post, &comment, None)).await?;
    work.commit().await?;
    Ok(comment)
}

/// Edits your own comment (not once removed).
pub async fn edit_comment(
    state: &AppState,
    viewer: &Viewer,
    comment_id: Uuid,
    body: &str,
) -> AppResult<comment::Model> {
    let (_, me) = viewer.require_user()?;
    let body = validate::text(body, "body", 1, 10_000, true)?;
    let mut work = UnitOfWork::begin(state, viewer).await?;
    let comment =
        comment::Entity::find_by_id(comment_id).one(work.txn()).await?.ok_or(AppError::NotFound("comment"))?;
    if comment.author_profile_id != me {
        return Err(AppError::forbidden("only the author edits a comment"));
    }
    if comment.removed_at.is_some() {
        return Err(AppError::conflict("a removed comment cannot be edited"));
    }
    let post = post::Entity::find_by_id(comment.post_id).one(work.txn()).await?.ok_or(AppError::NotFound("post"))?;
    require_participant(work.txn(), viewer, post.community_id).await?;
    let mut active = comment.into_active_model();
    active.body = Set(body);
    active.updated_at = Set(state.clock.now());
    let comment = active.update(work.txn()).await?;
    work.record(comment_activity(Action::CommentEdited, &post, &comment, None)).await?;
    work.commit().await?;
    Ok(comment)
}

/// Removes a comment (moderators): hidden, replies stay.
pub async fn remove_comment(
    state: &AppState,
    viewer: &Viewer,
    comment_id: Uuid,
    reason: &str,
) -> AppResult<comment::Model> {
    let (_, me) = viewer.require_user()?;
    let reason = validate::text(reason, "reason", 1, 1000, true)?;
    let mut work = UnitOfWork::begin(state, viewer).await?;
    let comment =
        comment::Entity::find_by_id(comment_id).one(work.txn()).await?.ok_or(AppError::NotFound("comment"))?;
    let post = post::Entity::find_by_id(comment.post_id).one(work.txn()).await?.ok_or(AppError::NotFound("post"))?;
    community::rules::require_moderator(community::role_of(work.txn(), post.community_id, me).await?)?;
    if comment.removed_at.is_some() {
        return Err(AppError::conflict("the comment is already removed"));
    }
    let mut active = comment.into_active_model();
    active.removed_at = Set(Some(state.clock.now()));
    active.removed_reason = Set(Some(reason.clone()));
    active.removed_by = Set(Some(me));
    let comment = active.update(work.txn()).await?;
    work.record(comment_activity(Action::CommentRemoved, &post, &comment, Some(json!({ "reason": reason })))).await?;
    work.commit().await?;
    Ok(comment)
}

/// A post the viewer may read.
pub async fn post_by_id(db: &impl ConnectionTrait, viewer: &Viewer, post_id: Uuid) -> AppResult<post::Model> {
    let post = post::Entity::find_by_id(post_id).one(db).await?.ok_or(AppError::NotFound("post"))?;
    community::require_read(db, viewer, post.community_id).await?;
    Ok(post)
}

/// A community's posts: pinned first, then newest first.
pub async fn posts(
    db: &impl ConnectionTrait,
    viewer: &Viewer,
    community_id: Uuid,
    page: PageRequest,
) -> AppResult<Page<post::Model>> {
    community::require_read(db, viewer, community_id).await?;
    let mut query = post::Entity::find().filter(post::Column::CommunityId.eq(community_id));
    if let Some(after) = page.after {
        query = query.filter(after_desc(
            Some((Expr::col(post::Column::Pinned), (after.key != 0).into())),
            Expr::col(post::Column::CreatedAt),
            Expr::col(post::Column::Id),
            &after,
        ));
    }
    let rows = query
        .order_by_desc(post::Column::Pinned)
        .order_by_desc(post::Column::CreatedAt)
        .order_by_desc(post::Column::Id)
        .limit(page.fetch())
        .all(db)
        .await?;
    Ok(Page::from_rows(rows, &page, |p| Cursor { key: i64::from(p.pinned), at: p.created_at, id: p.id }))
}

/// Post counts of many communities in one statement (for loaders; removed posts keep their
/// place and count).
pub async fn post_counts(db: &impl ConnectionTrait, ids: &[Uuid]) -> AppResult<std::collections::HashMap<Uuid, i64>> {
    super::counts_of::<post::Entity>(db, post::Column::CommunityId, ids).await
}

/// Comment counts of many posts in one statement (for loaders; replies and removed comments
/// included, as the thread shows them).
pub async fn comment_counts(
    db: &impl ConnectionTrait,
    ids: &[Uuid],
) -> AppResult<std::collections::HashMap<Uuid, i64>> {
    super::counts_of::<comment::Entity>(db, comment::Column::PostId, ids).await
}

/// A post's comments, newest first, with parent ids for threading.
pub async fn comments(
    db: &impl ConnectionTrait,
    viewer: &Viewer,
    post_id: Uuid,
    page: PageRequest,
) -> AppResult<Page<comment::Model>> {
    post_by_id(db, viewer, post_id).await?;
    let query = comment::Entity::find().filter(comment::Column::PostId.eq(post_id));
    keyset(db, query, (comment::Column::CreatedAt, comment::Column::Id), Direction::Descending, &page, |c| Cursor {
        key: 0,
        at: c.created_at,
        id: c.id,
    })
    .await
}

fn post_activity(action: Action, post: &post::Model, extra: Option<serde_json::Value>) -> NewActivity {
    NewActivity {
        topic: community::topic(post.community_id),
        action,
        subject_type: "post",
        subject_id: post.id,
        before: None,
        after: Some(extra.unwrap_or_else(|| json!({ "title": post.title, "pinned": post.pinned }))),
    }
}

fn comment_activity(
    action: Action,
    post: &post::Model,
    comment: &comment::Model,
    extra: Option<serde_json::Value>,
) -> NewActivity {
    NewActivity {
        topic: community::topic(post.community_id),
        action,
        subject_type: "comment",
        subject_id: comment.id,
        before: None,
        after: Some(extra.unwrap_or_else(|| {
            json!({ "postId": post.id, "parentId": comment.parent_id, "postAuthorProfileId": post.author_profile_id })
        })),
    }
}
