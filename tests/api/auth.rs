//! Registration, login, tokens and sessions.
use chrono::{Duration, Utc};
use reqwest::StatusCode;
use serde_json::json;

use crate::helpers::{PASSWORD, TEST_JWT_SECRET, error_code, error_field, spawn_app, spawn_app_with};

const REGISTER: &str = "mutation($i: RegisterInput!) { register(input: $i) { accessToken refreshToken me { email profile { handle kind } } } }";
const LOGIN: &str = "mutation($i: LoginInput!) { login(input: $i) { accessToken refreshToken } }";
const REFRESH: &str = "mutation($i: RefreshTokenInput!) { refreshToken(input: $i) { accessToken refreshToken } }";
const ME: &str = "{ me { email isAgent profile { handle displayName kind } } }";

fn register_vars(email: &str, password: &str, handle: &str) -> serde_json::Value {
    json!({ "i": { "email": email, "password": password, "handle": handle, "displayName": "Ada L." } })
}

#[tokio::test]
async fn register_then_login_then_me_returns_the_account() {
    let app = spawn_app().await;

    let body = app.gql_http(REGISTER, register_vars("Ada@Example.com", PASSWORD, "Ada"), None).await;
    assert_eq!(body["data"]["register"]["me"]["email"], "ada@example.com", "{body}");
    assert_eq!(body["data"]["register"]["me"]["profile"]["handle"], "ada");
    assert_eq!(body["data"]["register"]["me"]["profile"]["kind"], "HUMAN");

    let login = app.gql_http(LOGIN, json!({ "i": { "email": "ada@example.com", "password": PASSWORD } }), None).await;
    let token = login["data"]["login"]["accessToken"].as_str().expect("token");
    let me = app.gql_http(ME, json!({}), Some(token)).await;
    assert_eq!(me["data"]["me"]["email"], "ada@example.com");
    assert_eq!(me["data"]["me"]["isAgent"], false);
    assert_eq!(me["data"]["me"]["profile"]["displayName"], "Ada L.");

    assert_eq!(app.count("users").await, 1);
    assert_eq!(app.count("profiles").await, 1);
    // Every state change leaves an activity record: registration, two issued tokens.
    assert_eq!(app.count("activities").await, 3);
}

#[tokio::test]
async fn stored_password_is_an_argon2id_hash_and_refresh_tokens_are_hashed() {
    use sea_orm::EntityTrait;
    let app = spawn_app().await;
    let user = app.register("hashy").await;
    let row = entity::user::Entity::find().one(&app.state.db).await.unwrap().unwrap();
    assert!(row.password_hash.starts_with("$argon2id$"));
    assert!(!row.password_hash.contains(PASSWORD));
    let tokens = entity::refresh_token::Entity::find().all(&app.state.db).await.unwrap();
    assert_eq!(tokens.len(), 1);
    assert_ne!(tokens[0].token_hash, user.refresh_token);
    assert_eq!(tokens[0].token_hash.len(), 64);
}

#[tokio::test]
async fn me_without_a_token_is_unauthenticated() {
    let app = spawn_app().await;
    let body = app.gql_http(ME, json!({}), None).await;
    assert_eq!(error_code(&body), "UNAUTHENTICATED");
}

#[tokio::test]
async fn duplicate_email_is_bad_input_on_email_and_writes_nothing() {
    let app = spawn_app().await;
    app.register("first").await;
    let body = app.gql_http(REGISTER, register_vars("FIRST@example.com", PASSWORD, "second"), None).await;
    assert_eq!(error_code(&body), "BAD_USER_INPUT");
    assert_eq!(error_field(&body), "email");
    assert_eq!(app.count("users").await, 1);
    assert_eq!(app.count("profiles").await, 1);
}

