//! Money races on PostgreSQL, fired at once through two server instances: two admins with one
//! key, a cancellation against an arbiter's decision, an acceptance against a demotion.
use entity::organization_member::OrgRole;
use serde_json::{Value, json};

use super::*;
use crate::helpers::{TestApp, spawn_app};

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
    app.a_member(&org, &bob, OrgRole::Admin).await;
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
        crate::organizations::add(&app, &ada, &org, "bob", "ADMIN").await;
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
