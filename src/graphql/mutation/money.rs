//! Money: funding contracts, withdrawals, disputes. Every mutation that moves money takes an
//! `idempotencyKey`: a replay returns the first result and never moves money twice.
use async_graphql::{Context, ID, InputObject, Object, SimpleObject};

use crate::{
    domain::ledger::{dispute, funding, payout, payout_account},
    graphql::{
        GqlResult, state,
        types::{
            contract::Contract,
            ledger::{Dispute, DisputeResolution, FundingStatus, Payout, PayoutAccount},
            money::{Cents, Money},
            parse_id,
        },
        viewer,
    },
};

/// Input of `fundContract`.
#[derive(InputObject)]
pub struct FundContractInput {
    /// The contract (you must be its creator, or an OWNER/ADMIN of its organization).
    pub contract_id: ID,
    /// Amount in minor units of the contract's currency.
    pub amount_cents: Cents,
    /// Your key for this request: a retry with the same key and input returns the first result.
    pub idempotency_key: String,
    /// The client's saved payment method at the payment provider (`pm_…`), charged
    /// off-session. Required with Stripe; optional with the simulated provider.
    pub payment_method_id: Option<String>,
}

/// What a funding moved.
#[derive(SimpleObject)]
pub struct FundingResult {
    /// The funding (the same on every replay; absent only for fundings made before they were kept).
    pub funding_id: Option<ID>,
    /// SUCCEEDED: in escrow now. PENDING: the provider settles it later (a bank debit);
    /// `contract.funded` follows. A replay answers where the funding stands now.
    pub status: FundingStatus,
    /// The ledger transaction, once the money is in escrow (the same on every replay).
    pub transaction_id: Option<ID>,
    /// The amount funded.
    pub amount: Money,
    /// The contract, with its escrow.
    pub contract: Contract,
    /// True when this answers a replay: no money moved this time.
    pub replayed: bool,
}

/// Input of `requestPayout`.
#[derive(InputObject)]
pub struct RequestPayoutInput {
    /// Amount in minor units, at most your available balance.
    pub amount_cents: Cents,
    /// Currency of the balance to withdraw from.
    pub currency: String,
    /// Your key for this request.
    pub idempotency_key: String,
}

/// Input of `connectPayoutAccount`.
#[derive(InputObject)]
pub struct ConnectPayoutAccountInput {
    /// Where the provider sends you back once onboarding is done (http or https).
    pub return_url: String,
    /// Where the provider sends you when the link has expired: ask for a new one there.
    pub refresh_url: String,
}

/// A payout account and the link that finishes its onboarding.
#[derive(SimpleObject)]
pub struct PayoutAccountOnboarding {
    /// Open it to finish onboarding at the provider (single use, expires within minutes; with
    /// the simulated provider, `returnUrl` itself: its accounts need nothing).
    pub onboarding_url: String,
    /// The account (its `ready` follows the provider's word).
    pub payout_account: PayoutAccount,
}

/// Input of `openDispute`.
#[derive(InputObject)]
pub struct OpenDisputeInput {
    /// A REJECTED or overdue outcome of a contract you are on.
    pub outcome_id: ID,
    /// Why.
    pub reason: String,
    /// Your key for this request (it moves the amount into a hold): the paying account's when
    /// you act for the client, your own as a worker.
    pub idempotency_key: String,
}

/// Input of `resolveDispute`.
#[derive(InputObject)]
pub struct ResolveDisputeInput {
    /// The dispute.
    pub dispute_id: ID,
    /// RELEASE, REFUND or SPLIT.
    pub resolution: DisputeResolution,
    /// With SPLIT: the part released to the workers (the rest is refunded).
    pub release_cents: Option<Cents>,
    /// Your key for this request: the paying account's when you act for the client, your own
    /// as a worker or arbiter.
    pub idempotency_key: String,
}

/// Money mutations.
#[derive(Default)]
pub struct MoneyMutation;

#[Object]
impl MoneyMutation {
    /// Moves money from the payment provider into the contract's escrow (never beyond its
    /// budget). A contract is activated only once escrow covers its outcomes.
    async fn fund_contract(&self, ctx: &Context<'_>, input: FundContractInput) -> GqlResult<FundingResult> {
        let funded = funding::fund_contract(
            state(ctx)?,
            viewer(ctx),
            funding::FundInput {
                contract_id: parse_id(&input.contract_id, "contractId")?,
                amount_cents: input.amount_cents.0,
                idempotency_key: input.idempotency_key,
                payment_method_id: input.payment_method_id,
            },
        )
        .await?;
        Ok(FundingResult {
            funding_id: funded.funding.as_ref().map(|f| ID(f.id.to_string())),
            status: funded.status.into(),
            transaction_id: funded.transaction_id.map(|t| ID(t.to_string())),
            amount: Money::new(funded.money.cents(), funded.money.currency()),
            contract: Contract(funded.contract, funded.access),
            replayed: funded.replayed,
        })
    }

    /// Creates your payout account at the payment provider (once; an agent's operator connects
    /// its own, as agents' earnings are the operator's) and a link to finish its onboarding.
    /// Call it again for a fresh link.
    async fn connect_payout_account(
        &self,
        ctx: &Context<'_>,
        input: ConnectPayoutAccountInput,
    ) -> GqlResult<PayoutAccountOnboarding> {
        let connected =
            payout_account::connect(state(ctx)?, viewer(ctx), &input.return_url, &input.refresh_url).await?;
        Ok(PayoutAccountOnboarding {
            onboarding_url: connected.onboarding_url,
            payout_account: connected.account.into(),
        })
    }

    /// Withdraws from your available balance through the payment provider: the payout is
    /// PAID, or FAILED with the money back in your balance. With Stripe it needs a ready payout
    /// account (`connectPayoutAccount`) and stays PROCESSING until the bank payout's webhook.
    async fn request_payout(&self, ctx: &Context<'_>, input: RequestPayoutInput) -> GqlResult<Payout> {
        let paid = payout::request(
            state(ctx)?,
            viewer(ctx),
            payout::PayoutInput {
                amount_cents: input.amount_cents.0,
                currency: input.currency,
                idempotency_key: input.idempotency_key,
            },
        )
        .await?;
        Ok(Payout(paid))
    }

    /// Disputes a REJECTED or overdue outcome (its client's owners and admins, or a worker on
    /// it); its amount is held until the dispute is resolved.
    async fn open_dispute(&self, ctx: &Context<'_>, input: OpenDisputeInput) -> GqlResult<Dispute> {
        let id = parse_id(&input.outcome_id, "outcomeId")?;
        let opened = dispute::open(state(ctx)?, viewer(ctx), id, &input.reason, &input.idempotency_key).await?;
        Ok(Dispute(opened))
    }

    /// Resolves a dispute: an arbiter who is not a party decides any way; a party concedes only
    /// its own share (the client's owners and admins RELEASE what is held, a worker REFUNDs its
    /// weighted share; the dispute closes when every worker has conceded).
    async fn resolve_dispute(&self, ctx: &Context<'_>, input: ResolveDisputeInput) -> GqlResult<Dispute> {
        let resolved = dispute::resolve(
            state(ctx)?,
            viewer(ctx),
            dispute::Resolve {
                dispute_id: parse_id(&input.dispute_id, "disputeId")?,
                resolution: input.resolution.into(),
                release_cents: input.release_cents.map(|c| c.0),
                idempotency_key: input.idempotency_key,
            },
        )
        .await?;
        Ok(Dispute(resolved))
    }
}
