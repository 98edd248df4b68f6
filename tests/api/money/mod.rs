//! Money follows outcomes: funding, release on acceptance, payouts, refunds, disputes,
//! idempotency, and the holes that would lose money. Every test ends with `ledger-check`.
use serde_json::{Value, json};

use crate::helpers::{TestApp, TestUser};

mod disputes;
mod funding;
mod ledger;
mod payouts;
mod release;

const ACCEPT_OUTCOME: &str = "mutation($i: OutcomeIdInput!) { acceptOutcome(input: $i) { status } }";
pub(super) const REJECT_OUTCOME: &str = "mutation($i: RejectOutcomeInput!) { rejectOutcome(input: $i) { status } }";
const PAYOUT: &str = "mutation($i: RequestPayoutInput!) { requestPayout(input: $i) { id kind status amount { amountCents currency } failureReason } }";
pub(super) const ESCROW: &str = "query($id: ID!) { contract(id: $id) { escrow { funded { amountCents } released { amountCents } refunded { amountCents } held { amountCents } fees { amountCents } remaining { amountCents } } } }";
pub(super) const OPEN_DISPUTE: &str =
    "mutation($i: OpenDisputeInput!) { openDispute(input: $i) { id status amount { amountCents } } }";
pub(super) const RESOLVE_DISPUTE: &str = "mutation($i: ResolveDisputeInput!) { resolveDispute(input: $i) { status resolution released { amountCents } refunded { amountCents } } }";
pub(crate) const BALANCE: &str = "{ me { balance { currency pending available inFlight paidOut } } }";

pub(crate) use crate::builders::Submitted;

/// A contract of `amount` in `currency` with one outcome split into tasks of `weights`, one
/// worker each, every task delivered and accepted: the outcome awaits the client's verdict (a
/// builder).
pub(crate) async fn submitted(app: &TestApp, currency: &str, amount: i64, weights: &[i64]) -> Submitted {
    app.a_submitted_outcome(currency, amount, weights).await
}

pub(crate) async fn accept_outcome(app: &TestApp, s: &Submitted, key: &str) -> Value {
    app.gql(
        ACCEPT_OUTCOME,
        json!({ "i": { "outcomeId": s.outcome, "idempotencyKey": key } }),
        Some(&s.client.access_token),
    )
    .await
}

pub(super) async fn escrow(app: &TestApp, s: &Submitted) -> Value {
    let body = app.gql(ESCROW, json!({ "id": s.contract }), Some(&s.client.access_token)).await;
    let escrow = &body["data"]["contract"]["escrow"];
    assert!(escrow.is_object(), "{body}");
    let cents = |k: &str| escrow[k]["amountCents"].clone();
    json!({ "funded": cents("funded"), "released": cents("released"), "refunded": cents("refunded"),
            "held": cents("held"), "fees": cents("fees"), "remaining": cents("remaining") })
}

pub(super) async fn pending_of(app: &TestApp, who: &TestUser) -> Value {
    let body = app.gql(BALANCE, json!({}), Some(&who.access_token)).await;
    body["data"]["me"]["balance"][0]["pending"].clone()
}

pub(crate) async fn payout(app: &TestApp, who: &TestUser, cents: i64, currency: &str, key: &str) -> Value {
    app.gql(
        PAYOUT,
        json!({ "i": { "amountCents": cents, "currency": currency, "idempotencyKey": key } }),
        Some(&who.access_token),
    )
    .await
}
