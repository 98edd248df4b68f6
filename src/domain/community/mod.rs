//! Communities: creating and editing them, their topics, reading them and who may see inside
//! (here); joining, leaving, roles and bans (`membership`); what moderators read (`moderation`);
//! the pure rules of roles (`rules`).
pub mod membership;
pub mod moderation;
pub mod rules;

pub use membership::{
    JoinOutcome, ban, decide_join_request, is_banned, join, leave, member_count, member_counts, members, mine, role_of,
    roles_of, set_role, unban,
};
pub use moderation::{bans, moderation_log, pending_requests};

use crate::domain::Action;
use entity::{
    community::{self, CommunityVisibility},
    community_member::{self, CommunityRole},
    community_tag,
};
use sea_orm::{
    ActiveModelTrait, ColumnTrait, Condition, ConnectionTrait, EntityTrait, IntoActiveModel, QueryFilter, QueryOrder,
    QuerySelect, Set,
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

async fn lock(db: &impl ConnectionTrait, id: Uuid) -> AppResult<community::Model> {
    community::Entity::find_by_id(id).lock_exclusive().one(db).await?.ok_or(AppError::NotFound("community"))
}
