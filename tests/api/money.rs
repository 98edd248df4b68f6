//! Money follows outcomes: funding, release on acceptance, payouts, refunds, disputes,
//! idempotency, and the holes that would lose money. Every test ends with `ledger-check`.
use serde_json::{Value, json};

use crate::{
    helpers::{TestApp, TestUser, error_code, error_field, spawn_app, spawn_app_with},
    work::{act, agent, fund, id, submit, task, worker},
};

const ACCEPT_OUTCOME: &str = "mutation($i: OutcomeIdInput!) { acceptOutcome(input: $i) { status } }";
const REJECT_OUTCOME: &str = "mutation($i: RejectOutcomeInput!) { rejectOutcome(input: $i) { status } }";
const PAYOUT: &str = "mutation($i: RequestPayoutInput!) { requestPayout(input: $i) { id kind status amount { amountCents currency } failureReason } }";
const ESCROW: &str = "query($id: ID!) { contract(id: $id) { escrow { funded { amountCents } released { amountCents } refunded { amountCents } held { amountCents } fees { amountCents } remaining { amountCents } } } }";
const OPEN_DISPUTE: &str =
    "mutation($i: OpenDisputeInput!) { openDispute(input: $i) { id status amount { amountCents } } }";
const RESOLVE_DISPUTE: &str = "mutation($i: ResolveDisputeInput!) { resolveDispute(input: $i) { status resolution released { amountCents } refunded { amountCents } } }";
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

async fn escrow(app: &TestApp, s: &Submitted) -> Value {
    let body = app.gql(ESCROW, json!({ "id": s.contract }), Some(&s.client.access_token)).await;
    let escrow = &body["data"]["contract"]["escrow"];
    assert!(escrow.is_object(), "{body}");
    let cents = |k: &str| escrow[k]["amountCents"].clone();
    json!({ "funded": cents("funded"), "released": cents("released"), "refunded": cents("refunded"),
            "held": cents("held"), "fees": cents("fees"), "remaining": cents("remaining") })
}

