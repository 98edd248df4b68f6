//! API keys: shown once and stored hashed, scoped by area (aliases and fragments change
//! nothing), an organization's key bound to it and never beyond its maker's current role,
//! refused at once when revoked or expired, limited per key.
use reqwest::StatusCode;
use serde_json::{Value, json};
use sha2::{Digest, Sha256};

use crate::{
    helpers::{TestApp, TestUser, assert_ok, error_code, error_field, spawn_app, spawn_app_with},
    organizations::{add, create_org},
};

const CREATE_KEY: &str = "mutation($i: CreateApiKeyInput!) { createApiKey(input: $i) { secret apiKey { id name scopes prefix organizationId expiresAt lastUsedAt } } }";
const REVOKE_KEY: &str = "mutation($i: RevokeApiKeyInput!) { revokeApiKey(input: $i) { id revokedAt } }";
const CREATE_CONTRACT: &str = "mutation($i: CreateContractInput!) { createContract(input: $i) { id } }";
const CONTRACT: &str = "query($id: ID!) { contract(id: $id) { id title } }";
const MY_CONTRACTS: &str = "{ myContracts { edges { node { id } } } }";
const ME: &str = "{ me { profile { handle } } }";

/// Makes a key as `who` (signed in); returns (secret, key id) or the refused answer.
async fn make_key(app: &TestApp, who: &TestUser, input: Value) -> Result<(String, String), Value> {
    let body = app.gql_http(CREATE_KEY, json!({ "i": input }), Some(&who.access_token)).await;
    match body["data"]["createApiKey"]["secret"].as_str() {
        Some(secret) => {
            Ok((secret.to_owned(), body["data"]["createApiKey"]["apiKey"]["id"].as_str().unwrap().to_owned()))
        }
        None => Err(body),
    }
}

async fn key(app: &TestApp, who: &TestUser, input: Value) -> (String, String) {
    make_key(app, who, input).await.unwrap_or_else(|body| panic!("the key is made: {body}"))
}

async fn contract(app: &TestApp, token: &str, org: Option<&str>, title: &str) -> Value {
    app.gql_http(
        CREATE_CONTRACT,
        json!({ "i": { "organizationId": org, "title": title, "currency": "EUR", "budgetCents": 10_000 } }),
        Some(token),
    )
    .await
}

async fn contract_id(app: &TestApp, token: &str, org: Option<&str>, title: &str) -> String {
    let body = contract(app, token, org, title).await;
    body["data"]["createContract"]["id"].as_str().unwrap_or_else(|| panic!("contract made: {body}")).to_owned()
}