#[tokio::test]
async fn duplicate_handle_is_bad_input_on_handle_and_writes_nothing() {
    let app = spawn_app().await;
    app.register("taken").await;
    let body = app.gql_http(REGISTER, register_vars("other@example.com", PASSWORD, "TAKEN"), None).await;
    assert_eq!(error_code(&body), "BAD_USER_INPUT");
    assert_eq!(error_field(&body), "handle");
    assert_eq!(app.count("users").await, 1);
}

#[tokio::test]
async fn invalid_registration_fields_are_named() {
    let app = spawn_app().await;
    let cases = [
        (register_vars("not-an-email", PASSWORD, "ok_handle"), "email"),
        (register_vars("a@example.com", "short", "ok_handle"), "password"),
        (register_vars("a@example.com", "123456789", "ok_handle"), "password"),
        (register_vars("a@example.com", PASSWORD, "no spaces"), "handle"),
        (register_vars("a@example.com", PASSWORD, "x"), "handle"),
        (
            json!({ "i": { "email": "a@example.com", "password": PASSWORD, "handle": "fine", "displayName": "   " } }),
            "displayName",
        ),
    ];
    for (vars, field) in cases {
        let body = app.gql_http(REGISTER, vars.clone(), None).await;
        assert_eq!(error_code(&body), "BAD_USER_INPUT", "{vars}: {body}");
        assert_eq!(error_field(&body), field, "{vars}: {body}");
    }
    assert_eq!(app.count("users").await, 0);
}

#[tokio::test]
async fn wrong_password_and_unknown_email_get_the_same_unauthenticated_answer() {
    let app = spawn_app().await;
    app.register("ada").await;
    let wrong_password =
        app.gql_http(LOGIN, json!({ "i": { "email": "ada@example.com", "password": "wrong password!" } }), None).await;
    let unknown_email =
        app.gql_http(LOGIN, json!({ "i": { "email": "nobody@example.com", "password": PASSWORD } }), None).await;
    assert_eq!(error_code(&wrong_password), "UNAUTHENTICATED");
    assert_eq!(error_code(&unknown_email), "UNAUTHENTICATED");
    assert_eq!(wrong_password["errors"][0]["message"], unknown_email["errors"][0]["message"]);
    assert!(wrong_password["data"].is_null());
}

#[tokio::test]
async fn login_attempts_are_rate_limited_per_email() {
    let app = spawn_app_with(|c| c.limits.login_attempts = 3).await;
    app.register("ada").await;
    for _ in 0..3 {
        let body = app
            .gql_http(LOGIN, json!({ "i": { "email": "ada@example.com", "password": "wrong password!" } }), None)
            .await;
        assert_eq!(error_code(&body), "UNAUTHENTICATED");
    }
    // Even the right password is refused until the window passes.
    let body = app.gql_http(LOGIN, json!({ "i": { "email": "ada@example.com", "password": PASSWORD } }), None).await;
    assert_eq!(error_code(&body), "RATE_LIMITED");
    assert!(body["errors"][0]["extensions"]["retryAfter"].as_u64().is_some());
    app.clock.advance(Duration::minutes(16));
    let body = app.gql_http(LOGIN, json!({ "i": { "email": "ada@example.com", "password": PASSWORD } }), None).await;
    assert!(body["data"]["login"]["accessToken"].is_string(), "{body}");
}

#[tokio::test]
async fn an_expired_access_token_is_refused() {
    let app = spawn_app().await;
    let user = app.register("ada").await;
    assert!(app.gql_http(ME, json!({}), Some(&user.access_token)).await["data"]["me"].is_object());
    app.clock.advance(Duration::minutes(16));
    let (status, body) = app.gql_status(ME, json!({}), Some(&user.access_token)).await;
    assert_eq!(status, StatusCode::UNAUTHORIZED);
    assert_eq!(error_code(&body), "UNAUTHENTICATED");
}

