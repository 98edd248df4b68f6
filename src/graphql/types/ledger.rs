//! What payees and clients see of the ledger: payouts, balances, earnings, escrow, disputes.
use async_graphql::{Context, Enum, ID, Object, SimpleObject};
use chrono::{DateTime, Utc};
use entity::{dispute as dispute_db, payout as payout_db};

use super::money::{Cents, Money};
use crate::{
    domain::ledger::reading,
    graphql::{GqlResult, loaders, types::profile::Profile},
};

/// Earning or withdrawal.
#[derive(Enum, Copy, Clone, Eq, PartialEq, Debug)]
pub enum PayoutKind {
    /// A share of a release.
    Earning,
    /// Money sent out of the platform.
    Withdrawal,
}

/// Where a payout stands: earnings are PENDING, then AVAILABLE after the hold; withdrawals
/// are PROCESSING, then PAID or FAILED (the money back in the available balance).
#[derive(Enum, Copy, Clone, Eq, PartialEq, Debug)]
pub enum PayoutStatus {
    /// Earned, on hold.
    Pending,
    /// Earned and withdrawable.
    Available,
    /// On its way out.
    Processing,
    /// Arrived.
    Paid,
    /// Failed; the money is available again.
    Failed,
}

/// Where a funding stands: SUCCEEDED is in escrow; PENDING waits for the payment provider (a
/// bank debit) and is shown in `escrow { pending }`; FAILED moved nothing.
#[derive(Enum, Copy, Clone, Eq, PartialEq, Debug)]
pub enum FundingStatus {
    /// On its way; not in escrow yet.
    Pending,
    /// In escrow.
    Succeeded,
    /// Refused by the provider; nothing moved.
    Failed,
}

mirror_enum!(FundingStatus, entity::funding::FundingStatus, [Pending, Succeeded, Failed]);
mirror_enum!(PayoutKind, payout_db::PayoutKind, [Earning, Withdrawal]);
mirror_enum!(PayoutStatus, payout_db::PayoutStatus, [Pending, Available, Processing, Paid, Failed]);

/// Where your withdrawals go at the payment provider (a Stripe Express account).
#[derive(SimpleObject)]
pub struct PayoutAccount {
    /// The provider (`stripe`, `simulated`).
    pub provider: String,
    /// Whether it may receive payouts: onboarding is complete. Withdrawals through a provider
    /// that needs an account are refused until then.
    pub ready: bool,
    /// When the provider last told us about it.
    pub updated_at: DateTime<Utc>,
}

impl From<entity::payout_account::Model> for PayoutAccount {
    fn from(account: entity::payout_account::Model) -> Self {
        Self { provider: account.provider, ready: account.ready, updated_at: account.updated_at }
    }
}

/// Money owed to or sent to a payee. Only the payee sees its payouts.
pub struct Payout(pub payout_db::Model);

#[Object]
impl Payout {
    /// Payout id.
    async fn id(&self) -> ID {
        ID(self.0.id.to_string())
    }
    /// Earning or withdrawal.
    async fn kind(&self) -> PayoutKind {
        self.0.kind.into()
    }
    /// Status.
    async fn status(&self) -> PayoutStatus {
        self.0.status.into()
    }
    /// Net amount.
    async fn amount(&self) -> Money {
        Money::new(self.0.amount_cents, self.0.currency.clone())
    }
    /// Platform fee taken from the gross share (earnings).
    async fn fee(&self) -> Money {
        Money::new(self.0.fee_cents, self.0.currency.clone())
    }
    /// The contract paid from (earnings).
    async fn contract_id(&self) -> Option<ID> {
        self.0.contract_id.map(|c| ID(c.to_string()))
    }
    /// The outcome whose acceptance paid it (earnings).
    async fn outcome_id(&self) -> Option<ID> {
        self.0.outcome_id.map(|c| ID(c.to_string()))
    }
    /// The task paid for (earnings).
    async fn task_id(&self) -> Option<ID> {
        self.0.task_id.map(|c| ID(c.to_string()))
    }
    /// Who did the work: you, or one of your agents.
    async fn earned_by(&self, ctx: &Context<'_>) -> GqlResult<Option<Profile>> {
        let Some(id) = self.0.earned_by_profile_id else { return Ok(None) };
        Ok(loaders(ctx)?.profiles.load_one(id).await?.map(Profile))
    }
    /// When a PENDING earning becomes withdrawable.
    async fn available_at(&self) -> Option<DateTime<Utc>> {
        self.0.available_at
    }
    /// Why a withdrawal failed.
    async fn failure_reason(&self) -> Option<&str> {
        self.0.failure_reason.as_deref()
    }
    /// When it was created.
    async fn created_at(&self) -> DateTime<Utc> {
        self.0.created_at
    }
    /// When its status last changed.
    async fn updated_at(&self) -> DateTime<Utc> {
        self.0.updated_at
    }
}

/// Your money in one currency.
#[derive(SimpleObject)]
pub struct Balance {
    /// ISO currency.
    pub currency: String,
    /// Earned, still on hold.
    pub pending: Cents,
    /// Withdrawable now.
    pub available: Cents,
    /// Withdrawals on their way.
    pub in_flight: Cents,
    /// Withdrawn in all.
    pub paid_out: Cents,
}

impl From<reading::Balance> for Balance {
    fn from(b: reading::Balance) -> Self {
        Self {
            currency: b.currency,
            pending: Cents(b.pending),
            available: Cents(b.available),
            in_flight: Cents(b.in_flight),
            paid_out: Cents(b.paid_out),
        }
    }
}

