//! Access that follows changes: streams end when membership, visibility or a token goes; the shared mutation limit.
use std::time::Duration;

use serde_json::json;

use super::{COMMUNITY, acked, activity, error_code_of, next_of, post, raw, send, subscribe_message};
use crate::{
    communities::{ban, create_community, join},
    events::{Ws, next_json, subscribe, ws_connect},
    helpers::{spawn_app, spawn_app_with},
    organizations::{add, create_org},
};

/// Waits for the `error` that ends operation "1" and returns its code.
async fn ended_with(ws: &mut Ws) -> String {
    loop {
        let message = next_of(ws, "1").await;
        if message["type"] == "error" {
            return error_code_of(&message).to_owned();
        }
        assert_eq!(message["type"], "next", "{message}");
    }
}

#[tokio::test]
async fn losing_the_client_organization_ends_a_contract_stream() {
    let app = spawn_app().await;
    let ada = app.register("ada").await;
    let bob = app.register("bob").await;
    let org = create_org(&app, &ada, "acme").await;
    add(&app, &ada, &org, "bob", "MEMBER").await;
    let contract = crate::work::contract(&app, &ada, Some(&org), 10_000).await;
    let mut ws = ws_connect(&app, &bob.access_token).await;
    let query = "subscription($c: ID!) { contractActivity(contractId: $c) { id action } }";
    subscribe(&app, &mut ws, query, json!({ "c": contract })).await;
    crate::work::outcome(&app, &ada, &contract, "Report", 1_000, json!([{ "description": "Signed" }])).await;
    assert_eq!(next_of(&mut ws, "1").await["payload"]["data"]["contractActivity"]["action"], "outcome.added");

    let removed = app
        .gql(
            "mutation($i: RemoveMemberInput!) { removeMember(input: $i) }",
            json!({ "i": { "organizationId": org, "profileId": bob.profile_id } }),
            Some(&ada.access_token),
        )
        .await;
    assert_eq!(removed["data"]["removeMember"], true, "{removed}");
    assert_eq!(ended_with(&mut ws).await, "FORBIDDEN");
    // Nothing of the contract reaches Bob afterwards, and the socket itself is still usable.
    crate::work::outcome(&app, &ada, &contract, "Second", 1_000, json!([{ "description": "Signed" }])).await;
    send(&mut ws, subscribe_message("q", "{ me { profile { handle } } }", json!({}))).await;
    let message = next_json(&mut ws).await;
    assert_eq!((message["id"].as_str(), message["type"].as_str()), (Some("q"), Some("next")), "{message}");
}

#[tokio::test]
async fn a_community_turning_private_ends_outsiders_streams_and_bans_end_members() {
    let app = spawn_app().await;
    let ada = app.register("ada").await;
    let bob = app.register("bob").await;
    let eve = app.register("eve").await;
    let c = create_community(&app, &ada, "rustaceans", "PUBLIC").await;
    join(&app, &bob, &c).await;
    let mut member = ws_connect(&app, &bob.access_token).await;
    subscribe(&app, &mut member, COMMUNITY, json!({ "c": c })).await;
    let mut outsider = ws_connect(&app, &eve.access_token).await;
    subscribe(&app, &mut outsider, COMMUNITY, json!({ "c": c })).await;

    let private = app
        .gql(
            "mutation($i: UpdateCommunityInput!) { updateCommunity(input: $i) { visibility } }",
            json!({ "i": { "communityId": c, "visibility": "PRIVATE" } }),
            Some(&ada.access_token),
        )
        .await;
    assert_eq!(private["data"]["updateCommunity"]["visibility"], "PRIVATE", "{private}");
    assert_eq!(ended_with(&mut outsider).await, "FORBIDDEN");
    // The member keeps following: the change itself, then the next post.
    assert_eq!(activity(&mut member, 1).await[0]["action"], "community.updated");
    let p = post(&app, &ada, &c, "Members only").await;
    assert_eq!(activity(&mut member, 1).await[0]["subjectId"], p.as_str());

    let banned = ban(&app, &ada, &c, &bob).await;
    assert!(banned["errors"].is_null(), "{banned}");
    assert_eq!(ended_with(&mut member).await, "FORBIDDEN");
}

#[tokio::test]
async fn an_expired_access_token_ends_the_stream() {
    let app = spawn_app_with(|c| c.access_token_ttl = Duration::from_secs(1)).await;
    let ada = app.register("ada").await;
    let c = create_community(&app, &ada, "rustaceans", "PUBLIC").await;
    let mut ws = ws_connect(&app, &ada.access_token).await;
    subscribe(&app, &mut ws, COMMUNITY, json!({ "c": c })).await;
    assert_eq!(ended_with(&mut ws).await, "UNAUTHENTICATED");
}

