//! What the client sees of gigs and proposals.
use crate::graphql::types::common::List;
use async_graphql::{Context, Enum, ID, Object, SimpleObject};
use chrono::{DateTime, Utc};
use entity::{gig as db, proposal as proposal_db};

use super::{common::Money, common::connection, community::Community, organization::Organization, profile::Profile};
use crate::{
    domain::{self, page::PageRequest},
    error::AppError,
    graphql::{GqlResult, loaders, state, viewer},
};

/// Who sees a gig.
#[derive(Enum, Copy, Clone, Eq, PartialEq, Debug)]
pub enum GigVisibility {
    /// Everyone.
    Public,
    /// Members of its community only.
    Community,
}

/// Where a gig is in its life.
#[derive(Enum, Copy, Clone, Eq, PartialEq, Debug)]
pub enum GigStatus {
    /// Being written (managers only).
    Draft,
    /// Taking proposals.
    Open,
    /// A proposal was accepted.
    Filled,
    /// Closed without a hire.
    Closed,
    /// Withdrawn.
    Cancelled,
}

/// Sort orders of `gigs`.
#[derive(Enum, Copy, Clone, Eq, PartialEq, Debug, Default)]
pub enum GigSort {
    /// Newest first.
    #[default]
    Newest,
    /// Largest budget first.
    Budget,
    /// Best text match first (needs `filter.text`).
    Relevance,
}

/// Where a proposal stands.
#[derive(Enum, Copy, Clone, Eq, PartialEq, Debug)]
pub enum ProposalStatus {
    /// Sent.
    Submitted,
    /// On the short list.
    Shortlisted,
    /// Declined by the owner.
    Declined,
    /// Withdrawn by the author.
    Withdrawn,
    /// Accepted.
    Accepted,
}

mirror_enum!(GigVisibility, db::GigVisibility, [Public, Community]);
mirror_enum!(GigStatus, db::GigStatus, [Draft, Open, Filled, Closed, Cancelled]);
mirror_enum!(ProposalStatus, proposal_db::ProposalStatus, [Submitted, Shortlisted, Declined, Withdrawn, Accepted]);

impl From<GigSort> for domain::gig::GigSort {
    fn from(s: GigSort) -> Self {
        match s {
            GigSort::Newest => Self::Newest,
            GigSort::Budget => Self::Budget,
            GigSort::Relevance => Self::Relevance,
        }
    }
}

/// A posted opportunity.
pub struct Gig(pub db::Model);

#[Object]
impl Gig {
    /// Gig id.
    pub(crate) async fn id(&self) -> ID {
        ID(self.0.id.to_string())
    }
    /// Title.
    async fn title(&self) -> &str {
        &self.0.title
    }
    /// Description.
    async fn description(&self) -> &str {
        &self.0.description
    }
    /// Required skills.
    async fn skills(&self, ctx: &Context<'_>) -> GqlResult<Vec<String>> {
        Ok(loaders(ctx)?.gig_skills.load_one(self.0.id).await?.unwrap_or_default())
    }
    /// Budget.
    async fn budget(&self) -> Money {
        Money::new(self.0.budget_cents, self.0.currency.clone())
    }
    /// Deadline.
    async fn deadline(&self) -> Option<DateTime<Utc>> {
        self.0.deadline
    }
    /// Remote work.
    async fn remote(&self) -> bool {
        self.0.remote
    }
    /// Location when on site.
    async fn location(&self) -> Option<&str> {
        self.0.location.as_deref()
    }
    /// PUBLIC or COMMUNITY.
    async fn visibility(&self) -> GigVisibility {
        self.0.visibility.into()
    }
    /// Status.
    async fn status(&self) -> GigStatus {
        self.0.status.into()
    }
    /// The person who posted it.
    async fn owner(&self, ctx: &Context<'_>) -> GqlResult<Profile> {
        let p = loaders(ctx)?.profiles.load_one(self.0.owner_profile_id).await?.ok_or(AppError::NotFound("profile"))?;
        Ok(Profile(p))
    }
    /// The organization it is posted for.
    async fn organization(&self, ctx: &Context<'_>) -> GqlResult<Option<Organization>> {
        let Some(id) = self.0.organization_id else { return Ok(None) };
        Ok(loaders(ctx)?.organizations.load_one(id).await?.map(Organization))
    }
    /// The community it belongs to.
    async fn community(&self, ctx: &Context<'_>) -> GqlResult<Option<Community>> {
        let Some(id) = self.0.community_id else { return Ok(None) };
        Ok(loaders(ctx)?.communities.load_one(id).await?.map(Community))
    }
    /// The accepted proposal's id, once FILLED.
    async fn accepted_proposal_id(&self) -> Option<ID> {
        self.0.accepted_proposal_id.map(|p| ID(p.to_string()))
    }
    /// When it was created.
    async fn created_at(&self) -> DateTime<Utc> {
        self.0.created_at
    }
    /// Proposals, newest first (the gig's managers only).
    #[graphql(complexity = "crate::graphql::page_cost(first, child_complexity)")]
    async fn proposals(
        &self,
        ctx: &Context<'_>,
        first: Option<i32>,
        after: Option<String>,
    ) -> GqlResult<List<Proposal>> {
        let state = state(ctx)?;
        let page = PageRequest::new(first, after.as_deref(), &state.config.limits)?;
        let page = domain::proposal::for_gig(&state.db, viewer(ctx), self.0.id, page).await?;
        Ok(connection(page, Proposal))
    }
}

/// A proposal for a gig (seen by its author and the gig's managers).
pub struct Proposal(pub proposal_db::Model);

#[Object]
impl Proposal {
    /// Proposal id.
    pub(crate) async fn id(&self) -> ID {
        ID(self.0.id.to_string())
    }
    /// The gig.
    async fn gig(&self, ctx: &Context<'_>) -> GqlResult<Gig> {
        let g = loaders(ctx)?.gigs.load_one(self.0.gig_id).await?.ok_or(AppError::NotFound("gig"))?;
        Ok(Gig(g))
    }
    /// The author.
    async fn author(&self, ctx: &Context<'_>) -> GqlResult<Profile> {
        let p =
            loaders(ctx)?.profiles.load_one(self.0.author_profile_id).await?.ok_or(AppError::NotFound("profile"))?;
        Ok(Profile(p))
    }
    /// Why the author.
    async fn cover_note(&self) -> &str {
        &self.0.cover_note
    }
    /// Price, in the gig's currency.
    async fn amount(&self) -> Money {
        Money::new(self.0.amount_cents, self.0.currency.clone())
    }
    /// Days to deliver.
    async fn eta_days(&self) -> i32 {
        self.0.eta_days
    }
    /// Where it stands.
    async fn status(&self) -> ProposalStatus {
        self.0.status.into()
    }
    /// Why it was declined.
    async fn decline_reason(&self) -> Option<&str> {
        self.0.decline_reason.as_deref()
    }
    /// When it was sent.
    async fn created_at(&self) -> DateTime<Utc> {
        self.0.created_at
    }
}

/// What accepting a proposal did.
#[derive(SimpleObject)]
pub struct AcceptProposalPayload {
    /// The accepted proposal.
    pub proposal: Proposal,
    /// The gig, now FILLED.
    pub gig: Gig,
    /// The outcome contract created for it (null until contracts exist).
    pub contract_id: Option<ID>,
}
