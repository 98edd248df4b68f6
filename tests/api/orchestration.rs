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
    let body = app
        .gql(accept, json!({ "i": { "outcomeId": o, "idempotencyKey": "accept-o" } }), Some(&ada.access_token))
        .await;
    assert_eq!(error_code(&body), "CONFLICT", "finance has not signed off: {body}");
    assert!(body["errors"][0]["message"].as_str().is_some_and(|m| m.contains("finance")), "{body}");
    let body = app.gql(tick, json!({ "i": { "outcomeId": o, "key": "written" } }), Some(&ada.access_token)).await;
    assert_eq!(error_field(&body), "key", "a task carries it: {body}");
    let body = app.gql(tick, json!({ "i": { "outcomeId": o, "key": "finance" } }), Some(&eve.access_token)).await;
    assert_eq!(error_code(&body), "NOT_FOUND", "outsiders tick nothing: {body}");
    let body = app.gql(tick, json!({ "i": { "outcomeId": o, "key": "finance" } }), Some(&ada.access_token)).await;
    assert!(body["data"]["tickCriterion"]["criteria"][1]["tickedAt"].is_string(), "{body}");

    let body = app
        .gql(accept, json!({ "i": { "outcomeId": o, "idempotencyKey": "accept-o" } }), Some(&ada.access_token))
        .await;
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

const REPUTATION: &str = "query($h: String!) { profile(handle: $h) { reputation { score acceptedTasks onTimeRate rejectedSubmissions reviewAverage reviewCount } reviews { rating text subject { handle } } } }";

#[tokio::test]
async fn reputation_starts_neutral_and_shows_the_parts_it_is_built_from() {
    let app = spawn_app().await;
    let ada = app.register("ada").await;
    let bob = worker(&app, "bob", json!([{ "skill": "writing", "level": 4 }])).await;
    let fresh = app.gql(REPUTATION, json!({ "h": "bob" }), None).await;
    assert_eq!(
        fresh["data"]["profile"],
        json!({ "reputation": { "score": 2.5, "acceptedTasks": 0, "onTimeRate": null, "rejectedSubmissions": 0, "reviewAverage": null, "reviewCount": 0 }, "reviews": [] }),
        "a newcomer is neutral, not zero: {fresh}"
    );

    let c = contract(&app, &ada, None, 10_000).await;
    let o = outcome(&app, &ada, &c, "Docs", 10_000, json!([{ "description": "Clear" }])).await;
    let due = (chrono::Utc::now() + chrono::Duration::days(3)).to_rfc3339();
    let t =
        id(&task(&app, &ada, &o, json!({ "title": "Write", "mode": "JUDGMENT", "skills": ["writing"], "dueAt": due }))
            .await);
    activate(&app, &ada, &c).await;
    let body = act(&app, "acceptTaskOffer", &t, &bob.access_token).await;
    assert_eq!(body["data"]["acceptTaskOffer"]["status"], "ASSIGNED", "{body}");
    submit(&app, &t, json!({ "text": "draft" }), &bob.access_token).await;
    crate::work::reject(&app, &t, "Shorter, please", &ada.access_token).await;
    submit(&app, &t, json!({ "text": "short draft" }), &bob.access_token).await;
    let body = act(&app, "acceptTask", &t, &ada.access_token).await;
    assert_eq!(body["data"]["acceptTask"]["status"], "ACCEPTED", "{body}");
    let body = app
        .gql(
            "mutation($i: ReviewTaskInput!) { reviewTask(input: $i) { rating } }",
            json!({ "i": { "taskId": t, "rating": 5, "text": "Spot on" } }),
            Some(&ada.access_token),
        )
        .await;
    assert_eq!(body["data"]["reviewTask"]["rating"], 5, "{body}");

    // acceptance (1+1)/(1+1+2), on time (1+1)/(1+2), reviews ((5-1)/4+1)/(1+2):
    // 5 × (0.4 × 2/3 + 0.3 × 1/2 + 0.3 × 2/3) = 3.08.
    let seen = app.gql(REPUTATION, json!({ "h": "bob" }), None).await;
    assert_eq!(
        seen["data"]["profile"]["reputation"],
        json!({ "score": 3.08, "acceptedTasks": 1, "onTimeRate": 1.0, "rejectedSubmissions": 1, "reviewAverage": 5.0, "reviewCount": 1 }),
        "{seen}"
    );
    assert_eq!(
        seen["data"]["profile"]["reviews"],
        json!([{ "rating": 5, "text": "Spot on", "subject": { "handle": "bob" } }]),
        "reviews are public"
    );
    let body = app.gql("{ profile(handle: \"bob\") { reviews(first: 21) { rating } } }", json!({}), None).await;
    assert_eq!(error_code(&body), "BAD_USER_INPUT", "{body}");
}

