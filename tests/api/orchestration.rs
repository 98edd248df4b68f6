//! Orchestration rules: criteria scoped to tasks and checkbox criteria, completion by itself,
//! escalation of failing agent work to people, provenance of agent work and joint routing
//! under the load cap.
use serde_json::{Value, json};

use crate::{
    helpers::{error_code, error_field, spawn_app, spawn_app_with},
    work::{act, activate, agent, contract, id, outcome, submit, task, worker},
};

const TASK: &str = "query($id: ID!) { task(id: $id) { status mode escalatedFrom escalatedAt agentFailures assignee { handle } history { profile { handle } endReason } submissions { status feedback checksPassed provenance { model toolVersion runId outputDigest costCents costCurrency } } } }";
const SCOPES: &str = r#"["TASKS_READ", "TASKS_WRITE"]"#;

fn scopes() -> Value {
    serde_json::from_str(SCOPES).unwrap_or_default()
}

async fn task_view(app: &crate::helpers::TestApp, t: &str, token: &str) -> Value {
    let body = app.gql(TASK, json!({ "id": t }), Some(token)).await;
    body["data"]["task"].clone()
}

#[tokio::test]
async fn agent_work_on_automated_tasks_carries_provenance_which_the_client_sees() {
    let app = spawn_app().await;
    let ada = app.register("ada").await;
    let oper = app.register("oper").await;
    let (_, bot) = agent(&app, &oper, "sql_bot", json!([{ "skill": "sql", "level": 4 }]), scopes()).await;
    let c = contract(&app, &ada, None, 10_000).await;
    let o = outcome(&app, &ada, &c, "Data", 10_000, json!([{ "description": "Loaded" }])).await;
    let t = id(&task(&app, &ada, &o, json!({ "title": "Load", "mode": "AUTOMATED", "skills": ["sql"] })).await);
    activate(&app, &ada, &c).await;

    let missing = submit(&app, &t, json!({ "text": "done", "provenance": null }), &bot).await;
    assert_eq!(
        (error_code(&missing), error_field(&missing)),
        ("BAD_USER_INPUT", "deliverable.provenance"),
        "{missing}"
    );
    let mut bad = crate::work::provenance();
    bad["outputDigest"] = json!("sha256:NOT-HEX");
    let body = submit(&app, &t, json!({ "text": "done", "provenance": bad }), &bot).await;
    assert_eq!(error_field(&body), "deliverable.provenance.outputDigest", "{body}");
    assert_eq!(app.count("task_submissions").await, 0, "nothing is half-written");

    let body = submit(&app, &t, json!({ "text": "done" }), &bot).await;
    assert_eq!(body["data"]["submitTask"]["status"], "SUBMITTED", "{body}");
    let seen = task_view(&app, &t, &ada.access_token).await;
    assert_eq!(
        seen["submissions"][0]["provenance"],
        json!({ "model": "test-model-1", "toolVersion": "1.0.0", "runId": "run-1", "outputDigest": format!("sha256:{}", "b".repeat(64)), "costCents": 3, "costCurrency": "EUR" }),
        "{seen}"
    );
    assert_eq!(
        app.count("activities WHERE action = 'task.submitted' AND CAST(after AS TEXT) LIKE '%test-model-1%'").await,
        1
    );
}

#[tokio::test]
async fn an_agent_failing_its_checks_twice_escalates_the_task_to_a_person() {
    let app = spawn_app().await;
    let ada = app.register("ada").await;
    let oper = app.register("oper").await;
    let (_, bot) = agent(&app, &oper, "sql_bot", json!([{ "skill": "sql", "level": 4 }]), scopes()).await;
    worker(&app, "bob", json!([{ "skill": "sql", "level": 3 }])).await;
    let c = contract(&app, &ada, None, 10_000).await;
    let o = outcome(
        &app,
        &ada,
        &c,
        "Fast",
        10_000,
        json!([{ "key": "speed", "description": "p95 under 2 s", "metric": "p95", "comparator": "<=", "target": 2.0 }]),
    )
    .await;
    let t = id(&task(
        &app,
        &ada,
        &o,
        json!({ "title": "Tune", "mode": "AUTOMATED", "skills": ["sql"], "criteria": ["speed"] }),
    )
    .await);
    activate(&app, &ada, &c).await;
    assert_eq!(task_view(&app, &t, &ada.access_token).await["assignee"]["handle"], "sql_bot");

    // First failed attempt: counted, the client reviews it as usual.
    let slow = json!({ "text": "tuned", "metrics": [{ "name": "p95", "value": 3.5 }] });
    let body = submit(&app, &t, slow.clone(), &bot).await;
    assert_eq!(body["data"]["submitTask"]["submission"]["checksPassed"], false, "{body}");
    let body = crate::work::reject(&app, &t, "Still slow", &ada.access_token).await;
    assert_eq!(body["data"]["rejectTask"]["status"], "REJECTED", "{body}");
    // Second failed attempt: escalated to people at once.
    submit(&app, &t, slow, &bot).await;
    let seen = task_view(&app, &t, &ada.access_token).await;
    assert_eq!(
        (&seen["mode"], &seen["escalatedFrom"], &seen["agentFailures"], &seen["status"], &seen["assignee"]["handle"]),
        (&json!("JUDGMENT"), &json!("AUTOMATED"), &json!(2), &json!("OFFERED"), &json!("bob")),
        "{seen}"
    );
    assert!(seen["escalatedAt"].is_string(), "{seen}");
    assert_eq!(seen["history"][0]["endReason"], "escalated", "{seen}");
    assert_eq!(seen["submissions"][0]["status"], "REJECTED");
    assert!(seen["submissions"][0]["feedback"].as_str().is_some_and(|f| f.contains("escalated")), "{seen}");
    assert_eq!(app.count("activities WHERE action = 'task.escalated'").await, 1);

    // A task that never escalates stays with agents.
    let never = id(&task(
        &app,
        &ada,
        &o,
        json!({ "title": "Tune again", "mode": "AUTOMATED", "skills": ["sql"], "criteria": ["speed"], "escalateAfter": 0 }),
    )
    .await);
    for _ in 0..2 {
        submit(&app, &never, json!({ "text": "x", "metrics": [{ "name": "p95", "value": 9.0 }] }), &bot).await;
        crate::work::reject(&app, &never, "no", &ada.access_token).await;
    }
    assert_eq!(task_view(&app, &never, &ada.access_token).await["mode"], "AUTOMATED");
}

