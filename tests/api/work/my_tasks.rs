//! A worker's own tasks: live updates, the cost of a page, and the scopes an agent token needs.
use serde_json::json;

use super::{act, activate, agent, contract, id, outcome, submit, task, view, worker};
use crate::helpers::{error_code, spawn_app};

#[tokio::test]
async fn workers_follow_their_own_task_updates_live_and_outsiders_cannot_follow_a_contract() {
    use futures_util::SinkExt;
    use tokio_tungstenite::tungstenite::Message;

    use crate::events::{next_action, next_json, subscribe, ws_connect};

    let app = spawn_app().await;
    let ada = app.register("ada").await;
    let bob = worker(&app, "bob", json!([{ "skill": "design", "level": 5 }])).await;
    worker(&app, "cat", json!([{ "skill": "copy", "level": 5 }])).await;
    let eve = app.register("eve").await;
    let c = contract(&app, &ada, None, 10_000).await;
    let o = outcome(&app, &ada, &c, "Brand", 10_000, json!([{ "description": "Approved" }])).await;
    let logo = id(&task(&app, &ada, &o, json!({ "title": "Logo", "mode": "JUDGMENT", "skills": ["design"] })).await);
    activate(&app, &ada, &c).await;

    let mut ws = ws_connect(&app, &bob.access_token).await;
    subscribe(&app, &mut ws, "subscription { myTaskUpdates { action subjectId after } }", json!({})).await;
    let reassign = "mutation($i: ReassignTaskInput!) { reassignTask(input: $i) { status } }";
    let body = app
        .gql(reassign, json!({ "i": { "taskId": logo, "profileId": bob.profile_id } }), Some(&ada.access_token))
        .await;
    assert_eq!(body["data"]["reassignTask"]["status"], "OFFERED", "{body}");
    // With Redis, activation's own offer may still arrive after the subscription started:
    // events arrive in publish order, so the re-offer identifies itself by its reason.
    let event = loop {
        let event = next_action(&mut ws, "myTaskUpdates", "task.offered").await;
        if event["payload"]["data"]["myTaskUpdates"]["after"]["reason"] == "reassigned" {
            break event;
        }
    };
    assert_eq!(event["payload"]["data"]["myTaskUpdates"]["subjectId"], logo.as_str(), "{event}");

    // Cat's offer is not Bob's business: the next thing Bob hears is about his own task.
    let copy = id(&task(&app, &ada, &o, json!({ "title": "Tagline", "mode": "JUDGMENT", "skills": ["copy"] })).await);
    assert_eq!(view(&app, &copy, &ada.access_token).await["assignee"]["handle"], "cat");
    act(&app, "acceptTaskOffer", &logo, &bob.access_token).await;
    let next = next_json(&mut ws).await;
    assert_eq!(next["payload"]["data"]["myTaskUpdates"]["subjectId"], logo.as_str(), "{next}");
    assert_eq!(next["payload"]["data"]["myTaskUpdates"]["action"], "task.assigned");

    // A contract's activity is for the people on it.
    let mut ws = ws_connect(&app, &eve.access_token).await;
    let subscribe = json!({ "id": "1", "type": "subscribe", "payload": {
        "query": "subscription($c: ID!) { contractActivity(contractId: $c) { action } }", "variables": { "c": c }
    }});
    ws.send(Message::text(subscribe.to_string())).await.unwrap();
    let message = next_json(&mut ws).await;
    let code = if message["payload"].is_array() {
        message["payload"][0]["extensions"]["code"].clone()
    } else {
        message["payload"]["errors"][0]["extensions"]["code"].clone()
    };
    assert_eq!(code, "NOT_FOUND", "{message}");
}

#[tokio::test]
async fn a_page_of_my_tasks_costs_the_same_statements_whatever_its_size() {
    // One agent holds all twenty tasks: above the default load cap.
    let app = crate::helpers::spawn_app_with(|c| c.work.max_open_tasks = 50).await;
    let ada = app.register("ada").await;
    let oper = app.register("oper").await;
    let (_, bot) =
        agent(&app, &oper, "sql_bot", json!([{ "skill": "sql", "level": 4 }]), json!(["TASKS_READ", "TASKS_WRITE"]))
            .await;
    let c = contract(&app, &ada, None, 100_000).await;
    let o = outcome(
        &app,
        &ada,
        &c,
        "Many",
        100_000,
        json!([{ "description": "Done", "metric": "rows", "comparator": ">", "target": 0.0 }]),
    )
    .await;
    for n in 0..20 {
        task(&app, &ada, &o, json!({ "title": format!("t{n}"), "mode": "AUTOMATED", "skills": ["sql"] })).await;
    }
    activate(&app, &ada, &c).await;
    let page = app.gql("{ myTasks(first: 20) { edges { node { id } } } }", json!({}), Some(&bot)).await;
    for edge in page["data"]["myTasks"]["edges"].as_array().unwrap().iter().step_by(2) {
        let t = edge["node"]["id"].as_str().unwrap();
        submit(&app, t, json!({ "text": "done", "metrics": [{ "name": "rows", "value": 3.0 }] }), &bot).await;
    }
    let query = "query($n: Int!) { myTasks(first: $n, statuses: [ASSIGNED, SUBMITTED]) { edges { node { title status skills assignee { handle skills { skill } } submission { checksPassed submittedBy { handle } } history { reason profile { handle } } outcome { title } share { amountCents } } } } }";
    // The page (1), then one batch per relation: task skills, assignee, submissions, history,
    // outcome, sibling tasks and contract for the share (7), then the assignee's skills (1).
    // The submitter and history profiles are the assignee, already loaded or in flight: 0.
    for n in [4, 20, 4] {
        let (body, statements) = app.execute(query, json!({ "n": n }), Some(&bot)).await;
        assert!(body.get("errors").is_none(), "{body}");
        assert_eq!(body["data"]["myTasks"]["edges"].as_array().map(Vec::len), Some(n as usize), "{body}");
        assert_eq!(statements, 9, "a page of {n} tasks");
    }
}

#[tokio::test]
async fn agent_tokens_need_task_scopes_to_see_or_do_work() {
    let app = spawn_app().await;
    let oper = app.register("oper").await;
    let (_, profile_only) =
        agent(&app, &oper, "prof_bot", json!([{ "skill": "sql", "level": 3 }]), json!(["PROFILE_WRITE"])).await;
    for query in [
        "{ myTasks { edges { node { id } } } }",
        "{ claimableTasks { edges { node { id } } } }",
        "{ me { workDashboard { reputation } } }",
    ] {
        let body = app.gql(query, json!({}), Some(&profile_only)).await;
        assert_eq!(error_code(&body), "FORBIDDEN", "{query}: {body}");
    }
    let body = app.gql("{ myTasks { edges { node { id } } } }", json!({}), None).await;
    assert_eq!(error_code(&body), "UNAUTHENTICATED");
}