#[tokio::test]
async fn a_personal_key_is_shown_once_stored_hashed_and_acts_within_its_scopes() {
    let app = spawn_app().await;
    let ada = app.register("ada").await;
    let body = app
        .gql_http(CREATE_KEY, json!({ "i": { "name": "CI", "scopes": ["profile:read"] } }), Some(&ada.access_token))
        .await;
    assert_ok(&body);
    let made = &body["data"]["createApiKey"];
    let secret = made["secret"].as_str().unwrap().to_owned();
    assert!(secret.starts_with("ssk_") && secret.len() > 40, "{secret}");
    assert_eq!(made["apiKey"]["scopes"], json!(["profile:read"]));
    assert_eq!(made["apiKey"]["prefix"].as_str().unwrap(), &secret[..8]);
    // Stored as its SHA-256 only.
    let hash = hex::encode(Sha256::digest(secret.as_bytes()));
    let stored: Vec<(String,)> = sqlx_free_rows(&app, "SELECT token_hash FROM api_keys").await;
    assert_eq!(stored, vec![(hash,)]);

    // It reads what its scope reaches, as its maker.
    let me = app.gql_http(ME, json!({}), Some(&secret)).await;
    assert_eq!(me["data"]["me"]["profile"]["handle"], "ada", "{me}");
    // Not a write, not another area below the field, not credentials.
    let write = app
        .gql_http(
            "mutation { updateMyProfile(input: { headline: \"hacked\" }) { headline } }",
            json!({}),
            Some(&secret),
        )
        .await;
    assert_eq!(error_code(&write), "FORBIDDEN", "{write}");
    assert!(write["errors"][0]["message"].as_str().unwrap().contains("profile:write"), "{write}");
    let headline = app.gql_http("{ me { profile { headline } } }", json!({}), Some(&ada.access_token)).await;
    assert_ne!(headline["data"]["me"]["profile"]["headline"], "hacked", "nothing written: {headline}");
    for query in [
        "{ me { payouts { edges { node { id } } } } }",
        "{ me { apiKeys { id } } }",
        "{ node(id: \"x\") { id } }",
        "{ agentTokens(agentId: \"x\") { id } }",
    ] {
        let body = app.gql_http(query, json!({}), Some(&secret)).await;
        assert_eq!(error_code(&body), "FORBIDDEN", "{query}: {body}");
    }
    let minted =
        app.gql_http(CREATE_KEY, json!({ "i": { "name": "more", "scopes": ["profile:read"] } }), Some(&secret)).await;
    assert_eq!(error_code(&minted), "FORBIDDEN", "a key makes no keys: {minted}");
    assert_eq!(app.count("api_keys").await, 1);

    // Aliases and fragments change nothing.
    let sneaky = app
        .gql_http(
            "query { ok: me { profile { handle } } ...F } fragment F on Query { m: me { ... on Me { p: payouts { totalCount } } } }",
            json!({}),
            Some(&secret),
        )
        .await;
    assert_eq!(error_code(&sneaky), "FORBIDDEN", "{sneaky}");
    assert_eq!(sneaky["errors"][0]["path"], json!(["m", "p"]), "{sneaky}");
    assert_eq!(sneaky["data"]["ok"]["profile"]["handle"], "ada", "{sneaky}");
    let batch = app
        .gql_http("mutation { a: updateMyProfile(input: { headline: \"x\" }) { headline } ...W } fragment W on Mutation { b: setMySkills(input: { skills: [] }) { handle } }", json!({}), Some(&secret))
        .await;
    let codes: Vec<&str> =
        batch["errors"].as_array().unwrap().iter().map(|e| e["extensions"]["code"].as_str().unwrap()).collect();
    assert_eq!(codes, vec!["FORBIDDEN", "FORBIDDEN"], "{batch}");

    // The maker lists it, with its last use.
    let listed =
        app.gql_http("{ me { apiKeys { name prefix lastUsedAt } } }", json!({}), Some(&ada.access_token)).await;
    assert_eq!(listed["data"]["me"]["apiKeys"][0]["name"], "CI", "{listed}");
    assert!(listed["data"]["me"]["apiKeys"][0]["lastUsedAt"].is_string(), "{listed}");
}

/// Rows of a one-column text query, through the application's connection.
async fn sqlx_free_rows(app: &TestApp, sql: &str) -> Vec<(String,)> {
    use sea_orm::{ConnectionTrait, Statement};
    let backend = app.state.db.get_database_backend();
    let rows = app.state.db.query_all_raw(Statement::from_string(backend, sql.to_owned())).await.unwrap();
    rows.into_iter().map(|row| (row.try_get_by_index::<String>(0).unwrap(),)).collect()
}

#[tokio::test]
async fn a_read_only_organization_key_reads_its_organization_and_nothing_else() {
    let app = spawn_app().await;
    let owner = app.register("owner").await;
    let org = create_org(&app, &owner, "acme").await;
    let other_org = create_org(&app, &owner, "globex").await;
    let ours = contract_id(&app, &owner.access_token, Some(&org), "Ours").await;
    let theirs = contract_id(&app, &owner.access_token, Some(&other_org), "Theirs").await;
    let personal = contract_id(&app, &owner.access_token, None, "Personal").await;
    let (secret, _) = key(
        &app,
        &owner,
        json!({ "name": "BI", "scopes": ["contracts:read", "organizations:read"], "organizationId": org }),
    )
    .await;

    let body = app.gql_http(CONTRACT, json!({ "id": ours }), Some(&secret)).await;
    assert_eq!(body["data"]["contract"]["title"], "Ours", "{body}");
    let dashboard = app
        .gql_http(
            "query($id: ID!) { organization(id: $id) { dashboard { outcomesTotal } } }",
            json!({ "id": org }),
            Some(&secret),
        )
        .await;
    assert_eq!(dashboard["data"]["organization"]["dashboard"]["outcomesTotal"], 0, "{dashboard}");
    let listed = app.gql_http(MY_CONTRACTS, json!({}), Some(&secret)).await;
    let ids: Vec<&str> = listed["data"]["myContracts"]["edges"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| e["node"]["id"].as_str().unwrap())
        .collect();
    assert_eq!(ids, vec![ours.as_str()], "only the organization's contracts: {listed}");

    // Another organization of the same maker, and the maker's own contract: not found.
    for id in [&theirs, &personal] {
        let body = app.gql_http(CONTRACT, json!({ "id": id }), Some(&secret)).await;
        assert_eq!(error_code(&body), "NOT_FOUND", "{body}");
    }
    let dashboard = app
        .gql_http(
            "query($id: ID!) { organization(id: $id) { dashboard { outcomesTotal } } }",
            json!({ "id": other_org }),
            Some(&secret),
        )
        .await;
    assert_eq!(error_code(&dashboard), "FORBIDDEN", "{dashboard}");
    // Read-only: no contract, for its organization or any other; nothing written.
    let before = app.count("contracts").await;
    for target in [Some(org.as_str()), Some(other_org.as_str()), None] {
        let body = contract(&app, &secret, target, "Sneaky").await;
        assert_eq!(error_code(&body), "FORBIDDEN", "{body}");
    }
    assert_eq!(app.count("contracts").await, before);
    // The person's own business is out of its reach.
    let me = app.gql_http(ME, json!({}), Some(&secret)).await;
    assert_eq!(error_code(&me), "FORBIDDEN", "{me}");

    // Owners and admins see it on the organization; not with the key itself.
    let keys = app
        .gql_http(
            "query($id: ID!) { organization(id: $id) { apiKeys { name } } }",
            json!({ "id": org }),
            Some(&owner.access_token),
        )
        .await;
    assert_eq!(keys["data"]["organization"]["apiKeys"], json!([{ "name": "BI" }]), "{keys}");
    let mine = app.gql_http("{ me { apiKeys { name } } }", json!({}), Some(&owner.access_token)).await;
    assert_eq!(mine["data"]["me"]["apiKeys"], json!([]), "an organization's key is not a personal one: {mine}");
}

