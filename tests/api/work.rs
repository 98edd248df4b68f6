//! Task work end to end: routing, offers, claims, the sweep, submissions, review, reputation
//! and dashboards, with the refusals along the way.
use serde_json::{Value, json};

use crate::{
    helpers::{TestApp, TestUser, error_code, spawn_app},
    organizations::create_org,
};

const SKILLS: &str = "mutation($i: SetSkillsInput!) { setMySkills(input: $i) { handle } }";
const TASK: &str = "query($id: ID!) { task(id: $id) { title status rejectionCount offerExpiresAt assignee { handle kind } submission { status checksPassed feedback checks { metric passed value } } history { profile { handle } reason acceptedAt endReason } } }";
const ACT: &str = "mutation($i: TaskIdInput!) { TASK_ACTION(input: $i) { status assignee { handle } } }";

/// A user with skills.
pub(crate) async fn worker(app: &TestApp, handle: &str, skills: Value) -> TestUser {
    let user = app.register(handle).await;
    let body = app.gql(SKILLS, json!({ "i": { "skills": skills } }), Some(&user.access_token)).await;
    assert!(body["data"]["setMySkills"].is_object(), "{body}");
    user
}

/// Registers an agent for `operator` and returns (profile id, token with task scopes).
pub(crate) async fn agent(
    app: &TestApp,
    operator: &TestUser,
    handle: &str,
    skills: Value,
    scopes: Value,
) -> (String, String) {
    let body = app
        .gql(
            "mutation($i: RegisterAgentInput!) { registerAgent(input: $i) { id } }",
            json!({ "i": { "handle": handle, "displayName": handle, "capabilities": skills } }),
            Some(&operator.access_token),
        )
        .await;
    let id = body["data"]["registerAgent"]["id"].as_str().unwrap_or_else(|| panic!("{body}")).to_owned();
    let body = app
        .gql(
            "mutation($i: IssueAgentTokenInput!) { issueAgentToken(input: $i) { token } }",
            json!({ "i": { "agentId": id, "name": "worker", "scopes": scopes } }),
            Some(&operator.access_token),
        )
        .await;
    (id, body["data"]["issueAgentToken"]["token"].as_str().unwrap_or_else(|| panic!("{body}")).to_owned())
}

