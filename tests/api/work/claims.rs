//! Claims and routing: who may claim which task, when routing happens, and whom it never picks.
use serde_json::json;

use super::{act, activate, agent, contract, end, history, id, outcome, submit, task, view, worker};
use crate::{
    helpers::{error_code, spawn_app},
    organizations::create_org,
};

#[tokio::test]
async fn agents_and_people_claim_only_tasks_they_qualify_for() {
    let app = spawn_app().await;
    let ada = app.register("ada").await;
    let op = app.register("oper").await;
    let c = contract(&app, &ada, None, 10_000).await;
    let o = outcome(&app, &ada, &c, "Pipeline", 10_000, json!([{ "description": "Runs" }])).await;
    let any = id(&task(&app, &ada, &o, json!({ "title": "ETL", "mode": "ANY", "skills": ["sql", "python"] })).await);
    let judged =
        id(&task(&app, &ada, &o, json!({ "title": "Sign-off", "mode": "JUDGMENT", "skills": ["legal"] })).await);
    // Nobody holds any required skill at activation: both tasks stay OPEN for claiming.
    activate(&app, &ada, &c).await;
    let scopes = json!(["TASKS_READ", "TASKS_WRITE"]);
    let (_, half) = agent(&app, &op, "half_bot", json!([{ "skill": "sql", "level": 5 }]), scopes.clone()).await;
    let (_, full) = agent(
        &app,
        &op,
        "full_bot",
        json!([{ "skill": "sql", "level": 3 }, { "skill": "python", "level": 3 }]),
        scopes,
    )
    .await;

    let claimable = "{ claimableTasks { edges { node { title mode } } } }";
    let list = |token: String| {
        let app = &app;
        async move { app.gql(claimable, json!({}), Some(&token)).await["data"]["claimableTasks"]["edges"].clone() }
    };
    assert_eq!(list(half.clone()).await, json!([]), "missing python");
    assert_eq!(list(full.clone()).await, json!([{ "node": { "title": "ETL", "mode": "ANY" } }]));
    assert_eq!(list(ada.access_token.clone()).await, json!([]), "the client claims nothing of its own");

    assert_eq!(error_code(&act(&app, "claimTask", &any, &half).await), "FORBIDDEN");
    assert_eq!(error_code(&act(&app, "claimTask", &judged, &full).await), "FORBIDDEN", "agents never claim JUDGMENT");
    assert_eq!(error_code(&act(&app, "claimTask", &any, &ada.access_token).await), "FORBIDDEN");
    let body = act(&app, "claimTask", &any, &full).await;
    assert_eq!(
        body["data"]["claimTask"],
        json!({ "status": "ASSIGNED", "assignee": { "handle": "full_bot" } }),
        "{body}"
    );
    let dan = worker(
        &app,
        "dan",
        json!([{ "skill": "sql", "level": 5 }, { "skill": "python", "level": 5 }, { "skill": "legal", "level": 2 }]),
    )
    .await;
    assert_eq!(error_code(&act(&app, "claimTask", &any, &dan.access_token).await), "CONFLICT", "already taken");
    assert_eq!(list(dan.access_token.clone()).await, json!([{ "node": { "title": "Sign-off", "mode": "JUDGMENT" } }]));
    let body = act(&app, "claimTask", &judged, &dan.access_token).await;
    assert_eq!(body["data"]["claimTask"]["status"], "ASSIGNED", "{body}");
    let v = view(&app, &any, &ada.access_token).await;
    assert_eq!(v["history"][0]["reason"], "claimed");
    let outcome_status = app
        .gql(
            "query($id: ID!) { contract(id: $id) { outcomes { status } } }",
            json!({ "id": c }),
            Some(&ada.access_token),
        )
        .await;
    assert_eq!(outcome_status["data"]["contract"]["outcomes"][0]["status"], "IN_PROGRESS");
}

