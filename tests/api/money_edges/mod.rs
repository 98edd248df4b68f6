//! Money at its edges: what completion does with leftover escrow, whose idempotency keys are
//! whose, who still moves an organization's money after a role change, the dispute rules, a
//! crash between a withdrawal's steps, the amount range, and limits under nested fragments.
//! Every refusal asserts that nothing changed.
use entity::organization_member::OrgRole;
use serde_json::{Value, json};

use crate::{
    helpers::{TestApp, TestUser, error_code, error_field, spawn_app, spawn_app_with},
    organizations::create_org,
    work::{act, activate, contract, id, outcome, submit, task, worker},
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
pub(super) async fn books(app: &TestApp) -> Value {
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

use sea_orm::{ColumnTrait, EntityTrait, QueryFilter};

mod disputes;
mod races;

pub(super) async fn escrow(app: &TestApp, who: &TestUser, contract: &str) -> Value {
    let body = app.gql(ESCROW, json!({ "id": contract }), Some(&who.access_token)).await;
    let c = &body["data"]["contract"];
    assert!(c["escrow"].is_object(), "{body}");
    let cents = |k: &str| c["escrow"][k]["amountCents"].clone();
    json!({ "status": c["status"], "funded": cents("funded"), "released": cents("released"),
            "refunded": cents("refunded"), "held": cents("held"), "remaining": cents("remaining") })
}

/// An active contract of `budget` with one outcome of `amount` split into tasks of `weights`,
/// each delivered by its own worker and accepted: the outcome awaits the client's verdict.
pub(super) struct Delivered {
    pub contract: String,
    pub outcome: String,
    pub tasks: Vec<String>,
    pub workers: Vec<TestUser>,
}

pub(super) async fn delivered(
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

pub(super) async fn reject(app: &TestApp, client: &TestUser, outcome: &str) {
    let body = app
        .gql(
            "mutation($i: RejectOutcomeInput!) { rejectOutcome(input: $i) { status } }",
            json!({ "i": { "outcomeId": outcome, "feedback": "Not live" } }),
            Some(&client.access_token),
        )
        .await;
    assert_eq!(body["data"]["rejectOutcome"]["status"], "REJECTED", "{body}");
}

pub(super) async fn open_dispute(app: &TestApp, who: &TestUser, outcome: &str, key: &str) -> Value {
    app.gql(
        OPEN_DISPUTE,
        json!({ "i": { "outcomeId": outcome, "reason": "Late", "idempotencyKey": key } }),
        Some(&who.access_token),
    )
    .await
}

pub(super) async fn resolve(app: &TestApp, who: &TestUser, dispute: &str, how: &str, key: &str) -> Value {
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
    app.a_member(&org, &bob, OrgRole::Admin).await;
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
    app.a_member(&org, &bob, OrgRole::Admin).await;
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
async fn a_demoted_admin_no_longer_directs_the_organizations_work() {
    let app = spawn_app().await;
    let ada = app.register("ada").await;
    let bob = app.register("bob").await;
    let org = create_org(&app, &ada, "acme").await;
    app.a_member(&org, &bob, OrgRole::Admin).await;
    let c = contract(&app, &bob, Some(&org), 10_000).await;
    let o = outcome(&app, &bob, &c, "Shipped", 10_000, json!([{ "description": "Live" }])).await;
    let w = worker(&app, "wes", json!([{ "skill": "ops", "level": 4 }])).await;
    let fields = json!({ "title": "ship", "mode": "JUDGMENT", "skills": ["ops"], "criteria": ["c1"] });
    let submitted = id(&task(&app, &bob, &o, fields).await);
    let later = json!({ "title": "later", "mode": "JUDGMENT", "skills": ["nobody-has-it"], "criteria": ["c1"] });
    let open = id(&task(&app, &bob, &o, later).await);
    activate(&app, &bob, &c).await;
    let taken = act(&app, "acceptTaskOffer", &submitted, &w.access_token).await;
    assert_eq!(taken["data"]["acceptTaskOffer"]["status"], "ASSIGNED", "{taken}");
    let done = submit(&app, &submitted, json!({ "text": "done" }), &w.access_token).await;
    assert_eq!(done["data"]["submitTask"]["status"], "SUBMITTED", "{done}");
    let change = "mutation($i: ChangeMemberRoleInput!) { changeMemberRole(input: $i) { role } }";
    let body = app
        .gql(
            change,
            json!({ "i": { "organizationId": org, "profileId": bob.profile_id, "role": "MEMBER" } }),
            Some(&ada.access_token),
        )
        .await;
    assert_eq!(body["data"]["changeMemberRole"]["role"], "MEMBER", "{body}");

    let state = || async {
        (
            app.count("tasks WHERE title = 'ship' AND status = 'SUBMITTED'").await,
            app.count("tasks WHERE title = 'later' AND status = 'OPEN'").await,
            app.count("task_assignments").await,
            books(&app).await,
        )
    };
    let before = state().await;
    for (op, task) in [("acceptTask", &submitted), ("routeTask", &open)] {
        let body = act(&app, op, task, &bob.access_token).await;
        assert_eq!(error_code(&body), "FORBIDDEN", "{op}: {body}");
    }
    let rejected = app
        .gql(
            "mutation($i: RejectTaskInput!) { rejectTask(input: $i) { status } }",
            json!({ "i": { "taskId": submitted, "feedback": "again" } }),
            Some(&bob.access_token),
        )
        .await;
    assert_eq!(error_code(&rejected), "FORBIDDEN", "{rejected}");
    let reassigned = app
        .gql(
            "mutation($i: ReassignTaskInput!) { reassignTask(input: $i) { status } }",
            json!({ "i": { "taskId": submitted } }),
            Some(&bob.access_token),
        )
        .await;
    assert_eq!(error_code(&reassigned), "FORBIDDEN", "{reassigned}");
    assert_eq!(state().await, before, "nothing moved");
    assert_eq!(before.0 + before.1, 2);
    // The owner still directs the work.
    let accepted = act(&app, "acceptTask", &submitted, &ada.access_token).await;
    assert_eq!(accepted["data"]["acceptTask"]["status"], "ACCEPTED", "{accepted}");
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
    // Dies once the provider has the withdrawal (its key is the payout's id), not before.
    loop {
        assert!(!request.is_finished(), "the withdrawal ended: {:?}", request.await);
        let processing = entity::payout::Entity::find()
            .filter(entity::payout::Column::Status.eq(entity::payout::PayoutStatus::Processing))
            .one(&app.state.db)
            .await
            .unwrap();
        if let Some(p) = processing
            && app
                .state
                .provider
                .find_payout(semasocial::domain::ledger::provider::PayoutRequest {
                    key: p.id.to_string(),
                    payee: p.profile_id,
                    destination: None,
                    cents: p.amount_cents,
                    currency: p.currency.clone(),
                    source_payment: None,
                })
                .await
                .is_some()
        {
            break;
        }
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