pub(crate) async fn contract(app: &TestApp, client: &TestUser, org: Option<&str>, budget: i64) -> String {
    let body = app
        .gql(
            "mutation($i: CreateContractInput!) { createContract(input: $i) { id } }",
            json!({ "i": { "organizationId": org, "title": "Analytics", "currency": "EUR", "budgetCents": budget } }),
            Some(&client.access_token),
        )
        .await;
    body["data"]["createContract"]["id"].as_str().unwrap_or_else(|| panic!("{body}")).to_owned()
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

/// Funds a contract's whole budget, then opens and activates it.
pub(crate) async fn activate(app: &TestApp, client: &TestUser, contract: &str) {
    let body = app
        .gql(
            "query($id: ID!) { contract(id: $id) { budget { amountCents } } }",
            json!({ "id": contract }),
            Some(&client.access_token),
        )
        .await;
    let budget = body["data"]["contract"]["budget"]["amountCents"].as_i64().unwrap_or_else(|| panic!("{body}"));
    let funded = fund(app, client, contract, budget).await;
    assert!(funded["data"]["fundContract"].is_object(), "{funded}");
    for action in ["OPEN", "ACTIVATE"] {
        let body = app
            .gql(
                "mutation($i: ChangeContractStatusInput!) { changeContractStatus(input: $i) { status } }",
                json!({ "i": { "contractId": contract, "action": action } }),
                Some(&client.access_token),
            )
            .await;
        assert!(body["data"]["changeContractStatus"].is_object(), "{body}");
    }
}

pub(crate) async fn act(app: &TestApp, action: &str, task: &str, token: &str) -> Value {
    app.gql(&ACT.replace("TASK_ACTION", action), json!({ "i": { "taskId": task } }), Some(token)).await
}

/// The handle of a task's assignee (or `-`).
pub(crate) async fn view_assignee(app: &TestApp, task: &str, token: &str) -> String {
    view(app, task, token).await["assignee"]["handle"].as_str().unwrap_or("-").to_owned()
}

async fn view(app: &TestApp, task: &str, token: &str) -> Value {
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

fn history(task: &Value) -> Vec<(String, Option<String>)> {
    task["history"]
        .as_array()
        .unwrap_or_else(|| panic!("{task}"))
        .iter()
        .map(|h| (h["profile"]["handle"].as_str().unwrap().to_owned(), h["endReason"].as_str().map(str::to_owned)))
        .collect()
}

fn end(handle: &str, reason: Option<&str>) -> (String, Option<String>) {
    (handle.to_owned(), reason.map(str::to_owned))
}

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

#[tokio::test]
async fn lapsed_offers_and_overdue_work_are_swept_and_history_keeps_why() {
    let app = spawn_app().await;
    let mut ada = app.register("ada").await;
    worker(&app, "bob", json!([{ "skill": "design", "level": 5 }])).await;
    let mut cat = worker(&app, "cat", json!([{ "skill": "design", "level": 3 }])).await;
    let c = contract(&app, &ada, None, 10_000).await;
    let o = outcome(&app, &ada, &c, "Brand", 10_000, json!([{ "description": "Approved" }])).await;
    let due = app.clock_now() + chrono::Duration::days(3);
    let t = id(&task(
        &app,
        &ada,
        &o,
        json!({ "title": "Logo", "mode": "JUDGMENT", "skills": ["design"], "dueAt": due.to_rfc3339() }),
    )
    .await);
    activate(&app, &ada, &c).await;
    assert_eq!(view(&app, &t, &ada.access_token).await["assignee"]["handle"], "bob");

    // Nothing is due yet.
    assert_eq!(app.sweep().await, Default::default());
    // Bob lets the offer lapse: Cat is offered the task.
    app.clock.advance(chrono::Duration::hours(25));
    let report = app.sweep().await;
    assert_eq!((report.lapsed, report.overdue), (1, 0));
    (ada, cat) = (app.login(&ada).await, app.login(&cat).await);
    let v = view(&app, &t, &ada.access_token).await;
    assert_eq!((v["status"].as_str(), v["assignee"]["handle"].as_str()), (Some("OFFERED"), Some("cat")), "{v}");
    assert_eq!(app.sweep().await, Default::default(), "a second pass finds nothing");
    assert_eq!(
        act(&app, "acceptTaskOffer", &t, &cat.access_token).await["data"]["acceptTaskOffer"]["status"],
        "ASSIGNED"
    );

    // Cat lets the due date pass: the task is taken back; nobody new is left, so it stays OPEN.
    app.clock.advance(chrono::Duration::days(3));
    let report = app.sweep().await;
    assert_eq!((report.lapsed, report.overdue), (0, 1));
    (ada, cat) = (app.login(&ada).await, app.login(&cat).await);
    let v = view(&app, &t, &ada.access_token).await;
    assert_eq!((v["status"].as_str(), v["assignee"].is_null()), (Some("OPEN"), true), "{v}");
    assert_eq!(history(&v), [end("bob", Some("lapsed")), end("cat", Some("overdue"))]);
    assert_eq!(error_code(&view_err(&app, &t, &cat).await), "NOT_FOUND", "Cat lost sight of it");

    // The client reassigns by hand; someone given the task after its due date is not swept.
    let body = app
        .gql(
            "mutation($i: ReassignTaskInput!) { reassignTask(input: $i) { status assignee { handle } } }",
            json!({ "i": { "taskId": t, "profileId": cat.profile_id } }),
            Some(&ada.access_token),
        )
        .await;
    assert_eq!(body["data"]["reassignTask"], json!({ "status": "OFFERED", "assignee": { "handle": "cat" } }), "{body}");
    act(&app, "acceptTaskOffer", &t, &cat.access_token).await;
    app.clock.advance(chrono::Duration::days(1));
    assert_eq!(app.sweep().await, Default::default());
    let ada = app.login(&ada).await;
    let v = view(&app, &t, &ada.access_token).await;
    assert_eq!(history(&v).last(), Some(&end("cat", None)));
    assert_eq!(v["history"].as_array().map(|h| h[2]["reason"].clone()), Some(json!("reassigned")));
}

async fn view_err(app: &TestApp, task: &str, who: &TestUser) -> Value {
    app.gql(TASK, json!({ "id": task }), Some(&who.access_token)).await
}

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
#[ignore = "needs PostgreSQL: two instances sweeping one database"]
async fn two_instances_sweeping_at_once_handle_each_lapsed_offer_once() {
    let app = spawn_app().await;
    let ada = app.register("ada").await;
    for (i, handle) in ["p_one", "p_two", "p_three"].iter().enumerate() {
        worker(&app, handle, json!([{ "skill": "design", "level": 5 - i }])).await;
    }
    let c = contract(&app, &ada, None, 100_000).await;
    let o = outcome(&app, &ada, &c, "Many", 100_000, json!([{ "description": "Done" }])).await;
    let mut tasks = Vec::new();
    for n in 0..12 {
        tasks.push(id(&task(
            &app,
            &ada,
            &o,
            json!({ "title": format!("t{n}"), "mode": "JUDGMENT", "skills": ["design"] }),
        )
        .await));
    }
    activate(&app, &ada, &c).await;
    app.clock.advance(chrono::Duration::hours(25));
    let other = app.another_instance().await;
    let (a, b) = tokio::join!(
        semasocial::domain::task::sweep::run_once(&app.state),
        semasocial::domain::task::sweep::run_once(&other)
    );
    let (a, b) = (a.unwrap(), b.unwrap());
    assert_eq!(a.lapsed + b.lapsed, 12, "every lapsed offer handled exactly once: {a:?} {b:?}");
    assert_eq!(app.count("task_assignments WHERE end_reason = 'lapsed'").await, 12);
    assert_eq!(app.count("task_assignments WHERE ended_at IS NULL").await, 12, "one open offer per task");
}

#[tokio::test]
#[ignore = "needs PostgreSQL: a row lock held by another transaction"]
async fn a_contract_another_instance_is_sweeping_is_left_to_it_and_swept_on_the_next_pass() {
    use sea_orm::{ConnectionTrait, TransactionTrait};

    let app = spawn_app().await;
    let ada = app.register("ada").await;
    worker(&app, "p_one", json!([{ "skill": "design", "level": 5 }])).await;
    worker(&app, "p_two", json!([{ "skill": "design", "level": 4 }])).await;
    let c = contract(&app, &ada, None, 10_000).await;
    let o = outcome(&app, &ada, &c, "Brand", 10_000, json!([{ "description": "Approved" }])).await;
    task(&app, &ada, &o, json!({ "title": "Logo", "mode": "JUDGMENT", "skills": ["design"] })).await;
    activate(&app, &ada, &c).await;
    app.clock.advance(chrono::Duration::hours(25));

    // Another instance holds the contract (its sweep is under way): this pass leaves it alone.
    let other = app.state.db.begin().await.unwrap();
    other.execute_unprepared("SELECT id FROM contracts FOR UPDATE").await.unwrap();
    let report = app.sweep().await;
    assert_eq!(report.lapsed, 0, "{report:?}");
    assert_eq!(app.count("task_assignments WHERE ended_at IS NULL").await, 1, "the lapsed offer is untouched");
    other.rollback().await.unwrap();

    // Released, the contract is swept: the offer lapses and goes to the next candidate.
    assert_eq!(app.sweep().await.lapsed, 1);
    assert_eq!(app.count("task_assignments WHERE end_reason = 'lapsed'").await, 1);
    assert_eq!(app.count("task_assignments WHERE ended_at IS NULL").await, 1, "offered to p_two");
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
