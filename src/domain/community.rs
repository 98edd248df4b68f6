//! Communities: membership, join requests, roles and bans, and who may see inside.
use crate::domain::Action;
use entity::{
    community::{self, CommunityVisibility},
    community_ban,
    community_join_request::{self, JoinRequestStatus},
    community_member::{self, CommunityRole},
    community_tag,
};
use sea_orm::{
    ActiveModelTrait, ColumnTrait, Condition, ConnectionTrait, EntityTrait, IntoActiveModel, PaginatorTrait,
    QueryFilter, QueryOrder, QuerySelect, Set,
};
use serde_json::json;
use uuid::Uuid;

use super::{
    NewActivity, UnitOfWork,
    page::{Cursor, Direction, Page, PageRequest, keyset},
    validate::{self, Slug},
};
use crate::{
    auth::Viewer,
    error::{AppError, AppResult},
    state::AppState,
};

/// Topic of a community's changes.
pub fn topic(community_id: Uuid) -> String {
    format!("community:{community_id}")
}

/// The pure rules of community roles.
pub mod rules {
    use super::{AppError, AppResult, CommunityRole};

    /// Moderators and owners moderate.
    pub fn moderates(role: Option<CommunityRole>) -> bool {
        matches!(role, Some(CommunityRole::Owner | CommunityRole::Moderator))
    }

    /// Requires a moderating role.
    pub fn require_moderator(role: Option<CommunityRole>) -> AppResult<()> {
        if moderates(role) { Ok(()) } else { Err(AppError::forbidden("only moderators can do this")) }
    }

    /// Only owners change roles that matter: granting or removing OWNER or MODERATOR (a
    /// moderator demoting a peer could then ban it).
    pub fn may_set_role(actor: Option<CommunityRole>, current: CommunityRole, new: CommunityRole) -> AppResult<()> {
        require_moderator(actor)?;
        let touches_owner = current == CommunityRole::Owner || new == CommunityRole::Owner;
        if touches_owner && actor != Some(CommunityRole::Owner) {
            return Err(AppError::forbidden("only owners grant or remove the owner role"));
        }
        let touches_moderator = current == CommunityRole::Moderator || new == CommunityRole::Moderator;
        if touches_moderator && actor != Some(CommunityRole::Owner) {
            return Err(AppError::forbidden("only owners grant or remove the moderator role"));
        }
        Ok(())
    }
}

/// Input of `createCommunity` and `updateCommunity`.
pub struct CommunityInput {
    /// URL name (create only).
    pub slug: Option<String>,
    /// Display name.
    pub name: Option<String>,
    /// Description.
    pub description: Option<String>,
    /// PUBLIC or PRIVATE.
    pub visibility: Option<CommunityVisibility>,
    /// Topics (skills, mostly): routing counts members' standing here for tasks needing them.
    /// On update, the given list replaces the old one.
    pub tags: Option<Vec<String>>,
}

/// Most tags a community carries.
pub const MAX_TAGS: usize = 10;

/// Tags validated like skill names (`tags[i]`), duplicates dropped.
fn valid_tags(tags: Option<&[String]>) -> AppResult<Option<Vec<String>>> {
    let Some(tags) = tags else { return Ok(None) };
    validate::at_most(tags.len(), MAX_TAGS, "tags")?;
    let mut valid = Vec::with_capacity(tags.len());
    for (i, t) in tags.iter().enumerate() {
        let tag = validate::skill_name(t, &format!("tags[{i}]"))?;
        if !valid.contains(&tag) {
            valid.push(tag);
        }
    }
    Ok(Some(valid))
}

/// Replaces a community's tags.
async fn set_tags(db: &impl ConnectionTrait, id: Uuid, tags: &[String]) -> AppResult<()> {
    community_tag::Entity::delete_many().filter(community_tag::Column::CommunityId.eq(id)).exec(db).await?;
    if !tags.is_empty() {
        let rows = tags.iter().map(|t| community_tag::ActiveModel { community_id: Set(id), tag: Set(t.clone()) });
        community_tag::Entity::insert_many(rows).exec_without_returning(db).await?;
    }
    Ok(())
}

