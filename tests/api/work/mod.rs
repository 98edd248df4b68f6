//! Task work end to end: routing, offers, claims, the sweep, submissions, review, reputation
//! and dashboards, with the refusals along the way.
use serde_json::{Value, json};

use crate::helpers::{TestApp, TestUser};

mod claims;
mod lifecycle;
mod my_tasks;
mod rework;
mod sweep;

pub(super) const TASK: &str = "query($id: ID!) { task(id: $id) { title status rejectionCount offerExpiresAt assignee { handle kind } submission { status checksPassed feedback checks { metric passed value } } history { profile { handle } reason acceptedAt endReason } } }";
const ACT: &str = "mutation($i: TaskIdInput!) { TASK_ACTION(input: $i) { status assignee { handle } } }";

/// A user with skills (a builder).
pub(crate) async fn worker(app: &TestApp, handle: &str, skills: Value) -> TestUser {
    app.a_worker(handle, skills).await
}

/// Registers an agent for `operator` and returns (profile id, token with task scopes) (a builder).
pub(crate) async fn agent(
    app: &TestApp,
    operator: &TestUser,
    handle: &str,
    skills: Value,
    scopes: Value,
) -> (String, String) {
    app.an_agent(operator, handle, skills, scopes).await
}

/// A draft EUR contract of `client` (a builder).
pub(crate) async fn contract(app: &TestApp, client: &TestUser, org: Option<&str>, budget: i64) -> String {
    app.a_contract(client, org, budget).await
}

pub(crate) async fn outcome(
    app: &TestApp,
    client: &TestUser,
    contract: &str,
    title: &str,
    amount: i64,
    criteria: Value,
) -> String {
    let body = app
        .gql(
            "mutation($i: AddOutcomeInput!) { addOutcome(input: $i) { id } }",
            json!({ "i": { "contractId": contract, "title": title, "amountCents": amount, "criteria": criteria } }),
            Some(&client.access_token),
        )
        .await;
    body["data"]["addOutcome"]["id"].as_str().unwrap_or_else(|| panic!("{body}")).to_owned()
}

pub(crate) async fn task(app: &TestApp, client: &TestUser, outcome: &str, fields: Value) -> Value {
    let mut input = json!({ "outcomeId": outcome });
    input.as_object_mut().unwrap().extend(fields.as_object().unwrap().clone());
    let body = app
        .gql(
            "mutation($i: AddTaskInput!) { addTask(input: $i) { id status assignee { handle } } }",
            json!({ "i": input }),
            Some(&client.access_token),
        )
        .await;
    assert!(body["data"]["addTask"].is_object(), "{body}");
    body["data"]["addTask"].clone()
}

/// Funds a contract: `amount` minor units into escrow (a fresh idempotency key).
pub(crate) async fn fund(app: &TestApp, client: &TestUser, contract: &str, amount: i64) -> Value {
    app.gql(
        "mutation($i: FundContractInput!) { fundContract(input: $i) { transactionId replayed amount { amountCents currency } contract { status } } }",
        // Stripe's test card: the simulated provider takes any method, a Stripe app needs one.
        json!({ "i": { "contractId": contract, "amountCents": amount, "idempotencyKey": uuid::Uuid::new_v4().to_string(), "paymentMethodId": "pm_card_visa" } }),
        Some(&client.access_token),
    )
    .await
}

/// Funds a contract's whole budget, then opens and activates it (a builder).
pub(crate) async fn activate(app: &TestApp, client: &TestUser, contract: &str) {
    app.fund_and_activate(client, contract).await;
}

pub(crate) async fn act(app: &TestApp, action: &str, task: &str, token: &str) -> Value {
    app.gql(&ACT.replace("TASK_ACTION", action), json!({ "i": { "taskId": task } }), Some(token)).await
}

/// The handle of a task's assignee (or `-`).
pub(crate) async fn view_assignee(app: &TestApp, task: &str, token: &str) -> String {
    view(app, task, token).await["assignee"]["handle"].as_str().unwrap_or("-").to_owned()
}

pub(super) async fn view(app: &TestApp, task: &str, token: &str) -> Value {
    let body = app.gql(TASK, json!({ "id": task }), Some(token)).await;
    body["data"]["task"].clone()
}

/// How a test agent's work was produced (submissions by agents on AUTOMATED tasks carry it).
pub(crate) fn provenance() -> Value {
    json!({
        "model": "test-model-1", "tool": "test-runner", "toolVersion": "1.0.0", "runId": "run-1",
        "inputDigest": format!("sha256:{}", "a".repeat(64)), "outputDigest": format!("sha256:{}", "b".repeat(64)),
        "costCents": 3, "costCurrency": "EUR"
    })
}

/// Submits a deliverable; one without a `provenance` key gets [`provenance`] (an explicit
/// `null` sends none).
pub(crate) async fn submit(app: &TestApp, task: &str, mut deliverable: Value, token: &str) -> Value {
    if let Some(d) = deliverable.as_object_mut()
        && !d.contains_key("provenance")
    {
        d.insert("provenance".into(), provenance());
    }
    app.gql(
        "mutation($i: SubmitTaskInput!) { submitTask(input: $i) { status submission { checksPassed checks { metric value passed } } } }",
        json!({ "i": { "taskId": task, "deliverable": deliverable } }),
        Some(token),
    )
    .await
}

pub(crate) async fn reject(app: &TestApp, task: &str, feedback: &str, token: &str) -> Value {
    app.gql(
        "mutation($i: RejectTaskInput!) { rejectTask(input: $i) { status rejectionCount assignee { handle } } }",
        json!({ "i": { "taskId": task, "feedback": feedback } }),
        Some(token),
    )
    .await
}

pub(crate) fn id(task: &Value) -> String {
    task["id"].as_str().unwrap().to_owned()
}

pub(super) fn history(task: &Value) -> Vec<(String, Option<String>)> {
    task["history"]
        .as_array()
        .unwrap_or_else(|| panic!("{task}"))
        .iter()
        .map(|h| (h["profile"]["handle"].as_str().unwrap().to_owned(), h["endReason"].as_str().map(str::to_owned)))
        .collect()
}

pub(super) fn end(handle: &str, reason: Option<&str>) -> (String, Option<String>) {
    (handle.to_owned(), reason.map(str::to_owned))
}
