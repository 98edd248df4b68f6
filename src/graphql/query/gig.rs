//! Reading gigs and proposals.
use crate::graphql::types::common::List;
use async_graphql::{Context, ID, InputObject, Object};

use crate::graphql::types::money::Cents;
use crate::{
    domain::{self, gig::GigFilter as Filter, page::PageRequest},
    graphql::{
        GqlResult, state,
        types::{
            common::connection,
            gig::{Gig, GigSort, GigStatus, Proposal},
            parse_id,
        },
        viewer,
    },
};

/// Filters of `gigs`.
#[derive(InputObject, Default)]
pub struct GigFilter {
    /// Words that must all appear in title or description (stemmed full-text search).
    pub text: Option<String>,
    /// Gigs requiring any of these skills.
    #[graphql(default)]
    pub skills: Vec<String>,
    /// Minimum budget in minor units.
    pub min_budget: Option<Cents>,
    /// Maximum budget in minor units.
    pub max_budget: Option<Cents>,
    /// Only gigs budgeted in this ISO 4217 currency (e.g. `EUR`). Required with `minBudget`,
    /// `maxBudget` and the `BUDGET` sort: amounts in different currencies are never compared.
    pub currency: Option<String>,
    /// Only this community's gigs.
    pub community_id: Option<ID>,
    /// OPEN when omitted; DRAFT lists the gigs you manage.
    pub status: Option<GigStatus>,
}

/// Marketplace queries.
#[derive(Default)]
pub struct GigQuery;

#[Object]
impl GigQuery {
    /// Gigs you may see; keyset pages for every sort.
    #[graphql(complexity = "crate::graphql::page_cost(first, child_complexity)")]
    async fn gigs(
        &self,
        ctx: &Context<'_>,
        filter: Option<GigFilter>,
        sort: Option<GigSort>,
        first: Option<i32>,
        after: Option<String>,
    ) -> GqlResult<List<Gig>> {
        let state = state(ctx)?;
        let page = PageRequest::new(first, after.as_deref(), &state.config.limits)?;
        let f = filter.unwrap_or_default();
        let filter = Filter {
            text: f.text,
            skills: f.skills,
            min_budget: f.min_budget.map(|c| c.0),
            max_budget: f.max_budget.map(|c| c.0),
            currency: f.currency,
            community_id: f.community_id.map(|c| parse_id(&c, "filter.communityId")).transpose()?,
            status: f.status.map(Into::into),
        };
        // Look-ahead: owners shown on the page come joined into the page's own statement.
        let look = ctx.look_ahead();
        let owners =
            look.field("edges").field("node").field("owner").exists() || look.field("nodes").field("owner").exists();
        let sort = sort.unwrap_or_default().into();
        let (page, owners) =
            domain::gig::search_with_owners(&state.db, viewer(ctx), filter, sort, page, owners).await?;
        crate::graphql::loaders(ctx)?.profiles.prime(owners);
        Ok(connection(page, Gig))
    }

    /// A gig you may see (NOT_FOUND otherwise).
    async fn gig(&self, ctx: &Context<'_>, id: ID) -> GqlResult<Gig> {
        Ok(Gig(domain::gig::visible(&state(ctx)?.db, viewer(ctx), parse_id(&id, "id")?).await?))
    }

    /// A proposal: its author and the gig's managers only.
    async fn proposal(&self, ctx: &Context<'_>, id: ID) -> GqlResult<Proposal> {
        Ok(Proposal(domain::proposal::readable(&state(ctx)?.db, viewer(ctx), parse_id(&id, "id")?).await?))
    }

    /// Your proposals, newest first.
    #[graphql(complexity = "crate::graphql::page_cost(first, child_complexity)")]
    async fn my_proposals(
        &self,
        ctx: &Context<'_>,
        first: Option<i32>,
        after: Option<String>,
    ) -> GqlResult<List<Proposal>> {
        let state = state(ctx)?;
        let page = PageRequest::new(first, after.as_deref(), &state.config.limits)?;
        let page = domain::proposal::mine(&state.db, viewer(ctx), page).await?;
        Ok(connection(page, Proposal))
    }
}
