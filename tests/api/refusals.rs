//! Refusals at the fast in-process level: each snapshots the error body clients switch on and
//! proves nothing was written.
use serde_json::json;

use crate::{
    helpers::spawn_app,
    work::{act, activate, contract, id, outcome, task, worker},
};

const ADD_OUTCOME: &str = "mutation($i: AddOutcomeInput!) { addOutcome(input: $i) { id amount { amountCents } } }";

#[tokio::test]
async fn an_outcome_beyond_the_budget_or_beyond_what_cents_can_hold_is_refused_and_nothing_is_written() {
    let app = spawn_app().await;
    let ada = app.register("ada").await;
    let c = contract(&app, &ada, None, 1_000).await;
    outcome(&app, &ada, &c, "All of it", 1_000, json!([{ "description": "Done" }])).await;
    let input = |amount: i64| json!({ "i": { "contractId": c, "title": "More", "amountCents": amount, "criteria": [{ "description": "Done" }] } });

    let (over_budget, _) = app.execute(ADD_OUTCOME, input(1), Some(&ada.access_token)).await;
    insta::assert_json_snapshot!("outcome_over_budget", over_budget);
    // The sum would wrap past i64::MAX: refused as bad input, never a negative commitment.
    let (overflow, _) = app.execute(ADD_OUTCOME, input(i64::MAX), Some(&ada.access_token)).await;
    insta::assert_json_snapshot!("outcome_amount_overflow", overflow);

    assert_eq!(app.count("outcomes").await, 1);
    let (dashboard, _) = app
        .execute(
            "query($id: ID!) { contract(id: $id) { dashboard { budget { committed { amountCents } remaining { amountCents } } } } }",
            json!({ "id": c }),
            Some(&ada.access_token),
        )
        .await;
    assert_eq!(
        dashboard["data"]["contract"]["dashboard"]["budget"],
        json!({ "committed": { "amountCents": 1000 }, "remaining": { "amountCents": 0 } }),
        "{dashboard}"
    );
}

#[tokio::test]
async fn someone_elses_contract_is_not_found_and_its_work_cannot_be_touched() {
    let app = spawn_app().await;
    let ada = app.register("ada").await;
    let eve = app.register("eve").await;
    let c = contract(&app, &ada, None, 10_000).await;
    let o = outcome(&app, &ada, &c, "Brand", 10_000, json!([{ "description": "Approved" }])).await;
    let activities = app.count("activities").await;

    let input = json!({ "i": { "contractId": c, "title": "Mine now", "amountCents": 1, "criteria": [{ "description": "x" }] } });
    let (body, _) = app.execute(ADD_OUTCOME, input, Some(&eve.access_token)).await;
    insta::assert_json_snapshot!("outcome_on_someone_elses_contract", body);
    let (body, _) = app
        .execute(
            "mutation($i: AddTaskInput!) { addTask(input: $i) { id } }",
            json!({ "i": { "outcomeId": o, "title": "Sneak", "mode": "ANY" } }),
            Some(&eve.access_token),
        )
        .await;
    insta::assert_json_snapshot!("task_on_someone_elses_outcome", body);

    assert_eq!((app.count("outcomes").await, app.count("tasks").await), (1, 0));
    assert_eq!(app.count("activities").await, activities, "a refusal records nothing");
}

#[tokio::test]
async fn a_worker_cannot_accept_its_own_work() {
    let app = spawn_app().await;
    let ada = app.register("ada").await;
    let bob = worker(&app, "bob", json!([{ "skill": "design", "level": 5 }])).await;
    let c = contract(&app, &ada, None, 10_000).await;
    let o = outcome(&app, &ada, &c, "Brand", 10_000, json!([{ "description": "Approved" }])).await;
    let t = id(&task(&app, &ada, &o, json!({ "title": "Logo", "mode": "JUDGMENT", "skills": ["design"] })).await);
    activate(&app, &ada, &c).await;
    act(&app, "acceptTaskOffer", &t, &bob.access_token).await;
    let submitted = app
        .gql(
            "mutation($i: SubmitTaskInput!) { submitTask(input: $i) { status } }",
            json!({ "i": { "taskId": t, "deliverable": { "text": "v1" } } }),
            Some(&bob.access_token),
        )
        .await;
    assert_eq!(submitted["data"]["submitTask"]["status"], "SUBMITTED", "{submitted}");

    let (body, _) = app
        .execute(
            "mutation($i: TaskIdInput!) { acceptTask(input: $i) { status } }",
            json!({ "i": { "taskId": t } }),
            Some(&bob.access_token),
        )
        .await;
    insta::assert_json_snapshot!("worker_accepts_own_task", body);
    assert_eq!(app.count("tasks WHERE status = 'SUBMITTED'").await, 1);
}
