//! Communities and their conversations.
use async_graphql::{Context, ID, InputObject, Object, SimpleObject};

use crate::{
    domain::{
        community::{self, CommunityInput, JoinOutcome},
        conversation,
    },
    graphql::{
        GqlResult, state,
        types::{
            community::{Comment, Community, CommunityMember, CommunityRole, CommunityVisibility, JoinRequest, Post},
            parse_id,
        },
        viewer,
    },
};

/// Input of `createCommunity`.
#[derive(InputObject)]
pub struct CreateCommunityInput {
    /// Unique URL name.
    pub slug: String,
    /// Display name.
    pub name: String,
    /// Description.
    pub description: Option<String>,
    /// PUBLIC (default) or PRIVATE.
    pub visibility: Option<CommunityVisibility>,
    /// Topics, skills mostly (at most 10): members' standing here counts when tasks need them.
    #[graphql(default)]
    pub tags: Vec<String>,
}

/// Input of `updateCommunity`; omitted fields stay.
#[derive(InputObject)]
pub struct UpdateCommunityInput {
    /// The community.
    pub community_id: ID,
    /// Display name.
    pub name: Option<String>,
    /// Description.
    pub description: Option<String>,
    /// Visibility.
    pub visibility: Option<CommunityVisibility>,
    /// Topics (at most 10); replaces the current ones.
    pub tags: Option<Vec<String>>,
}

/// Input of `joinCommunity`.
#[derive(InputObject)]
pub struct JoinCommunityInput {
    /// The community.
    pub community_id: ID,
    /// A note for the moderators of a private community.
    pub message: Option<String>,
}

/// What `joinCommunity` did: a membership (public) or a pending request (private).
#[derive(SimpleObject)]
pub struct JoinCommunityPayload {
    /// Set when you joined.
    pub membership: Option<CommunityMember>,
    /// Set when your request awaits a moderator.
    pub join_request: Option<JoinRequest>,
}

/// Input naming a community.
#[derive(InputObject)]
pub struct CommunityIdInput {
    /// The community.
    pub community_id: ID,
}

/// Input naming a join request.
#[derive(InputObject)]
pub struct JoinRequestIdInput {
    /// The request.
    pub request_id: ID,
}

/// Input of `setCommunityRole`.
#[derive(InputObject)]
pub struct SetCommunityRoleInput {
    /// The community.
    pub community_id: ID,
    /// The member's profile.
    pub profile_id: ID,
    /// The new role.
    pub role: CommunityRole,
}

/// Input of `banMember` and `unbanMember`.
#[derive(InputObject)]
pub struct BanInput {
    /// The community.
    pub community_id: ID,
    /// Who.
    pub profile_id: ID,
    /// Why (ban only).
    pub reason: Option<String>,
}

/// Input of `createPost`.
#[derive(InputObject)]
pub struct CreatePostInput {
    /// The community.
    pub community_id: ID,
    /// Title.
    pub title: String,
    /// Body.
    pub body: String,
}

/// Input of `editPost`.
#[derive(InputObject)]
pub struct EditPostInput {
    /// The post.
    pub post_id: ID,
    /// New title.
    pub title: Option<String>,
    /// New body.
    pub body: Option<String>,
}

/// Input of `removePost` and `removeComment`.
#[derive(InputObject)]
pub struct RemoveInput {
    /// The post or comment.
    pub id: ID,
    /// Why; shown in place of the content.
    pub reason: String,
}

/// Input of `pinPost`.
#[derive(InputObject)]
pub struct PinPostInput {
    /// The post.
    pub post_id: ID,
    /// Pin (true) or unpin (false).
    #[graphql(default = true)]
    pub pinned: bool,
}

/// Input of `createComment`.
#[derive(InputObject)]
pub struct CreateCommentInput {
    /// The post.
    pub post_id: ID,
    /// The comment replied to.
    pub parent_id: Option<ID>,
    /// Text.
    pub body: String,
}

/// Input of `editComment`.
#[derive(InputObject)]
pub struct EditCommentInput {
    /// The comment.
    pub comment_id: ID,
    /// New text.
    pub body: String,
}

/// Community mutations.
#[derive(Default)]
pub struct CommunityMutation;

#[Object]
impl CommunityMutation {
    /// Creates a community; you become its OWNER.
    async fn create_community(&self, ctx: &Context<'_>, input: CreateCommunityInput) -> GqlResult<Community> {
        let input = CommunityInput {
            slug: Some(input.slug),
            name: Some(input.name),
            description: input.description,
            visibility: input.visibility.map(Into::into),
            tags: Some(input.tags),
        };
        Ok(Community(community::create(state(ctx)?, viewer(ctx), input).await?))
    }

    /// Updates a community (owners and moderators).
    async fn update_community(&self, ctx: &Context<'_>, input: UpdateCommunityInput) -> GqlResult<Community> {
        let id = parse_id(&input.community_id, "communityId")?;
        let patch = CommunityInput {
            slug: None,
            name: input.name,
            description: input.description,
            visibility: input.visibility.map(Into::into),
            tags: input.tags,
        };
        Ok(Community(community::update(state(ctx)?, viewer(ctx), id, patch).await?))
    }

