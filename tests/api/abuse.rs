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
        .gql_http(
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
        let body = app.gql_http(query, json!({ "id": c }), Some(&narrow)).await;
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
    let listed = app.gql_http("{ claimableTasks { edges { node { id } } } }", json!({}), Some(&bob.access_token)).await;
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
    let body = app.gql_http("{ __schema { queryType { name } } }", json!({}), None).await;
    assert!(body["data"]["__schema"].is_null(), "introspection answered: {body}");
    let types = app.gql_http("{ __type(name: \"Contract\") { fields { name } } }", json!({}), None).await;
    assert!(types["data"]["__type"].is_null(), "type introspection answered: {types}");
    let page = app.client.get(format!("{}/graphql", app.address)).header("accept", "text/html").send().await.unwrap();
    let html = page.text().await.unwrap();
    assert!(!html.contains("graphiql"), "GraphiQL served: {html:.200}");
    let asset = app.client.get(format!("{}/graphiql/assets/graphiql.min.js", app.address)).send().await.unwrap();
    assert_eq!(asset.status(), 404, "GraphiQL's bundle served in production");
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
    let body = dev.gql_http("{ __schema { queryType { name } } }", json!({}), None).await;
    assert_eq!(body["data"]["__schema"]["queryType"]["name"], "Query");
    assert_eq!(dev.client.get(format!("{}/metrics", dev.address)).send().await.unwrap().status(), 200);
}

