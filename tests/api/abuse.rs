//! Holes found by probing the live API as an attacker would; each test failed before its fix.
use serde_json::json;

use crate::{
    helpers::{error_code, error_field, spawn_app, spawn_app_with},
    work::{act, activate, agent, contract, id, outcome, task, worker},
};

const ISSUE: &str = "mutation($i: IssueAgentTokenInput!) { issueAgentToken(input: $i) { token } }";

#[tokio::test]
async fn an_agent_token_without_task_scopes_reads_no_contract() {
    let app = spawn_app().await;
    let ada = app.register("ada").await;
    let oper = app.register("oper").await;
    let (bot, _) = agent(
        &app,
        &oper,
        "crawl_bot",
        json!([{ "skill": "crawl", "level": 4 }]),
        json!(["TASKS_READ", "TASKS_WRITE"]),
    )
    .await;
    let issued = app
        .gql(
            ISSUE,
            json!({ "i": { "agentId": bot, "name": "profile only", "scopes": ["PROFILE_WRITE"] } }),
            Some(&oper.access_token),
        )
        .await;
    let narrow = issued["data"]["issueAgentToken"]["token"].as_str().unwrap_or_else(|| panic!("{issued}")).to_owned();
    let c = contract(&app, &ada, None, 10_000).await;
    let o = outcome(&app, &ada, &c, "Data", 10_000, json!([{ "description": "x" }])).await;
    let t = task(&app, &ada, &o, json!({ "title": "Crawl", "mode": "AUTOMATED", "skills": ["crawl"] })).await;
    activate(&app, &ada, &c).await;
    assert_eq!(crate::work::view_assignee(&app, &id(&t), &ada.access_token).await, "crawl_bot");

    for query in [
        "{ myContracts { edges { node { id } } } }",
        "query($id: ID!) { contract(id: $id) { budget { amountCents } } }",
    ] {
        let body = app.gql(query, json!({ "id": c }), Some(&narrow)).await;
        assert_eq!(error_code(&body), "FORBIDDEN", "{query}: {body}");
    }
    let mut ws = crate::events::ws_connect(&app, &narrow).await;
    use futures_util::SinkExt;
    let subscribe = json!({ "id": "1", "type": "subscribe", "payload": {
        "query": "subscription($c: ID!) { contractActivity(contractId: $c) { action } }", "variables": { "c": c } } });
    ws.send(tokio_tungstenite::tungstenite::Message::text(subscribe.to_string())).await.unwrap();
    let message = crate::events::next_json(&mut ws).await;
    let code = if message["payload"].is_array() {
        message["payload"][0]["extensions"]["code"].clone()
    } else {
        message["payload"]["errors"][0]["extensions"]["code"].clone()
    };
    assert_eq!(code, "FORBIDDEN", "{message}");
}

#[tokio::test]
async fn a_declined_task_cannot_be_claimed_back() {
    let app = spawn_app().await;
    let ada = app.register("ada").await;
    let bob = worker(&app, "bob", json!([{ "skill": "design", "level": 5 }])).await;
    let c = contract(&app, &ada, None, 10_000).await;
    let o = outcome(&app, &ada, &c, "Brand", 10_000, json!([{ "description": "x" }])).await;
    let t = id(&task(&app, &ada, &o, json!({ "title": "Logo", "mode": "JUDGMENT", "skills": ["design"] })).await);
    activate(&app, &ada, &c).await;
    let declined = act(&app, "declineTaskOffer", &t, &bob.access_token).await;
    assert_eq!(declined["data"]["declineTaskOffer"]["status"], "OPEN", "nobody else qualifies: {declined}");
    let listed = app.gql("{ claimableTasks { edges { node { id } } } }", json!({}), Some(&bob.access_token)).await;
    assert_eq!(listed["data"]["claimableTasks"]["edges"], json!([]));
    let claim = act(&app, "claimTask", &t, &bob.access_token).await;
    assert_eq!(error_code(&claim), "FORBIDDEN", "the list and the claim apply one rule: {claim}");
    assert_eq!(app.count("task_assignments WHERE ended_at IS NULL").await, 0);
}

#[tokio::test]
async fn list_arguments_are_capped_and_name_the_field() {
    let app = spawn_app().await;
    let ada = app.register("ada").await;
    let many: Vec<String> = (0..40_000).map(|n| format!("s{n}")).collect();
    let cases = [
        ("query($s: [String!]!) { profiles(filter: { skills: $s }) { edges { node { id } } } }", "filter.skills"),
        ("query($s: [String!]!) { gigs(filter: { skills: $s }) { edges { node { id } } } }", "filter.skills"),
    ];
    for (query, field) in cases {
        let (body, _) = app.execute(query, json!({ "s": many }), Some(&ada.access_token)).await;
        assert_eq!((error_code(&body), error_field(&body)), ("BAD_USER_INPUT", field), "{query}");
    }
    let statuses: Vec<&str> = std::iter::repeat_n("OPEN", 35_000).collect();
    let (body, _) = app
        .execute(
            "query($s: [TaskStatus!]) { myTasks(statuses: $s) { edges { node { id } } } }",
            json!({ "s": statuses }),
            Some(&ada.access_token),
        )
        .await;
    assert_eq!((error_code(&body), error_field(&body)), ("BAD_USER_INPUT", "statuses"));
    let c = contract(&app, &ada, None, 10_000).await;
    let o = outcome(&app, &ada, &c, "Data", 10_000, json!([{ "description": "x" }])).await;
    let (body, _) = app
        .execute(
            "mutation($i: AddTaskInput!) { addTask(input: $i) { id } }",
            json!({ "i": { "outcomeId": o, "title": "Too much", "mode": "ANY", "skills": &many[..17_000] } }),
            Some(&ada.access_token),
        )
        .await;
    assert_eq!((error_code(&body), error_field(&body)), ("BAD_USER_INPUT", "skills"));
    assert_eq!(app.count("tasks").await, 0);
}

