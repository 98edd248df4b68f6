//! Money at its edges: what completion does with leftover escrow, whose idempotency keys are
//! whose, who still moves an organization's money after a role change, the dispute rules, a
//! crash between a withdrawal's steps, the amount range, and limits under nested fragments.
//! Every refusal asserts that nothing changed.
use serde_json::{Value, json};

use crate::{
    helpers::{TestApp, TestUser, error_code, error_field, spawn_app, spawn_app_with},
    organizations::{add, create_org},
    work::{act, activate, agent, contract, id, outcome, submit, task, worker},
};

const ACCEPT_OUTCOME: &str = "mutation($i: OutcomeIdInput!) { acceptOutcome(input: $i) { status } }";
const CHANGE_STATUS: &str = "mutation($i: ChangeContractStatusInput!) { changeContractStatus(input: $i) { status } }";
const FUND: &str = "mutation($i: FundContractInput!) { fundContract(input: $i) { transactionId replayed } }";
const OPEN_DISPUTE: &str = "mutation($i: OpenDisputeInput!) { openDispute(input: $i) { id status } }";
const RESOLVE: &str = "mutation($i: ResolveDisputeInput!) { resolveDispute(input: $i) { status resolution released { amountCents } refunded { amountCents } } }";
const ESCROW: &str = "query($id: ID!) { contract(id: $id) { status escrow { funded { amountCents } released { amountCents } refunded { amountCents } held { amountCents } remaining { amountCents } } } }";
const PAYOUT: &str = "mutation($i: RequestPayoutInput!) { requestPayout(input: $i) { id status failureReason } }";
const BALANCE: &str = "{ me { balance { currency pending available inFlight paidOut } } }";

/// The money state a refusal must leave as it was: every account's balance, every ledger
/// transaction, payout, dispute and concession.
async fn books(app: &TestApp) -> Value {
    let balances: Vec<(String, i64)> = entity::ledger_account::Entity::find()
        .all(&app.state.db)
        .await
        .unwrap()
        .into_iter()
        .map(|a| (format!("{:?}:{}", a.kind, a.owner_id), a.balance_cents))
        .collect::<std::collections::BTreeMap<_, _>>()
        .into_iter()
        .collect();
    json!({
        "balances": balances,
        "transactions": app.count("ledger_transactions").await,
        "payouts": app.count("payouts").await,
        "disputes": app.count("disputes WHERE status = 'OPEN'").await,
        "concessions": app.count("dispute_concessions").await,
        "tasks_cancelled": app.count("tasks WHERE status = 'CANCELLED'").await,
        "contracts_cancelled": app.count("contracts WHERE status = 'CANCELLED'").await,
    })
}

use sea_orm::EntityTrait;

async fn escrow(app: &TestApp, who: &TestUser, contract: &str) -> Value {
    let body = app.gql(ESCROW, json!({ "id": contract }), Some(&who.access_token)).await;
    let c = &body["data"]["contract"];
    assert!(c["escrow"].is_object(), "{body}");
    let cents = |k: &str| c["escrow"][k]["amountCents"].clone();
    json!({ "status": c["status"], "funded": cents("funded"), "released": cents("released"),
            "refunded": cents("refunded"), "held": cents("held"), "remaining": cents("remaining") })
}

/// An active contract of `budget` with one outcome of `amount` split into tasks of `weights`,
/// each delivered by its own worker and accepted: the outcome awaits the client's verdict.
struct Delivered {
    contract: String,
    outcome: String,
    tasks: Vec<String>,
    workers: Vec<TestUser>,
}

async fn delivered(
    app: &TestApp,
    client: &TestUser,
    org: Option<&str>,
    budget: i64,
    amount: i64,
    weights: &[i32],
) -> Delivered {
    let c = contract(app, client, org, budget).await;
    let o = outcome(app, client, &c, "Launched", amount, json!([{ "description": "Live" }])).await;
    let mut pairs = Vec::new();
    for (i, weight) in weights.iter().enumerate() {
        let skill = format!("s{i}-{}", &c[..8]);
        let w = worker(app, &format!("w{i}x{}", &c[..6]), json!([{ "skill": skill, "level": 4 }])).await;
        let fields = json!({ "title": format!("part {i}"), "mode": "JUDGMENT", "skills": [skill], "weight": weight, "criteria": ["c1"] });
        pairs.push((id(&task(app, client, &o, fields).await), w));
    }
    activate(app, client, &c).await;
    for (t, w) in &pairs {
        assert_eq!(
            act(app, "acceptTaskOffer", t, &w.access_token).await["data"]["acceptTaskOffer"]["status"],
            "ASSIGNED"
        );
        assert_eq!(
            submit(app, t, json!({ "text": "done" }), &w.access_token).await["data"]["submitTask"]["status"],
            "SUBMITTED"
        );
        assert_eq!(act(app, "acceptTask", t, &client.access_token).await["data"]["acceptTask"]["status"], "ACCEPTED");
    }
    let tasks = pairs.iter().map(|(t, _)| t.clone()).collect();
    Delivered { contract: c, outcome: o, tasks, workers: pairs.into_iter().map(|(_, w)| w).collect() }
}

