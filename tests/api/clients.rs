//! What mainstream clients and tools rely on: standard introspection, codes on every error,
//! automatic persisted queries, conventional root type names, `Retry-After`.
use reqwest::StatusCode;
use serde_json::{Value, json};
use sha2::{Digest, Sha256};

use crate::helpers::{TestApp, error_code, spawn_app, spawn_app_with};

const GRAPHQL_RESPONSE: &str = "application/graphql-response+json";

/// graphql-js `getIntrospectionQuery` with every option on (descriptions, specifiedByUrl,
/// directiveIsRepeatable, schemaDescription, inputValueDeprecation, oneOf): what GraphiQL,
/// graphql-codegen and urql send.
const INTROSPECTION: &str = include_str!("../fixtures/introspection_all_options.graphql");

async fn post(app: &TestApp, body: Value) -> (StatusCode, Value) {
    let response = app
        .client
        .post(format!("{}/graphql", app.address))
        .header("accept", GRAPHQL_RESPONSE)
        .json(&body)
        .send()
        .await
        .unwrap();
    (response.status(), response.json().await.unwrap())
}

fn sha256(query: &str) -> String {
    hex::encode(Sha256::digest(query.as_bytes()))
}

fn persisted(hash: &str) -> Value {
    json!({ "persistedQuery": { "version": 1, "sha256Hash": hash } })
}

/// Asserts every error of a body has a code and no placeholder location; returns the codes.
fn codes(body: &Value) -> Vec<String> {
    let errors = body["errors"].as_array().unwrap_or_else(|| panic!("no errors: {body}"));
    errors
        .iter()
        .map(|e| {
            if let Some(locations) = e.get("locations") {
                for loc in locations.as_array().unwrap() {
                    assert!(loc["line"].as_u64().unwrap() >= 1 && loc["column"].as_u64().unwrap() >= 1, "{body}");
                }
            }
            e["extensions"]["code"].as_str().unwrap_or_else(|| panic!("an error without a code: {body}")).to_owned()
        })
        .collect()
}

#[tokio::test]
async fn the_standard_introspection_query_with_every_option_is_answered() {
    let app = spawn_app().await;
    let (status, body) = post(&app, json!({ "query": INTROSPECTION, "operationName": "IntrospectionQuery" })).await;
    assert_eq!(status, StatusCode::OK, "{body}");
    assert!(body.get("errors").is_none(), "{body}");
    let schema = &body["data"]["__schema"];
    assert_eq!(schema["queryType"]["name"], "Query");
    assert_eq!(schema["mutationType"]["name"], "Mutation");
    assert_eq!(schema["subscriptionType"]["name"], "Subscription");
    let types = schema["types"].as_array().unwrap();
    let date_time = types.iter().find(|t| t["name"] == "DateTime").unwrap();
    assert_eq!(date_time["specifiedByURL"], "https://datatracker.ietf.org/doc/html/rfc3339");
    assert!(date_time["description"].as_str().unwrap().contains("RFC 3339"), "{date_time}");
    let contract = types.iter().find(|t| t["name"] == "Contract").unwrap();
    assert!(contract["fields"].as_array().unwrap().iter().any(|f| f["name"] == "outcomes"), "{contract}");
}

#[tokio::test]
async fn introspection_that_nests_member_lists_is_refused_with_a_code() {
    let app = spawn_app().await;
    // Each `fields` level multiplies the answer by every type's fields.
    let bomb = "{ __schema { types { fields { type { fields { type { fields { type { fields { name } } } } } } } } } }";
    let (status, body) = post(&app, json!({ "query": bomb })).await;
    assert_eq!(status, StatusCode::BAD_REQUEST, "{body}");
    assert_eq!(codes(&body), ["QUERY_TOO_DEEP"]);
    // The same through fragments, and through interfaces / possibleTypes.
    let fragments = "{ __type(name: \"Query\") { ...A } } fragment A on __Type { interfaces { ...B } } \
                     fragment B on __Type { possibleTypes { ...C } } fragment C on __Type { fields { type { inputFields { name } } } }";
    let (status, body) = post(&app, json!({ "query": fragments })).await;
    assert_eq!(status, StatusCode::BAD_REQUEST, "{body}");
    assert_eq!(codes(&body), ["QUERY_TOO_DEEP"]);
    // Three levels are what tools use, and pass.
    let three = "{ __schema { types { fields { type { fields { type { fields { name } } } } } } } }";
    let (status, body) = post(&app, json!({ "query": three })).await;
    assert_eq!(status, StatusCode::OK, "{body}");
}

