//! What the client sees of communities, memberships, join requests, posts and comments.
use crate::graphql::types::common::List;
use async_graphql::{Context, Enum, ID, Object, connection::Connection};
use chrono::{DateTime, Utc};
use entity::{
    comment as comment_db, community as db, community_join_request as request_db, community_member as member_db,
    post as post_db,
};

use super::{
    activity::ActivityEvent,
    common::{CountOf, Counted, connection, connection_with},
    event::Event,
    profile::Profile,
};
use crate::{
    domain::{self, page::PageRequest},
    error::AppError,
    graphql::{GqlResult, loaders, state, viewer},
};

/// Who can see inside a community.
#[derive(Enum, Copy, Clone, Eq, PartialEq, Debug)]
pub enum CommunityVisibility {
    /// Anyone reads and joins.
    Public,
    /// Members only; joining needs approval.
    Private,
}

/// A member's role in a community.
#[derive(Enum, Copy, Clone, Eq, PartialEq, Debug)]
pub enum CommunityRole {
    /// Full control.
    Owner,
    /// Moderates.
    Moderator,
    /// Takes part.
    Member,
}

/// Where a join request stands.
#[derive(Enum, Copy, Clone, Eq, PartialEq, Debug)]
pub enum JoinRequestStatus {
    /// Waiting for a moderator.
    Pending,
    /// Approved.
    Approved,
    /// Rejected.
    Rejected,
}

mirror_enum!(CommunityVisibility, db::CommunityVisibility, [Public, Private]);
mirror_enum!(CommunityRole, member_db::CommunityRole, [Owner, Moderator, Member]);
mirror_enum!(JoinRequestStatus, request_db::JoinRequestStatus, [Pending, Approved, Rejected]);

/// A community.
pub struct Community(pub db::Model);

#[Object]
impl Community {
    /// Community id.
    pub(crate) async fn id(&self) -> ID {
        ID(self.0.id.to_string())
    }
    /// Unique URL name.
    async fn slug(&self) -> &str {
        &self.0.slug
    }
    /// Display name.
    async fn name(&self) -> &str {
        &self.0.name
    }
    /// Description.
    async fn description(&self) -> Option<&str> {
        self.0.description.as_deref()
    }
    /// PUBLIC or PRIVATE.
    async fn visibility(&self) -> CommunityVisibility {
        self.0.visibility.into()
    }
    /// When it was created.
    async fn created_at(&self) -> DateTime<Utc> {
        self.0.created_at
    }
    /// Topics (skills, mostly): members' standing here counts when tasks need them.
    async fn tags(&self, ctx: &Context<'_>) -> GqlResult<Vec<String>> {
        Ok(loaders(ctx)?.community_tags.load_one(self.0.id).await?.unwrap_or_default())
    }
    /// Number of members.
    async fn member_count(&self, ctx: &Context<'_>) -> GqlResult<i64> {
        Ok(loaders(ctx)?.member_counts.load_one(self.0.id).await?.unwrap_or(0))
    }
    /// The caller's role (null when not a member).
    async fn my_role(&self, ctx: &Context<'_>) -> GqlResult<Option<CommunityRole>> {
        Ok(loaders(ctx)?.my_community_roles.load_one(self.0.id).await?.map(Into::into))
    }
    /// Members, oldest first (hidden outside private communities).
    #[graphql(complexity = "crate::graphql::page_cost(first, child_complexity)")]
    async fn members(
        &self,
        ctx: &Context<'_>,
        first: Option<i32>,
        after: Option<String>,
    ) -> GqlResult<Connection<String, CommunityMember, Counted>> {
        let state = state(ctx)?;
        let page = PageRequest::new(first, after.as_deref(), &state.config.limits)?;
        let page = domain::community::members(&state.db, viewer(ctx), self.0.id, page).await?;
        Ok(connection_with(page, CommunityMember, Counted(CountOf::Members, self.0.id)))
    }
    /// Posts, pinned first, then newest first.
    #[graphql(complexity = "crate::graphql::page_cost(first, child_complexity)")]
    async fn posts(
        &self,
        ctx: &Context<'_>,
        first: Option<i32>,
        after: Option<String>,
    ) -> GqlResult<Connection<String, Post, Counted>> {
        let state = state(ctx)?;
        let page = PageRequest::new(first, after.as_deref(), &state.config.limits)?;
        let page = domain::conversation::posts(&state.db, viewer(ctx), self.0.id, page).await?;
        Ok(connection_with(page, Post, Counted(CountOf::Posts, self.0.id)))
    }
    /// Upcoming events, soonest first.
    #[graphql(complexity = "crate::graphql::page_cost(first, child_complexity)")]
    async fn events(&self, ctx: &Context<'_>, first: Option<i32>, after: Option<String>) -> GqlResult<List<Event>> {
        let state = state(ctx)?;
        let page = PageRequest::new(first, after.as_deref(), &state.config.limits)?;
        let page = domain::event::list(&state.db, viewer(ctx), Some(self.0.id), None, state.clock.now(), page).await?;
        Ok(connection(page, Event))
    }
    /// What moderators did here (removals, pins, bans, role changes, join decisions), newest
    /// first; moderators only.
    #[graphql(complexity = "crate::graphql::page_cost(first, child_complexity)")]
    async fn moderation_log(
        &self,
        ctx: &Context<'_>,
        first: Option<i32>,
        after: Option<String>,
    ) -> GqlResult<List<ActivityEvent>> {
        let state = state(ctx)?;
        let page = PageRequest::new(first, after.as_deref(), &state.config.limits)?;
        let page = domain::community::moderation_log(&state.db, viewer(ctx), self.0.id, page).await?;
        Ok(connection(page, ActivityEvent::from))
    }
    /// People banned from here, latest first; moderators only.
    #[graphql(complexity = "crate::graphql::page_cost(first, child_complexity)")]
    async fn bans(
        &self,
        ctx: &Context<'_>,
        first: Option<i32>,
        after: Option<String>,
    ) -> GqlResult<List<CommunityBan>> {
        let state = state(ctx)?;
        let page = PageRequest::new(first, after.as_deref(), &state.config.limits)?;
        let page = domain::community::bans(&state.db, viewer(ctx), self.0.id, page).await?;
        Ok(connection(page, CommunityBan))
    }
    /// Pending join requests (moderators only).
    async fn join_requests(&self, ctx: &Context<'_>) -> GqlResult<Vec<JoinRequest>> {
        let rows = domain::community::pending_requests(&state(ctx)?.db, viewer(ctx), self.0.id).await?;
        Ok(rows.into_iter().map(JoinRequest).collect())
    }
}

