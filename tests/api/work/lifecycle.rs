//! One contract's whole story: routing, offers, submissions, review, reputation, dashboards and money.
use serde_json::json;

use super::{TASK, act, activate, agent, contract, end, history, id, outcome, reject, submit, task, view, worker};
use crate::{
    helpers::{error_code, spawn_app},
    organizations::create_org,
};

#[tokio::test]
async fn an_outcome_is_routed_worked_reviewed_and_accepted_and_the_dashboard_adds_up() {
    let app = spawn_app().await;
    let ada = app.register("ada").await;
    let op = app.register("oper").await;
    let bob = worker(&app, "bob", json!([{ "skill": "design", "level": 5 }])).await;
    let cat = worker(&app, "cat", json!([{ "skill": "design", "level": 3 }])).await;
    let eve = app.register("eve").await;
    let (_, bot) =
        agent(&app, &op, "sql_bot", json!([{ "skill": "sql", "level": 4 }]), json!(["TASKS_READ", "TASKS_WRITE"]))
            .await;

    // The organization posts a contract with two outcomes and mixed tasks.
    let org = create_org(&app, &ada, "acme").await;
    let c = contract(&app, &ada, Some(&org), 100_000).await;
    let due = (app.clock_now() + chrono::Duration::days(10)).to_rfc3339();
    let dashboard_outcome = outcome(
        &app,
        &ada,
        &c,
        "Dashboard live",
        60_000,
        json!([
            { "description": "Loads fast", "metric": "p95_seconds", "comparator": "<=", "target": 2.0 },
            { "description": "Finance signs off" }
        ]),
    )
    .await;
    let docs = outcome(&app, &ada, &c, "Docs", 30_000, json!([{ "description": "Written" }])).await;
    let extract = id(&task(
        &app,
        &ada,
        &dashboard_outcome,
        json!({ "title": "Extract data", "mode": "AUTOMATED", "skills": ["sql"], "dueAt": due, "criteria": ["c1"] }),
    )
    .await);
    let review = id(&task(
        &app,
        &ada,
        &dashboard_outcome,
        json!({ "title": "Design review", "mode": "JUDGMENT", "skills": ["design"], "dueAt": due, "criteria": ["c2"] }),
    )
    .await);
    let write =
        id(&task(&app, &ada, &docs, json!({ "title": "Write docs", "mode": "JUDGMENT", "skills": ["writing"] })).await);

    // Activation routes: the AUTOMATED task lands on the agent, the JUDGMENT task is offered
    // to the best person, the task nobody qualifies for stays OPEN.
    activate(&app, &ada, &c).await;
    let t = view(&app, &extract, &ada.access_token).await;
    assert_eq!((t["status"].as_str(), t["assignee"]["handle"].as_str()), (Some("ASSIGNED"), Some("sql_bot")), "{t}");
    let t = view(&app, &review, &ada.access_token).await;
    assert_eq!((t["status"].as_str(), t["assignee"]["handle"].as_str()), (Some("OFFERED"), Some("bob")), "{t}");
    let expires = chrono::DateTime::parse_from_rfc3339(t["offerExpiresAt"].as_str().unwrap()).unwrap();
    assert_eq!((expires.with_timezone(&chrono::Utc) - app.clock_now()).num_hours(), 23, "a 24 h offer");
    assert_eq!(view(&app, &write, &ada.access_token).await["status"], "OPEN");

    // The agent finds its work with its token.
    let mine = app.gql("{ myTasks { edges { node { title status } } } }", json!({}), Some(&bot)).await;
    assert_eq!(
        mine["data"]["myTasks"]["edges"],
        json!([{ "node": { "title": "Extract data", "status": "ASSIGNED" } }])
    );
    // It sees what the work is worth and which metrics the outcome checks.
    let worth =
        "{ myTasks { edges { node { share { amountCents currency } outcome { title criteria { metric } } } } } }";
    let body = app.gql(worth, json!({}), Some(&bot)).await;
    assert_eq!(
        body["data"]["myTasks"]["edges"][0]["node"],
        json!({ "share": { "amountCents": 30_000, "currency": "EUR" }, "outcome": { "title": "Dashboard live", "criteria": [{ "metric": "p95_seconds" }, { "metric": null }] } }),
        "{body}"
    );
    let offers = app.gql("{ me { workDashboard { offers { title } } } }", json!({}), Some(&bob.access_token)).await;
    assert_eq!(offers["data"]["me"]["workDashboard"]["offers"], json!([{ "title": "Design review" }]));

    // Only the offered person answers an offer; an agent never claims JUDGMENT work.
    assert_eq!(error_code(&act(&app, "acceptTaskOffer", &review, &ada.access_token).await), "FORBIDDEN");
    assert_eq!(error_code(&act(&app, "acceptTaskOffer", &review, &cat.access_token).await), "NOT_FOUND");
    assert_eq!(error_code(&act(&app, "claimTask", &write, &bot).await), "FORBIDDEN");

    // Bob declines; Cat is next and accepts.
    let body = act(&app, "declineTaskOffer", &review, &bob.access_token).await;
    assert_eq!(
        body["data"]["declineTaskOffer"],
        json!({ "status": "OFFERED", "assignee": { "handle": "cat" } }),
        "{body}"
    );
    assert_eq!(error_code(&act(&app, "acceptTaskOffer", &review, &bob.access_token).await), "NOT_FOUND");
    let body = act(&app, "acceptTaskOffer", &review, &cat.access_token).await;
    assert_eq!(body["data"]["acceptTaskOffer"]["status"], "ASSIGNED", "{body}");

    // Submissions: metrics are checked against the outcome's criteria.
    let body = submit(
        &app,
        &extract,
        json!({ "text": "rows loaded", "metrics": [{ "name": "p95_seconds", "value": 1.5 }] }),
        &bot,
    )
    .await;
    assert_eq!(
        body["data"]["submitTask"]["submission"],
        json!({ "checksPassed": true, "checks": [{ "metric": "p95_seconds", "value": 1.5, "passed": true }] }),
        "{body}"
    );
    assert_eq!(error_code(&submit(&app, &review, json!({ "text": "mine" }), &bob.access_token).await), "NOT_FOUND");
    let body = submit(&app, &review, json!({ "url": "https://figma.example/1" }), &cat.access_token).await;
    assert_eq!(
        body["data"]["submitTask"]["submission"],
        json!({ "checksPassed": null, "checks": [] }),
        "the design review carries only the sign-off criterion, not the extract's metric: {body}"
    );

    // One rejection and rework; the worker cannot review its own work.
    assert_eq!(error_code(&act(&app, "acceptTask", &review, &cat.access_token).await), "FORBIDDEN");
    let body = reject(&app, &review, "Add the mobile layout", &ada.access_token).await;
    assert_eq!(
        body["data"]["rejectTask"],
        json!({ "status": "REJECTED", "rejectionCount": 1, "assignee": { "handle": "cat" } })
    );
    let t = view(&app, &review, &cat.access_token).await;
    assert_eq!(t["submission"]["feedback"], "Add the mobile layout", "{t}");
    let body = submit(
        &app,
        &review,
        json!({ "url": "https://figma.example/2", "metrics": [{ "name": "p95_seconds", "value": 1.9 }] }),
        &cat.access_token,
    )
    .await;
    assert_eq!(body["data"]["submitTask"]["status"], "SUBMITTED", "{body}");

    // Acceptance of both tasks puts the outcome before the client.
    for t in [&extract, &review] {
        assert_eq!(act(&app, "acceptTask", t, &ada.access_token).await["data"]["acceptTask"]["status"], "ACCEPTED");
    }
    let outcome_status = "query($id: ID!) { contract(id: $id) { outcomes { title status } } }";
    let body = app.gql(outcome_status, json!({ "id": c }), Some(&ada.access_token)).await;
    assert_eq!(body["data"]["contract"]["outcomes"][0], json!({ "title": "Dashboard live", "status": "SUBMITTED" }));
    let accept_outcome = "mutation($i: OutcomeIdInput!) { acceptOutcome(input: $i) { status acceptedAt } }";
    let body = app
        .gql(accept_outcome, json!({ "i": { "outcomeId": docs, "idempotencyKey": "docs" } }), Some(&ada.access_token))
        .await;
    assert_eq!(error_code(&body), "CONFLICT", "an outcome without accepted work cannot be accepted");
    let message = body["errors"][0]["message"].as_str().unwrap();
    assert!(message.contains("PENDING") && message.contains("ACCEPTED"), "{message}");
    let body = app
        .gql(
            accept_outcome,
            json!({ "i": { "outcomeId": dashboard_outcome, "idempotencyKey": "dashboard" } }),
            Some(&cat.access_token),
        )
        .await;
    assert_eq!(error_code(&body), "FORBIDDEN", "a worker does not accept the outcome");
    let body = app
        .gql(
            accept_outcome,
            json!({ "i": { "outcomeId": dashboard_outcome, "idempotencyKey": "dashboard" } }),
            Some(&ada.access_token),
        )
        .await;
    assert_eq!(body["data"]["acceptOutcome"]["status"], "ACCEPTED", "{body}");
    // Its workers are told (in the inbox, and by mail: IMMEDIATE by default).
    let inbox = app.inbox(&cat).await;
    assert!(inbox.iter().any(|a| a == "outcome.accepted"), "{inbox:?}");
    let mails = app.mails_to(&cat.email).await;
    assert!(mails.iter().any(|m| m.contains("An outcome you worked on was accepted")), "{mails:?}");

    // The contract completes only once every outcome is accepted.
    let complete = "mutation($i: ChangeContractStatusInput!) { changeContractStatus(input: $i) { status } }";
    let body = app
        .gql(
            complete,
            json!({ "i": { "contractId": c, "action": "COMPLETE", "idempotencyKey": "complete-1" } }),
            Some(&ada.access_token),
        )
        .await;
    assert_eq!(error_code(&body), "CONFLICT", "the docs outcome is still open: {body}");

    // Reviews feed reputation, once per task.
    let review_q =
        "mutation($i: ReviewTaskInput!) { reviewTask(input: $i) { rating subject { handle reputation { score } } } }";
    let body = app
        .gql(review_q, json!({ "i": { "taskId": review, "rating": 4, "text": "Good eye" } }), Some(&ada.access_token))
        .await;
    // Reputation from outcomes, each part with its prior: one accepted on-time task, one
    // rejected submission, one 4-star review: 5 × (0.4 × 1.75/3 + 0.3 × 2/4 + 0.3 × 2/3).
    assert_eq!(
        body["data"]["reviewTask"]["subject"],
        json!({ "handle": "cat", "reputation": { "score": 2.92 } }),
        "{body}"
    );
    let again = app.gql(review_q, json!({ "i": { "taskId": review, "rating": 5 } }), Some(&ada.access_token)).await;
    assert_eq!(error_code(&again), "CONFLICT");
    let bad = app.gql(review_q, json!({ "i": { "taskId": extract, "rating": 6 } }), Some(&ada.access_token)).await;
    assert_eq!(
        (error_code(&bad), bad["errors"][0]["extensions"]["field"].as_str()),
        ("BAD_USER_INPUT", Some("rating"))
    );

    // The assignment history keeps who, when and why it ended.
    let t = view(&app, &review, &ada.access_token).await;
    assert_eq!(history(&t), [end("bob", Some("declined")), end("cat", Some("completed"))]);
    assert!(t["history"][0]["acceptedAt"].is_null() && t["history"][1]["acceptedAt"].is_string(), "{t}");
    assert_eq!(
        history(&view(&app, &review, &cat.access_token).await),
        [end("cat", Some("completed"))],
        "workers see their own rows"
    );

    // Outsiders, and Bob who declined, see nothing.
    for who in [&eve, &bob] {
        let body = app
            .gql("query($id: ID!) { contract(id: $id) { title } }", json!({ "id": c }), Some(&who.access_token))
            .await;
        assert_eq!(error_code(&body), "NOT_FOUND");
        assert_eq!(error_code(&app.gql(TASK, json!({ "id": review }), Some(&who.access_token)).await), "NOT_FOUND");
    }

    // Dashboard numbers match the story.
    let dash = "query($id: ID!) { contract(id: $id) { dashboard { summary { outcomesAccepted outcomesTotal agentShare onTimeRate acceptedByAgents acceptedByPeople tasksByStatus { status count } } budget { committed { amountCents } accepted { amountCents } remaining { amountCents } } activity(first: 3) { edges { node { action } } pageInfo { hasNextPage } } } } }";
    let body = app.gql(dash, json!({ "id": c }), Some(&ada.access_token)).await;
    let d = &body["data"]["contract"]["dashboard"];
    let s = &d["summary"];
    assert_eq!((s["outcomesAccepted"].as_u64(), s["outcomesTotal"].as_u64()), (Some(1), Some(2)), "{body}");
    assert_eq!((s["agentShare"].as_f64(), s["onTimeRate"].as_f64()), (Some(0.5), Some(1.0)));
    assert_eq!((s["acceptedByAgents"].as_u64(), s["acceptedByPeople"].as_u64()), (Some(1), Some(1)));
    let count = |status: &str| {
        s["tasksByStatus"].as_array().unwrap().iter().find(|c| c["status"] == status).unwrap()["count"].as_u64()
    };
    assert_eq!((count("ACCEPTED"), count("OPEN"), count("OFFERED")), (Some(2), Some(1), Some(0)));
    assert_eq!(
        d["budget"],
        json!({ "committed": { "amountCents": 90_000 }, "accepted": { "amountCents": 60_000 }, "remaining": { "amountCents": 10_000 } })
    );
    assert_eq!(d["activity"]["edges"][0]["node"]["action"], "task.reviewed", "newest first");
    assert_eq!(d["activity"]["pageInfo"]["hasNextPage"], true);
    let org_dash = app
        .gql("query($s: String!) { organization(slug: $s) { dashboard { outcomesAccepted agentShare budget { accepted { amountCents currency } } } } }", json!({ "s": "acme" }), Some(&ada.access_token))
        .await;
    assert_eq!(
        org_dash["data"]["organization"]["dashboard"],
        json!({ "outcomesAccepted": 1, "agentShare": 0.5, "budget": [{ "accepted": { "amountCents": 60_000, "currency": "EUR" } }] }),
        "{org_dash}"
    );
    // Money followed the accepted outcome: 60 000 left escrow, 2.5% fee, two equal shares.
    let escrow = app
        .gql("query($id: ID!) { contract(id: $id) { escrow { funded { amountCents } released { amountCents } fees { amountCents } remaining { amountCents } } } }", json!({ "id": c }), Some(&ada.access_token))
        .await;
    assert_eq!(
        escrow["data"]["contract"]["escrow"],
        json!({ "funded": { "amountCents": 100_000 }, "released": { "amountCents": 60_000 }, "fees": { "amountCents": 1_500 }, "remaining": { "amountCents": 40_000 } }),
        "{escrow}"
    );
    let balance =
        app.gql("{ me { balance { currency pending available } } }", json!({}), Some(&cat.access_token)).await;
    assert_eq!(balance["data"]["me"]["balance"], json!([{ "currency": "EUR", "pending": 29_250, "available": 0 }]));
    app.assert_ledger_sound().await;
    assert_eq!(
        error_code(&app.gql(dash, json!({ "id": c }), Some(&cat.access_token)).await),
        "FORBIDDEN",
        "workers see no dashboard"
    );
    let eves = app
        .gql(
            "query($s: String!) { organization(slug: $s) { dashboard { outcomesTotal } } }",
            json!({ "s": "acme" }),
            Some(&eve.access_token),
        )
        .await;
    assert_eq!(error_code(&eves), "NOT_FOUND");

    // Each worker's desk.
    let desk = "{ me { workDashboard { acceptanceRate reputation earnings { amountCents currency } activeTasks { title } } } }";
    let cats = app.gql(desk, json!({}), Some(&cat.access_token)).await;
    assert_eq!(
        cats["data"]["me"]["workDashboard"],
        json!({ "acceptanceRate": 0.5, "reputation": 2.92, "earnings": [{ "amountCents": 29_250, "currency": "EUR" }], "activeTasks": [] }),
        "{cats}"
    );
    let bots = app.gql(desk, json!({}), Some(&bot)).await;
    assert_eq!(bots["data"]["me"]["workDashboard"]["acceptanceRate"], 1.0, "{bots}");
    assert_eq!(bots["data"]["me"]["workDashboard"]["earnings"], json!([{ "amountCents": 29_250, "currency": "EUR" }]));
    // The agent's share is credited to its operator, recorded as earned by the agent.
    let earnings = app
        .gql(
            "{ me { balance { pending } earnings { byWorker { worker { handle } amount { amountCents } } } } }",
            json!({}),
            Some(&op.access_token),
        )
        .await;
    assert_eq!(
        earnings["data"]["me"],
        json!({ "balance": [{ "pending": 29_250 }], "earnings": { "byWorker": [{ "worker": { "handle": "sql_bot" }, "amount": { "amountCents": 29_250 } }] } }),
        "{earnings}"
    );
}