#[tokio::test]
async fn deep_and_complex_operations_over_real_types_are_refused_with_codes() {
    let app = spawn_app_with(|c| c.limits.max_depth = 4).await;
    let deep = "{ me { organizations { organization { members { edges { node { profile { handle } } } } } } } }";
    let (status, body) = post(&app, json!({ "query": deep })).await;
    assert_eq!(status, StatusCode::BAD_REQUEST, "{body}");
    assert_eq!(codes(&body), ["QUERY_TOO_DEEP"]);
    // Hidden in fragments it is just as deep.
    let hidden = "{ me { ...M } } fragment M on Me { organizations { organization { ...O } } } \
                  fragment O on Organization { members { edges { node { profile { handle } } } } }";
    let (_, body) = post(&app, json!({ "query": hidden })).await;
    assert_eq!(codes(&body), ["QUERY_TOO_DEEP"]);
    // Introspection fields on the way do not hide depth over real types either.
    let (status, body) =
        post(&app, json!({ "query": "{ __typename profiles(first: 1) { __typename nodes { handle } } }" })).await;
    assert_eq!(status, StatusCode::OK, "{body}");

    let app = spawn_app_with(|c| c.limits.max_complexity = 20).await;
    let aliases: String = (0..30).map(|i| format!("a{i}: profile(handle: \"x\") {{ handle }} ")).collect();
    let (status, body) = post(&app, json!({ "query": format!("{{ {aliases} }}") })).await;
    assert_eq!(status, StatusCode::BAD_REQUEST, "{body}");
    assert_eq!(codes(&body), ["QUERY_TOO_COMPLEX"]);
    // A batch spends one budget.
    let half: String = (0..6).map(|i| format!("a{i}: profile(handle: \"x\") {{ handle }} ")).collect();
    let batch = json!([{ "query": format!("{{ {half} }}") }, { "query": format!("{{ {half} }}") }]);
    let (_, body) = post(&app, batch).await;
    assert!(body[0].get("errors").is_none(), "{body}");
    assert_eq!(codes(&body[1]), ["QUERY_TOO_COMPLEX"]);
}

#[tokio::test]
async fn every_request_error_carries_a_code_and_no_placeholder_location() {
    let app = spawn_app().await;
    let cases = [
        (json!({ "query": "{ me { " }), "GRAPHQL_PARSE_FAILED"),
        (json!({ "query": "{ nope }" }), "GRAPHQL_VALIDATION_FAILED"),
        (
            json!({ "query": "query($n: Int!) { profiles(first: $n) { nodes { handle } } }" }),
            "GRAPHQL_VALIDATION_FAILED",
        ),
        (
            json!({ "query": "query($n: Int!) { profiles(first: $n) { nodes { handle } } }", "variables": { "n": "ten" } }),
            "GRAPHQL_VALIDATION_FAILED",
        ),
        (json!({ "query": "subscription { notifications { id } }" }), "OPERATION_NOT_SUPPORTED"),
        (json!({ "query": "{ a: __typename } { b: __typename }" }), "GRAPHQL_PARSE_FAILED"),
        (json!({ "query": "query A { __typename }", "operationName": "B" }), "GRAPHQL_VALIDATION_FAILED"),
        (json!({ "variables": {} }), "BAD_USER_INPUT"),
    ];
    for (request, code) in cases {
        let (status, body) = post(&app, request.clone()).await;
        assert_eq!(status, StatusCode::BAD_REQUEST, "{request} → {body}");
        assert!(codes(&body).iter().all(|c| c == code), "{request} → {body}");
        assert!(body.get("data").is_none(), "a request error has no data: {body}");
    }
    // A parse error points at the place in the document.
    let (_, body) = post(&app, json!({ "query": "{ me { " })).await;
    assert!(body["errors"][0]["locations"][0]["line"].as_u64().is_some(), "{body}");
}

