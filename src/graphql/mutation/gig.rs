//! Gigs and proposals.
use async_graphql::{Context, ID, InputObject, Object};
use chrono::{DateTime, Utc};

use super::profile::MoneyInput;
use crate::graphql::types::money::Cents;
use crate::{
    domain::{
        gig::{
            GigAction,
            posting::{self, GigInput},
        },
        proposal::{self, ProposalInput},
    },
    graphql::{
        GqlResult, state,
        types::{
            gig::{AcceptProposalPayload, Gig, GigVisibility, Proposal},
            parse_id,
        },
        viewer,
    },
};

/// Input of `createGig`.
#[derive(InputObject)]
pub struct CreateGigInput {
    /// Post for this organization (you must be OWNER or ADMIN).
    pub organization_id: Option<ID>,
    /// Belongs to this community (you must be a member).
    pub community_id: Option<ID>,
    /// Title.
    pub title: String,
    /// Description.
    pub description: String,
    /// Required skills.
    #[graphql(default)]
    pub skills: Vec<String>,
    /// Budget.
    pub budget: MoneyInput,
    /// Deadline.
    pub deadline: Option<DateTime<Utc>>,
    /// Remote (default true).
    pub remote: Option<bool>,
    /// Location when not remote.
    pub location: Option<String>,
    /// PUBLIC (default) or COMMUNITY.
    pub visibility: Option<GigVisibility>,
}

/// Input of `updateGig`; omitted fields stay.
#[derive(InputObject)]
pub struct UpdateGigInput {
    /// The gig.
    pub gig_id: ID,
    /// Title.
    pub title: Option<String>,
    /// Description.
    pub description: Option<String>,
    /// Required skills (replaces the list).
    pub skills: Option<Vec<String>>,
    /// Budget.
    pub budget: Option<MoneyInput>,
    /// Deadline.
    pub deadline: Option<DateTime<Utc>>,
    /// Remote.
    pub remote: Option<bool>,
    /// Location.
    pub location: Option<String>,
    /// Visibility.
    pub visibility: Option<GigVisibility>,
}

/// Input naming a gig.
#[derive(InputObject)]
pub struct GigIdInput {
    /// The gig.
    pub gig_id: ID,
}

/// Input of `submitProposal`.
#[derive(InputObject)]
pub struct SubmitProposalInput {
    /// The gig.
    pub gig_id: ID,
    /// Why you.
    pub cover_note: String,
    /// Your price in minor units (the gig's currency).
    pub amount_cents: Cents,
    /// Days to deliver.
    pub eta_days: i32,
}

/// Input naming a proposal.
#[derive(InputObject)]
pub struct ProposalIdInput {
    /// The proposal.
    pub proposal_id: ID,
}

/// Input of `declineProposal`.
#[derive(InputObject)]
pub struct DeclineProposalInput {
    /// The proposal.
    pub proposal_id: ID,
    /// Why, for the author.
    pub reason: Option<String>,
}

/// Gig mutations.
#[derive(Default)]
pub struct GigMutation;

#[Object]
impl GigMutation {
    /// Creates a DRAFT gig.
    async fn create_gig(&self, ctx: &Context<'_>, input: CreateGigInput) -> GqlResult<Gig> {
        let fields = GigInput {
            organization_id: input.organization_id.map(|o| parse_id(&o, "organizationId")).transpose()?,
            community_id: input.community_id.map(|c| parse_id(&c, "communityId")).transpose()?,
            title: Some(input.title),
            description: Some(input.description),
            skills: Some(input.skills),
            budget_cents: Some(input.budget.amount_cents.0),
            currency: Some(input.budget.currency),
            deadline: input.deadline,
            remote: input.remote,
            location: input.location,
            visibility: input.visibility.map(Into::into),
        };
        Ok(Gig(posting::create(state(ctx)?, viewer(ctx), fields).await?))
    }