/// A ban from a community.
pub struct CommunityBan(pub entity::community_ban::Model);

#[Object]
impl CommunityBan {
    /// Stable id of this ban (community and banned profile).
    async fn id(&self) -> ID {
        super::common::derived_id("CommunityBan", &[self.0.community_id, self.0.profile_id])
    }
    /// Who is banned.
    async fn profile(&self, ctx: &Context<'_>) -> GqlResult<Profile> {
        let p = loaders(ctx)?.profiles.load_one(self.0.profile_id).await?.ok_or(AppError::NotFound("profile"))?;
        Ok(Profile(p))
    }
    /// The moderator who banned them.
    async fn banned_by(&self, ctx: &Context<'_>) -> GqlResult<Profile> {
        let p = loaders(ctx)?.profiles.load_one(self.0.banned_by).await?.ok_or(AppError::NotFound("profile"))?;
        Ok(Profile(p))
    }
    /// The reason given.
    async fn reason(&self) -> Option<&str> {
        self.0.reason.as_deref()
    }
    /// When.
    async fn created_at(&self) -> DateTime<Utc> {
        self.0.created_at
    }
}

/// A profile's membership in a community.
pub struct CommunityMember(pub member_db::Model);

#[Object]
impl CommunityMember {
    /// Stable id of this membership (community and member).
    async fn id(&self) -> ID {
        super::common::derived_id("CommunityMember", &[self.0.community_id, self.0.profile_id])
    }
    /// The member.
    async fn profile(&self, ctx: &Context<'_>) -> GqlResult<Profile> {
        let p = loaders(ctx)?.profiles.load_one(self.0.profile_id).await?.ok_or(AppError::NotFound("profile"))?;
        Ok(Profile(p))
    }
    /// The role held.
    async fn role(&self) -> CommunityRole {
        self.0.role.into()
    }
    /// When the member joined.
    async fn joined_at(&self) -> DateTime<Utc> {
        self.0.created_at
    }
}

/// A request to join a private community.
pub struct JoinRequest(pub request_db::Model);

