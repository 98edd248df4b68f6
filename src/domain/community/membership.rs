//! Community membership: joining (or asking to), join decisions, leaving, roles and bans, and who belongs.
use entity::{
    community::{self, CommunityVisibility},
    community_ban,
    community_join_request::{self, JoinRequestStatus},
    community_member::{self, CommunityRole},
};
use sea_orm::{
    ActiveModelTrait, ColumnTrait, ConnectionTrait, EntityTrait, IntoActiveModel, PaginatorTrait, QueryFilter,
    QuerySelect, Set,
};
use serde_json::json;
use uuid::Uuid;

use super::{by_ids, lock, require_read, rules, topic};
use crate::{
    auth::Viewer,
    domain::{
        Action, NewActivity, UnitOfWork,
        page::{Cursor, Direction, Page, PageRequest, keyset},
        validate,
    },
    error::{AppError, AppResult},
    state::AppState,
};

/// What `join` did.
pub enum JoinOutcome {
    /// Joined a public community.
    Joined(community_member::Model),
    /// Asked to join a private one.
    Requested(community_join_request::Model),
}

/// Joins a public community at once, or files a join request for a private one.
pub async fn join(state: &AppState, viewer: &Viewer, id: Uuid, message: Option<String>) -> AppResult<JoinOutcome> {
    let (_, me) = viewer.require_user()?;
    let message = validate::optional_text(message.as_deref(), "message", 1000, true)?;
    let mut work = UnitOfWork::begin(state, viewer).await?;
    let community = lock(work.txn(), id).await?;
    if is_banned(work.txn(), id, me).await? {
        return Err(AppError::forbidden("you are banned from this community"));
    }
    if role_of(work.txn(), id, me).await?.is_some() {
        return Err(AppError::conflict("you are already a member"));
    }
    let now = state.clock.now();
    let outcome = match community.visibility {
        CommunityVisibility::Public => {
            let member = insert_member(work.txn(), id, me, CommunityRole::Member, now).await?;
            work.record(member_activity(Action::CommunityMemberJoined, id, me, Some(CommunityRole::Member))).await?;
            JoinOutcome::Joined(member)
        }
        CommunityVisibility::Private => {
            if pending_request(work.txn(), id, me).await?.is_some() {
                return Err(AppError::conflict("your join request is already pending"));
            }
            let request = community_join_request::ActiveModel {
                id: Set(Uuid::new_v4()),
                community_id: Set(id),
                profile_id: Set(me),
                message: Set(message),
                status: Set(JoinRequestStatus::Pending),
                decided_by: Set(None),
                created_at: Set(now),
                decided_at: Set(None),
            }
            .insert(work.txn())
            .await?;
            work.record(NewActivity {
                topic: topic(id),
                action: Action::CommunityJoinRequested,
                subject_type: "community_join_request",
                subject_id: request.id,
                before: None,
                after: Some(json!({ "profileId": me })),
            })
            .await?;
            JoinOutcome::Requested(request)
        }
    };
    work.commit().await?;
    Ok(outcome)
}

/// Approves or rejects a pending join request (moderators).
pub async fn decide_join_request(
    state: &AppState,
    viewer: &Viewer,
    request_id: Uuid,
    approve: bool,
) -> AppResult<community_join_request::Model> {
    let (_, me) = viewer.require_user()?;
    let mut work = UnitOfWork::begin(state, viewer).await?;
    let found = community_join_request::Entity::find_by_id(request_id)
        .one(work.txn())
        .await?
        .ok_or(AppError::NotFound("join request"))?;
    lock(work.txn(), found.community_id).await?;
    // Re-read under the community's lock: another moderator may have decided it meanwhile.
    let request = community_join_request::Entity::find_by_id(request_id)
        .lock_exclusive()
        .one(work.txn())
        .await?
        .ok_or(AppError::NotFound("join request"))?;
    rules::require_moderator(role_of(work.txn(), request.community_id, me).await?)?;
    if request.status != JoinRequestStatus::Pending {
        return Err(AppError::conflict(format!("the request is already {}", crate::domain::wire(request.status))));
    }
    let now = state.clock.now();
    if approve {
        if is_banned(work.txn(), request.community_id, request.profile_id).await? {
            return Err(AppError::conflict("the requester is banned; unban first"));
        }
        if role_of(work.txn(), request.community_id, request.profile_id).await?.is_none() {
            insert_member(work.txn(), request.community_id, request.profile_id, CommunityRole::Member, now).await?;
        }
    }
    let mut active = request.into_active_model();
    active.status = Set(if approve { JoinRequestStatus::Approved } else { JoinRequestStatus::Rejected });
    active.decided_by = Set(Some(me));
    active.decided_at = Set(Some(now));
    let request = active.update(work.txn()).await?;
    let action = if approve { Action::CommunityJoinApproved } else { Action::CommunityJoinRejected };
    work.record(member_activity(
        action,
        request.community_id,
        request.profile_id,
        approve.then_some(CommunityRole::Member),
    ))
    .await?;
    work.commit().await?;
    Ok(request)
}

