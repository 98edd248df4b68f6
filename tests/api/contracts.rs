//! Outcome contracts: creation, budget, state machine, the proposal seam, and who sees what.
use serde_json::{Value, json};

use crate::{
    gigs::{create_gig, propose, publish},
    helpers::{TestApp, TestUser, error_code, error_field, spawn_app},
    organizations::{add, create_org},
};

const CREATE: &str =
    "mutation($i: CreateContractInput!) { createContract(input: $i) { id status budget { amountCents currency } } }";
const ADD_OUTCOME: &str = "mutation($i: AddOutcomeInput!) { addOutcome(input: $i) { id status amount { amountCents currency } criteria { description metric comparator target } } }";
const ADD_TASK: &str = "mutation($i: AddTaskInput!) { addTask(input: $i) { id mode status weight } }";
const STATUS: &str = "mutation($i: ChangeContractStatusInput!) { changeContractStatus(input: $i) { status } }";
const VIEW: &str = "query($id: ID!) { contract(id: $id) { title viewerIsClient outcomes { title tasks { title assignee { handle } } } } }";

async fn create_contract(app: &TestApp, user: &TestUser, org: Option<&str>, budget: i64) -> String {
    let body = app
        .gql(CREATE, json!({ "i": { "organizationId": org, "title": "Analytics revamp", "currency": "EUR", "budgetCents": budget } }), Some(&user.access_token))
        .await;
    assert_eq!(body["data"]["createContract"]["status"], "DRAFT", "{body}");
    body["data"]["createContract"]["id"].as_str().unwrap().to_owned()
}

async fn add_outcome(app: &TestApp, user: &TestUser, contract: &str, amount: i64) -> Value {
    app.gql(
        ADD_OUTCOME,
        json!({ "i": { "contractId": contract, "title": "Dashboard live", "amountCents": amount, "criteria": [
            { "description": "Loads in under 2 seconds", "metric": "p95_seconds", "comparator": "<=", "target": 2.0 },
            { "description": "Reviewed by finance" }
        ] } }),
        Some(&user.access_token),
    )
    .await
}

#[tokio::test]
async fn an_organization_builds_a_contract_within_its_budget() {
    let app = spawn_app().await;
    let ada = app.register("ada").await;
    let org = create_org(&app, &ada, "acme").await;
    let contract = create_contract(&app, &ada, Some(&org), 100_000).await;

    let first = add_outcome(&app, &ada, &contract, 60_000).await;
    assert_eq!(first["data"]["addOutcome"]["amount"], json!({ "amountCents": 60_000, "currency": "EUR" }), "{first}");
    assert_eq!(first["data"]["addOutcome"]["criteria"][0]["comparator"], "<=");
    assert_eq!(first["data"]["addOutcome"]["status"], "PENDING");
    add_outcome(&app, &ada, &contract, 40_000).await;
    let over = add_outcome(&app, &ada, &contract, 1).await;
    assert_eq!((error_code(&over), error_field(&over)), ("BAD_USER_INPUT", "amountCents"), "{over}");
    assert_eq!(app.count("outcomes").await, 2);

    let outcome = first["data"]["addOutcome"]["id"].as_str().unwrap();
    for (title, mode) in [("Extract data", "AUTOMATED"), ("Design review", "JUDGMENT")] {
        let body = app
            .gql(
                ADD_TASK,
                json!({ "i": { "outcomeId": outcome, "title": title, "mode": mode, "skills": ["SQL"] } }),
                Some(&ada.access_token),
            )
            .await;
        assert_eq!(body["data"]["addTask"]["status"], "OPEN", "{body}");
    }
    let bad = app
        .gql(
            ADD_TASK,
            json!({ "i": { "outcomeId": outcome, "title": "x", "mode": "ANY", "weight": 0 } }),
            Some(&ada.access_token),
        )
        .await;
    assert_eq!(error_field(&bad), "weight");

    let body = app.gql(VIEW, json!({ "id": contract }), Some(&ada.access_token)).await;
    assert_eq!(body["data"]["contract"]["outcomes"][0]["tasks"].as_array().map(Vec::len), Some(2), "{body}");
}