#[tokio::test]
async fn an_organization_key_never_goes_beyond_its_makers_current_role() {
    let app = spawn_app().await;
    let owner = app.register("owner").await;
    let admin = app.register("admin").await;
    let member = app.register("member").await;
    let org = create_org(&app, &owner, "acme").await;
    assert_ok(&add(&app, &owner, &org, "admin", "ADMIN").await);
    assert_ok(&add(&app, &owner, &org, "member", "MEMBER").await);

    // Members make no keys for the organization; nothing is written.
    let refused =
        make_key(&app, &member, json!({ "name": "x", "scopes": ["contracts:read"], "organizationId": org })).await;
    assert_eq!(error_code(&refused.unwrap_err()), "FORBIDDEN");
    assert_eq!(app.count("api_keys").await, 0);

    let (secret, _) =
        key(&app, &admin, json!({ "name": "ERP", "scopes": ["contracts:write"], "organizationId": org })).await;
    let id = contract_id(&app, &secret, Some(&org), "By the key").await;
    let read = app.gql_http(CONTRACT, json!({ "id": id }), Some(&secret)).await;
    assert_eq!(read["data"]["contract"]["title"], "By the key", "write implies read: {read}");

    // Demoted: the key can no longer manage.
    let demote = app
        .gql_http(
            "mutation($i: ChangeMemberRoleInput!) { changeMemberRole(input: $i) { role } }",
            json!({ "i": { "organizationId": org, "profileId": admin.profile_id, "role": "MEMBER" } }),
            Some(&owner.access_token),
        )
        .await;
    assert_ok(&demote);
    let before = app.count("contracts").await;
    let body = contract(&app, &secret, Some(&org), "After demotion").await;
    assert_eq!(error_code(&body), "FORBIDDEN", "{body}");
    assert_eq!(app.count("contracts").await, before);
    // Removed: it sees nothing of the organization.
    let remove = app
        .gql_http(
            "mutation($i: RemoveMemberInput!) { removeMember(input: $i) }",
            json!({ "i": { "organizationId": org, "profileId": admin.profile_id } }),
            Some(&owner.access_token),
        )
        .await;
    assert_ok(&remove);
    let body = app.gql_http(CONTRACT, json!({ "id": id }), Some(&secret)).await;
    assert_eq!(error_code(&body), "NOT_FOUND", "{body}");
    let listed = app.gql_http(MY_CONTRACTS, json!({}), Some(&secret)).await;
    assert_eq!(listed["data"]["myContracts"]["edges"], json!([]), "{listed}");
}

