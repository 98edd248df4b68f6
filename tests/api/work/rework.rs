//! Rework: a second rejection reroutes a task, and a rejected outcome sends its accepted work back.
use serde_json::json;

use super::{act, activate, agent, contract, end, history, id, outcome, reject, submit, task, view, worker};
use crate::helpers::{error_code, spawn_app};

#[tokio::test]
async fn a_second_rejection_reroutes_the_task_to_the_next_candidate() {
    let app = spawn_app().await;
    let ada = app.register("ada").await;
    let op = app.register("oper").await;
    let scopes = json!(["TASKS_READ", "TASKS_WRITE"]);
    let (_, first) = agent(&app, &op, "bot_one", json!([{ "skill": "sql", "level": 5 }]), scopes.clone()).await;
    let (_, second) = agent(&app, &op, "bot_two", json!([{ "skill": "sql", "level": 2 }]), scopes).await;
    let (_, reader) =
        agent(&app, &op, "bot_read", json!([{ "skill": "cobol", "level": 2 }]), json!(["TASKS_READ"])).await;
    let c = contract(&app, &ada, None, 10_000).await;
    let o = outcome(&app, &ada, &c, "Report", 10_000, json!([{ "description": "Correct" }])).await;
    activate(&app, &ada, &c).await;
    // A task added to an ACTIVE contract is routed at once.
    let added =
        task(&app, &ada, &o, json!({ "title": "Query", "mode": "AUTOMATED", "skills": ["sql"], "escalateAfter": 0 }))
            .await;
    assert_eq!(added["assignee"]["handle"], "bot_one", "{added}");
    let t = id(&added);

    let body = submit(&app, &t, json!({ "text": "v1" }), &reader).await;
    assert_eq!(error_code(&body), "FORBIDDEN", "a token without tasks:write cannot submit: {body}");
    for round in 1..=2 {
        let body = submit(&app, &t, json!({ "text": format!("v{round}") }), &first).await;
        assert_eq!(body["data"]["submitTask"]["status"], "SUBMITTED", "{body}");
        let body = reject(&app, &t, "Wrong totals", &ada.access_token).await;
        let expected = if round == 1 {
            json!({ "status": "REJECTED", "rejectionCount": 1, "assignee": { "handle": "bot_one" } })
        } else {
            json!({ "status": "ASSIGNED", "rejectionCount": 0, "assignee": { "handle": "bot_two" } })
        };
        assert_eq!(body["data"]["rejectTask"], expected, "{body}");
    }
    let v = view(&app, &t, &ada.access_token).await;
    assert_eq!(history(&v), [end("bot_one", Some("rejected_twice")), end("bot_two", None)]);
    let gone = app.gql("{ myTasks { edges { node { title } } } }", json!({}), Some(&first)).await;
    assert_eq!(gone["data"]["myTasks"]["edges"], json!([]));
    let next = app.gql("{ myTasks { edges { node { title status } } } }", json!({}), Some(&second)).await;
    assert_eq!(next["data"]["myTasks"]["edges"], json!([{ "node": { "title": "Query", "status": "ASSIGNED" } }]));
    let body = reject(&app, &t, "x", &ada.access_token).await;
    assert_eq!(error_code(&body), "CONFLICT", "nothing is submitted: {body}");
    assert_eq!(app.count("task_submissions").await, 2);
}

#[tokio::test]
async fn a_rejected_outcome_sends_its_accepted_work_back_for_rework() {
    let app = spawn_app().await;
    let ada = app.register("ada").await;
    let bob = worker(&app, "bob", json!([{ "skill": "design", "level": 5 }])).await;
    let c = contract(&app, &ada, None, 10_000).await;
    let o = outcome(&app, &ada, &c, "Brand", 10_000, json!([{ "description": "Approved" }])).await;
    let t = id(&task(&app, &ada, &o, json!({ "title": "Logo", "mode": "JUDGMENT", "skills": ["design"] })).await);
    activate(&app, &ada, &c).await;
    act(&app, "acceptTaskOffer", &t, &bob.access_token).await;
    submit(&app, &t, json!({ "text": "v1" }), &bob.access_token).await;
    act(&app, "acceptTask", &t, &ada.access_token).await;

    let reject_outcome = "mutation($i: RejectOutcomeInput!) { rejectOutcome(input: $i) { status feedback tasks { status assignee { handle } } } }";
    let body =
        app.gql(reject_outcome, json!({ "i": { "outcomeId": o, "feedback": "" } }), Some(&ada.access_token)).await;
    assert_eq!(body["errors"][0]["extensions"]["field"], "feedback", "{body}");
    let body = app
        .gql(reject_outcome, json!({ "i": { "outcomeId": o, "feedback": "Warmer colours" } }), Some(&bob.access_token))
        .await;
    assert_eq!(error_code(&body), "FORBIDDEN", "the worker does not judge the outcome");
    let body = app
        .gql(reject_outcome, json!({ "i": { "outcomeId": o, "feedback": "Warmer colours" } }), Some(&ada.access_token))
        .await;
    assert_eq!(
        body["data"]["rejectOutcome"],
        json!({ "status": "REJECTED", "feedback": "Warmer colours", "tasks": [{ "status": "REJECTED", "assignee": { "handle": "bob" } }] }),
        "{body}"
    );
    // Bob reworks it; the outcome is in progress again, then back before the client.
    let body = submit(&app, &t, json!({ "text": "v2" }), &bob.access_token).await;
    assert_eq!(body["data"]["submitTask"]["status"], "SUBMITTED", "{body}");
    act(&app, "acceptTask", &t, &ada.access_token).await;
    let status = app
        .gql(
            "query($id: ID!) { contract(id: $id) { outcomes { status } } }",
            json!({ "id": c }),
            Some(&ada.access_token),
        )
        .await;
    assert_eq!(status["data"]["contract"]["outcomes"][0]["status"], "SUBMITTED");
    let v = view(&app, &t, &ada.access_token).await;
    assert_eq!(history(&v), [end("bob", Some("completed")), end("bob", Some("completed"))]);
    assert_eq!(v["history"][1]["reason"], "outcome_rework");
}