async fn reject(app: &TestApp, client: &TestUser, outcome: &str) {
    let body = app
        .gql(
            "mutation($i: RejectOutcomeInput!) { rejectOutcome(input: $i) { status } }",
            json!({ "i": { "outcomeId": outcome, "feedback": "Not live" } }),
            Some(&client.access_token),
        )
        .await;
    assert_eq!(body["data"]["rejectOutcome"]["status"], "REJECTED", "{body}");
}

async fn open_dispute(app: &TestApp, who: &TestUser, outcome: &str, key: &str) -> Value {
    app.gql(
        OPEN_DISPUTE,
        json!({ "i": { "outcomeId": outcome, "reason": "Late", "idempotencyKey": key } }),
        Some(&who.access_token),
    )
    .await
}

async fn resolve(app: &TestApp, who: &TestUser, dispute: &str, how: &str, key: &str) -> Value {
    app.gql(
        RESOLVE,
        json!({ "i": { "disputeId": dispute, "resolution": how, "idempotencyKey": key } }),
        Some(&who.access_token),
    )
    .await
}

#[tokio::test]
async fn completing_a_contract_refunds_the_escrow_its_outcomes_did_not_spend() {
    let app = spawn_app().await;
    let ada = app.register("ada").await;
    let d = delivered(&app, &ada, None, 200_000, 80_000, &[1]).await;
    let body = app
        .gql(
            ACCEPT_OUTCOME,
            json!({ "i": { "outcomeId": d.outcome, "idempotencyKey": "a-1" } }),
            Some(&ada.access_token),
        )
        .await;
    assert_eq!(body["data"]["acceptOutcome"]["status"], "ACCEPTED", "{body}");
    assert_eq!(
        escrow(&app, &ada, &d.contract).await,
        json!({ "status": "COMPLETED", "funded": 200_000, "released": 80_000, "refunded": 120_000, "held": 0, "remaining": 0 })
    );
    let feed = app
        .gql(
            "query($id: ID!) { contract(id: $id) { dashboard { activity(first: 50) { edges { node { action after } } } } } }",
            json!({ "id": d.contract }),
            Some(&ada.access_token),
        )
        .await;
    let refund = feed["data"]["contract"]["dashboard"]["activity"]["edges"]
        .as_array()
        .unwrap()
        .iter()
        .find(|e| e["node"]["action"] == "contract.refunded")
        .unwrap_or_else(|| panic!("no refund in the feed: {feed}"))
        .clone();
    assert_eq!(
        (refund["node"]["after"]["amountCents"].as_i64(), refund["node"]["after"]["reason"].as_str()),
        (Some(120_000), Some("completed"))
    );

    // Nothing is left to cancel, and the refusal changes nothing.
    let before = books(&app).await;
    let cancel = json!({ "i": { "contractId": d.contract, "action": "CANCEL", "idempotencyKey": "c-1" } });
    assert_eq!(error_code(&app.gql(CHANGE_STATUS, cancel, Some(&ada.access_token)).await), "CONFLICT");
    assert_eq!(books(&app).await, before);
    app.assert_ledger_sound().await;
}

#[tokio::test]
async fn an_organization_admins_share_its_idempotency_keys_and_charge_once() {
    let app = spawn_app().await;
    let ada = app.register("ada").await;
    let bob = app.register("bob").await;
    let org = create_org(&app, &ada, "acme").await;
    add(&app, &ada, &org, "bob", "ADMIN").await;
    let c = contract(&app, &ada, Some(&org), 50_000).await;
    let input = |amount: i64| json!({ "i": { "contractId": c, "amountCents": amount, "idempotencyKey": "invoice-7" } });

    let first = app.gql(FUND, input(10_000), Some(&ada.access_token)).await;
    assert_eq!(first["data"]["fundContract"]["replayed"], false, "{first}");
    let again = app.gql(FUND, input(10_000), Some(&bob.access_token)).await;
    assert_eq!(again["data"]["fundContract"]["replayed"], true, "the organization's key: {again}");
    assert_eq!(again["data"]["fundContract"]["transactionId"], first["data"]["fundContract"]["transactionId"]);
    let before = books(&app).await;
    let other = app.gql(FUND, input(20_000), Some(&bob.access_token)).await;
    assert_eq!(error_code(&other), "CONFLICT", "another body under the same key: {other}");
    assert_eq!(books(&app).await, before);
    assert_eq!(app.count("ledger_transactions WHERE kind = 'FUNDING'").await, 1, "charged once");

    // Ending a funded contract moves money: it takes a key.
    let cancel =
        app.gql(CHANGE_STATUS, json!({ "i": { "contractId": c, "action": "CANCEL" } }), Some(&bob.access_token)).await;
    assert_eq!((error_code(&cancel), error_field(&cancel)), ("BAD_USER_INPUT", "idempotencyKey"), "{cancel}");
    assert_eq!(books(&app).await, before);
    let keyed = json!({ "i": { "contractId": c, "action": "CANCEL", "idempotencyKey": "end-1" } });
    assert_eq!(
        app.gql(CHANGE_STATUS, keyed.clone(), Some(&bob.access_token)).await["data"]["changeContractStatus"]["status"],
        "CANCELLED"
    );
    assert_eq!(
        app.gql(CHANGE_STATUS, keyed, Some(&ada.access_token)).await["data"]["changeContractStatus"]["status"],
        "CANCELLED",
        "a replay"
    );
    assert_eq!(app.count("ledger_transactions WHERE kind = 'REFUND'").await, 1, "refunded once");
    app.assert_ledger_sound().await;
}