const CANDIDATES: &str =
    "query($id: ID!) { task(id: $id) { candidates { profile { handle } score communityStanding } } }";

async fn standing_of(app: &crate::helpers::TestApp, t: &str, token: &str) -> Vec<(String, f64, f64)> {
    let body = app.gql(CANDIDATES, json!({ "id": t }), Some(token)).await;
    let list = body["data"]["task"]["candidates"].as_array().unwrap_or_else(|| panic!("{body}")).clone();
    list.iter()
        .map(|c| {
            let handle = c["profile"]["handle"].as_str().unwrap_or_default().to_owned();
            (handle, c["score"].as_f64().unwrap_or(-1.0), c["communityStanding"].as_f64().unwrap_or(-1.0))
        })
        .collect()
}

#[tokio::test]
async fn standing_in_communities_tagged_with_the_tasks_skills_is_a_part_of_the_score() {
    let app = spawn_app().await;
    let ada = app.register("ada").await;
    let dan = app.register("dan").await;
    let bob = worker(&app, "bob", json!([{ "skill": "rust", "level": 3 }])).await;
    worker(&app, "cat", json!([{ "skill": "rust", "level": 3 }])).await;
    let create = "mutation($i: CreateCommunityInput!) { createCommunity(input: $i) { id tags } }";
    let body = app
        .gql(create, json!({ "i": { "slug": "bad", "name": "Bad", "tags": ["ok", " "] } }), Some(&dan.access_token))
        .await;
    assert_eq!(error_field(&body), "tags[1]", "{body}");
    let body = app
        .gql(
            create,
            json!({ "i": { "slug": "rustaceans", "name": "Rustaceans", "tags": ["Rust", "rust", "wasm"] } }),
            Some(&dan.access_token),
        )
        .await;
    assert_eq!(body["data"]["createCommunity"]["tags"], json!(["rust", "wasm"]), "{body}");
    let community = body["data"]["createCommunity"]["id"].as_str().unwrap().to_owned();
    app.gql(
        "mutation($i: JoinCommunityInput!) { joinCommunity(input: $i) { membership { role } } }",
        json!({ "i": { "communityId": community } }),
        Some(&bob.access_token),
    )
    .await;
    for title in ["Lifetimes", "Traits"] {
        app.gql(
            "mutation($i: CreatePostInput!) { createPost(input: $i) { id } }",
            json!({ "i": { "communityId": community, "title": title, "body": "notes" } }),
            Some(&bob.access_token),
        )
        .await;
    }

    let c = contract(&app, &ada, None, 10_000).await;
    let o = outcome(&app, &ada, &c, "Port", 10_000, json!([{ "description": "Compiles" }])).await;
    let t = id(&task(&app, &ada, &o, json!({ "title": "Port it", "mode": "JUDGMENT", "skills": ["rust"] })).await);
    let ranked = standing_of(&app, &t, &ada.access_token).await;
    // A member with two posts there: 0.5 + 0.5 × 2/10; everything else about bob and cat is equal.
    assert_eq!(ranked.iter().map(|(h, _, s)| (h.as_str(), *s)).collect::<Vec<_>>(), [("bob", 0.6), ("cat", 0.0)]);
    assert!((ranked[0].1 - ranked[1].1 - 0.1 * 0.6).abs() < 1e-3, "weighted 0.1: {ranked:?}");

    // Only the community's moderators change its tags; without the skill's tag the standing is gone.
    let update = "mutation($i: UpdateCommunityInput!) { updateCommunity(input: $i) { tags } }";
    let body = app.gql(update, json!({ "i": { "communityId": community, "tags": [] } }), Some(&bob.access_token)).await;
    assert!(!error_code(&body).is_empty(), "{body}");
    let body =
        app.gql(update, json!({ "i": { "communityId": community, "tags": ["wasm"] } }), Some(&dan.access_token)).await;
    assert_eq!(body["data"]["updateCommunity"]["tags"], json!(["wasm"]), "{body}");
    let ranked = standing_of(&app, &t, &ada.access_token).await;
    assert!(ranked.iter().all(|(_, _, s)| *s == 0.0), "{ranked:?}");
}