#[tokio::test]
async fn the_root_types_have_the_conventional_names() {
    let app = spawn_app().await;
    let user = app.register("ada").await;
    let body = app.gql_http("{ __typename }", json!({}), None).await;
    assert_eq!(body["data"]["__typename"], "Query");
    let body = app
        .gql_http(
            "mutation { __typename markNotificationsRead(input: { all: true }) { marked } }",
            json!({}),
            Some(&user.access_token),
        )
        .await;
    assert_eq!(body["data"]["__typename"], "Mutation", "{body}");
}

#[tokio::test]
async fn an_unknown_persisted_query_asks_for_the_query_and_a_registered_one_runs_by_hash() {
    let app = spawn_app().await;
    let query = "query Hello { __typename }";
    let hash = sha256(query);

    // Hash only, unknown: the code Apollo's persisted-query link falls back on.
    let (status, body) = post(&app, json!({ "extensions": persisted(&hash) })).await;
    assert_eq!(status, StatusCode::BAD_REQUEST, "{body}");
    assert_eq!(codes(&body), ["PERSISTED_QUERY_NOT_FOUND"]);
    assert_eq!(body["errors"][0]["message"], "PersistedQueryNotFound");
    // Plain JSON clients get it with 200, like any request error.
    let response = app
        .client
        .post(format!("{}/graphql", app.address))
        .json(&json!({ "extensions": persisted(&hash) }))
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), StatusCode::OK);

    // A hash that is not the query's registers nothing.
    let (_, body) = post(&app, json!({ "query": "{ __typename }", "extensions": persisted(&hash) })).await;
    assert_eq!(codes(&body), ["PERSISTED_QUERY_HASH_MISMATCH"]);
    let (_, body) = post(&app, json!({ "extensions": persisted(&hash) })).await;
    assert_eq!(codes(&body), ["PERSISTED_QUERY_NOT_FOUND"]);

    // Query and hash: runs and registers.
    let (status, body) = post(&app, json!({ "query": query, "extensions": persisted(&hash) })).await;
    assert_eq!((status, &body["data"]["__typename"]), (StatusCode::OK, &json!("Query")), "{body}");
    // Then the hash alone runs it, over POST and over GET.
    let (status, body) = post(&app, json!({ "extensions": persisted(&hash) })).await;
    assert_eq!((status, &body["data"]["__typename"]), (StatusCode::OK, &json!("Query")), "{body}");
    let response = app
        .client
        .get(format!("{}/graphql", app.address))
        .query(&[("extensions", persisted(&hash).to_string())])
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), StatusCode::OK);
    let body: Value = response.json().await.unwrap();
    assert_eq!(body["data"]["__typename"], "Query", "{body}");

    // A persisted mutation is still refused over GET.
    let mutation = "mutation { logout(input: { refreshToken: \"x\" }) }";
    let (_, body) = post(&app, json!({ "query": mutation, "extensions": persisted(&sha256(mutation)) })).await;
    assert_eq!(error_code(&body), "UNAUTHENTICATED", "{body}");
    let response = app
        .client
        .get(format!("{}/graphql", app.address))
        .query(&[("extensions", persisted(&sha256(mutation)).to_string())])
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), StatusCode::METHOD_NOT_ALLOWED);

    // Malformed persisted-query extensions name the field at fault.
    for (extensions, field) in [
        (json!({ "persistedQuery": { "version": 2, "sha256Hash": hash } }), "extensions.persistedQuery.version"),
        (json!({ "persistedQuery": { "version": 1, "sha256Hash": "abc" } }), "extensions.persistedQuery.sha256Hash"),
    ] {
        let (status, body) = post(&app, json!({ "extensions": extensions })).await;
        assert_eq!(status, StatusCode::BAD_REQUEST, "{body}");
        assert_eq!(
            (codes(&body)[0].as_str(), &body["errors"][0]["extensions"]["field"]),
            ("BAD_USER_INPUT", &json!(field))
        );
    }
}