#[tokio::test]
async fn production_hides_introspection_graphiql_and_unauthenticated_metrics() {
    let app = spawn_app_with(|c| {
        c.exposure = semasocial::config::ExposureConfig {
            introspection: false,
            graphiql: false,
            metrics_token: Some(semasocial::config::Secret::new("metrics-token-0123456789")),
            metrics_open: false,
        };
    })
    .await;
    let body = app.gql("{ __schema { queryType { name } } }", json!({}), None).await;
    assert!(body["data"]["__schema"].is_null(), "introspection answered: {body}");
    let types = app.gql("{ __type(name: \"Contract\") { fields { name } } }", json!({}), None).await;
    assert!(types["data"]["__type"].is_null(), "type introspection answered: {types}");
    let page = app.client.get(format!("{}/graphql", app.address)).header("accept", "text/html").send().await.unwrap();
    let html = page.text().await.unwrap();
    assert!(!html.contains("graphiql"), "GraphiQL served: {html:.200}");
    let metrics = |token: Option<&str>| {
        let mut request = app.client.get(format!("{}/metrics", app.address));
        if let Some(token) = token {
            request = request.bearer_auth(token);
        }
        request.send()
    };
    assert_eq!(metrics(None).await.unwrap().status(), 404);
    assert_eq!(metrics(Some("wrong")).await.unwrap().status(), 404);
    assert_eq!(metrics(Some("metrics-token-0123456789")).await.unwrap().status(), 200);

    // Development keeps all three.
    let dev = spawn_app().await;
    let body = dev.gql("{ __schema { queryType { name } } }", json!({}), None).await;
    assert_eq!(body["data"]["__schema"]["queryType"]["name"], "QueryRoot");
    assert_eq!(dev.client.get(format!("{}/metrics", dev.address)).send().await.unwrap().status(), 200);
}

#[tokio::test]
async fn work_is_never_reassigned_to_an_unavailable_profile_and_a_task_is_reviewed_once() {
    let app = spawn_app().await;
    let ada = app.register("ada").await;
    let grace = app.register("grace").await;
    let bob = worker(&app, "bob", json!([{ "skill": "design", "level": 5 }])).await;
    let away = worker(&app, "away", json!([{ "skill": "design", "level": 5 }])).await;
    app.gql(
        "mutation { updateMyProfile(input: { availability: UNAVAILABLE }) { handle } }",
        json!({}),
        Some(&away.access_token),
    )
    .await;
    let org = crate::organizations::create_org(&app, &ada, "acme").await;
    crate::organizations::add(&app, &ada, &org, "grace", "ADMIN").await;
    let c = contract(&app, &ada, Some(&org), 10_000).await;
    let o = outcome(&app, &ada, &c, "Brand", 10_000, json!([{ "description": "x" }])).await;
    let t = id(&task(&app, &ada, &o, json!({ "title": "Logo", "mode": "JUDGMENT", "skills": ["design"] })).await);
    activate(&app, &ada, &c).await;
    let reassign = app
        .gql(
            "mutation($i: ReassignTaskInput!) { reassignTask(input: $i) { status } }",
            json!({ "i": { "taskId": t, "profileId": away.profile_id } }),
            Some(&ada.access_token),
        )
        .await;
    assert_eq!((error_code(&reassign), error_field(&reassign)), ("BAD_USER_INPUT", "profileId"), "{reassign}");

    act(&app, "acceptTaskOffer", &t, &bob.access_token).await;
    crate::work::submit(&app, &t, json!({ "text": "done" }), &bob.access_token).await;
    act(&app, "acceptTask", &t, &ada.access_token).await;
    let review = "mutation($i: ReviewTaskInput!) { reviewTask(input: $i) { subject { reputation } } }";
    let first = app.gql(review, json!({ "i": { "taskId": t, "rating": 5 } }), Some(&ada.access_token)).await;
    assert_eq!(first["data"]["reviewTask"]["subject"]["reputation"], 5.0, "{first}");
    let second = app.gql(review, json!({ "i": { "taskId": t, "rating": 5 } }), Some(&grace.access_token)).await;
    assert_eq!(error_code(&second), "CONFLICT", "another admin cannot review the same work again: {second}");
    assert_eq!(app.count("reviews").await, 1);
}
