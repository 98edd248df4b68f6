//! Money follows outcomes: funding, release on acceptance, payouts, refunds, disputes,
//! idempotency, and the holes that would lose money. Every test ends with `ledger-check`.
use serde_json::{Value, json};

use crate::{
    helpers::{TestApp, TestUser},
    work::{act, id, submit, task, worker},
};

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

/// A contract of `amount` in `currency` with one outcome split into tasks of `weights`, one
/// worker each, every task delivered and accepted: the outcome awaits the client's verdict.
pub(crate) struct Submitted {
    pub client: TestUser,
    pub workers: Vec<TestUser>,
    pub contract: String,
    pub outcome: String,
    pub tasks: Vec<String>,
}

pub(crate) async fn submitted(app: &TestApp, currency: &str, amount: i64, weights: &[i64]) -> Submitted {
    let client = app.register("ada").await;
    let body = app
        .gql(
            "mutation($i: CreateContractInput!) { createContract(input: $i) { id } }",
            json!({ "i": { "title": "Launch", "currency": currency, "budgetCents": amount } }),
            Some(&client.access_token),
        )
        .await;
    let contract = body["data"]["createContract"]["id"].as_str().unwrap_or_else(|| panic!("{body}")).to_owned();
    let outcome =
        crate::work::outcome(app, &client, &contract, "Launched", amount, json!([{ "description": "Live" }])).await;
    let (mut workers, mut tasks) = (Vec::new(), Vec::new());
    for (i, weight) in weights.iter().enumerate() {
        let skill = format!("skill{i}");
        workers.push(worker(app, &format!("worker{i}"), json!([{ "skill": skill, "level": 4 }])).await);
        let fields = json!({ "title": format!("part {i}"), "mode": "JUDGMENT", "skills": [skill], "weight": weight, "criteria": ["c1"] });
        tasks.push(id(&task(app, &client, &outcome, fields).await));
    }
    crate::work::activate(app, &client, &contract).await;
    for (t, w) in tasks.iter().zip(&workers) {
        let taken = act(app, "acceptTaskOffer", t, &w.access_token).await;
        assert_eq!(taken["data"]["acceptTaskOffer"]["status"], "ASSIGNED", "{taken}");
        let done = submit(app, t, json!({ "text": "done" }), &w.access_token).await;
        assert_eq!(done["data"]["submitTask"]["status"], "SUBMITTED", "{done}");
        let ok = act(app, "acceptTask", t, &client.access_token).await;
        assert_eq!(ok["data"]["acceptTask"]["status"], "ACCEPTED", "{ok}");
    }
    Submitted { client, workers, contract, outcome, tasks }
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