#[tokio::test]
async fn a_revoked_or_expired_key_is_refused_at_once() {
    let app = spawn_app().await;
    let ada = app.register("ada").await;
    let eve = app.register("eve").await;
    let (secret, id) = key(&app, &ada, json!({ "name": "CI", "scopes": ["profile:read"] })).await;
    assert_ok(&app.gql_http(ME, json!({}), Some(&secret)).await);

    // Someone else cannot revoke it (nor learn it exists).
    let body = app.gql_http(REVOKE_KEY, json!({ "i": { "apiKeyId": id } }), Some(&eve.access_token)).await;
    assert_eq!(error_code(&body), "NOT_FOUND", "{body}");
    assert_ok(&app.gql_http(ME, json!({}), Some(&secret)).await);

    let body = app.gql_http(REVOKE_KEY, json!({ "i": { "apiKeyId": id } }), Some(&ada.access_token)).await;
    assert!(body["data"]["revokeApiKey"]["revokedAt"].is_string(), "{body}");
    let (status, body) = app.gql_status(ME, json!({}), Some(&secret)).await;
    assert_eq!(status, StatusCode::UNAUTHORIZED, "{body}");
    assert_eq!(error_code(&body), "UNAUTHENTICATED");
    let listed = app.gql_http("{ me { apiKeys { id } } }", json!({}), Some(&ada.access_token)).await;
    assert_eq!(listed["data"]["me"]["apiKeys"], json!([]), "{listed}");

    // Expiry: works until then, refused after.
    let at = (app.clock_now() + chrono::Duration::hours(1)).to_rfc3339();
    let (expiring, _) = key(&app, &ada, json!({ "name": "temp", "scopes": ["profile:read"], "expiresAt": at })).await;
    assert_ok(&app.gql_http(ME, json!({}), Some(&expiring)).await);
    app.clock.advance(chrono::Duration::hours(1));
    let (status, body) = app.gql_status(ME, json!({}), Some(&expiring)).await;
    assert_eq!(status, StatusCode::UNAUTHORIZED, "{body}");
    assert!(body["errors"][0]["message"].as_str().unwrap().contains("expired"), "{body}");
}

#[tokio::test]
async fn bad_key_input_names_the_field_and_writes_nothing() {
    let app = spawn_app().await;
    let ada = app.register("ada").await;
    let org = create_org(&app, &ada, "acme").await;
    let past = (app.clock_now() - chrono::Duration::minutes(1)).to_rfc3339();
    for (input, field) in [
        (json!({ "name": "x", "scopes": ["contracts:admin"] }), "scopes"),
        (json!({ "name": "x", "scopes": [] }), "scopes"),
        (json!({ "name": "x", "scopes": ["gigs:read"], "organizationId": org }), "scopes"),
        (json!({ "name": "", "scopes": ["gigs:read"] }), "name"),
        (json!({ "name": "x", "scopes": ["gigs:read"], "expiresAt": past }), "expiresAt"),
        (json!({ "name": "x", "scopes": ["gigs:read"], "organizationId": "nope" }), "organizationId"),
    ] {
        let body = make_key(&app, &ada, input.clone()).await.unwrap_err();
        assert_eq!(error_code(&body), "BAD_USER_INPUT", "{input}: {body}");
        assert_eq!(error_field(&body), field, "{input}: {body}");
    }
    assert_eq!(app.count("api_keys").await, 0);
}

#[tokio::test]
async fn each_key_has_its_own_rate_limit() {
    let app = spawn_app_with(|c| c.limits.api_key_requests_per_minute = 2).await;
    let ada = app.register("ada").await;
    let (first, _) = key(&app, &ada, json!({ "name": "one", "scopes": ["profile:read"] })).await;
    let (second, _) = key(&app, &ada, json!({ "name": "two", "scopes": ["profile:read"] })).await;
    for _ in 0..2 {
        assert_ok(&app.gql_http(ME, json!({}), Some(&first)).await);
    }
    let (status, body) = app.gql_status(ME, json!({}), Some(&first)).await;
    assert_eq!(status, StatusCode::TOO_MANY_REQUESTS, "{body}");
    assert_eq!(error_code(&body), "RATE_LIMITED");
    assert_ok(&app.gql_http(ME, json!({}), Some(&second)).await);
    // The person's session is not limited by their keys.
    assert_ok(&app.gql_http(ME, json!({}), Some(&ada.access_token)).await);
}

