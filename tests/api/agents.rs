//! Agents: registration by an operator, tokens, acting as the agent.
use serde_json::{Value, json};

use crate::helpers::{TestApp, TestUser, error_code, error_field, spawn_app};

const REGISTER_AGENT: &str = "mutation($i: RegisterAgentInput!) { registerAgent(input: $i) { id handle kind operator { handle } skills { skill level } } }";
const ISSUE: &str = "mutation($i: IssueAgentTokenInput!) { issueAgentToken(input: $i) { token agentToken { id name scopes revokedAt } } }";
const REVOKE: &str = "mutation($i: RevokeAgentTokenInput!) { revokeAgentToken(input: $i) { id revokedAt } }";

async fn register_agent(app: &TestApp, operator: &TestUser, handle: &str) -> Value {
    let body = app
        .gql(
            REGISTER_AGENT,
            json!({ "i": { "handle": handle, "displayName": "Bot", "capabilities": [{ "skill": "summarization", "level": 4 }] } }),
            Some(&operator.access_token),
        )
        .await;
    assert!(body["data"]["registerAgent"].is_object(), "{body}");
    body["data"]["registerAgent"].clone()
}

async fn issue(app: &TestApp, operator: &TestUser, agent_id: &str, scopes: Value) -> Value {
    app.gql(
        ISSUE,
        json!({ "i": { "agentId": agent_id, "name": "ci", "scopes": scopes } }),
        Some(&operator.access_token),
    )
    .await
}

#[tokio::test]
async fn an_operator_registers_an_agent_with_capabilities() {
    let app = spawn_app().await;
    let ada = app.register("ada").await;
    let agent = register_agent(&app, &ada, "summary_bot").await;
    assert_eq!(agent["kind"], "AGENT");
    assert_eq!(agent["operator"]["handle"], "ada");
    assert_eq!(agent["skills"], json!([{ "skill": "summarization", "level": 4 }]));
    let me = app.gql("{ me { agents { handle } } }", json!({}), Some(&ada.access_token)).await;
    assert_eq!(me["data"]["me"]["agents"], json!([{ "handle": "summary_bot" }]));
}

#[tokio::test]
async fn an_agent_token_acts_as_the_agent_until_revoked() {
    let app = spawn_app().await;
    let ada = app.register("ada").await;
    let agent = register_agent(&app, &ada, "summary_bot").await;
    let agent_id = agent["id"].as_str().unwrap();
    let issued = issue(&app, &ada, agent_id, json!(["TASKS_READ", "PROFILE_WRITE"])).await;
    let token = issued["data"]["issueAgentToken"]["token"].as_str().expect("token shown once").to_owned();
    assert!(token.starts_with("ssa_"));

    let me = app.gql("{ me { isAgent email profile { handle kind } } }", json!({}), Some(&token)).await;
    assert_eq!(me["data"]["me"]["isAgent"], true, "{me}");
    crate::helpers::assert_ok(&me);
    assert!(me["data"]["me"]["email"].is_null());
    assert_eq!(me["data"]["me"]["profile"]["handle"], "summary_bot");

    // With PROFILE_WRITE the agent edits its own profile, not its operator's.
    let body = app
        .gql(
            "mutation { updateMyProfile(input: { headline: \"I summarise\" }) { handle headline } }",
            json!({}),
            Some(&token),
        )
        .await;
    assert_eq!(body["data"]["updateMyProfile"]["handle"], "summary_bot", "{body}");

    // The token is stored hashed: the plain value is nowhere in the database.
    use sea_orm::EntityTrait;
    let rows = entity::agent_token::Entity::find().all(&app.state.db).await.unwrap();
    assert_eq!(rows.len(), 1);
    assert_ne!(rows[0].token_hash, token);

    let token_id = issued["data"]["issueAgentToken"]["agentToken"]["id"].as_str().unwrap();
    let revoked = app.gql(REVOKE, json!({ "i": { "tokenId": token_id } }), Some(&ada.access_token)).await;
    assert!(revoked["data"]["revokeAgentToken"]["revokedAt"].is_string(), "{revoked}");
    let me = app.gql("{ me { isAgent } }", json!({}), Some(&token)).await;
    assert_eq!(error_code(&me), "UNAUTHENTICATED");
}