#[tokio::test]
async fn a_demoted_or_removed_admin_no_longer_moves_the_organizations_money() {
    let app = spawn_app().await;
    let ada = app.register("ada").await;
    let bob = app.register("bob").await;
    let org = create_org(&app, &ada, "acme").await;
    add(&app, &ada, &org, "bob", "ADMIN").await;
    // Bob creates and funds the organization's contract while an admin.
    let d = delivered(&app, &bob, Some(&org), 10_000, 10_000, &[1]).await;
    let change = "mutation($i: ChangeMemberRoleInput!) { changeMemberRole(input: $i) { role } }";
    let body = app
        .gql(
            change,
            json!({ "i": { "organizationId": org, "profileId": bob.profile_id, "role": "MEMBER" } }),
            Some(&ada.access_token),
        )
        .await;
    assert_eq!(body["data"]["changeMemberRole"]["role"], "MEMBER", "{body}");

    let before = books(&app).await;
    let accept = app
        .gql(
            ACCEPT_OUTCOME,
            json!({ "i": { "outcomeId": d.outcome, "idempotencyKey": "b-1" } }),
            Some(&bob.access_token),
        )
        .await;
    assert_eq!(error_code(&accept), "FORBIDDEN", "a member releases nothing: {accept}");
    let funding = app
        .gql(
            FUND,
            json!({ "i": { "contractId": d.contract, "amountCents": 1, "idempotencyKey": "b-2" } }),
            Some(&bob.access_token),
        )
        .await;
    assert_eq!(error_code(&funding), "FORBIDDEN", "{funding}");
    assert_eq!(books(&app).await, before);

    let remove = "mutation($i: RemoveMemberInput!) { removeMember(input: $i) }";
    let body = app
        .gql(remove, json!({ "i": { "organizationId": org, "profileId": bob.profile_id } }), Some(&ada.access_token))
        .await;
    assert_eq!(body["data"]["removeMember"], true, "{body}");
    let read = app.gql(ESCROW, json!({ "id": d.contract }), Some(&bob.access_token)).await;
    assert_eq!(error_code(&read), "NOT_FOUND", "a former admin reads nothing: {read}");
    let accept = app
        .gql(
            ACCEPT_OUTCOME,
            json!({ "i": { "outcomeId": d.outcome, "idempotencyKey": "b-3" } }),
            Some(&bob.access_token),
        )
        .await;
    assert_eq!(error_code(&accept), "NOT_FOUND", "{accept}");
    let mine =
        app.gql("{ myContracts(first: 10) { edges { node { id } } } }", json!({}), Some(&bob.access_token)).await;
    assert_eq!(mine["data"]["myContracts"]["edges"], json!([]), "{mine}");
    assert_eq!(books(&app).await, before);

    // The owner still does.
    let accept = app
        .gql(
            ACCEPT_OUTCOME,
            json!({ "i": { "outcomeId": d.outcome, "idempotencyKey": "b-1" } }),
            Some(&ada.access_token),
        )
        .await;
    assert_eq!(accept["data"]["acceptOutcome"]["status"], "ACCEPTED", "{accept}");
    app.assert_ledger_sound().await;
}