#[tokio::test]
async fn routing_waits_for_an_active_contract_and_only_managers_route() {
    let app = spawn_app().await;
    let ada = app.register("ada").await;
    let bob = worker(&app, "bob", json!([{ "skill": "design", "level": 5 }])).await;
    let c = contract(&app, &ada, None, 10_000).await;
    let o = outcome(&app, &ada, &c, "Brand", 10_000, json!([{ "description": "Approved" }])).await;
    let t = id(&task(&app, &ada, &o, json!({ "title": "Logo", "mode": "JUDGMENT", "skills": ["design"] })).await);
    let body = act(&app, "routeTask", &t, &ada.access_token).await;
    assert_eq!(error_code(&body), "CONFLICT", "a DRAFT contract routes nothing: {body}");
    assert_eq!(app.count("task_assignments").await, 0);
    activate(&app, &ada, &c).await;
    assert_eq!(error_code(&act(&app, "routeTask", &t, &bob.access_token).await), "FORBIDDEN");
    assert_eq!(error_code(&act(&app, "routeTask", &t, &ada.access_token).await), "CONFLICT", "already OFFERED");
    let body = submit(&app, &t, json!({ "text": "early" }), &bob.access_token).await;
    assert_eq!(error_code(&body), "FORBIDDEN", "an offer must be accepted before work is submitted");
    let body = submit(&app, &t, json!({ "url": "ftp://x" }), &bob.access_token).await;
    assert_eq!(body["errors"][0]["extensions"]["field"], "deliverable.url");

    // Cancelling the contract cancels unfinished work and ends the offer.
    let body = app
        .gql(
            "mutation($i: ChangeContractStatusInput!) { changeContractStatus(input: $i) { status } }",
            json!({ "i": { "contractId": c, "action": "CANCEL", "idempotencyKey": "cancel-1" } }),
            Some(&ada.access_token),
        )
        .await;
    assert_eq!(body["data"]["changeContractStatus"]["status"], "CANCELLED", "{body}");
    let v = view(&app, &t, &ada.access_token).await;
    assert_eq!(v["status"], "CANCELLED");
    assert_eq!(history(&v), [end("bob", Some("cancelled"))]);
}

#[tokio::test]
#[ignore = "needs PostgreSQL: concurrent claims on one row"]
async fn concurrent_claims_give_a_task_to_exactly_one_agent() {
    let app = spawn_app().await;
    let ada = app.register("ada").await;
    let oper = app.register("oper").await;
    let c = contract(&app, &ada, None, 10_000).await;
    let o = outcome(&app, &ada, &c, "Race", 10_000, json!([{ "description": "Done" }])).await;
    let t = id(&task(&app, &ada, &o, json!({ "title": "Crawl", "mode": "AUTOMATED", "skills": ["crawl"] })).await);
    activate(&app, &ada, &c).await;
    let mut tokens = Vec::new();
    for n in 0..8 {
        let skills = json!([{ "skill": "crawl", "level": 3 }]);
        tokens.push(agent(&app, &oper, &format!("crawler_{n}"), skills, json!(["TASKS_READ", "TASKS_WRITE"])).await.1);
    }
    let claims = tokens.iter().map(|token| act(&app, "claimTask", &t, token));
    let results = futures_util::future::join_all(claims).await;
    let won = results.iter().filter(|r| r["data"]["claimTask"]["status"] == "ASSIGNED").count();
    let conflicts = results.iter().filter(|r| error_code(r) == "CONFLICT").count();
    assert_eq!((won, conflicts), (1, 7), "{results:?}");
    assert_eq!(app.count("task_assignments").await, 1);
}

#[tokio::test]
async fn routing_never_offers_an_organizations_work_to_its_own_members() {
    let app = spawn_app().await;
    let ada = app.register("ada").await;
    let mia = worker(&app, "mia", json!([{ "skill": "design", "level": 5 }])).await;
    worker(&app, "bob", json!([{ "skill": "design", "level": 1 }])).await;
    let org = create_org(&app, &ada, "acme").await;
    crate::organizations::add(&app, &ada, &org, "mia", "MEMBER").await;
    let c = contract(&app, &ada, Some(&org), 10_000).await;
    let o = outcome(&app, &ada, &c, "Brand", 10_000, json!([{ "description": "Approved" }])).await;
    let t = id(&task(&app, &ada, &o, json!({ "title": "Logo", "mode": "JUDGMENT", "skills": ["design"] })).await);
    activate(&app, &ada, &c).await;
    assert_eq!(view(&app, &t, &ada.access_token).await["assignee"]["handle"], "bob", "mia is on the client side");
    let listed = app.gql("{ claimableTasks { edges { node { id } } } }", json!({}), Some(&mia.access_token)).await;
    assert_eq!(listed["data"]["claimableTasks"]["edges"], json!([]));
}