/// Tags by community id, alphabetical, in one statement.
pub async fn tags_of(
    db: &impl ConnectionTrait,
    ids: &[Uuid],
) -> AppResult<std::collections::HashMap<Uuid, Vec<String>>> {
    let rows = community_tag::Entity::find()
        .filter(community_tag::Column::CommunityId.is_in(ids.iter().copied()))
        .order_by_asc(community_tag::Column::Tag)
        .all(db)
        .await?;
    let mut by_community: std::collections::HashMap<Uuid, Vec<String>> = std::collections::HashMap::new();
    for r in rows {
        by_community.entry(r.community_id).or_default().push(r.tag);
    }
    Ok(by_community)
}

/// Creates a community; the creator becomes its OWNER.
pub async fn create(state: &AppState, viewer: &Viewer, input: CommunityInput) -> AppResult<community::Model> {
    let (_, me) = viewer.require_user()?;
    let slug = Slug::parse(input.slug.as_deref().unwrap_or_default(), "slug")?;
    let name = validate::text(input.name.as_deref().unwrap_or_default(), "name", 1, 100, false)?;
    let description = validate::optional_text(input.description.as_deref(), "description", 5000, true)?;
    let tags = valid_tags(input.tags.as_deref())?.unwrap_or_default();
    if by_slug(&state.db, slug.as_str()).await?.is_some() {
        return Err(AppError::bad_input("slug", "is already taken"));
    }
    let now = state.clock.now();
    let mut work = UnitOfWork::begin(state, viewer).await?;
    let community = community::ActiveModel {
        id: Set(Uuid::new_v4()),
        slug: Set(slug.as_str().to_owned()),
        name: Set(name),
        description: Set(description),
        visibility: Set(input.visibility.unwrap_or(CommunityVisibility::Public)),
        created_by: Set(me),
        created_at: Set(now),
        updated_at: Set(now),
    }
    .insert(work.txn())
    .await?;
    set_tags(work.txn(), community.id, &tags).await?;
    community_member::ActiveModel {
        community_id: Set(community.id),
        profile_id: Set(me),
        role: Set(CommunityRole::Owner),
        created_at: Set(now),
    }
    .insert(work.txn())
    .await?;
    work.record(NewActivity {
        topic: topic(community.id),
        action: Action::CommunityCreated,
        subject_type: "community",
        subject_id: community.id,
        before: None,
        after: Some(
            json!({ "slug": community.slug, "visibility": crate::domain::wire(community.visibility), "tags": tags }),
        ),
    })
    .await?;
    work.commit().await?;
    Ok(community)
}

/// Updates name, description, visibility or tags (owners and moderators).
pub async fn update(state: &AppState, viewer: &Viewer, id: Uuid, input: CommunityInput) -> AppResult<community::Model> {
    let (_, me) = viewer.require_user()?;
    let name = input.name.as_deref().map(|n| validate::text(n, "name", 1, 100, false)).transpose()?;
    let description = input
        .description
        .as_deref()
        .map(|d| validate::optional_text(Some(d), "description", 5000, true))
        .transpose()?;
    let tags = valid_tags(input.tags.as_deref())?;
    let mut work = UnitOfWork::begin(state, viewer).await?;
    let before = lock(work.txn(), id).await?;
    rules::require_moderator(role_of(work.txn(), id, me).await?)?;
    if let Some(tags) = &tags {
        set_tags(work.txn(), id, tags).await?;
    }
    let mut active = before.clone().into_active_model();
    if let Some(name) = name {
        active.name = Set(name);
    }
    if let Some(description) = description {
        active.description = Set(description);
    }
    if let Some(visibility) = input.visibility {
        active.visibility = Set(visibility);
    }
    active.updated_at = Set(state.clock.now());
    let after = active.update(work.txn()).await?;
    work.record(NewActivity {
        topic: topic(id),
        action: Action::CommunityUpdated,
        subject_type: "community",
        subject_id: id,
        before: Some(json!({ "name": before.name, "visibility": crate::domain::wire(before.visibility) })),
        after: Some(json!({ "name": after.name, "visibility": crate::domain::wire(after.visibility), "tags": tags })),
    })
    .await?;
    work.commit().await?;
    Ok(after)
}

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

/// A community by id.
pub async fn by_id(db: &impl ConnectionTrait, id: Uuid) -> AppResult<Option<community::Model>> {
    Ok(community::Entity::find_by_id(id).one(db).await?)
}

/// A community by slug.
pub async fn by_slug(db: &impl ConnectionTrait, slug: &str) -> AppResult<Option<community::Model>> {
    Ok(community::Entity::find().filter(community::Column::Slug.eq(slug.trim().to_lowercase())).one(db).await?)
}