#[tokio::test]
#[ignore = "needs Redis (TEST_REDIS_URL): instances share persisted queries through it"]
async fn a_query_persisted_on_one_instance_runs_by_hash_on_another() {
    let app = spawn_app().await;
    assert!(app.state.redis.is_some(), "TEST_REDIS_URL must be set");
    let (_, other_port) = app.serve_another_instance().await;
    let query = "query Shared { __typename }";
    let hash = sha256(query);
    let (_, body) = post(&app, json!({ "query": query, "extensions": persisted(&hash) })).await;
    assert_eq!(body["data"]["__typename"], "Query", "{body}");
    let response = app
        .client
        .post(format!("http://127.0.0.1:{other_port}/graphql"))
        .json(&json!({ "extensions": persisted(&hash) }))
        .send()
        .await
        .unwrap();
    let body: Value = response.json().await.unwrap();
    assert_eq!(body["data"]["__typename"], "Query", "{body}");
}

#[tokio::test]
async fn a_rate_limited_request_says_when_to_retry_in_a_header() {
    let app = spawn_app_with(|c| c.limits.mutations_per_minute = 1).await;
    let logout = json!({ "query": "mutation { logout(input: { refreshToken: \"x\" }) }" });
    let first = app.client.post(format!("{}/graphql", app.address)).json(&logout).send().await.unwrap();
    assert_eq!(first.status(), StatusCode::OK);
    assert!(first.headers().get("retry-after").is_none());
    let refused = app.client.post(format!("{}/graphql", app.address)).json(&logout).send().await.unwrap();
    assert_eq!(refused.status(), StatusCode::TOO_MANY_REQUESTS);
    let header: u64 = refused.headers()["retry-after"].to_str().unwrap().parse().unwrap();
    let body: Value = refused.json().await.unwrap();
    assert_eq!(codes(&body), ["RATE_LIMITED"]);
    assert_eq!(body["errors"][0]["extensions"]["retryAfter"], json!(header));
    assert!((1..=60).contains(&header), "{header}");
}

#[tokio::test]
async fn the_caller_and_memberships_have_stable_ids_of_their_own() {
    let app = spawn_app().await;
    let ada = app.register("ada").await;
    let grace = app.register("grace").await;
    let org = crate::organizations::create_org(&app, &ada, "acme").await;
    crate::organizations::add(&app, &ada, &org, "grace", "ADMIN").await;
    let query = "{ me { id profile { id } organizations { id role organization { id } profile { id } } } }";
    let first = app.gql_http(query, json!({}), Some(&ada.access_token)).await;
    let again = app.gql_http(query, json!({}), Some(&ada.access_token)).await;
    assert_eq!(first, again, "ids change between requests");
    let me = &first["data"]["me"];
    assert!(me["id"].is_string() && me["id"] != me["profile"]["id"], "{first}");
    let membership = &me["organizations"][0];
    assert!(membership["id"].is_string(), "{first}");
    assert!(membership["id"] != membership["organization"]["id"] && membership["id"] != me["profile"]["id"], "{first}");
    // Another member's view of the same organization: another membership, another id.
    let theirs = app.gql_http(query, json!({}), Some(&grace.access_token)).await;
    let theirs = &theirs["data"]["me"];
    assert_ne!(theirs["id"], me["id"]);
    assert_eq!(theirs["organizations"][0]["organization"]["id"], membership["organization"]["id"]);
    assert_ne!(theirs["organizations"][0]["id"], membership["id"]);
}

const NODE: &str = "query($id: ID!) { node(id: $id) { __typename id ... on Profile { handle } ... on Gig { title } ... on Contract { title } ... on Community { slug } } }";

