//! The dispute rules: money under dispute is untouchable by cancel, a party concedes only its
//! own share (fixed when the dispute opens), an arbiter is never involved in what it decides,
//! arbiters are existing accounts, and an agent's operator disputes for it.
use entity::organization_member::OrgRole;
use serde_json::{Value, json};

use super::*;
use crate::{
    helpers::{TestUser, error_code, spawn_app},
    organizations::create_org,
    work::{act, activate, agent, contract, id, outcome, submit, task, worker},
};

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

#[tokio::test]
async fn a_disputes_shares_are_fixed_when_it_opens() {
    let app = spawn_app().await;
    let ada = app.register("ada").await;
    let judge = app.register("judge").await;
    app.grant_arbiter("judge").await;
    let d = delivered(&app, &ada, None, 20_000, 10_000, &[1, 9]).await;
    let (w1, w9) = (&d.workers[0], &d.workers[1]);
    reject(&app, &ada, &d.outcome).await;
    let opened = open_dispute(&app, w9, &d.outcome, "d-9").await;
    let dispute = opened["data"]["openDispute"]["id"].as_str().unwrap_or_else(|| panic!("{opened}")).to_owned();
    assert_eq!(app.count("dispute_shares").await, 2);

    // The client adds a heavy task to the disputed outcome and a friend takes it: the friend
    // gets no say in the dispute and no part of the money held.
    let crony = worker(&app, "crony", json!([{ "skill": "fixing", "level": 5 }])).await;
    let fields = json!({ "title": "redo", "mode": "JUDGMENT", "skills": ["fixing"], "weight": 10, "criteria": ["c1"] });
    let added = task(&app, &ada, &d.outcome, fields).await;
    assert_eq!(added["status"], "OFFERED", "routed at once on an active contract: {added}");
    let t = id(&added);
    let taken = act(&app, "acceptTaskOffer", &t, &crony.access_token).await;
    assert_eq!(taken["data"]["acceptTaskOffer"]["status"], "ASSIGNED", "{taken}");
    let before = books(&app).await;
    assert_eq!(error_code(&resolve(&app, &crony, &dispute, "REFUND", "c-1").await), "NOT_FOUND");
    assert_eq!(books(&app).await, before);

    // W1 concedes the tenth fixed at opening, and the arbiter releases the rest to W9.
    let conceded = resolve(&app, w1, &dispute, "REFUND", "w1-1").await;
    assert_eq!(conceded["data"]["resolveDispute"]["status"], "OPEN", "{conceded}");
    assert_eq!(escrow(&app, &ada, &d.contract).await["held"], 9_000);
    let done = resolve(&app, &judge, &dispute, "RELEASE", "j-1").await;
    assert_eq!(done["data"]["resolveDispute"]["released"]["amountCents"], 9_000, "{done}");
    let pending = |who: &TestUser| {
        let token = who.access_token.clone();
        let app = &app;
        async move { app.gql(BALANCE, json!({}), Some(&token)).await["data"]["me"]["balance"][0]["pending"].clone() }
    };
    assert_eq!(
        (pending(w1).await, pending(w9).await, pending(&crony).await),
        (Value::Null, json!(8_775), Value::Null),
        "9,000 less the 2.5% fee, all to W9"
    );
    app.assert_ledger_sound().await;
}

#[tokio::test]
async fn whoever_opened_a_dispute_or_created_its_contract_never_judges_it() {
    let app = spawn_app().await;
    let ada = app.register("ada").await;
    let bob = app.register("bob").await;
    let cat = app.register("cat").await;
    let judge = app.register("judge").await;
    let org = create_org(&app, &ada, "acme").await;
    app.a_member(&org, &bob, OrgRole::Admin).await;
    app.a_member(&org, &cat, OrgRole::Admin).await;
    // Bob creates the contract; Cat disputes for the organization; then both leave it and
    // are made arbiters.
    let d = delivered(&app, &bob, Some(&org), 10_000, 10_000, &[1]).await;
    reject(&app, &bob, &d.outcome).await;
    let opened = open_dispute(&app, &cat, &d.outcome, "c-1").await;
    let dispute = opened["data"]["openDispute"]["id"].as_str().unwrap_or_else(|| panic!("{opened}")).to_owned();
    let remove = "mutation($i: RemoveMemberInput!) { removeMember(input: $i) }";
    for who in [&bob, &cat] {
        let body = app
            .gql(
                remove,
                json!({ "i": { "organizationId": org, "profileId": who.profile_id } }),
                Some(&ada.access_token),
            )
            .await;
        assert_eq!(body["data"]["removeMember"], true, "{body}");
    }
    app.grant_arbiter("bob").await;
    app.grant_arbiter("cat").await;
    app.grant_arbiter("judge").await;

    let before = books(&app).await;
    for (who, key) in [(&bob, "b-1"), (&cat, "c-2")] {
        let body = resolve(&app, who, &dispute, "REFUND", key).await;
        assert_eq!(error_code(&body), "FORBIDDEN", "{body}");
    }
    assert_eq!(books(&app).await, before);
    let done = resolve(&app, &judge, &dispute, "REFUND", "j-1").await;
    assert_eq!(done["data"]["resolveDispute"]["refunded"]["amountCents"], 10_000, "{done}");
    app.assert_ledger_sound().await;
}