#[tokio::test]
async fn agent_tokens_are_limited_to_their_scopes_and_to_agent_work() {
    let app = spawn_app().await;
    let ada = app.register("ada").await;
    let agent = register_agent(&app, &ada, "reader_bot").await;
    let issued = issue(&app, &ada, agent["id"].as_str().unwrap(), json!(["TASKS_READ"])).await;
    let token = issued["data"]["issueAgentToken"]["token"].as_str().unwrap();

    let body =
        app.gql("mutation { updateMyProfile(input: { headline: \"x\" }) { handle } }", json!({}), Some(token)).await;
    assert_eq!(error_code(&body), "FORBIDDEN", "no PROFILE_WRITE scope: {body}");
    let body =
        app.gql(REGISTER_AGENT, json!({ "i": { "handle": "child_bot", "displayName": "Child" } }), Some(token)).await;
    assert_eq!(error_code(&body), "FORBIDDEN", "agents do not register agents");
    let body = app
        .gql(
            "mutation { createOrganization(input: { slug: \"botco\", name: \"Bot Co\" }) { id } }",
            json!({}),
            Some(token),
        )
        .await;
    assert_eq!(error_code(&body), "FORBIDDEN");
}

#[tokio::test]
async fn nobody_but_the_operator_manages_an_agent() {
    let app = spawn_app().await;
    let ada = app.register("ada").await;
    let mallory = app.register("mallory").await;
    let agent = register_agent(&app, &ada, "ada_bot").await;
    let agent_id = agent["id"].as_str().unwrap();
    let issued = issue(&app, &ada, agent_id, json!(["TASKS_READ"])).await;
    let token_id = issued["data"]["issueAgentToken"]["agentToken"]["id"].as_str().unwrap();

    let body = issue(&app, &mallory, agent_id, json!(["TASKS_READ"])).await;
    assert_eq!(error_code(&body), "FORBIDDEN");
    let body = app.gql(REVOKE, json!({ "i": { "tokenId": token_id } }), Some(&mallory.access_token)).await;
    assert_eq!(error_code(&body), "FORBIDDEN");
    let body = app
        .gql(
            "query($a: ID!) { agentTokens(agentId: $a) { id } }",
            json!({ "a": agent_id }),
            Some(&mallory.access_token),
        )
        .await;
    assert_eq!(error_code(&body), "FORBIDDEN");
    let body = app
        .gql(
            "mutation($i: SetAgentCapabilitiesInput!) { setAgentCapabilities(input: $i) { id } }",
            json!({ "i": { "agentId": agent_id, "capabilities": [] } }),
            Some(&mallory.access_token),
        )
        .await;
    assert_eq!(error_code(&body), "FORBIDDEN");
    let body = issue(&app, &ada, &mallory.profile_id, json!(["TASKS_READ"])).await;
    assert_eq!(error_code(&body), "NOT_FOUND", "a person is not an agent");

    // The operator's own view still shows one active token.
    let body = app
        .gql(
            "query($a: ID!) { agentTokens(agentId: $a) { id revokedAt } }",
            json!({ "a": agent_id }),
            Some(&ada.access_token),
        )
        .await;
    assert_eq!(body["data"]["agentTokens"].as_array().map(Vec::len), Some(1));
    assert!(body["data"]["agentTokens"][0]["revokedAt"].is_null());
}

#[tokio::test]
async fn issuing_a_token_needs_a_name_and_a_scope() {
    let app = spawn_app().await;
    let ada = app.register("ada").await;
    let agent = register_agent(&app, &ada, "ada_bot").await;
    let body = issue(&app, &ada, agent["id"].as_str().unwrap(), json!([])).await;
    assert_eq!(error_field(&body), "scopes");
    let body = app
        .gql(
            ISSUE,
            json!({ "i": { "agentId": agent["id"], "name": " ", "scopes": ["TASKS_READ"] } }),
            Some(&ada.access_token),
        )
        .await;
    assert_eq!(error_field(&body), "name");
    let body = app
        .gql(
            ISSUE,
            json!({ "i": { "agentId": "not-a-uuid", "name": "x", "scopes": ["TASKS_READ"] } }),
            Some(&ada.access_token),
        )
        .await;
    assert_eq!(error_field(&body), "agentId");
    assert_eq!(app.count("agent_tokens").await, 0);
}

#[tokio::test]
async fn an_agent_handle_must_be_unique_across_people_and_agents() {
    let app = spawn_app().await;
    let ada = app.register("ada").await;
    let body = app
        .gql(REGISTER_AGENT, json!({ "i": { "handle": "ada", "displayName": "Clash" } }), Some(&ada.access_token))
        .await;
    assert_eq!(error_code(&body), "BAD_USER_INPUT");
    assert_eq!(error_field(&body), "handle");
}