#[tokio::test]
async fn money_under_dispute_is_untouchable_by_cancel() {
    let app = spawn_app().await;
    let ada = app.register("ada").await;
    let judge = app.register("judge").await;
    app.grant_arbiter("judge").await;
    let d = delivered(&app, &ada, None, 10_000, 10_000, &[1]).await;
    reject(&app, &ada, &d.outcome).await;
    let opened = open_dispute(&app, &d.workers[0], &d.outcome, "d-1").await;
    let dispute = opened["data"]["openDispute"]["id"].as_str().unwrap_or_else(|| panic!("{opened}")).to_owned();

    let before = books(&app).await;
    let cancel = json!({ "i": { "contractId": d.contract, "action": "CANCEL", "idempotencyKey": "c-1" } });
    let body = app.gql(CHANGE_STATUS, cancel.clone(), Some(&ada.access_token)).await;
    assert_eq!(error_code(&body), "CONFLICT", "{body}");
    assert_eq!(books(&app).await, before, "nothing refunded, no task cancelled");
    // Nor is the disputed work taken from its worker, by hand or by the sweep.
    let reassign = app
        .gql(
            "mutation($i: ReassignTaskInput!) { reassignTask(input: $i) { status } }",
            json!({ "i": { "taskId": d.tasks[0] } }),
            Some(&ada.access_token),
        )
        .await;
    assert_eq!(error_code(&reassign), "CONFLICT", "{reassign}");
    app.clock.advance(chrono::Duration::days(400));
    assert_eq!(app.sweep().await.overdue, 0);
    let ada = app.login(&ada).await;
    let judge = app.login(&judge).await;
    assert_eq!(books(&app).await, before);

    // The arbiter can still pay the worker; then the contract may end.
    let done = resolve(&app, &judge, &dispute, "RELEASE", "j-1").await;
    assert_eq!(done["data"]["resolveDispute"]["released"]["amountCents"], 10_000, "{done}");
    let body = app.gql(CHANGE_STATUS, cancel, Some(&ada.access_token)).await;
    assert_eq!(body["data"]["changeContractStatus"]["status"], "CANCELLED", "{body}");
    app.assert_ledger_sound().await;
}

#[tokio::test]
async fn a_worker_concedes_only_its_own_share_of_a_dispute() {
    let app = spawn_app().await;
    let ada = app.register("ada").await;
    let judge = app.register("judge").await;
    app.grant_arbiter("judge").await;
    let d = delivered(&app, &ada, None, 10_000, 10_000, &[1, 9]).await;
    let (w1, w9) = (&d.workers[0], &d.workers[1]);
    reject(&app, &ada, &d.outcome).await;
    let opened = open_dispute(&app, w9, &d.outcome, "d-9").await;
    let dispute = opened["data"]["openDispute"]["id"].as_str().unwrap_or_else(|| panic!("{opened}")).to_owned();

    // W1 gives up its tenth; W9's nine tenths stay held.
    let conceded = resolve(&app, w1, &dispute, "REFUND", "w1-1").await;
    assert_eq!(conceded["data"]["resolveDispute"]["status"], "OPEN", "{conceded}");
    assert_eq!(
        escrow(&app, &ada, &d.contract).await,
        json!({ "status": "ACTIVE", "funded": 10_000, "released": 0, "refunded": 1_000, "held": 9_000, "remaining": 0 })
    );
    // Conceding twice, or deciding for others, changes nothing.
    let before = books(&app).await;
    assert_eq!(error_code(&resolve(&app, w1, &dispute, "REFUND", "w1-2").await), "CONFLICT");
    assert_eq!(error_code(&resolve(&app, w1, &dispute, "RELEASE", "w1-3").await), "FORBIDDEN");
    assert_eq!(books(&app).await, before);
    // A replay of the concession answers without refunding again.
    assert_eq!(resolve(&app, w1, &dispute, "REFUND", "w1-1").await["data"]["resolveDispute"]["status"], "OPEN");
    assert_eq!(books(&app).await, before);

    // The arbiter releases the rest to W9 alone.
    let done = resolve(&app, &judge, &dispute, "RELEASE", "j-1").await;
    assert_eq!(
        done["data"]["resolveDispute"],
        json!({ "status": "RESOLVED", "resolution": "RELEASE", "released": { "amountCents": 9_000 }, "refunded": { "amountCents": 1_000 } }),
        "{done}"
    );
    let pending = |who: &TestUser| {
        let token = who.access_token.clone();
        let app = &app;
        async move { app.gql(BALANCE, json!({}), Some(&token)).await["data"]["me"]["balance"][0]["pending"].clone() }
    };
    assert_eq!((pending(w1).await, pending(w9).await), (Value::Null, json!(8_775)), "9,000 less the 2.5% fee");
    app.assert_ledger_sound().await;
}

