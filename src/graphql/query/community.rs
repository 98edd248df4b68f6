//! Reading communities and their conversations.
use crate::graphql::types::common::List;
use async_graphql::{Context, ID, Object};

use crate::{
    domain::{self, page::PageRequest},
    error::AppError,
    graphql::{
        GqlResult, state,
        types::{
            common::connection,
            community::{Community, Post},
            parse_id,
        },
        viewer,
    },
};

/// Community and conversation queries.
#[derive(Default)]
pub struct CommunityQuery;

#[Object]
impl CommunityQuery {
    /// Public communities and yours, newest first; with `search`, those whose slug, name or
    /// description hold every word (case-insensitive, at most 10 words).
    #[graphql(complexity = "crate::graphql::page_cost(first, child_complexity)")]
    async fn communities(
        &self,
        ctx: &Context<'_>,
        search: Option<String>,
        first: Option<i32>,
        after: Option<String>,
    ) -> GqlResult<List<Community>> {
        let state = state(ctx)?;
        let page = PageRequest::new(first, after.as_deref(), &state.config.limits)?;
        let page = domain::community::list(&state.db, viewer(ctx), search.as_deref(), page).await?;
        Ok(connection(page, Community))
    }

    /// A community by id or slug (its name and description are public; its insides are not).
    async fn community(&self, ctx: &Context<'_>, id: Option<ID>, slug: Option<String>) -> GqlResult<Option<Community>> {
        let db = &state(ctx)?.db;
        let found = match (id, slug) {
            (Some(id), None) => domain::community::by_id(db, parse_id(&id, "id")?).await?,
            (None, Some(slug)) => domain::community::by_slug(db, &slug).await?,
            _ => return Err(AppError::bad_input("id", "give exactly one of id and slug").into()),
        };
        Ok(found.map(Community))
    }

    /// Communities you belong to, latest joined first.
    #[graphql(complexity = "crate::graphql::page_cost(first, child_complexity)")]
    async fn my_communities(
        &self,
        ctx: &Context<'_>,
        first: Option<i32>,
        after: Option<String>,
    ) -> GqlResult<List<Community>> {
        let state = state(ctx)?;
        let page = PageRequest::new(first, after.as_deref(), &state.config.limits)?;
        let page = domain::community::mine(&state.db, viewer(ctx), page).await?;
        Ok(connection(page, Community))
    }

    /// A post you may read.
    async fn post(&self, ctx: &Context<'_>, id: ID) -> GqlResult<Post> {
        let post = domain::conversation::post_by_id(&state(ctx)?.db, viewer(ctx), parse_id(&id, "id")?).await?;
        Ok(Post(post))
    }
}