#[Object]
impl JoinRequest {
    /// Request id.
    async fn id(&self) -> ID {
        ID(self.0.id.to_string())
    }
    /// Who asks.
    async fn profile(&self, ctx: &Context<'_>) -> GqlResult<Profile> {
        let p = loaders(ctx)?.profiles.load_one(self.0.profile_id).await?.ok_or(AppError::NotFound("profile"))?;
        Ok(Profile(p))
    }
    /// Their note to the moderators.
    async fn message(&self) -> Option<&str> {
        self.0.message.as_deref()
    }
    /// Where it stands.
    async fn status(&self) -> JoinRequestStatus {
        self.0.status.into()
    }
    /// When it was sent.
    async fn created_at(&self) -> DateTime<Utc> {
        self.0.created_at
    }
    /// When it was decided.
    async fn decided_at(&self) -> Option<DateTime<Utc>> {
        self.0.decided_at
    }
}

/// A post. A removed post keeps its place and thread; its content is hidden.
pub struct Post(pub post_db::Model);

#[Object]
impl Post {
    /// Post id.
    pub(crate) async fn id(&self) -> ID {
        ID(self.0.id.to_string())
    }
    /// The community.
    async fn community(&self, ctx: &Context<'_>) -> GqlResult<Community> {
        let c =
            loaders(ctx)?.communities.load_one(self.0.community_id).await?.ok_or(AppError::NotFound("community"))?;
        Ok(Community(c))
    }
    /// The author.
    async fn author(&self, ctx: &Context<'_>) -> GqlResult<Profile> {
        let p =
            loaders(ctx)?.profiles.load_one(self.0.author_profile_id).await?.ok_or(AppError::NotFound("profile"))?;
        Ok(Profile(p))
    }
    /// Title (null once removed).
    async fn title(&self) -> Option<&str> {
        self.0.removed_at.is_none().then_some(self.0.title.as_str())
    }
    /// Body (null once removed).
    async fn body(&self) -> Option<&str> {
        self.0.removed_at.is_none().then_some(self.0.body.as_str())
    }
    /// Pinned by a moderator.
    async fn pinned(&self) -> bool {
        self.0.pinned
    }
    /// Removed by a moderator.
    async fn removed(&self) -> bool {
        self.0.removed_at.is_some()
    }
    /// Why it was removed.
    async fn removed_reason(&self) -> Option<&str> {
        self.0.removed_reason.as_deref()
    }
    /// When it was written.
    async fn created_at(&self) -> DateTime<Utc> {
        self.0.created_at
    }
    /// When it was last edited.
    async fn updated_at(&self) -> DateTime<Utc> {
        self.0.updated_at
    }
    /// Comments on it, replies and removed ones included (one statement for a whole page of posts).
    async fn comment_count(&self, ctx: &Context<'_>) -> GqlResult<i64> {
        Ok(loaders(ctx)?.comment_counts.load_one(self.0.id).await?.unwrap_or(0))
    }
    /// Comments, newest first; `parentId` threads replies.
    #[graphql(complexity = "crate::graphql::page_cost(first, child_complexity)")]
    async fn comments(
        &self,
        ctx: &Context<'_>,
        first: Option<i32>,
        after: Option<String>,
    ) -> GqlResult<Connection<String, Comment, Counted>> {
        let state = state(ctx)?;
        let page = PageRequest::new(first, after.as_deref(), &state.config.limits)?;
        let page = domain::conversation::comments(&state.db, viewer(ctx), self.0.id, page).await?;
        Ok(connection_with(page, Comment, Counted(CountOf::Comments, self.0.id)))
    }
}

/// A comment; `parentId` is set on replies.
pub struct Comment(pub comment_db::Model);

#[Object]
impl Comment {
    /// Comment id.
    async fn id(&self) -> ID {
        ID(self.0.id.to_string())
    }
    /// The post.
    async fn post_id(&self) -> ID {
        ID(self.0.post_id.to_string())
    }
    /// The comment this replies to.
    async fn parent_id(&self) -> Option<ID> {
        self.0.parent_id.map(|p| ID(p.to_string()))
    }
    /// The author.
    async fn author(&self, ctx: &Context<'_>) -> GqlResult<Profile> {
        let p =
            loaders(ctx)?.profiles.load_one(self.0.author_profile_id).await?.ok_or(AppError::NotFound("profile"))?;
        Ok(Profile(p))
    }
    /// Text (null once removed).
    async fn body(&self) -> Option<&str> {
        self.0.removed_at.is_none().then_some(self.0.body.as_str())
    }
    /// Removed by a moderator.
    async fn removed(&self) -> bool {
        self.0.removed_at.is_some()
    }
    /// Why it was removed.
    async fn removed_reason(&self) -> Option<&str> {
        self.0.removed_reason.as_deref()
    }
    /// When it was written.
    async fn created_at(&self) -> DateTime<Utc> {
        self.0.created_at
    }
}