    /// Edits a DRAFT or OPEN gig.
    async fn update_gig(&self, ctx: &Context<'_>, input: UpdateGigInput) -> GqlResult<Gig> {
        let id = parse_id(&input.gig_id, "gigId")?;
        let (budget_cents, currency) = match input.budget {
            Some(m) => (Some(m.amount_cents.0), Some(m.currency)),
            None => (None, None),
        };
        let fields = GigInput {
            title: input.title,
            description: input.description,
            skills: input.skills,
            budget_cents,
            currency,
            deadline: input.deadline,
            remote: input.remote,
            location: input.location,
            visibility: input.visibility.map(Into::into),
            ..GigInput::default()
        };
        Ok(Gig(posting::update(state(ctx)?, viewer(ctx), id, fields).await?))
    }

    /// DRAFT → OPEN.
    async fn publish_gig(&self, ctx: &Context<'_>, input: GigIdInput) -> GqlResult<Gig> {
        Ok(Gig(posting::act(state(ctx)?, viewer(ctx), parse_id(&input.gig_id, "gigId")?, GigAction::Publish).await?))
    }

    /// OPEN → CLOSED; waiting proposals are declined.
    async fn close_gig(&self, ctx: &Context<'_>, input: GigIdInput) -> GqlResult<Gig> {
        Ok(Gig(posting::act(state(ctx)?, viewer(ctx), parse_id(&input.gig_id, "gigId")?, GigAction::Close).await?))
    }

    /// DRAFT/OPEN → CANCELLED; waiting proposals are declined.
    async fn cancel_gig(&self, ctx: &Context<'_>, input: GigIdInput) -> GqlResult<Gig> {
        Ok(Gig(posting::act(state(ctx)?, viewer(ctx), parse_id(&input.gig_id, "gigId")?, GigAction::Cancel).await?))
    }

    /// Sends a proposal for an OPEN gig.
    async fn submit_proposal(&self, ctx: &Context<'_>, input: SubmitProposalInput) -> GqlResult<Proposal> {
        let fields = ProposalInput {
            gig_id: parse_id(&input.gig_id, "gigId")?,
            cover_note: input.cover_note,
            amount_cents: input.amount_cents.0,
            eta_days: input.eta_days,
        };
        Ok(Proposal(proposal::submit(state(ctx)?, viewer(ctx), fields).await?))
    }

    /// Shortlists a proposal (gig managers).
    async fn shortlist_proposal(&self, ctx: &Context<'_>, input: ProposalIdInput) -> GqlResult<Proposal> {
        Ok(Proposal(proposal::shortlist(state(ctx)?, viewer(ctx), parse_id(&input.proposal_id, "proposalId")?).await?))
    }

    /// Declines a proposal (gig managers).
    async fn decline_proposal(&self, ctx: &Context<'_>, input: DeclineProposalInput) -> GqlResult<Proposal> {
        let id = parse_id(&input.proposal_id, "proposalId")?;
        Ok(Proposal(proposal::decline(state(ctx)?, viewer(ctx), id, input.reason).await?))
    }

    /// Withdraws your proposal.
    async fn withdraw_proposal(&self, ctx: &Context<'_>, input: ProposalIdInput) -> GqlResult<Proposal> {
        Ok(Proposal(proposal::withdraw(state(ctx)?, viewer(ctx), parse_id(&input.proposal_id, "proposalId")?).await?))
    }

    /// Accepts a proposal: the gig becomes FILLED and the others are declined.
    async fn accept_proposal(&self, ctx: &Context<'_>, input: ProposalIdInput) -> GqlResult<AcceptProposalPayload> {
        let done = proposal::accept(state(ctx)?, viewer(ctx), parse_id(&input.proposal_id, "proposalId")?).await?;
        Ok(AcceptProposalPayload {
            proposal: Proposal(done.proposal),
            gig: Gig(done.gig),
            contract_id: done.contract_id.map(|c| ID(c.to_string())),
        })
    }
}