#[tokio::test]
async fn criteria_are_validated() {
    let app = spawn_app().await;
    let ada = app.register("ada").await;
    let contract = create_contract(&app, &ada, None, 10_000).await;
    for (criteria, field) in [
        (json!([]), "criteria"),
        (
            json!([{ "description": "fast", "metric": "p95", "comparator": "~", "target": 1.0 }]),
            "criteria[0].comparator",
        ),
        (json!([{ "description": "fast", "comparator": "<=", "target": 1.0 }]), "criteria[0]"),
        (json!([{ "description": "" }]), "criteria[0].description"),
    ] {
        let body = app
            .gql(
                ADD_OUTCOME,
                json!({ "i": { "contractId": contract, "title": "t", "amountCents": 100, "criteria": criteria } }),
                Some(&ada.access_token),
            )
            .await;
        assert_eq!(error_field(&body), field, "{body}");
    }
}

#[tokio::test]
async fn the_contract_machine_refuses_illegal_transitions_by_name() {
    let app = spawn_app().await;
    let ada = app.register("ada").await;
    let contract = create_contract(&app, &ada, None, 10_000).await;
    let change = |action: &'static str| {
        app.gql(STATUS, json!({ "i": { "contractId": contract, "action": action } }), Some(&ada.access_token))
    };
    let body = change("ACTIVATE").await;
    assert_eq!(error_code(&body), "CONFLICT");
    let message = body["errors"][0]["message"].as_str().unwrap();
    assert!(message.contains("DRAFT") && message.contains("ACTIVE"), "{message}");
    assert_eq!(change("OPEN").await["data"]["changeContractStatus"]["status"], "OPEN");
    assert_eq!(change("ACTIVATE").await["data"]["changeContractStatus"]["status"], "ACTIVE");
    assert_eq!(change("DISPUTE").await["data"]["changeContractStatus"]["status"], "DISPUTED");
    assert_eq!(change("RESOLVE").await["data"]["changeContractStatus"]["status"], "ACTIVE");
    assert_eq!(change("COMPLETE").await["data"]["changeContractStatus"]["status"], "COMPLETED");
    assert_eq!(error_code(&change("CANCEL").await), "CONFLICT");
}

#[tokio::test]
async fn only_the_client_side_sees_and_only_managers_change_a_contract() {
    let app = spawn_app().await;
    let ada = app.register("ada").await;
    let bob = app.register("bob").await;
    let eve = app.register("eve").await;
    let org = create_org(&app, &ada, "acme").await;
    add(&app, &ada, &org, "bob", "MEMBER").await;
    let contract = create_contract(&app, &ada, Some(&org), 10_000).await;

    let body = app.gql(VIEW, json!({ "id": contract }), Some(&bob.access_token)).await;
    assert_eq!(body["data"]["contract"]["viewerIsClient"], true, "organization members see it: {body}");
    assert_eq!(error_code(&add_outcome(&app, &bob, &contract, 100).await), "FORBIDDEN", "a MEMBER cannot change it");
    assert_eq!(error_code(&app.gql(VIEW, json!({ "id": contract }), Some(&eve.access_token)).await), "NOT_FOUND");
    assert_eq!(error_code(&add_outcome(&app, &eve, &contract, 100).await), "NOT_FOUND");
    assert_eq!(error_code(&app.gql(VIEW, json!({ "id": contract }), None).await), "UNAUTHENTICATED");
    let body = app
        .gql(
            CREATE,
            json!({ "i": { "organizationId": org, "title": "t", "currency": "EUR", "budgetCents": 1 } }),
            Some(&bob.access_token),
        )
        .await;
    assert_eq!(error_code(&body), "FORBIDDEN", "members do not contract for the organization");
    let listed = app.gql("{ myContracts { edges { node { title } } } }", json!({}), Some(&eve.access_token)).await;
    assert_eq!(listed["data"]["myContracts"]["edges"], json!([]));
}