#[tokio::test]
async fn a_keys_subscriptions_need_their_scope_and_end_when_it_is_revoked() {
    use futures_util::SinkExt;
    use tokio_tungstenite::tungstenite::Message;

    use crate::events::{next_json, subscribe, ws_connect};

    let app = spawn_app().await;
    let ada = app.register("ada").await;
    let (secret, id) = key(&app, &ada, json!({ "name": "bot", "scopes": ["notifications:read"] })).await;
    let mut ws = ws_connect(&app, &secret).await;

    // Out of its scopes: refused before any stream starts (a fragment hides nothing).
    let refused = json!({ "id": "2", "type": "subscribe", "payload": {
        "query": "subscription { ...P } fragment P on Subscription { payoutUpdated { id } }" } });
    ws.send(Message::text(refused.to_string())).await.unwrap();
    let answer = loop {
        let message = next_json(&mut ws).await;
        if message["id"] == "2" {
            break message;
        }
    };
    assert_eq!(answer["type"], "error", "{answer}");
    assert_eq!(answer["payload"][0]["extensions"]["code"], "FORBIDDEN", "{answer}");

    // Within them: it follows, until the key is revoked.
    subscribe(&app, &mut ws, "subscription { notifications { id action } }", json!({})).await;
    let body = app.gql_http(REVOKE_KEY, json!({ "i": { "apiKeyId": id } }), Some(&ada.access_token)).await;
    assert!(body["data"]["revokeApiKey"]["revokedAt"].is_string(), "{body}");
    let ended = loop {
        let message = next_json(&mut ws).await;
        if message["id"] == "1" && message["type"] == "error" {
            break message;
        }
    };
    assert_eq!(ended["payload"][0]["extensions"]["code"], "UNAUTHENTICATED", "{ended}");
}

#[tokio::test]
async fn an_organization_key_neither_disputes_its_makers_own_work_nor_reads_money_without_its_scope() {
    let app = spawn_app().await;
    let s = crate::money::submitted(&app, "EUR", 2_000, &[1]).await;
    let worker = &s.workers[0];
    let org = create_org(&app, worker, "workshop").await;
    let (secret, _) = key(
        &app,
        worker,
        json!({ "name": "ops", "scopes": ["payments:write", "contracts:read"], "organizationId": org }),
    )
    .await;
    let body = app
        .gql_http(
            "mutation($i: OpenDisputeInput!) { openDispute(input: $i) { id } }",
            json!({ "i": { "outcomeId": s.outcome, "reason": "Late", "idempotencyKey": "k-1" } }),
            Some(&secret),
        )
        .await;
    assert_eq!(error_code(&body), "FORBIDDEN", "the maker's personal work is not the organization's: {body}");
    assert_eq!(app.count("disputes").await, 0);

    // A contract key without payments:read reads the contract, not its escrow.
    let owner = &s.client;
    let client_org = create_org(&app, owner, "client-co").await;
    let id = contract_id(&app, &owner.access_token, Some(&client_org), "Ours").await;
    let (reader, _) =
        key(&app, owner, json!({ "name": "bi", "scopes": ["contracts:read"], "organizationId": client_org })).await;
    let body = app
        .gql_http(
            "query($id: ID!) { contract(id: $id) { title escrow { held { amountCents } } } }",
            json!({ "id": id }),
            Some(&reader),
        )
        .await;
    assert_eq!(body["data"]["contract"]["title"], "Ours", "{body}");
    assert_eq!(error_code(&body), "FORBIDDEN", "{body}");
    assert_eq!(body["errors"][0]["path"], json!(["contract", "escrow"]), "{body}");
}

#[tokio::test]
async fn a_keys_websocket_operations_count_against_its_limit() {
    use futures_util::SinkExt;
    use tokio_tungstenite::tungstenite::Message;

    use crate::events::{next_json, ws_connect};

    let app = spawn_app_with(|c| c.limits.api_key_requests_per_minute = 3).await;
    let ada = app.register("ada").await;
    let (secret, _) = key(&app, &ada, json!({ "name": "socket", "scopes": ["profile:read"] })).await;
    // Connecting spends one request; each operation another.
    let mut ws = ws_connect(&app, &secret).await;
    let mut answers = Vec::new();
    for id in ["a", "b", "c"] {
        let query = json!({ "id": id, "type": "subscribe", "payload": { "query": ME } });
        ws.send(Message::text(query.to_string())).await.unwrap();
        let answer = loop {
            let message = next_json(&mut ws).await;
            if message["id"] == id && message["type"] != "complete" {
                break message;
            }
        };
        answers.push(answer);
    }
    assert_eq!(answers[0]["payload"]["data"]["me"]["profile"]["handle"], "ada", "{:?}", answers[0]);
    assert_eq!(answers[1]["payload"]["data"]["me"]["profile"]["handle"], "ada", "{:?}", answers[1]);
    assert_eq!(answers[2]["type"], "error", "{:?}", answers[2]);
    assert_eq!(answers[2]["payload"][0]["extensions"]["code"], "RATE_LIMITED", "{:?}", answers[2]);
}