#[tokio::test]
async fn an_arbiter_never_decides_a_dispute_it_is_a_party_to() {
    let app = spawn_app().await;
    let ada = app.register("ada").await;
    app.grant_arbiter("ada").await;
    let d = delivered(&app, &ada, None, 10_000, 10_000, &[1]).await;
    reject(&app, &ada, &d.outcome).await;
    let opened = open_dispute(&app, &d.workers[0], &d.outcome, "d-1").await;
    let dispute = opened["data"]["openDispute"]["id"].as_str().unwrap_or_else(|| panic!("{opened}")).to_owned();
    let before = books(&app).await;
    for (how, key) in [("REFUND", "a-1"), ("SPLIT", "a-2")] {
        let body = app
            .gql(RESOLVE, json!({ "i": { "disputeId": dispute, "resolution": how, "releaseCents": 5_000, "idempotencyKey": key } }), Some(&ada.access_token))
            .await;
        assert_eq!(error_code(&body), "FORBIDDEN", "{how}: {body}");
    }
    assert_eq!(books(&app).await, before);
    // As a party the client may still concede: release to the worker.
    let body = resolve(&app, &ada, &dispute, "RELEASE", "a-3").await;
    assert_eq!(body["data"]["resolveDispute"]["released"]["amountCents"], 10_000, "{body}");
    app.assert_ledger_sound().await;
}

#[tokio::test]
async fn arbiters_are_existing_accounts_named_at_start_or_granted_by_an_operator() {
    let app = spawn_app().await;
    app.register("judge").await;
    let refused = app.restart_with(|c| c.payments.arbiter_handles = vec!["judge".into(), "nobody".into()]).await;
    let message = refused.err().map(|e| e.to_string()).unwrap_or_default();
    assert!(message.contains("ARBITER_HANDLES") && message.contains("nobody"), "{message}");
    assert_eq!(app.count("arbiters").await, 0, "nothing granted by a refused start");
    // Registering the missing handle later grants nothing: only a restart naming it, or the
    // operator's command, does.
    let nobody = app.register("nobody").await;
    assert_eq!(app.count("arbiters").await, 0);
    app.restart_with(|c| c.payments.arbiter_handles = vec!["judge".into()]).await.expect("judge exists");
    assert_eq!(app.count("arbiters").await, 1);
    app.grant_arbiter("nobody").await;
    let granted = entity::arbiter::Entity::find_by_id(nobody.profile_id.parse::<uuid::Uuid>().unwrap())
        .one(&app.state.db)
        .await
        .unwrap()
        .map(|a| a.source);
    assert_eq!(granted.as_deref(), Some("granted"));
    // A restart without the configured judge takes that role back, and leaves the granted one.
    app.restart_with(|c| c.payments.arbiter_handles = Vec::new()).await.expect("starts");
    assert_eq!(app.count("arbiters").await, 1);
}

#[tokio::test]
async fn an_agents_operator_disputes_for_its_agent() {
    let app = spawn_app().await;
    let ada = app.register("ada").await;
    let oper = app.register("oper").await;
    let (_, token) =
        agent(&app, &oper, "bot", json!([{ "skill": "etl", "level": 5 }]), json!(["TASKS_READ", "TASKS_WRITE"])).await;
    let c = contract(&app, &ada, None, 10_000).await;
    let o = outcome(&app, &ada, &c, "Loaded", 10_000, json!([{ "description": "Rows in" }])).await;
    let t = id(&task(
        &app,
        &ada,
        &o,
        json!({ "title": "load", "mode": "AUTOMATED", "skills": ["etl"], "criteria": ["c1"] }),
    )
    .await);
    activate(&app, &ada, &c).await;
    let done = submit(&app, &t, json!({ "text": "loaded" }), &token).await;
    assert_eq!(done["data"]["submitTask"]["status"], "SUBMITTED", "{done}");
    assert_eq!(act(&app, "acceptTask", &t, &ada.access_token).await["data"]["acceptTask"]["status"], "ACCEPTED");
    reject(&app, &ada, &o).await;

    let before = books(&app).await;
    let by_agent = app
        .gql(OPEN_DISPUTE, json!({ "i": { "outcomeId": o, "reason": "Late", "idempotencyKey": "x" } }), Some(&token))
        .await;
    assert_eq!(error_code(&by_agent), "FORBIDDEN", "the agent itself does not: {by_agent}");
    assert_eq!(books(&app).await, before);
    let opened = open_dispute(&app, &oper, &o, "d-1").await;
    assert_eq!(opened["data"]["openDispute"]["status"], "OPEN", "{opened}");
    let dispute = opened["data"]["openDispute"]["id"].as_str().unwrap().to_owned();
    // And concedes for it: the whole hold goes back to the client.
    let conceded = resolve(&app, &oper, &dispute, "REFUND", "o-1").await;
    assert_eq!(conceded["data"]["resolveDispute"]["refunded"]["amountCents"], 10_000, "{conceded}");
    app.assert_ledger_sound().await;
}

