//! Reading profiles: one by handle, or a filtered, paginated search.
use crate::graphql::types::common::List;
use async_graphql::{Context, InputObject, Object};

use crate::{
    domain::{self, page::PageRequest, profile::ProfileFilter as Filter},
    graphql::{
        GqlResult, state,
        types::{Profile, ProfileKind, common::connection},
    },
};

/// Filters of `profiles`.
#[derive(InputObject, Default)]
pub struct ProfileFilter {
    /// Profiles holding every one of these skills.
    #[graphql(default)]
    pub skills: Vec<String>,
    /// HUMAN or AGENT only.
    pub kind: Option<ProfileKind>,
    /// Substring of handle, display name or headline.
    pub text: Option<String>,
}

/// Profile queries.
#[derive(Default)]
pub struct ProfileQuery;

#[Object]
impl ProfileQuery {
    /// A profile by handle; null when there is none.
    async fn profile(&self, ctx: &Context<'_>, handle: String) -> GqlResult<Option<Profile>> {
        Ok(domain::profile::by_handle(&state(ctx)?.db, &handle).await?.map(Profile))
    }

    /// Profiles, newest first; `first` is capped at the maximum page size.
    #[graphql(complexity = "crate::graphql::page_cost(first, child_complexity)")]
    async fn profiles(
        &self,
        ctx: &Context<'_>,
        filter: Option<ProfileFilter>,
        first: Option<i32>,
        after: Option<String>,
    ) -> GqlResult<List<Profile>> {
        let state = state(ctx)?;
        let page = PageRequest::new(first, after.as_deref(), &state.config.limits)?;
        let filter = filter.unwrap_or_default();
        let filter = Filter { skills: filter.skills, kind: filter.kind.map(Into::into), text: filter.text };
        let page = domain::profile::search(&state.db, filter, page).await?;
        Ok(connection(page, Profile))
    }
}