#[tokio::test]
async fn accepting_a_proposal_creates_a_contract_assigned_to_its_author() {
    let app = spawn_app().await;
    let ada = app.register("ada").await;
    let bob = app.register("bob").await;
    let cat = app.register("cat").await;
    let gig = create_gig(&app, &ada, json!({})).await;
    publish(&app, &ada, &gig).await;
    let proposal = propose(&app, &bob, &gig).await["data"]["submitProposal"]["id"].as_str().unwrap().to_owned();
    propose(&app, &cat, &gig).await;
    let body = app
        .gql(
            "mutation($i: ProposalIdInput!) { acceptProposal(input: $i) { contractId } }",
            json!({ "i": { "proposalId": proposal } }),
            Some(&ada.access_token),
        )
        .await;
    let contract = body["data"]["acceptProposal"]["contractId"].as_str().unwrap_or_else(|| panic!("{body}")).to_owned();

    let client = app
        .gql("query($id: ID!) { contract(id: $id) { status budget { amountCents } outcomes { amount { amountCents } tasks { status mode assignee { handle } } } } }", json!({ "id": contract }), Some(&ada.access_token))
        .await;
    let c = &client["data"]["contract"];
    assert_eq!(c["status"], "OPEN", "{client}");
    assert_eq!(c["budget"]["amountCents"], 45_000);
    assert_eq!(c["outcomes"][0]["amount"]["amountCents"], 45_000);
    assert_eq!(
        c["outcomes"][0]["tasks"][0],
        json!({ "status": "ASSIGNED", "mode": "JUDGMENT", "assignee": { "handle": "bob" } })
    );
    assert_eq!(app.count("task_assignments").await, 1);

    // Bob sees the contract through his task; Cat, declined, does not.
    let bobs = app.gql(VIEW, json!({ "id": contract }), Some(&bob.access_token)).await;
    assert_eq!(bobs["data"]["contract"]["viewerIsClient"], false, "{bobs}");
    assert_eq!(error_code(&app.gql(VIEW, json!({ "id": contract }), Some(&cat.access_token)).await), "NOT_FOUND");

    // A task added for someone else stays hidden from Bob.
    let outcome = app
        .gql(
            "query($id: ID!) { contract(id: $id) { outcomes { id } } }",
            json!({ "id": contract }),
            Some(&ada.access_token),
        )
        .await["data"]["contract"]["outcomes"][0]["id"]
        .clone();
    app.gql(
        ADD_TASK,
        json!({ "i": { "outcomeId": outcome, "title": "Internal QA", "mode": "ANY" } }),
        Some(&ada.access_token),
    )
    .await;
    let bobs = app.gql(VIEW, json!({ "id": contract }), Some(&bob.access_token)).await;
    assert_eq!(bobs["data"]["contract"]["outcomes"][0]["tasks"].as_array().map(Vec::len), Some(1), "{bobs}");
    let ada_view = app.gql(VIEW, json!({ "id": contract }), Some(&ada.access_token)).await;
    assert_eq!(ada_view["data"]["contract"]["outcomes"][0]["tasks"].as_array().map(Vec::len), Some(2));
    let listed =
        app.gql("{ myContracts { edges { node { viewerIsClient } } } }", json!({}), Some(&bob.access_token)).await;
    assert_eq!(listed["data"]["myContracts"]["edges"], json!([{ "node": { "viewerIsClient": false } }]));

    // Bob delivers; once the client accepts his task the outcome awaits the client.
    let task = app
        .gql("{ myTasks { edges { node { id } } } }", json!({}), Some(&bob.access_token))
        .await["data"]["myTasks"]["edges"][0]["node"]["id"]
        .clone();
    let body = app
        .gql(
            "mutation($i: SubmitTaskInput!) { submitTask(input: $i) { status } }",
            json!({ "i": { "taskId": task, "deliverable": { "url": "https://example.com/delivery" } } }),
            Some(&bob.access_token),
        )
        .await;
    assert_eq!(body["data"]["submitTask"]["status"], "SUBMITTED", "{body}");
    let internal = ada_view["data"]["contract"]["outcomes"][0]["tasks"][1]["title"].clone();
    assert_eq!(internal, "Internal QA");
    let status = "query($id: ID!) { contract(id: $id) { outcomes { status } } }";
    let body = app.gql(status, json!({ "id": contract }), Some(&ada.access_token)).await;
    assert_eq!(body["data"]["contract"]["outcomes"][0]["status"], "IN_PROGRESS", "{body}");
    app.gql(
        "mutation($i: TaskIdInput!) { acceptTask(input: $i) { status } }",
        json!({ "i": { "taskId": task } }),
        Some(&ada.access_token),
    )
    .await;
    let body = app.gql(status, json!({ "id": contract }), Some(&ada.access_token)).await;
    assert_eq!(body["data"]["contract"]["outcomes"][0]["status"], "IN_PROGRESS", "Internal QA is still open");
}