/// Starts a withdrawal that the provider makes (or refuses) but never answers, and drops it
/// once its first transaction committed: the process dying between the two steps.
async fn crashed_withdrawal(app: &TestApp, who: &TestUser, cents: i64, key: &str) {
    let state = app.state.clone();
    let viewer = semasocial::auth::authenticate(&app.state, Some(&who.access_token)).await.unwrap();
    let input = semasocial::domain::ledger::payout::PayoutInput {
        amount_cents: cents,
        currency: "EUR".into(),
        idempotency_key: key.into(),
    };
    let request =
        tokio::spawn(async move { semasocial::domain::ledger::payout::request(&state, &viewer, input).await });
    while app.count("payouts WHERE status = 'PROCESSING'").await == 0 {
        assert!(!request.is_finished(), "the withdrawal ended: {:?}", request.await);
        tokio::task::yield_now().await;
    }
    request.abort();
    assert!(request.await.is_err(), "the request died mid-way");
}

#[tokio::test]
async fn a_withdrawal_caught_between_its_steps_is_finished_by_the_sweep() {
    let app = spawn_app_with(|c| {
        c.payments.payout_hold = std::time::Duration::ZERO;
        c.payments.simulated.hang_payouts_from_cents = Some(100);
        c.payments.simulated.fail_payouts_from_cents = Some(3_000);
    })
    .await;
    let ada = app.register("ada").await;
    let d = delivered(&app, &ada, None, 10_000, 10_000, &[1]).await;
    let w = &d.workers[0];
    app.gql(ACCEPT_OUTCOME, json!({ "i": { "outcomeId": d.outcome, "idempotencyKey": "a" } }), Some(&ada.access_token))
        .await;
    app.sweep().await;
    let balance = |w: &TestUser| {
        let token = w.access_token.clone();
        let app = &app;
        async move { app.gql(BALANCE, json!({}), Some(&token)).await["data"]["me"]["balance"][0].clone() }
    };
    assert_eq!(balance(w).await["available"], 9_750);

    // Paid by the provider, but the answer was lost with the process.
    crashed_withdrawal(&app, w, 1_000, "w-1").await;
    let retry = json!({ "i": { "amountCents": 1_000, "currency": "EUR", "idempotencyKey": "w-1" } });
    let early = app.gql(PAYOUT, retry.clone(), Some(&w.access_token)).await;
    assert_eq!(
        early["data"]["requestPayout"]["status"], "PROCESSING",
        "within the bound it may still be answered: {early}"
    );
    app.clock.advance(chrono::Duration::minutes(16));
    let report = app.sweep().await;
    assert_eq!(report.payouts_finished, 1);
    let w = &app.login(w).await;
    let late = app.gql(PAYOUT, retry, Some(&w.access_token)).await;
    assert_eq!(late["data"]["requestPayout"]["status"], "PAID", "{late}");
    // Refused by the provider: the money is available again.
    crashed_withdrawal(&app, w, 4_000, "w-2").await;
    app.clock.advance(chrono::Duration::minutes(16));
    let w = &app.login(w).await;
    let retried = app
        .gql(
            PAYOUT,
            json!({ "i": { "amountCents": 4_000, "currency": "EUR", "idempotencyKey": "w-2" } }),
            Some(&w.access_token),
        )
        .await;
    assert_eq!(retried["data"]["requestPayout"]["status"], "FAILED", "the retry finishes it past the bound: {retried}");
    assert_eq!(app.sweep().await.payouts_finished, 0, "finished once");
    assert_eq!(
        balance(w).await,
        json!({ "currency": "EUR", "pending": 0, "available": 8_750, "inFlight": 0, "paidOut": 1_000 })
    );
    let inbox = app.inbox(w).await;
    assert!(inbox.iter().any(|a| a == "payout.paid") && inbox.iter().any(|a| a == "payout.failed"), "{inbox:?}");
    app.assert_ledger_sound().await;
}

#[tokio::test]
async fn every_amount_passes_one_bound() {
    let app = spawn_app().await;
    let ada = app.register("ada").await;
    let too_much = i64::MAX;
    let body = app
        .gql(
            "mutation($i: CreateContractInput!) { createContract(input: $i) { id } }",
            json!({ "i": { "title": "Moon", "currency": "EUR", "budgetCents": too_much } }),
            Some(&ada.access_token),
        )
        .await;
    assert_eq!((error_code(&body), error_field(&body)), ("BAD_USER_INPUT", "budgetCents"), "{body}");
    let body = app
        .gql(
            "mutation($i: CreateGigInput!) { createGig(input: $i) { id } }",
            json!({ "i": { "title": "Moon", "description": "Go", "budget": { "amountCents": 1_000_000_000_001i64, "currency": "EUR" } } }),
            Some(&ada.access_token),
        )
        .await;
    assert_eq!((error_code(&body), error_field(&body)), ("BAD_USER_INPUT", "budget.amountCents"), "{body}");
    let body = app
        .gql(
            "mutation($i: UpdateProfileInput!) { updateMyProfile(input: $i) { rate { amountCents } } }",
            json!({ "i": { "rate": { "amountCents": too_much, "currency": "EUR" } } }),
            Some(&ada.access_token),
        )
        .await;
    assert_eq!((error_code(&body), error_field(&body)), ("BAD_USER_INPUT", "rate.amountCents"), "{body}");
    assert_eq!((app.count("contracts").await, app.count("gigs").await), (0, 0));
    assert_eq!(app.count("profiles WHERE rate_cents IS NOT NULL").await, 0);
    // The bound itself is accepted.
    let c = contract(&app, &ada, None, 1_000_000_000_000).await;
    assert!(!c.is_empty());
}