#[tokio::test]
async fn work_is_never_reassigned_to_an_unavailable_profile_and_a_task_is_reviewed_once() {
    let app = spawn_app().await;
    let ada = app.register("ada").await;
    let grace = app.register("grace").await;
    let bob = worker(&app, "bob", json!([{ "skill": "design", "level": 5 }])).await;
    let away = worker(&app, "away", json!([{ "skill": "design", "level": 5 }])).await;
    app.gql_http(
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
        .gql_http(
            "mutation($i: ReassignTaskInput!) { reassignTask(input: $i) { status } }",
            json!({ "i": { "taskId": t, "profileId": away.profile_id } }),
            Some(&ada.access_token),
        )
        .await;
    assert_eq!((error_code(&reassign), error_field(&reassign)), ("BAD_USER_INPUT", "profileId"), "{reassign}");

    act(&app, "acceptTaskOffer", &t, &bob.access_token).await;
    crate::work::submit(&app, &t, json!({ "text": "done" }), &bob.access_token).await;
    act(&app, "acceptTask", &t, &ada.access_token).await;
    let review = "mutation($i: ReviewTaskInput!) { reviewTask(input: $i) { subject { reputation { score } } } }";
    let first = app.gql_http(review, json!({ "i": { "taskId": t, "rating": 5 } }), Some(&ada.access_token)).await;
    // One accepted, on-time task and one 5-star review, each part smoothed by its prior
    // (one imagined good and one bad result): 5 × (0.4 × 2/3 + 0.3 × 2/3 + 0.3 × 2/3).
    assert_eq!(first["data"]["reviewTask"]["subject"]["reputation"]["score"], 3.33, "{first}");
    let second = app.gql_http(review, json!({ "i": { "taskId": t, "rating": 5 } }), Some(&grace.access_token)).await;
    assert_eq!(error_code(&second), "CONFLICT", "another admin cannot review the same work again: {second}");
    assert_eq!(app.count("reviews").await, 1);
}

#[tokio::test]
#[ignore = "needs PostgreSQL: accepting and withdrawing one proposal at once"]
async fn a_proposal_accepted_and_withdrawn_at_once_ends_one_way_only() {
    let app = spawn_app().await;
    let ada = app.register("ada").await;
    for round in 0..4 {
        let bob = app.register(&format!("bob{round}")).await;
        let gig = crate::gigs::create_gig(&app, &ada, json!({})).await;
        crate::gigs::publish(&app, &ada, &gig).await;
        let proposal = crate::gigs::propose(&app, &bob, &gig).await["data"]["submitProposal"]["id"].clone();
        let input = json!({ "i": { "proposalId": proposal } });
        let (accepted, withdrawn) = futures_util::join!(
            app.gql_http(
                "mutation($i: ProposalIdInput!) { acceptProposal(input: $i) { proposal { status } } }",
                input.clone(),
                Some(&ada.access_token)
            ),
            app.gql_http(
                "mutation($i: ProposalIdInput!) { withdrawProposal(input: $i) { status } }",
                input,
                Some(&bob.access_token)
            ),
        );
        let won = (accepted["data"]["acceptProposal"].is_object(), withdrawn["data"]["withdrawProposal"].is_object());
        assert!(won == (true, false) || won == (false, true), "{accepted} {withdrawn}");
        let state = app
            .gql_http(
                "query($id: ID!) { gig(id: $id) { status } proposal(id: $p) { status } }"
                    .replace("$p", &format!("\"{}\"", proposal.as_str().unwrap()))
                    .as_str(),
                json!({ "id": gig }),
                Some(&ada.access_token),
            )
            .await;
        let (gig_status, proposal_status) =
            (state["data"]["gig"]["status"].clone(), state["data"]["proposal"]["status"].clone());
        assert!(
            (gig_status == "FILLED" && proposal_status == "ACCEPTED")
                || (gig_status == "OPEN" && proposal_status == "WITHDRAWN"),
            "{state}"
        );
    }
}

#[tokio::test]
#[ignore = "needs PostgreSQL: a claim racing a cancellation"]
async fn a_claim_racing_a_cancellation_never_leaves_an_open_assignment_on_a_cancelled_task() {
    let app = spawn_app().await;
    let ada = app.register("ada").await;
    let oper = app.register("oper").await;
    let scopes = json!(["TASKS_READ", "TASKS_WRITE"]);
    let (_, bot) = agent(&app, &oper, "late_bot", json!([{ "skill": "etl", "level": 3 }]), scopes).await;
    for _ in 0..4 {
        let c = contract(&app, &ada, None, 10_000).await;
        let o = outcome(&app, &ada, &c, "Data", 10_000, json!([{ "description": "x" }])).await;
        // No agent has `rare` yet: the task stays OPEN, claimable once the bot learns it.
        let t =
            id(&task(&app, &ada, &o, json!({ "title": "ETL", "mode": "AUTOMATED", "skills": ["etl", "rare"] })).await);
        activate(&app, &ada, &c).await;
        app.gql_http(
            "mutation($i: SetSkillsInput!) { setMySkills(input: $i) { handle } }",
            json!({ "i": { "skills": [{ "skill": "etl", "level": 3 }, { "skill": "rare", "level": 3 }] } }),
            Some(&bot),
        )
        .await;
        let cancel = app.gql_http(
            "mutation($i: ChangeContractStatusInput!) { changeContractStatus(input: $i) { status } }",
            json!({ "i": { "contractId": c, "action": "CANCEL", "idempotencyKey": format!("cancel-{c}") } }),
            Some(&ada.access_token),
        );
        let (_, _) = futures_util::join!(cancel, act(&app, "claimTask", &t, &bot));
    }
    assert_eq!(
        app.count(
            "task_assignments a JOIN tasks t ON t.id = a.task_id WHERE t.status = 'CANCELLED' AND a.ended_at IS NULL"
        )
        .await,
        0
    );
    app.assert_ledger_sound().await;
}

#[tokio::test]
#[ignore = "needs PostgreSQL: one slug, two communities at once"]
async fn two_communities_with_one_slug_at_once_give_a_field_error_not_an_internal_one() {
    let app = spawn_app().await;
    let ada = app.register("ada").await;
    let bob = app.register("bob").await;
    let create = "mutation($i: CreateCommunityInput!) { createCommunity(input: $i) { id } }";
    let input = json!({ "i": { "slug": "rustaceans", "name": "Rust", "visibility": "PUBLIC" } });
    let (a, b) = futures_util::join!(
        app.gql_http(create, input.clone(), Some(&ada.access_token)),
        app.gql_http(create, input, Some(&bob.access_token)),
    );
    let codes = [error_code(&a), error_code(&b)];
    assert!(codes.contains(&"<no error>") && codes.contains(&"BAD_USER_INPUT"), "{a} {b}");
    assert!(error_field(&a) == "slug" || error_field(&b) == "slug");
}

#[tokio::test]
#[ignore = "needs PostgreSQL: two moderators deciding one join request at once"]
async fn one_join_request_decided_twice_at_once_is_decided_once() {
    let app = spawn_app().await;
    let ada = app.register("ada").await;
    let mod1 = app.register("modone").await;
    let eve = app.register("eve").await;
    let c = crate::communities::create_community(&app, &ada, "club", "PRIVATE").await;
    let request = crate::communities::join(&app, &mod1, &c).await["data"]["joinCommunity"]["joinRequest"]["id"].clone();
    let approve = "mutation($i: JoinRequestIdInput!) { approveJoinRequest(input: $i) { status } }";
    app.gql_http(approve, json!({ "i": { "requestId": request } }), Some(&ada.access_token)).await;
    app.gql_http(
        "mutation($i: SetCommunityRoleInput!) { setCommunityRole(input: $i) { role } }",
        json!({ "i": { "communityId": c, "profileId": mod1.profile_id, "role": "MODERATOR" } }),
        Some(&ada.access_token),
    )
    .await;
    let request = crate::communities::join(&app, &eve, &c).await["data"]["joinCommunity"]["joinRequest"]["id"].clone();
    let (a, r) = futures_util::join!(
        app.gql_http(approve, json!({ "i": { "requestId": request } }), Some(&ada.access_token)),
        app.gql_http(
            "mutation($i: JoinRequestIdInput!) { rejectJoinRequest(input: $i) { status } }",
            json!({ "i": { "requestId": request } }),
            Some(&mod1.access_token)
        ),
    );
    let decided = [a["data"]["approveJoinRequest"].is_object(), r["data"]["rejectJoinRequest"].is_object()];
    assert_eq!(decided.iter().filter(|d| **d).count(), 1, "{a} {r}");
    let members = app.count("community_members").await;
    assert_eq!(members, if decided[0] { 3 } else { 2 });
}

#[tokio::test]
async fn aliases_and_batches_buy_no_extra_login_or_mutation_attempts() {
    let app = spawn_app_with(|c| c.limits.mutations_per_minute = 5).await;
    let ada = app.register("ada").await;

    // Password spraying in one document: refused before any password is checked.
    let spray: String = (0..20)
        .map(|n| {
            format!("l{n}: login(input: {{ email: \"user{n}@example.com\", password: \"guess\" }}) {{ accessToken }} ")
        })
        .collect();
    let (status, body) = app.gql_status(&format!("mutation {{ {spray} }}"), json!({}), None).await;
    assert_eq!(status, 400, "a request error: {body}");
    assert_eq!(error_code(&body), "BAD_USER_INPUT", "{body}");
    // Nor across a batch, nor by registering twice to probe which emails exist.
    let register = |n: u32| json!({ "query": format!("mutation {{ register(input: {{ email: \"probe{n}@example.com\", password: \"correct horse battery\", handle: \"probe{n}\", displayName: \"p\" }}) {{ accessToken }} }}") });
    let batch = app
        .client
        .post(format!("{}/graphql", app.address))
        .json(&json!([register(1), register(2)]))
        .send()
        .await
        .unwrap();
    let batch: serde_json::Value = batch.json().await.unwrap();
    assert_eq!(error_code(&batch), "BAD_USER_INPUT", "{batch}");
    assert_eq!(app.count("users").await, 1, "nobody was registered");

    // Six aliased mutations against a limit of five: refused whole, nothing ran.
    let edits: String =
        (0..6).map(|n| format!("e{n}: updateMyProfile(input: {{ headline: \"spam {n}\" }}) {{ headline }} ")).collect();
    let (status, body) = app.gql_status(&format!("mutation {{ {edits} }}"), json!({}), Some(&ada.access_token)).await;
    assert_eq!((status.as_u16(), error_code(&body)), (429, "RATE_LIMITED"), "{body}");
    let me = app.gql_http("{ me { profile { headline } } }", json!({}), Some(&ada.access_token)).await;
    assert!(me["data"]["me"]["profile"]["headline"].is_null(), "{me}");
}

#[tokio::test]
async fn a_stranger_elsewhere_cannot_lock_a_person_out() {
    let app = spawn_app().await;
    let ada = app.register("ada").await;
    let stranger: std::net::IpAddr = "203.0.113.66".parse().unwrap();
    let home: std::net::IpAddr = "198.51.100.7".parse().unwrap();
    let mut limited = false;
    for _ in 0..12 {
        let attempt = semasocial::domain::account::login(&app.state, &ada.email, "wrong guess", Some(stranger)).await;
        limited |= matches!(attempt, Err(semasocial::error::AppError::RateLimited(_)));
    }
    assert!(limited, "the stranger's own attempts are limited");
    let mine = semasocial::domain::account::login(&app.state, &ada.email, crate::helpers::PASSWORD, Some(home)).await;
    assert!(mine.is_ok(), "ada still signs in from home: {:?}", mine.err());
}

#[tokio::test]
async fn a_query_costs_its_page_sizes_and_a_batch_shares_one_budget() {
    let app = spawn_app().await;
    let ada = app.register("ada").await;
    let c = crate::communities::create_community(&app, &ada, "rustaceans", "PUBLIC").await;
    let nested = |n: u32| {
        format!(
            "query($c: ID!) {{ community(id: $c) {{ posts(first: {n}) {{ edges {{ node {{ comments(first: {n}) {{ edges {{ node {{ body }} }} }} }} }} }} }} }}"
        )
    };
    let small = app.gql_http(&nested(5), json!({ "c": c }), Some(&ada.access_token)).await;
    assert!(small.get("errors").is_none(), "{small}");
    let (status, large) = app.gql_status(&nested(50), json!({ "c": c }), Some(&ada.access_token)).await;
    assert_eq!(status, 200, "application/json keeps 200 for request errors: {large}");
    assert!(
        large["data"].is_null() && large["errors"][0]["message"].as_str().unwrap_or_default().contains("omplex"),
        "{large}"
    );

    // Ten operations of about 250 each: together they pass the limit of 1 000.
    let page = json!({ "query": "{ profiles(first: 50) { edges { node { handle displayName headline } } } }" });
    let batch = app
        .client
        .post(format!("{}/graphql", app.address))
        .bearer_auth(&ada.access_token)
        .json(&vec![page; 10])
        .send()
        .await
        .unwrap();
    let batch: serde_json::Value = batch.json().await.unwrap();
    let items = batch.as_array().unwrap_or_else(|| panic!("{batch}"));
    let refused = items.iter().filter(|r| r["errors"].is_array()).count();
    assert!(items[0]["errors"].is_null(), "the first operations run: {batch}");
    assert!(refused >= 6, "the batch shares one budget: {batch}");
}

#[tokio::test]
async fn a_panic_answers_internal_json_not_a_dropped_connection() {
    // The production layer, around a handler that panics (no production route panics on purpose).
    let router: axum::Router =
        axum::Router::new().route("/boom", axum::routing::get(boom)).layer(semasocial::http::catch_panics());
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let address = listener.local_addr().unwrap();
    tokio::spawn(async move { axum::serve(listener, router).await.ok() });
    let response = reqwest::get(format!("http://{address}/boom")).await.unwrap();
    assert_eq!(response.status(), 500);
    let body: serde_json::Value = response.json().await.unwrap();
    assert_eq!(body["errors"][0]["extensions"]["code"], "INTERNAL", "{body}");
    assert!(!body.to_string().contains("resolver bug"), "the cause is logged, never sent");
}

async fn boom() -> &'static str {
    panic!("resolver bug")
}

#[tokio::test]
async fn logins_from_one_address_are_limited_whatever_accounts_they_try() {
    let app = spawn_app_with(|c| c.limits.login_attempts_per_ip = 3).await;
    let login = "mutation($i: LoginInput!) { login(input: $i) { accessToken } }";
    let mut codes = Vec::new();
    for n in 0..4 {
        let (status, body) = app
            .gql_status(login, json!({ "i": { "email": format!("victim{n}@example.com"), "password": "guess" } }), None)
            .await;
        codes.push((status.as_u16(), error_code(&body).to_owned()));
    }
    assert_eq!(codes[..3].iter().filter(|(_, c)| c == "UNAUTHENTICATED").count(), 3, "{codes:?}");
    assert_eq!(codes[3], (429, "RATE_LIMITED".to_owned()), "spraying many accounts from one address stops");
}
