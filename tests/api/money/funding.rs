//! Funding and escrow: the client side funds within the budget, replays, refunds on cancel, a page's cost.
use serde_json::{Value, json};

use super::{ESCROW, REJECT_OUTCOME, accept_outcome, escrow, pending_of, submitted};
use crate::{
    helpers::{error_code, error_field, spawn_app, spawn_app_with},
    work::fund,
};

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