#[tokio::test]
async fn task_candidates_are_ranked_with_their_reasons_and_respect_the_mode() {
    let app = spawn_app().await;
    let ada = app.register("ada").await;
    let expert = app.register("expert").await;
    let novice = app.register("novice").await;
    let skills = "mutation($i: SetSkillsInput!) { setMySkills(input: $i) { handle } }";
    app.gql(skills, json!({ "i": { "skills": [{ "skill": "sql", "level": 5 }] } }), Some(&expert.access_token)).await;
    app.gql(skills, json!({ "i": { "skills": [{ "skill": "sql", "level": 1 }] } }), Some(&novice.access_token)).await;
    // The agent is someone else's: the client's own agents are never candidates.
    let oper = app.register("oper").await;
    app.gql(
        "mutation { registerAgent(input: { handle: \"sql_bot\", displayName: \"SQL bot\", capabilities: [{ skill: \"sql\", level: 4 }] }) { id } }",
        json!({}),
        Some(&oper.access_token),
    )
    .await;
    let contract = create_contract(&app, &ada, None, 100_000).await;
    let outcome =
        add_outcome(&app, &ada, &contract, 50_000).await["data"]["addOutcome"]["id"].as_str().unwrap().to_owned();
    let mut task_ids = Vec::new();
    for mode in ["JUDGMENT", "AUTOMATED", "ANY"] {
        let body = app
            .gql(
                ADD_TASK,
                json!({ "i": { "outcomeId": outcome, "title": mode, "mode": mode, "skills": ["sql"] } }),
                Some(&ada.access_token),
            )
            .await;
        task_ids.push(body["data"]["addTask"]["id"].as_str().unwrap().to_owned());
    }
    let query = "query($id: ID!) { contract(id: $id) { outcomes { tasks { title candidates { profile { handle kind } score skillMatch rateFit openTasks } } } } }";
    let body = app.gql(query, json!({ "id": contract }), Some(&ada.access_token)).await;
    let tasks = &body["data"]["contract"]["outcomes"][0]["tasks"];
    let handles = |i: usize| -> Vec<String> {
        tasks[i]["candidates"]
            .as_array()
            .unwrap_or_else(|| panic!("{body}"))
            .iter()
            .map(|c| c["profile"]["handle"].as_str().unwrap().to_owned())
            .collect()
    };
    assert_eq!(handles(0), ["expert", "novice"], "people only, best skill first");
    assert_eq!(handles(1), ["sql_bot"], "agents only");
    assert_eq!(handles(2), ["expert", "sql_bot", "novice"], "both, by score");
    assert_eq!(tasks[0]["candidates"][0]["skillMatch"], 1.0);
    assert_eq!(tasks[0]["candidates"][1]["skillMatch"], 0.2);
    assert!(!handles(0).contains(&"ada".to_owned()), "the client is never a candidate");

    // Candidates are for the client only.
    let bob = app.register("bob").await;
    let body = app.gql(query, json!({ "id": contract }), Some(&bob.access_token)).await;
    assert_eq!(error_code(&body), "NOT_FOUND");
}
