//! GraphQL over HTTP at the wire: methods, media types, status codes, limits, operations.
use reqwest::StatusCode;
use serde_json::{Value, json};

use crate::helpers::{error_code, spawn_app, spawn_app_with};

const GRAPHQL_RESPONSE: &str = "application/graphql-response+json";

#[tokio::test]
async fn a_mutation_over_get_is_refused_with_405_and_runs_nothing() {
    let app = spawn_app().await;
    let query = "mutation { register(input: { email: \"a@b.co\", password: \"0123456789\", handle: \"ada\", displayName: \"A\" }) { accessToken } }";
    let response = app.client.get(format!("{}/graphql", app.address)).query(&[("query", query)]).send().await.unwrap();
    assert_eq!(response.status(), StatusCode::METHOD_NOT_ALLOWED);
    assert_eq!(response.headers()["allow"], "POST");
    let body: Value = response.json().await.unwrap();
    assert_eq!(error_code(&body), "BAD_USER_INPUT");
    assert_eq!(app.count("users").await, 0);
}

#[tokio::test]
async fn a_query_over_get_works() {
    let app = spawn_app().await;
    let response = app
        .client
        .get(format!("{}/graphql", app.address))
        .query(&[("query", "query Q($h: String!) { profile(handle: $h) { handle } }"), ("variables", "{\"h\":\"x\"}")])
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), StatusCode::OK);
    let body: Value = response.json().await.unwrap();
    assert_eq!(body, json!({ "data": { "profile": null } }));
}

#[tokio::test]
async fn simple_cross_site_bodies_are_refused() {
    let app = spawn_app().await;
    let mutation = r#"{"query":"mutation { createOrganization(input: {slug: \"x-co\", name: \"X\"}) { id } }"}"#;
    for content_type in [
        "text/plain",
        "application/x-www-form-urlencoded",
        "multipart/form-data; boundary=x",
        "application/json; charset=latin1",
    ] {
        let response = app
            .client
            .post(format!("{}/graphql", app.address))
            .header("content-type", content_type)
            .body(mutation)
            .send()
            .await
            .unwrap();
        assert_eq!(response.status(), StatusCode::UNSUPPORTED_MEDIA_TYPE, "{content_type}");
        let body: Value = response.json().await.unwrap();
        assert_eq!(error_code(&body), "BAD_USER_INPUT");
    }
    let response = app.client.post(format!("{}/graphql", app.address)).body(mutation).send().await.unwrap();
    assert_eq!(response.status(), StatusCode::BAD_REQUEST, "no content type at all");
}

#[tokio::test]
async fn malformed_json_gets_a_graphql_error_body_not_a_debug_string() {
    let app = spawn_app().await;
    let response = app
        .client
        .post(format!("{}/graphql", app.address))
        .header("content-type", "application/json")
        .body("{ \"query\": ")
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), StatusCode::BAD_REQUEST);
    assert!(response.headers()["content-type"].to_str().unwrap().starts_with("application/json"));
    let body: Value = response.json().await.unwrap();
    assert_eq!(error_code(&body), "BAD_USER_INPUT");
    assert_eq!(body["errors"][0]["extensions"]["field"], "body");
    let message = body["errors"][0]["message"].as_str().unwrap();
    assert!(!message.contains("Error {") && !message.contains("Syntax("), "{message}");
    // It names where, not the parser's internals; a request error has no placeholder location.
    assert_eq!(message, "the request body is not valid JSON (line 1, column 11)");
    assert!(body["errors"][0].get("locations").is_none(), "{body}");
}

async fn post_with_accept(app: &crate::helpers::TestApp, accept: &str, query: &str) -> (StatusCode, String, Value) {
    let response = app
        .client
        .post(format!("{}/graphql", app.address))
        .header("content-type", "application/json")
        .header("accept", accept)
        .json(&json!({ "query": query }))
        .send()
        .await
        .unwrap();
    let status = response.status();
    let content_type = response.headers()["content-type"].to_str().unwrap().to_owned();
    (status, content_type, response.json().await.unwrap())
}