/// Leaves a community; the last owner cannot leave.
pub async fn leave(state: &AppState, viewer: &Viewer, id: Uuid) -> AppResult<()> {
    let (_, me) = viewer.require_user()?;
    let mut work = UnitOfWork::begin(state, viewer).await?;
    lock(work.txn(), id).await?;
    let role = role_of(work.txn(), id, me).await?.ok_or_else(|| AppError::conflict("you are not a member"))?;
    if role == CommunityRole::Owner && owner_count(work.txn(), id).await? <= 1 {
        return Err(AppError::conflict("a community must keep at least one owner"));
    }
    community_member::Entity::delete_by_id((id, me)).exec(work.txn()).await?;
    work.record(member_activity(Action::CommunityMemberLeft, id, me, None)).await?;
    work.commit().await
}

/// Changes a member's role (owners any role; moderators MEMBER ↔ MODERATOR).
pub async fn set_role(
    state: &AppState,
    viewer: &Viewer,
    id: Uuid,
    profile_id: Uuid,
    role: CommunityRole,
) -> AppResult<community_member::Model> {
    let (_, me) = viewer.require_user()?;
    let mut work = UnitOfWork::begin(state, viewer).await?;
    lock(work.txn(), id).await?;
    let actor = role_of(work.txn(), id, me).await?;
    let member = community_member::Entity::find_by_id((id, profile_id)).one(work.txn()).await?;
    let Some(member) = member else {
        rules::require_moderator(actor)?;
        return Err(AppError::NotFound("member"));
    };
    rules::may_set_role(actor, member.role, role)?;
    if member.role == CommunityRole::Owner && role != CommunityRole::Owner && owner_count(work.txn(), id).await? <= 1 {
        return Err(AppError::conflict("a community must keep at least one owner"));
    }
    let mut active = member.into_active_model();
    active.role = Set(role);
    let member = active.update(work.txn()).await?;
    work.record(member_activity(Action::CommunityMemberRoleChanged, id, profile_id, Some(role))).await?;
    work.commit().await?;
    Ok(member)
}

/// Bans a profile: removes its membership and keeps it out (moderators; never an owner).
pub async fn ban(
    state: &AppState,
    viewer: &Viewer,
    id: Uuid,
    profile_id: Uuid,
    reason: Option<String>,
) -> AppResult<()> {
    let (_, me) = viewer.require_user()?;
    let reason = validate::optional_text(reason.as_deref(), "reason", 1000, true)?;
    if profile_id == me {
        return Err(AppError::bad_input("profileId", "you cannot ban yourself"));
    }
    let mut work = UnitOfWork::begin(state, viewer).await?;
    lock(work.txn(), id).await?;
    let actor = role_of(work.txn(), id, me).await?;
    rules::require_moderator(actor)?;
    let target = role_of(work.txn(), id, profile_id).await?;
    if target == Some(CommunityRole::Owner)
        || (target == Some(CommunityRole::Moderator) && actor != Some(CommunityRole::Owner))
    {
        return Err(AppError::forbidden("moderators cannot ban owners or other moderators"));
    }
    if is_banned(work.txn(), id, profile_id).await? {
        return Err(AppError::conflict("already banned"));
    }
    community_member::Entity::delete_by_id((id, profile_id)).exec(work.txn()).await?;
    community_ban::ActiveModel {
        community_id: Set(id),
        profile_id: Set(profile_id),
        reason: Set(reason),
        banned_by: Set(me),
        created_at: Set(state.clock.now()),
    }
    .insert(work.txn())
    .await?;
    work.record(member_activity(Action::CommunityMemberBanned, id, profile_id, None)).await?;
    work.commit().await
}

/// Lifts a ban (moderators). The person may then join again.
pub async fn unban(state: &AppState, viewer: &Viewer, id: Uuid, profile_id: Uuid) -> AppResult<()> {
    let (_, me) = viewer.require_user()?;
    let mut work = UnitOfWork::begin(state, viewer).await?;
    lock(work.txn(), id).await?;
    rules::require_moderator(role_of(work.txn(), id, me).await?)?;
    let removed = community_ban::Entity::delete_by_id((id, profile_id)).exec(work.txn()).await?;
    if removed.rows_affected == 0 {
        return Err(AppError::NotFound("ban"));
    }
    work.record(member_activity(Action::CommunityMemberUnbanned, id, profile_id, None)).await?;
    work.commit().await
}