#[tokio::test]
async fn nested_fragments_buy_no_extra_mutations_or_logins() {
    let app = spawn_app_with(|c| c.limits.mutations_per_minute = 120).await;
    let ada = app.register("ada").await;
    let c = contract(&app, &ada, None, 1_000_000).await;
    // A cycle of fragments is counted without looping, and refused by validation (before the
    // allowance is spent below).
    let body = app
        .gql(
            "mutation { ...A } fragment A on Mutation { ...B } fragment B on Mutation { ...A }",
            json!({}),
            Some(&ada.access_token),
        )
        .await;
    assert!(body["data"].is_null() && body["errors"][0]["message"].is_string(), "{body}");
    let wrap = |inner: String| (0..9).fold(inner, |body, _| format!("... on Mutation {{ {body} }}"));
    let funds: String = (0..200)
        .map(|n| format!("f{n}: fundContract(input: {{ contractId: \"{c}\", amountCents: 1, idempotencyKey: \"k{n}\" }}) {{ replayed }} "))
        .collect();
    let (status, body) =
        app.gql_status(&format!("mutation {{ {} }}", wrap(funds)), json!({}), Some(&ada.access_token)).await;
    assert_eq!((status.as_u16(), error_code(&body)), (429, "RATE_LIMITED"), "{body}");
    assert_eq!(app.count("ledger_transactions").await, 0, "none of the 200 ran");

    let users = app.count("users").await;
    let sessions = app.count("refresh_tokens").await;
    let registers: String = (0..2)
        .map(|n| format!("r{n}: register(input: {{ email: \"p{n}@example.com\", password: \"correct horse battery\", handle: \"p{n}\", displayName: \"p\" }}) {{ accessToken }} "))
        .collect();
    let logins: String = (0..120)
        .map(|n| {
            format!("l{n}: login(input: {{ email: \"{}\", password: \"guess{n}\" }}) {{ accessToken }} ", ada.email)
        })
        .collect();
    let (status, body) =
        app.gql_status(&format!("mutation {{ {} }}", wrap(format!("{registers}{logins}"))), json!({}), None).await;
    assert!(matches!(status.as_u16(), 400 | 429), "refused whole: {body}");
    assert!(body["data"].is_null(), "{body}");
    assert_eq!(
        (app.count("users").await, app.count("refresh_tokens").await),
        (users, sessions),
        "nobody registered or signed in"
    );
}

/// POSTs an operation to the server instance on `port`.
async fn gql_at(app: &TestApp, port: u16, query: &str, variables: Value, token: &str) -> Value {
    let response = app
        .client
        .post(format!("http://127.0.0.1:{port}/graphql"))
        .bearer_auth(token)
        .json(&json!({ "query": query, "variables": variables }))
        .send()
        .await
        .unwrap();
    response.json().await.unwrap()
}

#[tokio::test]
#[ignore = "needs PostgreSQL: two admins sending one key at once through two instances"]
async fn two_admins_sending_one_key_at_once_through_two_instances_charge_once() {
    let app = spawn_app().await;
    let (_, other) = app.serve_another_instance().await;
    let ada = app.register("ada").await;
    let bob = app.register("bob").await;
    let org = create_org(&app, &ada, "acme").await;
    add(&app, &ada, &org, "bob", "ADMIN").await;
    let c = contract(&app, &ada, Some(&org), 50_000).await;
    let input = json!({ "i": { "contractId": c, "amountCents": 10_000, "idempotencyKey": "invoice-9" } });
    let attempts = (0..8).map(|n| {
        let (port, who) = if n % 2 == 0 { (app.port, &ada) } else { (other, &bob) };
        gql_at(&app, port, FUND, input.clone(), &who.access_token)
    });
    let results = futures_util::future::join_all(attempts).await;
    let ids: std::collections::BTreeSet<&str> =
        results.iter().filter_map(|r| r["data"]["fundContract"]["transactionId"].as_str()).collect();
    assert_eq!(ids.len(), 1, "one transaction, whoever answered: {results:?}");
    assert!(
        results.iter().all(|r| r["data"]["fundContract"].is_object() || error_code(r) == "CONFLICT"),
        "{results:?}"
    );
    assert_eq!(app.count("ledger_transactions WHERE kind = 'FUNDING'").await, 1, "charged once");
    assert_eq!(escrow(&app, &ada, &c).await["funded"], 10_000);
    app.assert_ledger_sound().await;
}