#[tokio::test]
async fn status_codes_follow_the_negotiated_media_type() {
    let app = spawn_app().await;
    // Validation error: 400 without data for graphql-response+json, 200 for application/json.
    let (status, content_type, body) = post_with_accept(&app, GRAPHQL_RESPONSE, "{ noSuchField }").await;
    assert_eq!(status, StatusCode::BAD_REQUEST);
    assert!(content_type.starts_with(GRAPHQL_RESPONSE));
    assert!(body.get("data").is_none(), "{body}");
    let (status, content_type, _) = post_with_accept(&app, "application/json", "{ noSuchField }").await;
    assert_eq!(status, StatusCode::OK);
    assert!(content_type.starts_with("application/json"));
    // A field error during execution is still a 200 with partial data.
    let (status, _, body) = post_with_accept(&app, GRAPHQL_RESPONSE, "{ me { isAgent } }").await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(error_code(&body), "UNAUTHENTICATED");
    assert!(body["errors"][0]["path"].is_array());
    // Nothing acceptable: 406.
    let (status, _, _) = post_with_accept(&app, "text/csv", "{ __typename }").await;
    assert_eq!(status, StatusCode::NOT_ACCEPTABLE);
}

#[tokio::test]
async fn graphiql_is_served_to_browsers_from_the_server_itself_under_a_strict_content_policy() {
    let app = spawn_app().await;
    let response = app
        .client
        .get(format!("{}/graphql", app.address))
        .header("accept", "text/html,application/xhtml+xml")
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), StatusCode::OK);
    assert!(response.headers()["content-type"].to_str().unwrap().starts_with("text/html"));
    let policy = response.headers()["content-security-policy"].to_str().unwrap().to_owned();
    for directive in ["default-src 'none'", "script-src 'self'", "connect-src 'self'", "frame-ancestors 'none'"] {
        assert!(policy.contains(directive), "{directive} missing from {policy}");
    }
    assert!(!policy.contains("unsafe-eval") && !policy.contains("http"), "{policy}");
    let html = response.text().await.unwrap();
    assert!(html.to_lowercase().contains("graphiql"));
    // Every script and stylesheet the page loads comes from this server, and is served.
    let sources: Vec<&str> = html
        .split(['"', '\''])
        .filter(|part| part.ends_with(".js") || part.ends_with(".css") || part.contains("://"))
        .collect();
    assert_eq!(sources.len(), 6, "{sources:?}");
    for source in sources {
        assert!(source.starts_with("/graphiql/assets/"), "loaded from elsewhere: {source}");
        let asset = app.client.get(format!("{}{source}", app.address)).send().await.unwrap();
        assert_eq!(asset.status(), StatusCode::OK, "{source}");
        let kind = asset.headers()["content-type"].to_str().unwrap().to_owned();
        assert!(kind.starts_with(if source.ends_with(".js") { "text/javascript" } else { "text/css" }), "{kind}");
        assert_eq!(asset.headers()["x-content-type-options"], "nosniff");
        assert!(asset.bytes().await.unwrap().len() > 40, "{source} is empty");
    }
    let missing = app.client.get(format!("{}/graphiql/assets/../Cargo.toml", app.address)).send().await.unwrap();
    assert_eq!(missing.status(), StatusCode::NOT_FOUND);
    let unknown = app.client.get(format!("{}/graphiql/assets/secret.js", app.address)).send().await.unwrap();
    assert_eq!(unknown.status(), StatusCode::NOT_FOUND);
}