async fn pending_of(app: &TestApp, who: &TestUser) -> Value {
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

#[tokio::test]
async fn accepting_an_outcome_pays_three_workers_exact_shares_once() {
    let app = spawn_app().await;
    let s = submitted(&app, "EUR", 100, &[1, 1, 1]).await;

    let body = accept_outcome(&app, &s, "accept-1").await;
    assert_eq!(body["data"]["acceptOutcome"]["status"], "ACCEPTED", "{body}");
    // 100 cents in three shares (34, 33, 33); a 2.5% fee of 3 taken one cent from each.
    let mut pending = Vec::new();
    for w in &s.workers {
        pending.push(pending_of(&app, w).await);
    }
    assert_eq!(pending, [json!(33), json!(32), json!(32)]);
    assert_eq!(
        escrow(&app, &s).await,
        json!({ "funded": 100, "released": 100, "refunded": 0, "held": 0, "fees": 3, "remaining": 0 })
    );

    // A replay with the key answers as the first time; another key meets the machine's no.
    let replay = accept_outcome(&app, &s, "accept-1").await;
    assert_eq!(replay["data"]["acceptOutcome"]["status"], "ACCEPTED", "{replay}");
    let twice = accept_outcome(&app, &s, "accept-2").await;
    assert_eq!(error_code(&twice), "CONFLICT", "{twice}");
    assert_eq!(app.count("ledger_transactions WHERE kind = 'RELEASE'").await, 1, "paid once");
    assert_eq!(app.count("payouts").await, 3);

    // The contract's feed carries the money; only the client side sees escrow.
    let feed = app
        .gql(
            "query($id: ID!) { contract(id: $id) { dashboard { activity(first: 50) { edges { node { action } } } } } }",
            json!({ "id": s.contract }),
            Some(&s.client.access_token),
        )
        .await;
    let actions: Vec<&str> = feed["data"]["contract"]["dashboard"]["activity"]["edges"]
        .as_array()
        .unwrap_or_else(|| panic!("{feed}"))
        .iter()
        .filter_map(|e| e["node"]["action"].as_str())
        .collect();
    assert!(actions.contains(&"contract.funded") && actions.contains(&"outcome.released"), "{actions:?}");
    let peek = app.gql(ESCROW, json!({ "id": s.contract }), Some(&s.workers[0].access_token)).await;
    assert_eq!(error_code(&peek), "FORBIDDEN", "{peek}");
    app.assert_ledger_sound().await;
}

#[tokio::test]
async fn shares_lose_no_cents_and_the_task_share_is_the_paid_share() {
    let app = spawn_app().await;
    let s = submitted(&app, "EUR", 40_000, &[2, 1]).await;
    let share = "query($id: ID!) { task(id: $id) { share { amountCents } } }";
    let mut shares = Vec::new();
    for t in &s.tasks {
        let body = app.gql(share, json!({ "id": t }), Some(&s.client.access_token)).await;
        shares.push(body["data"]["task"]["share"]["amountCents"].as_i64().unwrap_or_else(|| panic!("{body}")));
    }
    assert_eq!(shares, [26_667, 13_333], "largest remainder, not 26 666 + 13 333");
    accept_outcome(&app, &s, "accept-1").await;
    // Fee 1 000 split 667 / 333 by the shares: nets 26 000 and 13 000.
    assert_eq!(
        (pending_of(&app, &s.workers[0]).await, pending_of(&app, &s.workers[1]).await),
        (json!(26_000), json!(13_000))
    );
    app.assert_ledger_sound().await;
}

#[tokio::test]
async fn yen_have_no_minor_units_to_lose() {
    let app = spawn_app().await;
    let s = submitted(&app, "JPY", 1_000, &[1, 1, 1]).await;
    accept_outcome(&app, &s, "accept-1").await;
    // Shares 334/333/333 yen; fee 25 yen split 9/8/8.
    let mut pending = Vec::new();
    for w in &s.workers {
        pending.push(pending_of(&app, w).await);
    }
    assert_eq!(pending, [json!(325), json!(325), json!(325)]);
    assert_eq!(escrow(&app, &s).await["fees"], 25);
    app.assert_ledger_sound().await;
}

#[tokio::test]
async fn held_earnings_become_withdrawable_and_withdrawals_never_overdraw() {
    let app = spawn_app().await;
    let s = submitted(&app, "EUR", 10_000, &[1]).await;
    accept_outcome(&app, &s, "accept-1").await;
    let bob = &s.workers[0];

    // Still on hold: nothing to withdraw.
    let early = payout(&app, bob, 100, "EUR", "p-0").await;
    assert_eq!((error_code(&early), error_field(&early)), ("BAD_USER_INPUT", "amountCents"), "{early}");
    assert_eq!(app.sweep().await.payouts_available, 0);
    app.clock.advance(chrono::Duration::days(3));
    assert_eq!(app.sweep().await.payouts_available, 1);
    let bob = &app.login(bob).await;
    let balance = app.gql(BALANCE, json!({}), Some(&bob.access_token)).await;
    assert_eq!(
        balance["data"]["me"]["balance"],
        json!([{ "currency": "EUR", "pending": 0, "available": 9_750, "inFlight": 0, "paidOut": 0 }])
    );

    let too_much = payout(&app, bob, 9_751, "EUR", "p-1").await;
    assert_eq!((error_code(&too_much), error_field(&too_much)), ("BAD_USER_INPUT", "amountCents"));
    let paid = payout(&app, bob, 9_000, "EUR", "p-2").await;
    assert_eq!(paid["data"]["requestPayout"]["status"], "PAID", "{paid}");
    let replay = payout(&app, bob, 9_000, "EUR", "p-2").await;
    assert_eq!(replay["data"]["requestPayout"]["id"], paid["data"]["requestPayout"]["id"], "the first payout");
    let changed = payout(&app, bob, 500, "EUR", "p-2").await;
    assert_eq!(error_code(&changed), "CONFLICT");
    assert!(changed["errors"][0]["message"].as_str().unwrap_or_default().contains("amountCents"), "{changed}");
    let balance = app.gql(BALANCE, json!({}), Some(&bob.access_token)).await;
    assert_eq!(balance["data"]["me"]["balance"][0]["available"], 750);
    assert_eq!(balance["data"]["me"]["balance"][0]["paidOut"], 9_000);

    // Only the owner sees their money: the client sees its own (empty) payouts.
    let client = app.login(&s.client).await;
    let payouts = app
        .gql(
            "{ me { payouts { edges { node { kind status amount { amountCents } } } } } }",
            json!({}),
            Some(&client.access_token),
        )
        .await;
    assert_eq!(payouts["data"]["me"]["payouts"]["edges"], json!([]), "{payouts}");
    let mine =
        app.gql("{ me { payouts { edges { node { kind status } } } } }", json!({}), Some(&bob.access_token)).await;
    assert_eq!(
        mine["data"]["me"]["payouts"]["edges"],
        json!([{ "node": { "kind": "WITHDRAWAL", "status": "PAID" } }, { "node": { "kind": "EARNING", "status": "AVAILABLE" } }])
    );
    app.assert_ledger_sound().await;
}

#[tokio::test]
async fn a_failed_withdrawal_puts_the_money_back() {
    let app = spawn_app_with(|c| c.payments.simulated.fail_payouts_from_cents = Some(5_000)).await;
    let s = submitted(&app, "EUR", 10_000, &[1]).await;
    accept_outcome(&app, &s, "accept-1").await;
    app.clock.advance(chrono::Duration::days(3));
    app.sweep().await;
    let bob = app.login(&s.workers[0]).await;
    let failed = payout(&app, &bob, 6_000, "EUR", "big").await;
    assert_eq!(failed["data"]["requestPayout"]["status"], "FAILED", "{failed}");
    assert!(failed["data"]["requestPayout"]["failureReason"].is_string());
    let balance = app.gql(BALANCE, json!({}), Some(&bob.access_token)).await;
    assert_eq!(balance["data"]["me"]["balance"][0]["available"], 9_750, "the money is back");
    assert_eq!(balance["data"]["me"]["balance"][0]["inFlight"], 0);
    app.assert_ledger_sound().await;
}

#[tokio::test]
async fn funding_is_for_the_client_side_within_the_budget_and_replays_return_the_first_result() {
    let app = spawn_app_with(|c| c.payments.simulated.decline_charges_from_cents = Some(900_000)).await;
    let ada = app.register("ada").await;
    let eve = app.register("eve").await;
    let mia = app.register("mia").await;
    let org = crate::organizations::create_org(&app, &ada, "acme").await;
    crate::organizations::add(&app, &ada, &org, "mia", "MEMBER").await;
    let c = crate::work::contract(&app, &ada, Some(&org), 1_000_000).await;
    crate::work::outcome(&app, &ada, &c, "All", 10_000, json!([{ "description": "x" }])).await;

    assert_eq!(error_code(&fund(&app, &eve, &c, 100).await), "NOT_FOUND", "an outsider");
    assert_eq!(error_code(&fund(&app, &mia, &c, 100).await), "FORBIDDEN", "a plain member");
    let over = fund(&app, &ada, &c, 1_000_001).await;
    assert_eq!((error_code(&over), error_field(&over)), ("BAD_USER_INPUT", "amountCents"));
    let declined = fund(&app, &ada, &c, 950_000).await;
    assert_eq!(error_code(&declined), "CONFLICT", "{declined}");
    assert_eq!(app.count("ledger_transactions").await, 0, "a declined charge books nothing");

    // Activation waits until escrow covers the outcomes.
    let status = "mutation($i: ChangeContractStatusInput!) { changeContractStatus(input: $i) { status } }";
    app.gql(status, json!({ "i": { "contractId": c, "action": "OPEN" } }), Some(&ada.access_token)).await;
    let query = "mutation($i: FundContractInput!) { fundContract(input: $i) { transactionId replayed amount { amountCents } } }";
    let input = |amount: i64| json!({ "i": { "contractId": c, "amountCents": amount, "idempotencyKey": "fund-1" } });
    let first = app.gql(query, input(4_000), Some(&ada.access_token)).await;
    assert_eq!(first["data"]["fundContract"]["replayed"], false, "{first}");
    let early =
        app.gql(status, json!({ "i": { "contractId": c, "action": "ACTIVATE" } }), Some(&ada.access_token)).await;
    assert_eq!(error_code(&early), "CONFLICT", "{early}");
    let replay = app.gql(query, input(4_000), Some(&ada.access_token)).await;
    assert_eq!(replay["data"]["fundContract"]["transactionId"], first["data"]["fundContract"]["transactionId"]);
    assert_eq!(replay["data"]["fundContract"]["replayed"], true);
    let other = app.gql(query, input(6_000), Some(&ada.access_token)).await;
    assert_eq!(error_code(&other), "CONFLICT");
    assert!(other["errors"][0]["message"].as_str().unwrap_or_default().contains("amountCents"), "{other}");
    assert_eq!(app.count("ledger_transactions WHERE kind = 'FUNDING'").await, 1, "one movement for one key");

    assert!(fund(&app, &ada, &c, 6_000).await["data"]["fundContract"].is_object());
    let active =
        app.gql(status, json!({ "i": { "contractId": c, "action": "ACTIVATE" } }), Some(&ada.access_token)).await;
    assert_eq!(active["data"]["changeContractStatus"]["status"], "ACTIVE", "{active}");
    // Work added to a running contract must be covered too.
    let more = app
        .gql(
            "mutation($i: AddOutcomeInput!) { addOutcome(input: $i) { id } }",
            json!({ "i": { "contractId": c, "title": "More", "amountCents": 1, "criteria": [{ "description": "x" }] } }),
            Some(&ada.access_token),
        )
        .await;
    assert_eq!((error_code(&more), error_field(&more)), ("BAD_USER_INPUT", "amountCents"), "{more}");
    let members = app.gql(ESCROW, json!({ "id": c }), Some(&mia.access_token)).await;
    assert_eq!(members["data"]["contract"]["escrow"]["funded"]["amountCents"], 10_000, "the client side sees escrow");
    app.assert_ledger_sound().await;
}

#[tokio::test]
async fn cancelling_refunds_unreleased_escrow_and_no_outcome_is_paid_or_reopened_afterwards() {
    let app = spawn_app().await;
    let s = submitted(&app, "EUR", 5_000, &[1, 1]).await;
    let status = "mutation($i: ChangeContractStatusInput!) { changeContractStatus(input: $i) { status } }";
    let cancel = json!({ "i": { "contractId": s.contract, "action": "CANCEL", "idempotencyKey": "cancel-1" } });
    let body = app.gql(status, cancel.clone(), Some(&s.client.access_token)).await;
    assert_eq!(body["data"]["changeContractStatus"]["status"], "CANCELLED", "{body}");
    let replay = app.gql(status, cancel, Some(&s.client.access_token)).await;
    assert_eq!(replay["data"]["changeContractStatus"]["status"], "CANCELLED", "a replay, not a CONFLICT: {replay}");
    assert_eq!(app.count("ledger_transactions WHERE kind = 'REFUND'").await, 1, "refunded once");
    assert_eq!(
        error_code(&accept_outcome(&app, &s, "accept-1").await),
        "CONFLICT",
        "a cancelled contract pays nothing"
    );
    let reject = app
        .gql(REJECT_OUTCOME, json!({ "i": { "outcomeId": s.outcome, "feedback": "no" } }), Some(&s.client.access_token))
        .await;
    assert_eq!(error_code(&reject), "CONFLICT", "nor reopens work");
    assert_eq!(
        escrow(&app, &s).await,
        json!({ "funded": 5_000, "released": 0, "refunded": 5_000, "held": 0, "fees": 0, "remaining": 0 })
    );
    assert_eq!(pending_of(&app, &s.workers[0]).await, Value::Null, "nobody was paid");
    app.assert_ledger_sound().await;
}

#[tokio::test]
async fn work_added_to_a_submitted_outcome_is_refused() {
    let app = spawn_app().await;
    let s = submitted(&app, "EUR", 5_000, &[1]).await;
    let body = app
        .gql(
            "mutation($i: AddTaskInput!) { addTask(input: $i) { id } }",
            json!({ "i": { "outcomeId": s.outcome, "title": "Late addition", "mode": "ANY" } }),
            Some(&s.client.access_token),
        )
        .await;
    assert_eq!(error_code(&body), "CONFLICT", "{body}");
    assert_eq!(app.count("tasks").await, 1);
    assert_eq!(accept_outcome(&app, &s, "accept-1").await["data"]["acceptOutcome"]["status"], "ACCEPTED");
    app.assert_ledger_sound().await;
}

#[tokio::test]
async fn a_client_never_routes_money_to_or_reviews_agents_its_side_operates() {
    let app = spawn_app().await;
    let ada = app.register("ada").await;
    let grace = app.register("grace").await;
    let org = crate::organizations::create_org(&app, &ada, "acme").await;
    crate::organizations::add(&app, &ada, &org, "grace", "ADMIN").await;
    let scopes = json!(["TASKS_READ", "TASKS_WRITE"]);
    let skills = json!([{ "skill": "crawl", "level": 5 }]);
    let (_, own) = agent(&app, &ada, "ada_bot", skills.clone(), scopes.clone()).await;
    let (_, admins) = agent(&app, &grace, "grace_bot", skills.clone(), scopes.clone()).await;
    let c = crate::work::contract(&app, &ada, Some(&org), 10_000).await;
    let o = crate::work::outcome(&app, &ada, &c, "Data", 10_000, json!([{ "description": "x" }])).await;
    let t = task(&app, &ada, &o, json!({ "title": "Crawl", "mode": "AUTOMATED", "skills": ["crawl"] })).await;
    let t = id(&t);
    crate::work::activate(&app, &ada, &c).await;
    let view = app
        .gql(
            "query($id: ID!) { task(id: $id) { status assignee { handle } } }",
            json!({ "id": t }),
            Some(&ada.access_token),
        )
        .await;
    assert_eq!(view["data"]["task"], json!({ "status": "OPEN", "assignee": null }), "neither agent was routed: {view}");
    for token in [&own, &admins] {
        let listed = app.gql("{ claimableTasks { edges { node { id } } } }", json!({}), Some(token)).await;
        assert_eq!(listed["data"]["claimableTasks"]["edges"], json!([]), "{listed}");
        assert_eq!(error_code(&act(&app, "claimTask", &t, token).await), "FORBIDDEN");
    }
    let reassign = app
        .gql(
            "mutation($i: ReassignTaskInput!) { reassignTask(input: $i) { status } }",
            json!({ "i": { "taskId": t, "profileId": app.gql("query { profile(handle: \"ada_bot\") { id } }", json!({}), None).await["data"]["profile"]["id"] } }),
            Some(&ada.access_token),
        )
        .await;
    assert_eq!((error_code(&reassign), error_field(&reassign)), ("BAD_USER_INPUT", "profileId"), "{reassign}");
    assert_eq!(app.count("task_assignments").await, 0);
}

#[tokio::test]
async fn disputes_hold_the_money_until_an_arbiter_or_a_concession_settles_it() {
    let app = spawn_app().await;
    let s = submitted(&app, "EUR", 1_000, &[1, 1]).await;
    let judge = app.register("judge").await;
    app.grant_arbiter("judge").await;
    let eve = app.register("eve").await;

    // Only a rejected (or overdue) outcome is disputed, and only by the people on it.
    let input =
        |key: &str| json!({ "i": { "outcomeId": s.outcome, "reason": "The launch slipped", "idempotencyKey": key } });
    assert_eq!(error_code(&app.gql(OPEN_DISPUTE, input("d-0"), Some(&s.workers[0].access_token)).await), "CONFLICT");
    app.gql(
        REJECT_OUTCOME,
        json!({ "i": { "outcomeId": s.outcome, "feedback": "Not live" } }),
        Some(&s.client.access_token),
    )
    .await;
    assert_eq!(error_code(&app.gql(OPEN_DISPUTE, input("d-1"), Some(&eve.access_token)).await), "NOT_FOUND");
    let opened = app.gql(OPEN_DISPUTE, input("d-1"), Some(&s.workers[0].access_token)).await;
    assert_eq!(opened["data"]["openDispute"]["status"], "OPEN", "{opened}");
    let dispute = opened["data"]["openDispute"]["id"].as_str().unwrap().to_owned();
    let replay = app.gql(OPEN_DISPUTE, input("d-1"), Some(&s.workers[0].access_token)).await;
    assert_eq!(replay["data"]["openDispute"]["id"], dispute.as_str(), "the first dispute: {replay}");
    let again = app.gql(OPEN_DISPUTE, input("d-2"), Some(&s.client.access_token)).await;
    assert_eq!(error_code(&again), "CONFLICT", "once per outcome");
    assert_eq!(escrow(&app, &s).await["held"], 1_000);

    // A worker cannot award itself the money; the judge splits it.
    let release = json!({ "i": { "disputeId": dispute, "resolution": "RELEASE", "idempotencyKey": "r-0" } });
    assert_eq!(error_code(&app.gql(RESOLVE_DISPUTE, release, Some(&s.workers[0].access_token)).await), "FORBIDDEN");
    let bad = app
        .gql(
            RESOLVE_DISPUTE,
            json!({ "i": { "disputeId": dispute, "resolution": "SPLIT", "releaseCents": 1_000, "idempotencyKey": "r-1" } }),
            Some(&judge.access_token),
        )
        .await;
    assert_eq!((error_code(&bad), error_field(&bad)), ("BAD_USER_INPUT", "releaseCents"));
    let split =
        json!({ "i": { "disputeId": dispute, "resolution": "SPLIT", "releaseCents": 600, "idempotencyKey": "r-2" } });
    let done = app.gql(RESOLVE_DISPUTE, split.clone(), Some(&judge.access_token)).await;
    assert_eq!(
        done["data"]["resolveDispute"],
        json!({ "status": "RESOLVED", "resolution": "SPLIT", "released": { "amountCents": 600 }, "refunded": { "amountCents": 400 } }),
        "{done}"
    );
    let later = json!({ "i": { "disputeId": dispute, "resolution": "REFUND", "idempotencyKey": "r-3" } });
    assert_eq!(
        error_code(&app.gql(RESOLVE_DISPUTE, later, Some(&judge.access_token)).await),
        "CONFLICT",
        "resolved once"
    );
    // 600 released: shares 300/300, fee 15 split 8/7.
    assert_eq!(
        (pending_of(&app, &s.workers[0]).await, pending_of(&app, &s.workers[1]).await),
        (json!(292), json!(293))
    );
    assert_eq!(
        escrow(&app, &s).await,
        json!({ "funded": 1_000, "released": 600, "refunded": 400, "held": 0, "fees": 15, "remaining": 0 })
    );
    app.assert_ledger_sound().await;
}

#[tokio::test]
async fn payees_hear_of_their_payouts_live() {
    use crate::events::{next_action, subscribe, ws_connect};

    let app = spawn_app().await;
    let s = submitted(&app, "EUR", 2_000, &[1]).await;
    let mut ws = ws_connect(&app, &s.workers[0].access_token).await;
    subscribe(&app, &mut ws, "subscription { payoutUpdated { action after } }", json!({})).await;
    accept_outcome(&app, &s, "accept-1").await;
    let message = next_action(&mut ws, "payoutUpdated", "payout.pending").await;
    let after = &message["payload"]["data"]["payoutUpdated"]["after"];
    assert_eq!((after["status"].as_str(), after["amountCents"].as_i64()), (Some("PENDING"), Some(1_950)), "{message}");
    // Someone else's payouts never reach this subscriber: the next event is its own hold passing.
    app.clock.advance(chrono::Duration::days(3));
    app.sweep().await;
    let message = next_action(&mut ws, "payoutUpdated", "payout.available").await;
    assert_eq!(message["payload"]["data"]["payoutUpdated"]["after"]["status"], "AVAILABLE", "{message}");

    // The inbox holds the same story, newest first: the acceptance of the work and of its
    // outcome, then the money.
    let worker = app.login(&s.workers[0]).await;
    let inbox = app
        .gql("{ notifications(first: 10) { edges { node { action } } } }", json!({}), Some(&worker.access_token))
        .await;
    let actions: Vec<&str> = inbox["data"]["notifications"]["edges"]
        .as_array()
        .unwrap_or_else(|| panic!("{inbox}"))
        .iter()
        .map(|e| e["node"]["action"].as_str().unwrap())
        .collect();
    assert_eq!(&actions[..4], ["payout.available", "payout.pending", "outcome.accepted", "task.accepted"], "{inbox}");
}

#[tokio::test]
#[ignore = "needs PostgreSQL: the same outcome accepted twice at once"]
async fn the_same_outcome_accepted_twice_at_once_pays_once() {
    let app = spawn_app().await;
    let s = submitted(&app, "EUR", 9_000, &[1, 2]).await;
    let keys: Vec<String> = (0..6).map(|n| if n % 2 == 0 { format!("key-{n}") } else { "same-key".into() }).collect();
    let attempts = keys.iter().map(|k| accept_outcome(&app, &s, k));
    let results = futures_util::future::join_all(attempts).await;
    let accepted = results.iter().filter(|r| r["data"]["acceptOutcome"]["status"] == "ACCEPTED").count();
    assert!(accepted >= 1, "{results:?}");
    assert!(results.iter().all(|r| r["data"]["acceptOutcome"]["status"] == "ACCEPTED" || error_code(r) == "CONFLICT"));
    assert_eq!(app.count("ledger_transactions WHERE kind = 'RELEASE'").await, 1, "{results:?}");
    assert_eq!(escrow(&app, &s).await["released"], 9_000);
    app.assert_ledger_sound().await;
}

#[tokio::test]
#[ignore = "needs PostgreSQL: withdrawals racing past the balance"]
async fn withdrawals_racing_past_the_balance_never_overdraw() {
    let app = spawn_app().await;
    let s = submitted(&app, "EUR", 10_000, &[1]).await;
    accept_outcome(&app, &s, "accept-1").await;
    app.clock.advance(chrono::Duration::days(3));
    app.sweep().await;
    let bob = app.login(&s.workers[0]).await;
    let keys: Vec<String> = (0..5).map(|n| format!("race-{n}")).collect();
    let requests = keys.iter().map(|key| payout(&app, &bob, 4_000, "EUR", key));
    let results = futures_util::future::join_all(requests).await;
    let paid = results.iter().filter(|r| r["data"]["requestPayout"]["status"] == "PAID").count();
    let refused = results.iter().filter(|r| error_field(r) == "amountCents").count();
    assert_eq!((paid, refused), (2, 3), "9 750 available covers two of 4 000: {results:?}");
    let balance = app.gql(BALANCE, json!({}), Some(&bob.access_token)).await;
    assert_eq!(balance["data"]["me"]["balance"][0]["available"], 1_750);
    app.assert_ledger_sound().await;
}

#[tokio::test]
#[ignore = "needs PostgreSQL: funding, duplicates and cancellation racing"]
async fn funding_racing_duplicates_and_a_cancellation_never_strands_or_doubles_money() {
    let app = spawn_app().await;
    let ada = app.register("ada").await;
    let c = crate::work::contract(&app, &ada, None, 100_000).await;
    let query = "mutation($i: FundContractInput!) { fundContract(input: $i) { transactionId } }";
    // Five copies of one request at once: one movement, one answer.
    let same = (0..5).map(|_| {
        app.gql(
            query,
            json!({ "i": { "contractId": c, "amountCents": 1_000, "idempotencyKey": "dup" } }),
            Some(&ada.access_token),
        )
    });
    let results = futures_util::future::join_all(same).await;
    let ids: std::collections::BTreeSet<String> =
        results.iter().filter_map(|r| r["data"]["fundContract"]["transactionId"].as_str().map(str::to_owned)).collect();
    assert_eq!(ids.len(), 1, "{results:?}");
    assert!(results.iter().all(|r| r["data"]["fundContract"].is_object() || error_code(r) == "CONFLICT"));
    assert_eq!(app.count("ledger_transactions WHERE kind = 'FUNDING'").await, 1);

    // Fundings and a cancellation at once: whatever got in before the cancellation is refunded.
    let cancel = app.gql(
        "mutation($i: ChangeContractStatusInput!) { changeContractStatus(input: $i) { status } }",
        json!({ "i": { "contractId": c, "action": "CANCEL", "idempotencyKey": "cancel-race" } }),
        Some(&ada.access_token),
    );
    let funds = (0..4).map(|n| {
        app.gql(
            query,
            json!({ "i": { "contractId": c, "amountCents": 500, "idempotencyKey": format!("f{n}") } }),
            Some(&ada.access_token),
        )
    });
    let (cancelled, funded) = futures_util::join!(cancel, futures_util::future::join_all(funds));
    assert_eq!(cancelled["data"]["changeContractStatus"]["status"], "CANCELLED", "{cancelled}");
    assert!(funded.iter().all(|r| r["data"]["fundContract"].is_object() || error_code(r) == "CONFLICT"), "{funded:?}");
    let escrow = app.gql(ESCROW, json!({ "id": c }), Some(&ada.access_token)).await;
    let e = &escrow["data"]["contract"]["escrow"];
    assert_eq!(e["remaining"]["amountCents"], 0, "nothing stranded in a cancelled contract's escrow: {escrow}");
    assert_eq!(e["funded"]["amountCents"], e["refunded"]["amountCents"], "every cent back: {escrow}");
    app.assert_ledger_sound().await;
}

#[tokio::test]
async fn the_database_itself_refuses_unbalanced_transactions_negative_balances_and_rewrites() {
    use entity::{ledger_account, ledger_line, ledger_transaction};
    use sea_orm::{ActiveModelTrait, ConnectionTrait, EntityTrait, Set, TransactionTrait};

    let app = spawn_app().await;
    let db = &app.state.db;
    let now = chrono::Utc::now();
    let open = |kind, may_go_negative| ledger_account::ActiveModel {
        id: Set(uuid::Uuid::new_v4()),
        kind: Set(kind),
        owner_id: Set(uuid::Uuid::new_v4()),
        currency: Set("EUR".into()),
        balance_cents: Set(0),
        may_go_negative: Set(may_go_negative),
        created_at: Set(now),
    };
    let escrow = open(ledger_account::AccountKind::Escrow, false).insert(db).await.unwrap();
    let fees = open(ledger_account::AccountKind::PlatformFees, false).insert(db).await.unwrap();
    let outside = open(ledger_account::AccountKind::ClientFunding, true).insert(db).await.unwrap();
    let transaction = |memo: &str| ledger_transaction::ActiveModel {
        id: Set(uuid::Uuid::new_v4()),
        kind: Set(ledger_transaction::TransactionKind::Funding),
        contract_id: Set(None),
        outcome_id: Set(None),
        payout_id: Set(None),
        dispute_id: Set(None),
        actor_profile_id: Set(None),
        provider_ref: Set(None),
        memo: Set(memo.into()),
        sealed: Set(false),
        created_at: Set(now),
    };
    let line = |txn: uuid::Uuid, account: uuid::Uuid, cents: i64| ledger_line::ActiveModel {
        transaction_id: Set(txn),
        account_id: Set(account),
        currency: Set("EUR".into()),
        amount_cents: Set(cents),
        earned_by_profile_id: Set(None),
        task_id: Set(None),
        created_at: Set(now),
        ..Default::default()
    };
    let seal = |t: &ledger_transaction::Model| {
        let mut sealed: ledger_transaction::ActiveModel = t.clone().into();
        sealed.sealed = Set(true);
        sealed
    };

    // Money cannot leave an account that holds none.
    let overdraw = db.begin().await.unwrap();
    let t = transaction("overdraw").insert(&overdraw).await.unwrap();
    let refused = ledger_line::Entity::insert_many([line(t.id, escrow.id, -5), line(t.id, fees.id, 5)])
        .exec_without_returning(&overdraw)
        .await;
    assert!(refused.is_err(), "a negative escrow was accepted");
    overdraw.rollback().await.ok();

    // A transaction whose lines do not sum to zero is never sealed (nor, on PostgreSQL, committed).
    let lopsided = db.begin().await.unwrap();
    let t = transaction("lopsided").insert(&lopsided).await.unwrap();
    let outcome: Result<(), sea_orm::DbErr> = async {
        ledger_line::Entity::insert(line(t.id, fees.id, 7)).exec_without_returning(&lopsided).await?;
        seal(&t).update(&lopsided).await?;
        lopsided.commit().await
    }
    .await;
    assert!(outcome.is_err(), "an unbalanced transaction was sealed and committed");

    // A balanced posting goes through; then its lines are never rewritten, nor anything removed.
    let fine = db.begin().await.unwrap();
    let t = transaction("fine").insert(&fine).await.unwrap();
    ledger_line::Entity::insert_many([line(t.id, outside.id, -5), line(t.id, fees.id, 5)])
        .exec_without_returning(&fine)
        .await
        .unwrap();
    seal(&t).update(&fine).await.unwrap();
    fine.commit().await.unwrap();
    let late = ledger_line::Entity::insert(line(t.id, fees.id, 1)).exec_without_returning(db).await;
    assert!(late.is_err(), "a sealed transaction took another line");
    let backend = db.get_database_backend();
    for statement in
        ["UPDATE ledger_lines SET amount_cents = 0", "DELETE FROM ledger_lines", "DELETE FROM ledger_transactions"]
    {
        let changed = db.execute_raw(sea_orm::Statement::from_string(backend, statement)).await;
        assert!(changed.is_err(), "{statement} rewrote the ledger");
    }
    app.assert_ledger_sound().await;
}

#[tokio::test]
async fn ledger_check_exits_non_zero_on_a_corrupted_ledger() {
    use sea_orm::{ActiveModelTrait, ConnectionTrait, Set};

    let dir = std::env::temp_dir().join(format!("semasocial-ledger-check-{}", uuid::Uuid::new_v4()));
    std::fs::create_dir_all(&dir).unwrap();
    let url = format!("sqlite://{}?mode=rwc", dir.join("ledger.db").display());
    let run = || {
        std::process::Command::new(env!("CARGO_BIN_EXE_semasocial"))
            .arg("ledger-check")
            .env("DATABASE_URL", &url)
            .env("DATA_DIR", &dir)
            .output()
            .unwrap()
    };
    let sound = run();
    assert!(sound.status.success(), "{}", String::from_utf8_lossy(&sound.stderr));

    // Someone with database access bypasses the triggers and books money out of thin air.
    let mut options = sea_orm::ConnectOptions::new(url.clone());
    options.max_connections(1);
    let db = sea_orm::Database::connect(options).await.unwrap();
    db.execute_unprepared(
        "DROP TRIGGER ledger_lines_apply; DROP TRIGGER ledger_transactions_seal; PRAGMA ignore_check_constraints = ON;",
    )
    .await
    .unwrap();
    let now = chrono::Utc::now();
    let account = entity::ledger_account::ActiveModel {
        id: Set(uuid::Uuid::new_v4()),
        kind: Set(entity::ledger_account::AccountKind::Escrow),
        owner_id: Set(uuid::Uuid::new_v4()),
        currency: Set("EUR".into()),
        balance_cents: Set(-5),
        may_go_negative: Set(false),
        created_at: Set(now),
    }
    .insert(&db)
    .await
    .unwrap();
    let forged = entity::ledger_transaction::ActiveModel {
        id: Set(uuid::Uuid::new_v4()),
        kind: Set(entity::ledger_transaction::TransactionKind::Funding),
        contract_id: Set(None),
        outcome_id: Set(None),
        payout_id: Set(None),
        dispute_id: Set(None),
        actor_profile_id: Set(None),
        provider_ref: Set(None),
        memo: Set("forged".into()),
        sealed: Set(true),
        created_at: Set(now),
    }
    .insert(&db)
    .await
    .unwrap();
    entity::ledger_line::ActiveModel {
        transaction_id: Set(forged.id),
        account_id: Set(account.id),
        currency: Set("EUR".into()),
        amount_cents: Set(7),
        earned_by_profile_id: Set(None),
        task_id: Set(None),
        created_at: Set(now),
        ..Default::default()
    }
    .insert(&db)
    .await
    .unwrap();
    db.close().await.ok();
    let broken = run();
    let report = String::from_utf8_lossy(&broken.stderr);
    assert_eq!(broken.status.code(), Some(1), "{report}");
    assert!(report.contains("does not balance"), "{report}");
    assert!(report.contains("is negative"), "{report}");
    assert!(report.contains("holds -5 but its lines sum to 7"), "{report}");
    std::fs::remove_dir_all(&dir).ok();
}

#[tokio::test]
async fn a_page_of_contracts_with_escrow_and_disputes_costs_the_same_statements_whatever_its_size() {
    let app = spawn_app().await;
    let ada = app.register("ada").await;
    let query = "{ myContracts(first: 20) { edges { node { title escrow { funded { amountCents } remaining { amountCents } } outcomes { title dispute { status } } } } } }";
    let mut costs = Vec::new();
    for size in [2, 6] {
        while app.count("contracts").await < size {
            let c = crate::work::contract(&app, &ada, None, 10_000).await;
            crate::work::outcome(&app, &ada, &c, "One", 5_000, json!([{ "description": "x" }])).await;
            fund(&app, &ada, &c, 5_000).await;
        }
        let (body, statements) = app.execute(query, json!({}), Some(&ada.access_token)).await;
        assert!(body.get("errors").is_none(), "{body}");
        let edges = body["data"]["myContracts"]["edges"].as_array().map(Vec::len);
        assert_eq!(edges, Some(usize::try_from(size).unwrap()));
        assert_eq!(body["data"]["myContracts"]["edges"][0]["node"]["escrow"]["funded"]["amountCents"], 5_000);
        costs.push(statements);
    }
    // The page and its access (2), then escrow totals, pending fundings and outcomes (3), then
    // disputes (1).
    assert_eq!(costs, [6, 6]);
}