#[tokio::test]
async fn node_refetches_each_kind_by_its_id_as_its_own_query_would_and_hides_the_rest() {
    let app = spawn_app().await;
    let ada = app.register("ada").await;
    let bob = app.register("bob").await;
    let community = crate::communities::create_community(&app, &ada, "rustaceans", "PUBLIC").await;
    let draft = crate::gigs::create_gig(&app, &ada, json!({ "title": "Secret plan" })).await;
    let contract = crate::work::contract(&app, &ada, None, 10_000).await;
    let node = |id: &str, token: Option<&str>| {
        let (id, token) = (id.to_owned(), token.map(str::to_owned));
        let app = &app;
        async move {
            let body = app.gql_http(NODE, json!({ "id": id }), token.as_deref()).await;
            assert!(body.get("errors").is_none(), "{body}");
            body["data"]["node"].clone()
        }
    };

    // Each kind by its id alone, typed, with the id it was asked by.
    let me = node(&ada.profile_id, None).await;
    assert_eq!(me, json!({ "__typename": "Profile", "id": ada.profile_id, "handle": "ada" }));
    assert_eq!(node(&community, None).await["slug"], "rustaceans");
    assert_eq!(node(&draft, Some(&ada.access_token)).await["__typename"], "Gig");
    let own = node(&contract, Some(&ada.access_token)).await;
    assert_eq!((own["__typename"].as_str(), own["id"].as_str()), (Some("Contract"), Some(contract.as_str())));

    // What its own query refuses reads as no such object, without an error that would tell
    // it exists: another user's draft gig and contract, anonymous callers, unknown ids.
    assert_eq!(node(&draft, Some(&bob.access_token)).await, Value::Null);
    assert_eq!(node(&draft, None).await, Value::Null);
    assert_eq!(node(&contract, Some(&bob.access_token)).await, Value::Null);
    assert_eq!(node(&uuid::Uuid::new_v4().to_string(), Some(&ada.access_token)).await, Value::Null);

    // nodes: same order, a null for each miss, in one request.
    let body = app
        .gql_http(
            "query($ids: [ID!]!) { nodes(ids: $ids) { __typename id } }",
            json!({ "ids": [community, draft, ada.profile_id] }),
            Some(&bob.access_token),
        )
        .await;
    assert_eq!(
        body["data"]["nodes"],
        json!([{ "__typename": "Community", "id": community }, null, { "__typename": "Profile", "id": ada.profile_id }])
    );

    // Bad input names its field; more than 20 ids are refused before any lookup.
    let body = app.gql_http(NODE, json!({ "id": "not-an-id" }), None).await;
    assert_eq!((error_code(&body), body["errors"][0]["extensions"]["field"].as_str()), ("BAD_USER_INPUT", Some("id")));
    let many: Vec<String> = (0..21).map(|_| uuid::Uuid::new_v4().to_string()).collect();
    let (body, statements) =
        app.execute("query($ids: [ID!]!) { nodes(ids: $ids) { id } }", json!({ "ids": many }), None).await;
    assert_eq!((error_code(&body), body["errors"][0]["extensions"]["field"].as_str()), ("BAD_USER_INPUT", Some("ids")));
    assert_eq!(statements, 0);
}