#[tokio::test]
async fn batches_are_capped() {
    let app = spawn_app_with(|c| c.limits.max_batch = 3).await;
    let batch = |n: usize| Value::Array((0..n).map(|_| json!({ "query": "{ __typename }" })).collect());
    let ok = app.client.post(format!("{}/graphql", app.address)).json(&batch(3)).send().await.unwrap();
    assert_eq!(ok.status(), StatusCode::OK);
    let body: Value = ok.json().await.unwrap();
    assert_eq!(body.as_array().map(Vec::len), Some(3));
    assert_eq!(body[2]["data"]["__typename"], "Query");
    let refused = app.client.post(format!("{}/graphql", app.address)).json(&batch(4)).send().await.unwrap();
    assert_eq!(refused.status(), StatusCode::BAD_REQUEST);
}

#[tokio::test]
async fn oversized_bodies_are_refused() {
    let app = spawn_app_with(|c| c.limits.max_body_bytes = 1024).await;
    let big = json!({ "query": format!("{{ __typename }} #{}", "x".repeat(4096)) });
    let response = app.client.post(format!("{}/graphql", app.address)).json(&big).send().await.unwrap();
    assert_eq!(response.status(), StatusCode::PAYLOAD_TOO_LARGE);
}

#[tokio::test]
async fn mutations_are_rate_limited_per_caller() {
    let app = spawn_app_with(|c| c.limits.mutations_per_minute = 2).await;
    let logout = "mutation { logout(input: { refreshToken: \"x\" }) }";
    for _ in 0..2 {
        let (status, body) = app.gql_status(logout, json!({}), None).await;
        assert_eq!((status, error_code(&body)), (StatusCode::OK, "UNAUTHENTICATED"));
    }
    let (status, body) = app.gql_status(logout, json!({}), None).await;
    assert_eq!(status, StatusCode::TOO_MANY_REQUESTS);
    assert_eq!(error_code(&body), "RATE_LIMITED");
    // Queries are not counted.
    let (status, _) = app.gql_status("{ __typename }", json!({}), None).await;
    assert_eq!(status, StatusCode::OK);
}

#[tokio::test]
async fn suggestions_are_hidden_in_production() {
    let dev = spawn_app().await;
    let body = dev.gql_http("{ profils { edges { cursor } } }", json!({}), None).await;
    assert!(body["errors"][0]["message"].as_str().unwrap().contains("Did you mean"), "{body}");
    let prod = spawn_app_with(|c| c.app_env = semasocial::config::AppEnv::Production).await;
    let body = prod.gql_http("{ profils { edges { cursor } } }", json!({}), None).await;
    assert!(!body["errors"][0]["message"].as_str().unwrap().contains("Did you mean"), "{body}");
}

#[tokio::test]
async fn health_ready_and_metrics_answer_and_requests_carry_an_id() {
    let app = spawn_app().await;
    let health = app.client.get(format!("{}/health", app.address)).send().await.unwrap();
    assert_eq!(health.status(), StatusCode::OK);
    assert!(health.headers().get("x-request-id").is_some());
    let ready: Value = app.client.get(format!("{}/ready", app.address)).send().await.unwrap().json().await.unwrap();
    assert_eq!(ready["database"], "up");
    app.gql_http("{ __typename }", json!({}), None).await;
    let metrics = app.client.get(format!("{}/metrics", app.address)).send().await.unwrap().text().await.unwrap();
    assert!(metrics.contains("http_requests_total"), "{metrics}");
    assert!(metrics.contains("graphql_operations_total"));
    // A request id sent by the client is kept.
    let response =
        app.client.get(format!("{}/health", app.address)).header("x-request-id", "abc-123").send().await.unwrap();
    assert_eq!(response.headers()["x-request-id"], "abc-123");
}

#[tokio::test]
async fn internal_errors_do_not_leak_details() {
    let app = spawn_app().await;
    let user = app.register("ada").await;
    // Break the database under the app: the answer must be a bare INTERNAL.
    use sea_orm::ConnectionTrait;
    app.state.db.execute_unprepared("DROP TABLE organization_members").await.unwrap();
    let body = app.gql_http("{ me { organizations { role } } }", json!({}), Some(&user.access_token)).await;
    assert_eq!(error_code(&body), "INTERNAL");
    assert_eq!(body["errors"][0]["message"], "internal error");
}