#[tokio::test]
async fn checkbox_criteria_are_ticked_before_acceptance_and_the_contract_completes_by_itself() {
    let app = spawn_app().await;
    let ada = app.register("ada").await;
    let bob = worker(&app, "bob", json!([{ "skill": "writing", "level": 4 }])).await;
    let eve = app.register("eve").await;
    let c = contract(&app, &ada, None, 10_000).await;
    let o = outcome(
        &app,
        &ada,
        &c,
        "Report",
        10_000,
        json!([{ "key": "written", "description": "Written" }, { "key": "finance", "description": "Finance signs off" }]),
    )
    .await;
    let bad = app
        .gql(
            "mutation($i: AddTaskInput!) { addTask(input: $i) { id } }",
            json!({ "i": { "outcomeId": o, "title": "x", "mode": "JUDGMENT", "criteria": ["nope"] } }),
            Some(&ada.access_token),
        )
        .await;
    assert_eq!(error_field(&bad), "criteria[0]", "{bad}");
    let t = id(&task(
        &app,
        &ada,
        &o,
        json!({ "title": "Write", "mode": "JUDGMENT", "skills": ["writing"], "criteria": ["written"] }),
    )
    .await);
    activate(&app, &ada, &c).await;
    act(&app, "acceptTaskOffer", &t, &bob.access_token).await;
    submit(&app, &t, json!({ "text": "the report" }), &bob.access_token).await;
    act(&app, "acceptTask", &t, &ada.access_token).await;

    let accept = "mutation($i: OutcomeIdInput!) { acceptOutcome(input: $i) { status } }";
    let tick = "mutation($i: TickCriterionInput!) { tickCriterion(input: $i) { criteria { key tickedAt } } }";
    let body = app.gql(accept, json!({ "i": { "outcomeId": o } }), Some(&ada.access_token)).await;
    assert_eq!(error_code(&body), "CONFLICT", "finance has not signed off: {body}");
    assert!(body["errors"][0]["message"].as_str().is_some_and(|m| m.contains("finance")), "{body}");
    let body = app.gql(tick, json!({ "i": { "outcomeId": o, "key": "written" } }), Some(&ada.access_token)).await;
    assert_eq!(error_field(&body), "key", "a task carries it: {body}");
    let body = app.gql(tick, json!({ "i": { "outcomeId": o, "key": "finance" } }), Some(&eve.access_token)).await;
    assert_eq!(error_code(&body), "NOT_FOUND", "outsiders tick nothing: {body}");
    let body = app.gql(tick, json!({ "i": { "outcomeId": o, "key": "finance" } }), Some(&ada.access_token)).await;
    assert!(body["data"]["tickCriterion"]["criteria"][1]["tickedAt"].is_string(), "{body}");

    let body = app.gql(accept, json!({ "i": { "outcomeId": o } }), Some(&ada.access_token)).await;
    assert_eq!(body["data"]["acceptOutcome"]["status"], "ACCEPTED", "{body}");
    let status =
        app.gql("query($id: ID!) { contract(id: $id) { status } }", json!({ "id": c }), Some(&ada.access_token)).await;
    assert_eq!(status["data"]["contract"]["status"], "COMPLETED", "the last outcome completes it: {status}");
    assert_eq!(app.count("activities WHERE action = 'contract.completed'").await, 1);
    assert_eq!(app.count("activities WHERE action = 'outcome.criterion_ticked'").await, 1);
}

#[tokio::test]
async fn routing_many_tasks_at_once_never_exceeds_a_workers_load_cap() {
    let app = spawn_app_with(|c| c.work.max_open_tasks = 2).await;
    let ada = app.register("ada").await;
    let oper = app.register("oper").await;
    agent(&app, &oper, "only_bot", json!([{ "skill": "etl", "level": 5 }]), scopes()).await;
    let c = contract(&app, &ada, None, 30_000).await;
    let o = outcome(&app, &ada, &c, "Pipelines", 30_000, json!([{ "description": "Run" }])).await;
    for n in 0..3 {
        task(&app, &ada, &o, json!({ "title": format!("etl {n}"), "mode": "AUTOMATED", "skills": ["etl"] })).await;
    }
    activate(&app, &ada, &c).await;
    assert_eq!(app.count("tasks WHERE status = 'ASSIGNED'").await, 2, "the cap is 2");
    assert_eq!(app.count("tasks WHERE status = 'OPEN'").await, 1);
    assert_eq!(app.count("activities WHERE action = 'task.unrouted'").await, 1);
}