#[tokio::test]
#[ignore = "needs PostgreSQL: a cancellation racing an arbiter's decision"]
async fn a_cancellation_racing_an_arbiters_release_never_takes_the_held_money() {
    let app = spawn_app().await;
    let (_, other) = app.serve_another_instance().await;
    let ada = app.register("ada").await;
    let judge = app.register("judge").await;
    app.grant_arbiter("judge").await;
    for round in 0..4 {
        let d = delivered(&app, &ada, None, 10_000, 10_000, &[1]).await;
        reject(&app, &ada, &d.outcome).await;
        let opened = open_dispute(&app, &d.workers[0], &d.outcome, &format!("d-{round}")).await;
        let dispute = opened["data"]["openDispute"]["id"].as_str().unwrap_or_else(|| panic!("{opened}")).to_owned();
        let cancel = gql_at(
            &app,
            app.port,
            CHANGE_STATUS,
            json!({ "i": { "contractId": d.contract, "action": "CANCEL", "idempotencyKey": format!("c-{round}") } }),
            &ada.access_token,
        );
        let release = gql_at(
            &app,
            other,
            RESOLVE,
            json!({ "i": { "disputeId": dispute, "resolution": "RELEASE", "idempotencyKey": format!("j-{round}") } }),
            &judge.access_token,
        );
        let (cancelled, released) = futures_util::join!(cancel, release);
        assert_eq!(released["data"]["resolveDispute"]["released"]["amountCents"], 10_000, "{released}");
        let status = escrow(&app, &ada, &d.contract).await;
        match cancelled["data"]["changeContractStatus"]["status"].as_str() {
            Some("CANCELLED") => assert_eq!(status["status"], "CANCELLED"),
            _ => assert_eq!(
                (error_code(&cancelled), status["status"].as_str()),
                ("CONFLICT", Some("ACTIVE")),
                "{cancelled}"
            ),
        }
        assert_eq!(
            (status["released"].clone(), status["refunded"].clone(), status["held"].clone()),
            (json!(10_000), json!(0), json!(0))
        );
    }
    app.assert_ledger_sound().await;
}

#[tokio::test]
#[ignore = "needs PostgreSQL: an acceptance racing the acceptor's demotion"]
async fn an_acceptance_racing_the_acceptors_demotion_pays_before_it_or_not_at_all() {
    let app = spawn_app().await;
    let (_, other) = app.serve_another_instance().await;
    let ada = app.register("ada").await;
    let bob = app.register("bob").await;
    let org = create_org(&app, &ada, "acme").await;
    let change = "mutation($i: ChangeMemberRoleInput!) { changeMemberRole(input: $i) { role } }";

    for round in 0..4 {
        add(&app, &ada, &org, "bob", "ADMIN").await;
        let body = app
            .gql(
                change,
                json!({ "i": { "organizationId": org, "profileId": bob.profile_id, "role": "ADMIN" } }),
                Some(&ada.access_token),
            )
            .await;
        assert!(body["data"].is_object() || error_code(&body) != "INTERNAL", "{body}");
        let d = delivered(&app, &bob, Some(&org), 10_000, 10_000, &[1]).await;
        let releases = app.count("ledger_transactions WHERE kind = 'RELEASE'").await;
        let accept = gql_at(
            &app,
            other,
            ACCEPT_OUTCOME,
            json!({ "i": { "outcomeId": d.outcome, "idempotencyKey": format!("a-{round}") } }),
            &bob.access_token,
        );
        let demote = gql_at(
            &app,
            app.port,
            change,
            json!({ "i": { "organizationId": org, "profileId": bob.profile_id, "role": "MEMBER" } }),
            &ada.access_token,
        );
        let (accepted, demoted) = futures_util::join!(accept, demote);
        assert_eq!(demoted["data"]["changeMemberRole"]["role"], "MEMBER", "{demoted}");
        let after = app.count("ledger_transactions WHERE kind = 'RELEASE'").await;
        if accepted["data"]["acceptOutcome"]["status"] == "ACCEPTED" {
            assert_eq!(after, releases + 1, "{accepted}");
        } else {
            assert_eq!((error_code(&accepted), after), ("FORBIDDEN", releases), "{accepted}");
        }
        // Once the demotion has returned, bob moves nothing.
        let again = gql_at(
            &app,
            other,
            FUND,
            json!({ "i": { "contractId": d.contract, "amountCents": 1, "idempotencyKey": format!("f-{round}") } }),
            &bob.access_token,
        )
        .await;
        assert_eq!(error_code(&again), "FORBIDDEN", "{again}");
    }
    app.assert_ledger_sound().await;
}