/// Earnings of one month.
#[derive(SimpleObject)]
pub struct PeriodEarnings {
    /// `YYYY-MM` (UTC).
    pub period: String,
    /// Net earned.
    pub amount: Money,
}

/// Earnings from one contract.
#[derive(SimpleObject)]
pub struct ContractEarnings {
    /// The contract.
    pub contract_id: ID,
    /// Net earned.
    pub amount: Money,
}

/// Earnings by who did the work: you, or one of your agents.
pub struct WorkerEarnings {
    profile_id: uuid::Uuid,
    amount: Money,
}

#[Object]
impl WorkerEarnings {
    /// You or your agent.
    async fn worker(&self, ctx: &Context<'_>) -> GqlResult<Option<Profile>> {
        Ok(loaders(ctx)?.profiles.load_one(self.profile_id).await?.map(Profile))
    }
    /// Net earned.
    async fn amount(&self) -> &Money {
        &self.amount
    }
}

/// Your net earnings (released to you, fees taken), three ways.
pub struct Earnings(pub reading::Earnings);

#[Object]
impl Earnings {
    /// By calendar month, oldest first.
    async fn by_period(&self) -> Vec<PeriodEarnings> {
        self.0
            .by_period
            .iter()
            .map(|(p, c, n)| PeriodEarnings { period: p.clone(), amount: Money::new(*n, c.clone()) })
            .collect()
    }
    /// By contract.
    async fn by_contract(&self) -> Vec<ContractEarnings> {
        self.0
            .by_contract
            .iter()
            .map(|(k, c, n)| ContractEarnings { contract_id: ID(k.to_string()), amount: Money::new(*n, c.clone()) })
            .collect()
    }
    /// By who did the work: the agents' share of your earnings is the rows of your agents.
    async fn by_worker(&self) -> Vec<WorkerEarnings> {
        self.0
            .by_worker
            .iter()
            .map(|(k, c, n)| WorkerEarnings { profile_id: *k, amount: Money::new(*n, c.clone()) })
            .collect()
    }
}

/// A contract's escrow, in its currency (the client side only).
#[derive(SimpleObject)]
pub struct Escrow {
    /// Paid in by the client.
    pub funded: Money,
    /// Paid out to workers and fees.
    pub released: Money,
    /// Paid back to the client.
    pub refunded: Money,
    /// Held by open disputes.
    pub held: Money,
    /// Platform fees taken from released money.
    pub fees: Money,
    /// What escrow holds now.
    pub remaining: Money,
    /// Fundings the payment provider has not settled yet (not in escrow, not spendable).
    pub pending: Money,
}

impl Escrow {
    /// Figures of `currency`.
    pub fn new(t: reading::ContractTotals, currency: &str) -> Self {
        let m = |c: i64| Money::new(c, currency);
        Self {
            funded: m(t.funded),
            released: m(t.released),
            refunded: m(t.refunded),
            held: m(t.held),
            fees: m(t.fees),
            remaining: m(t.remaining),
            pending: m(t.pending),
        }
    }
}

/// Open or resolved.
#[derive(Enum, Copy, Clone, Eq, PartialEq, Debug)]
pub enum DisputeStatus {
    /// The amount is held.
    Open,
    /// Released, refunded or split.
    Resolved,
}

/// How a dispute ends.
#[derive(Enum, Copy, Clone, Eq, PartialEq, Debug)]
pub enum DisputeResolution {
    /// All to the workers.
    Release,
    /// All back to the client.
    Refund,
    /// `releaseCents` to the workers, the rest back to the client.
    Split,
}

mirror_enum!(DisputeStatus, dispute_db::DisputeStatus, [Open, Resolved]);
mirror_enum!(DisputeResolution, dispute_db::Resolution, [Release, Refund, Split]);

/// A dispute over an outcome (seen by the people on its contract).
pub struct Dispute(pub dispute_db::Model);

#[Object]
impl Dispute {
    /// Dispute id.
    async fn id(&self) -> ID {
        ID(self.0.id.to_string())
    }
    /// The disputed outcome.
    async fn outcome_id(&self) -> ID {
        ID(self.0.outcome_id.to_string())
    }
    /// Why.
    async fn reason(&self) -> &str {
        &self.0.reason
    }
    /// Who opened it.
    async fn opened_by(&self, ctx: &Context<'_>) -> GqlResult<Option<Profile>> {
        Ok(loaders(ctx)?.profiles.load_one(self.0.opened_by_profile_id).await?.map(Profile))
    }
    /// The amount held.
    async fn amount(&self) -> Money {
        Money::new(self.0.amount_cents, self.0.currency.clone())
    }
    /// Status.
    async fn status(&self) -> DisputeStatus {
        self.0.status.into()
    }
    /// How it ended.
    async fn resolution(&self) -> Option<DisputeResolution> {
        self.0.resolution.map(Into::into)
    }
    /// Released to the workers.
    async fn released(&self) -> Option<Money> {
        self.0.released_cents.map(|c| Money::new(c, self.0.currency.clone()))
    }
    /// Refunded to the client.
    async fn refunded(&self) -> Option<Money> {
        self.0.refunded_cents.map(|c| Money::new(c, self.0.currency.clone()))
    }
    /// When it was opened.
    async fn created_at(&self) -> DateTime<Utc> {
        self.0.created_at
    }
    /// When it was resolved.
    async fn resolved_at(&self) -> Option<DateTime<Utc>> {
        self.0.resolved_at
    }
}