/// Communities by id, in one statement (for loaders).
pub async fn by_ids(
    db: &impl ConnectionTrait,
    ids: &[Uuid],
) -> AppResult<std::collections::HashMap<Uuid, community::Model>> {
    let rows = community::Entity::find().filter(community::Column::Id.is_in(ids.iter().copied())).all(db).await?;
    Ok(rows.into_iter().map(|c| (c.id, c)).collect())
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
    super::activity::newest_first(db, query, &page).await
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

/// Whether the viewer may see inside (posts, members, events): public, or a member.
pub async fn can_read(db: &impl ConnectionTrait, viewer: &Viewer, community: &community::Model) -> AppResult<bool> {
    if community.visibility == CommunityVisibility::Public {
        return Ok(true);
    }
    match viewer.profile_id() {
        Some(me) => Ok(role_of(db, community.id, me).await?.is_some()),
        None => Ok(false),
    }
}

/// Requires read access to a community's insides; NOT_FOUND hides private content's existence.
pub async fn require_read(
    db: &impl ConnectionTrait,
    viewer: &Viewer,
    community_id: Uuid,
) -> AppResult<community::Model> {
    let community = by_id(db, community_id).await?.ok_or(AppError::NotFound("community"))?;
    if !can_read(db, viewer, &community).await? {
        return Err(AppError::forbidden("this community is private; join it first"));
    }
    Ok(community)
}

/// Whether the viewer may follow a community's activity live: it may read the community and
/// is not banned from it. Returns whether the viewer is a member (whose access survives the
/// community turning private).
pub async fn may_follow(db: &impl ConnectionTrait, viewer: &Viewer, community_id: Uuid) -> AppResult<bool> {
    let community = require_read(db, viewer, community_id).await?;
    let Some(me) = viewer.profile_id() else { return Ok(false) };
    if is_banned(db, community.id, me).await? {
        return Err(AppError::forbidden("you are banned from this community"));
    }
    Ok(role_of(db, community.id, me).await?.is_some())
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

/// Public communities and those the viewer belongs to, newest first.
pub async fn list(
    db: &impl ConnectionTrait,
    viewer: &Viewer,
    search: Option<&str>,
    page: PageRequest,
) -> AppResult<Page<community::Model>> {
    let mut visible = Condition::any().add(community::Column::Visibility.eq(CommunityVisibility::Public));
    if let Some(me) = viewer.profile_id() {
        visible = visible.add(
            community::Column::Id.in_subquery(
                sea_orm::sea_query::Query::select()
                    .column(community_member::Column::CommunityId)
                    .from(community_member::Entity)
                    .and_where(community_member::Column::ProfileId.eq(me))
                    .to_owned(),
            ),
        );
    }
    let mut query = community::Entity::find().filter(visible);
    if let Some(text) = search {
        let words = super::search::words(text, "search")?;
        query = query.filter(super::search::all_words_in(
            &[community::Column::Slug, community::Column::Name, community::Column::Description],
            &words,
        ));
    }
    keyset(db, query, (community::Column::CreatedAt, community::Column::Id), Direction::Descending, &page, |c| Cursor {
        key: 0,
        at: c.created_at,
        id: c.id,
    })
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
    super::counts_of::<community_member::Entity>(db, community_member::Column::CommunityId, ids).await
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

async fn lock(db: &impl ConnectionTrait, id: Uuid) -> AppResult<community::Model> {
    community::Entity::find_by_id(id).lock_exclusive().one(db).await?.ok_or(AppError::NotFound("community"))
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

#[cfg(test)]
mod tests {
    use super::rules::*;
    use super::*;

    #[test]
    fn moderators_change_member_roles_but_only_owners_touch_owners() {
        use CommunityRole::*;
        assert!(may_set_role(Some(Moderator), Member, Moderator).is_err(), "only owners make moderators");
        assert!(may_set_role(Some(Moderator), Moderator, Member).is_err(), "nor demote a peer");
        assert!(may_set_role(Some(Owner), Moderator, Member).is_ok());
        assert!(may_set_role(Some(Moderator), Member, Owner).is_err());
        assert!(may_set_role(Some(Moderator), Owner, Member).is_err());
        assert!(may_set_role(Some(Owner), Member, Owner).is_ok());
        assert!(may_set_role(Some(Member), Member, Moderator).is_err());
        assert!(may_set_role(None, Member, Moderator).is_err());
    }
}