#[tokio::test]
async fn revoking_an_agent_token_ends_its_streams() {
    let app = spawn_app().await;
    let operator = app.register("ada").await;
    let (agent_id, token) = crate::work::agent(
        &app,
        &operator,
        "bot",
        json!([{ "skill": "sql", "level": 4 }]),
        json!(["TASKS_READ", "TASKS_WRITE"]),
    )
    .await;
    let mut ws = ws_connect(&app, &token).await;
    subscribe(&app, &mut ws, "subscription { myTaskUpdates { id action } }", json!({})).await;
    let listed = app
        .gql(
            "query($a: ID!) { agentTokens(agentId: $a) { id } }",
            json!({ "a": agent_id }),
            Some(&operator.access_token),
        )
        .await;
    let token_id = listed["data"]["agentTokens"][0]["id"].as_str().unwrap_or_else(|| panic!("{listed}")).to_owned();
    let revoked = app
        .gql(
            "mutation($i: RevokeAgentTokenInput!) { revokeAgentToken(input: $i) { revokedAt } }",
            json!({ "i": { "tokenId": token_id } }),
            Some(&operator.access_token),
        )
        .await;
    assert!(revoked["data"]["revokeAgentToken"]["revokedAt"].is_string(), "{revoked}");
    assert_eq!(ended_with(&mut ws).await, "UNAUTHENTICATED");
}

#[tokio::test]
async fn mutations_over_a_socket_spend_the_same_allowance_as_over_http() {
    let app = spawn_app_with(|c| c.limits.mutations_per_minute = 3).await;
    let ada = app.register("ada").await;
    let mut ws = ws_connect(&app, &ada.access_token).await;
    let rename = "mutation { updateMyProfile(input: { headline: \"Builder\" }) { headline } }";
    for n in 0..2 {
        let id = format!("m{n}");
        send(&mut ws, subscribe_message(&id, rename, json!({}))).await;
        let message = next_of(&mut ws, &id).await;
        assert_eq!(message["payload"]["data"]["updateMyProfile"]["headline"], "Builder", "{message}");
    }
    // Two aliased fields in one operation spend two.
    let twice = "mutation { a: updateMyProfile(input: { headline: \"A\" }) { headline } b: updateMyProfile(input: { headline: \"B\" }) { headline } }";
    send(&mut ws, subscribe_message("twice", twice, json!({}))).await;
    let message = next_of(&mut ws, "twice").await;
    assert_eq!(error_code_of(&message), "RATE_LIMITED");
    // HTTP shares the count.
    let (status, _) = app.gql_status(rename, json!({}), Some(&ada.access_token)).await;
    assert_eq!(status, reqwest::StatusCode::TOO_MANY_REQUESTS);
    // And nothing of the refused operation was written.
    let me = app.gql("{ me { profile { headline } } }", json!({}), Some(&ada.access_token)).await;
    assert_eq!(me["data"]["me"]["profile"]["headline"], "Builder");
}

#[tokio::test]
async fn outsiders_and_anonymous_sockets_cannot_follow_what_is_not_theirs() {
    let app = spawn_app().await;
    let ada = app.register("ada").await;
    let eve = app.register("eve").await;
    let private = create_community(&app, &ada, "inner", "PRIVATE").await;
    let public = create_community(&app, &ada, "open", "PUBLIC").await;

    // A private community's activity: not for outsiders.
    let mut ws = ws_connect(&app, &eve.access_token).await;
    send(&mut ws, subscribe_message("1", COMMUNITY, json!({ "c": private }))).await;
    assert_eq!(error_code_of(&next_of(&mut ws, "1").await), "FORBIDDEN");

    // Anonymous sockets follow public communities only; personal streams need an account.
    let mut anonymous = raw(&app, "graphql-transport-ws").await;
    acked(&mut anonymous, None).await;
    for (id, query) in [
        ("n", "subscription { notifications { id } }"),
        ("p", "subscription { payoutUpdated { id } }"),
        ("t", "subscription { myTaskUpdates { id } }"),
    ] {
        send(&mut anonymous, subscribe_message(id, query, json!({}))).await;
        assert_eq!(error_code_of(&next_of(&mut anonymous, id).await), "UNAUTHENTICATED", "{query}");
    }
    send(&mut anonymous, subscribe_message("c", COMMUNITY, json!({ "c": private }))).await;
    assert_eq!(error_code_of(&next_of(&mut anonymous, "c").await), "FORBIDDEN");
    let before = app.state.bus.subscriber_count();
    send(&mut anonymous, subscribe_message("1", COMMUNITY, json!({ "c": public }))).await;
    app.wait_for_subscribers(before + 1).await;
    // The private community's posts never reach it; the public one's do.
    post(&app, &ada, &private, "Members only").await;
    let p = post(&app, &ada, &public, "Hello").await;
    assert_eq!(activity(&mut anonymous, 1).await[0]["subjectId"], p.as_str());
}