    /// Joins a public community, or asks to join a private one.
    async fn join_community(&self, ctx: &Context<'_>, input: JoinCommunityInput) -> GqlResult<JoinCommunityPayload> {
        let id = parse_id(&input.community_id, "communityId")?;
        Ok(match community::join(state(ctx)?, viewer(ctx), id, input.message).await? {
            JoinOutcome::Joined(m) => JoinCommunityPayload { membership: Some(CommunityMember(m)), join_request: None },
            JoinOutcome::Requested(r) => JoinCommunityPayload { membership: None, join_request: Some(JoinRequest(r)) },
        })
    }

    /// Leaves a community; the last owner cannot.
    async fn leave_community(&self, ctx: &Context<'_>, input: CommunityIdInput) -> GqlResult<bool> {
        community::leave(state(ctx)?, viewer(ctx), parse_id(&input.community_id, "communityId")?).await?;
        Ok(true)
    }

    /// Approves a join request (moderators).
    async fn approve_join_request(&self, ctx: &Context<'_>, input: JoinRequestIdInput) -> GqlResult<JoinRequest> {
        let id = parse_id(&input.request_id, "requestId")?;
        Ok(JoinRequest(community::decide_join_request(state(ctx)?, viewer(ctx), id, true).await?))
    }

    /// Rejects a join request (moderators).
    async fn reject_join_request(&self, ctx: &Context<'_>, input: JoinRequestIdInput) -> GqlResult<JoinRequest> {
        let id = parse_id(&input.request_id, "requestId")?;
        Ok(JoinRequest(community::decide_join_request(state(ctx)?, viewer(ctx), id, false).await?))
    }

    /// Changes a member's role.
    async fn set_community_role(&self, ctx: &Context<'_>, input: SetCommunityRoleInput) -> GqlResult<CommunityMember> {
        let id = parse_id(&input.community_id, "communityId")?;
        let profile = parse_id(&input.profile_id, "profileId")?;
        Ok(CommunityMember(community::set_role(state(ctx)?, viewer(ctx), id, profile, input.role.into()).await?))
    }

    /// Bans someone: they lose membership and cannot rejoin or post.
    async fn ban_member(&self, ctx: &Context<'_>, input: BanInput) -> GqlResult<bool> {
        let id = parse_id(&input.community_id, "communityId")?;
        let profile = parse_id(&input.profile_id, "profileId")?;
        community::ban(state(ctx)?, viewer(ctx), id, profile, input.reason).await?;
        Ok(true)
    }

    /// Lifts a ban.
    async fn unban_member(&self, ctx: &Context<'_>, input: BanInput) -> GqlResult<bool> {
        let id = parse_id(&input.community_id, "communityId")?;
        let profile = parse_id(&input.profile_id, "profileId")?;
        community::unban(state(ctx)?, viewer(ctx), id, profile).await?;
        Ok(true)
    }

    /// Writes a post (members).
    async fn create_post(&self, ctx: &Context<'_>, input: CreatePostInput) -> GqlResult<Post> {
        let id = parse_id(&input.community_id, "communityId")?;
        Ok(Post(conversation::create_post(state(ctx)?, viewer(ctx), id, &input.title, &input.body).await?))
    }

    /// Edits your post.
    async fn edit_post(&self, ctx: &Context<'_>, input: EditPostInput) -> GqlResult<Post> {
        let id = parse_id(&input.post_id, "postId")?;
        Ok(Post(
            conversation::edit_post(state(ctx)?, viewer(ctx), id, input.title.as_deref(), input.body.as_deref())
                .await?,
        ))
    }

    /// Removes a post (moderators): content hidden, thread kept.
    async fn remove_post(&self, ctx: &Context<'_>, input: RemoveInput) -> GqlResult<Post> {
        let id = parse_id(&input.id, "id")?;
        Ok(Post(conversation::remove_post(state(ctx)?, viewer(ctx), id, &input.reason).await?))
    }

    /// Pins or unpins a post (moderators).
    async fn pin_post(&self, ctx: &Context<'_>, input: PinPostInput) -> GqlResult<Post> {
        let id = parse_id(&input.post_id, "postId")?;
        Ok(Post(conversation::pin_post(state(ctx)?, viewer(ctx), id, input.pinned).await?))
    }

    /// Comments on a post or replies to a comment (members).
    async fn create_comment(&self, ctx: &Context<'_>, input: CreateCommentInput) -> GqlResult<Comment> {
        let post = parse_id(&input.post_id, "postId")?;
        let parent = input.parent_id.map(|p| parse_id(&p, "parentId")).transpose()?;
        Ok(Comment(conversation::create_comment(state(ctx)?, viewer(ctx), post, parent, &input.body).await?))
    }

    /// Edits your comment.
    async fn edit_comment(&self, ctx: &Context<'_>, input: EditCommentInput) -> GqlResult<Comment> {
        let id = parse_id(&input.comment_id, "commentId")?;
        Ok(Comment(conversation::edit_comment(state(ctx)?, viewer(ctx), id, &input.body).await?))
    }

    /// Removes a comment (moderators).
    async fn remove_comment(&self, ctx: &Context<'_>, input: RemoveInput) -> GqlResult<Comment> {
        let id = parse_id(&input.id, "id")?;
        Ok(Comment(conversation::remove_comment(state(ctx)?, viewer(ctx), id, &input.reason).await?))
    }
}