#[tokio::test]
async fn a_tampered_or_foreign_token_is_refused() {
    let app = spawn_app().await;
    let user = app.register("ada").await;
    // Change one character of the signature.
    let mut tampered = user.access_token.clone();
    let last = tampered.pop().expect("non-empty");
    tampered.push(if last == 'A' { 'B' } else { 'A' });
    let body = app.gql_http(ME, json!({}), Some(&tampered)).await;
    assert_eq!(error_code(&body), "UNAUTHENTICATED");

    // A well-formed token signed with another secret.
    let keys = semasocial::auth::token::AuthKeys::new("some-other-secret-some-other-secret-00");
    let now = Utc::now();
    let forged = keys
        .sign_access(uuid::Uuid::new_v4(), uuid::Uuid::new_v4(), uuid::Uuid::new_v4(), now, now + Duration::minutes(5))
        .unwrap();
    let body = app.gql_http(ME, json!({}), Some(&forged)).await;
    assert_eq!(error_code(&body), "UNAUTHENTICATED");

    // The right secret still works, proving the test would notice a broken check.
    let keys = semasocial::auth::token::AuthKeys::new(TEST_JWT_SECRET);
    assert!(keys.verify_access(&user.access_token, app.clock_now()).is_ok());
}

#[tokio::test]
async fn refresh_rotates_tokens_and_reusing_an_old_one_revokes_the_family() {
    let app = spawn_app().await;
    let user = app.register("ada").await;

    let first = app.gql_http(REFRESH, json!({ "i": { "refreshToken": user.refresh_token } }), None).await;
    let second_refresh = first["data"]["refreshToken"]["refreshToken"].as_str().expect("rotated").to_owned();
    assert_ne!(second_refresh, user.refresh_token);
    let access = first["data"]["refreshToken"]["accessToken"].as_str().expect("access");
    assert!(app.gql_http(ME, json!({}), Some(access)).await["data"]["me"].is_object());

    // Replaying the first token is theft: refused, and the whole family is revoked.
    let replay = app.gql_http(REFRESH, json!({ "i": { "refreshToken": user.refresh_token } }), None).await;
    assert_eq!(error_code(&replay), "UNAUTHENTICATED");
    let after = app.gql_http(REFRESH, json!({ "i": { "refreshToken": second_refresh } }), None).await;
    assert_eq!(error_code(&after), "UNAUTHENTICATED", "the newest token must be revoked too: {after}");

    // A fresh login starts a new, working family.
    let login = app.gql_http(LOGIN, json!({ "i": { "email": user.email, "password": PASSWORD } }), None).await;
    let fresh = login["data"]["login"]["refreshToken"].as_str().expect("fresh");
    assert!(
        app.gql_http(REFRESH, json!({ "i": { "refreshToken": fresh } }), None).await["data"]["refreshToken"]
            .is_object()
    );
}

#[tokio::test]
async fn logout_revokes_the_refresh_token() {
    let app = spawn_app().await;
    let user = app.register("ada").await;
    let body = app
        .gql_http(
            "mutation($i: RefreshTokenInput!) { logout(input: $i) }",
            json!({ "i": { "refreshToken": user.refresh_token } }),
            None,
        )
        .await;
    assert_eq!(body["data"]["logout"], true);
    let body = app.gql_http(REFRESH, json!({ "i": { "refreshToken": user.refresh_token } }), None).await;
    assert_eq!(error_code(&body), "UNAUTHENTICATED");
    let body = app
        .gql_http(
            "mutation($i: RefreshTokenInput!) { logout(input: $i) }",
            json!({ "i": { "refreshToken": "garbage" } }),
            None,
        )
        .await;
    assert_eq!(error_code(&body), "UNAUTHENTICATED");
}

#[tokio::test]
async fn an_expired_refresh_token_is_refused() {
    let app = spawn_app().await;
    let user = app.register("ada").await;
    app.clock.advance(Duration::days(31));
    let body = app.gql_http(REFRESH, json!({ "i": { "refreshToken": user.refresh_token } }), None).await;
    assert_eq!(error_code(&body), "UNAUTHENTICATED");
}