/// The communities the viewer belongs to, latest joined first (two statements: the page of
/// memberships, then their communities).
pub async fn mine(db: &impl ConnectionTrait, viewer: &Viewer, page: PageRequest) -> AppResult<Page<community::Model>> {
    let me = viewer.require_any()?;
    let query = community_member::Entity::find().filter(community_member::Column::ProfileId.eq(me));
    let memberships = keyset(
        db,
        query,
        (community_member::Column::CreatedAt, community_member::Column::CommunityId),
        Direction::Descending,
        &page,
        |m| Cursor { key: 0, at: m.created_at, id: m.community_id },
    )
    .await?;
    let ids: Vec<Uuid> = memberships.items.iter().map(|(_, m)| m.community_id).collect();
    let mut communities = by_ids(db, &ids).await?;
    Ok(Page {
        items: memberships
            .items
            .into_iter()
            .filter_map(|(cursor, m)| communities.remove(&m.community_id).map(|c| (cursor, c)))
            .collect(),
        has_next_page: memberships.has_next_page,
        has_previous_page: memberships.has_previous_page,
        total: memberships.total,
    })
}

/// The role of a profile in a community, if a member.
pub async fn role_of(
    db: &impl ConnectionTrait,
    community_id: Uuid,
    profile_id: Uuid,
) -> AppResult<Option<CommunityRole>> {
    Ok(community_member::Entity::find_by_id((community_id, profile_id)).one(db).await?.map(|m| m.role))
}

/// Whether a profile is banned from a community.
pub async fn is_banned(db: &impl ConnectionTrait, community_id: Uuid, profile_id: Uuid) -> AppResult<bool> {
    Ok(community_ban::Entity::find_by_id((community_id, profile_id)).one(db).await?.is_some())
}

/// Members, oldest first (readers of the community only).
pub async fn members(
    db: &impl ConnectionTrait,
    viewer: &Viewer,
    community_id: Uuid,
    page: PageRequest,
) -> AppResult<Page<community_member::Model>> {
    require_read(db, viewer, community_id).await?;
    let query = community_member::Entity::find().filter(community_member::Column::CommunityId.eq(community_id));
    keyset(
        db,
        query,
        (community_member::Column::CreatedAt, community_member::Column::ProfileId),
        Direction::Ascending,
        &page,
        |m| Cursor { key: 0, at: m.created_at, id: m.profile_id },
    )
    .await
}

/// Number of members (one statement).
pub async fn member_count(db: &impl ConnectionTrait, community_id: Uuid) -> AppResult<u64> {
    Ok(community_member::Entity::find()
        .filter(community_member::Column::CommunityId.eq(community_id))
        .count(db)
        .await?)
}

/// Member counts of many communities in one statement (for loaders).
pub async fn member_counts(db: &impl ConnectionTrait, ids: &[Uuid]) -> AppResult<std::collections::HashMap<Uuid, i64>> {
    crate::domain::counts_of::<community_member::Entity>(db, community_member::Column::CommunityId, ids).await
}

/// A profile's roles in many communities in one statement (for loaders).
pub async fn roles_of(
    db: &impl ConnectionTrait,
    profile_id: Uuid,
    ids: &[Uuid],
) -> AppResult<std::collections::HashMap<Uuid, CommunityRole>> {
    let rows = community_member::Entity::find()
        .filter(community_member::Column::ProfileId.eq(profile_id))
        .filter(community_member::Column::CommunityId.is_in(ids.iter().copied()))
        .all(db)
        .await?;
    Ok(rows.into_iter().map(|m| (m.community_id, m.role)).collect())
}

async fn owner_count(db: &impl ConnectionTrait, id: Uuid) -> AppResult<u64> {
    Ok(community_member::Entity::find()
        .filter(community_member::Column::CommunityId.eq(id))
        .filter(community_member::Column::Role.eq(CommunityRole::Owner))
        .count(db)
        .await?)
}

async fn pending_request(
    db: &impl ConnectionTrait,
    id: Uuid,
    profile_id: Uuid,
) -> AppResult<Option<community_join_request::Model>> {
    Ok(community_join_request::Entity::find()
        .filter(community_join_request::Column::CommunityId.eq(id))
        .filter(community_join_request::Column::ProfileId.eq(profile_id))
        .filter(community_join_request::Column::Status.eq(JoinRequestStatus::Pending))
        .one(db)
        .await?)
}

async fn insert_member(
    db: &impl ConnectionTrait,
    community_id: Uuid,
    profile_id: Uuid,
    role: CommunityRole,
    now: chrono::DateTime<chrono::Utc>,
) -> AppResult<community_member::Model> {
    Ok(community_member::ActiveModel {
        community_id: Set(community_id),
        profile_id: Set(profile_id),
        role: Set(role),
        created_at: Set(now),
    }
    .insert(db)
    .await?)
}

fn member_activity(action: Action, community_id: Uuid, profile_id: Uuid, role: Option<CommunityRole>) -> NewActivity {
    NewActivity {
        topic: topic(community_id),
        action,
        subject_type: "community_member",
        subject_id: profile_id,
        before: None,
        after: role.map(|r| json!({ "role": crate::domain::wire(r) })),
    }
}