#[tokio::test]
async fn the_schema_declares_node_on_the_refetchable_types() {
    let app = spawn_app().await;
    let body = app.gql_http(r#"{ __type(name: "Node") { kind possibleTypes { name } } }"#, json!({}), None).await;
    let mut names: Vec<&str> = body["data"]["__type"]["possibleTypes"]
        .as_array()
        .unwrap()
        .iter()
        .map(|t| t["name"].as_str().unwrap())
        .collect();
    names.sort_unstable();
    assert_eq!(body["data"]["__type"]["kind"], "INTERFACE");
    assert_eq!(names, ["Community", "Contract", "Event", "Gig", "Organization", "Post", "Profile", "Proposal", "Task"]);
}

/// Objects embedded in their parent and never refetched on their own: amounts, counts, sums,
/// mutation payloads. The README gives Apollo Client `merge: true` for them; every other
/// object has an id a normalized cache can key it by.
const VALUE_OBJECTS: &[&str] = &[
    "SubmissionProvenance",
    "AcceptProposalPayload",
    "AuthPayload",
    "Balance",
    "BudgetSummary",
    "ContractEarnings",
    "ContractStatusCount",
    "CreatedApiKey",
    "CreatedWebhookEndpoint",
    "Decomposition",
    "Earnings",
    "Escrow",
    "FundingResult",
    "IssuedAgentToken",
    "JoinCommunityPayload",
    "MarkNotificationsReadPayload",
    "MetricValue",
    "Money",
    "NotificationMailPreference",
    "PayoutAccount",
    "PayoutAccountOnboarding",
    "PeriodEarnings",
    "Reputation",
    "Skill",
    "TaskDraft",
    "TaskStatusCount",
    "WorkDashboard",
    "WorkSummary",
    "WorkerEarnings",
];

#[tokio::test]
async fn every_object_type_has_an_id_unless_it_is_a_declared_value_object() {
    let app = spawn_app().await;
    let body = app
        .gql_http("{ __schema { types { name kind fields { name type { kind ofType { name } } } } } }", json!({}), None)
        .await;
    let mut keyed = 0;
    for t in body["data"]["__schema"]["types"].as_array().unwrap_or_else(|| panic!("{body}")) {
        let name = t["name"].as_str().unwrap();
        let structural = name.starts_with("__")
            || name.ends_with("Connection")
            || name.ends_with("Edge")
            || ["Query", "Mutation", "Subscription", "PageInfo"].contains(&name);
        if t["kind"] != "OBJECT" || structural {
            continue;
        }
        let has_id = t["fields"]
            .as_array()
            .unwrap()
            .iter()
            .any(|f| f["name"] == "id" && f["type"]["kind"] == "NON_NULL" && f["type"]["ofType"]["name"] == "ID");
        assert!(has_id != VALUE_OBJECTS.contains(&name), "{name}: id {has_id}, declared a value object: {}", !has_id);
        keyed += usize::from(has_id);
    }
    assert!(keyed >= 30, "only {keyed} keyed types");
}

#[tokio::test]
async fn criteria_checks_candidates_and_dashboards_keep_their_ids_across_requests() {
    let app = spawn_app().await;
    let ada = app.register("ada").await;
    let bob = app.register("bob").await;
    app.gql_http(
        "mutation($i: SetSkillsInput!) { setMySkills(input: $i) { handle } }",
        json!({ "i": { "skills": [{ "skill": "writing", "level": 4 }] } }),
        Some(&bob.access_token),
    )
    .await;
    let contract = crate::work::contract(&app, &ada, None, 10_000).await;
    let criteria = json!([{ "description": "reviewed" }, { "description": "fast", "metric": "p95", "comparator": "<=", "target": 2.0 }]);
    let outcome = crate::work::outcome(&app, &ada, &contract, "Docs", 10_000, criteria).await;
    crate::work::task(&app, &ada, &outcome, json!({ "title": "Write", "mode": "JUDGMENT", "skills": ["writing"] }))
        .await;
    let query = "query($id: ID!) { contract(id: $id) { dashboard { id } outcomes { id criteria { id description } tasks { id candidates { id profile { id } } } } } }";
    let first = app.gql_http(query, json!({ "id": contract }), Some(&ada.access_token)).await;
    let again = app.gql_http(query, json!({ "id": contract }), Some(&ada.access_token)).await;
    assert_eq!(first, again, "ids change between requests");
    let found = &first["data"]["contract"];
    assert_eq!(found["dashboard"]["id"], format!("ContractDashboard:{contract}"), "{first}");
    let outcome = &found["outcomes"][0];
    let criteria: Vec<&str> =
        outcome["criteria"].as_array().unwrap().iter().map(|c| c["id"].as_str().unwrap()).collect();
    assert!(!criteria.is_empty(), "{first}");
    let mut unique = criteria.clone();
    unique.dedup();
    assert_eq!(unique.len(), criteria.len(), "two criteria share an id: {criteria:?}");
    assert!(criteria.iter().all(|id| id.starts_with(&format!("Criterion:{}:", outcome["id"].as_str().unwrap()))));
    let task = &outcome["tasks"][0];
    let candidate = &task["candidates"][0];
    assert_eq!(
        candidate["id"],
        format!("TaskCandidate:{}:{}", task["id"].as_str().unwrap(), candidate["profile"]["id"].as_str().unwrap()),
        "{first}"
    );
}
