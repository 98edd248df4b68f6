//! Sessions end when they end: after logout or refresh-token reuse, every access token of that
//! session is refused at once (HTTP 401, UNAUTHENTICATED), on every instance, and its live
//! subscriptions end; other sessions of the same person go on.
use std::time::Duration;

use futures_util::SinkExt;
use reqwest::StatusCode;
use serde_json::{Value, json};
use tokio_tungstenite::tungstenite::Message;

use crate::{
    events::{Ws, next_json, subscribe, ws_connect},
    helpers::{TestApp, TestUser, error_code, spawn_app},
};

const ME: &str = "{ me { profile { handle } } }";
const LOGOUT: &str = "mutation($i: RefreshTokenInput!) { logout(input: $i) }";
const REFRESH: &str = "mutation($i: RefreshTokenInput!) { refreshToken(input: $i) { accessToken refreshToken } }";
const UPDATE: &str = "mutation($i: UpdateProfileInput!) { updateMyProfile(input: $i) { headline } }";

async fn me_status(app: &TestApp, token: &str) -> (StatusCode, Value) {
    app.gql_status(ME, json!({}), Some(token)).await
}

async fn logout(app: &TestApp, user: &TestUser) {
    let body = app.gql_http(LOGOUT, json!({ "i": { "refreshToken": user.refresh_token } }), None).await;
    assert_eq!(body["data"]["logout"], true, "{body}");
}

/// The code of the error that ends subscription "1" (skipping its `next` messages).
async fn ended_with(ws: &mut Ws) -> String {
    loop {
        let message = tokio::time::timeout(Duration::from_secs(10), next_json(ws)).await.expect("the stream ends");
        if message["id"] == "1" && message["type"] == "error" {
            return message["payload"][0]["extensions"]["code"].as_str().unwrap_or_default().to_owned();
        }
    }
}

#[tokio::test]
async fn after_logout_the_sessions_access_token_is_refused_at_once_and_other_sessions_go_on() {
    let app = spawn_app().await;
    let ada = app.register("ada").await;
    let phone = app.login(&ada).await;
    assert_eq!(me_status(&app, &ada.access_token).await.0, StatusCode::OK);

    logout(&app, &ada).await;
    let (status, body) = me_status(&app, &ada.access_token).await;
    assert_eq!((status, error_code(&body)), (StatusCode::UNAUTHORIZED, "UNAUTHENTICATED"), "{body}");
    let (status, _) =
        app.gql_status(UPDATE, json!({ "i": { "headline": "still me?" } }), Some(&ada.access_token)).await;
    assert_eq!(status, StatusCode::UNAUTHORIZED, "no mutation either");
    let headline = app.gql_http("{ me { profile { headline } } }", json!({}), Some(&phone.access_token)).await;
    assert!(headline["data"]["me"]["profile"]["headline"].is_null(), "nothing was written: {headline}");

    // The other session (another device) is untouched.
    assert_eq!(me_status(&app, &phone.access_token).await.0, StatusCode::OK);
}

#[tokio::test]
async fn a_token_a_racing_refresh_added_to_a_revoked_session_does_not_revive_it() {
    use sea_orm::ActiveModelTrait;
    let app = spawn_app().await;
    let ada = app.register("ada").await;
    logout(&app, &ada).await;
    // What a refresh committing while the logout ran leaves behind: one unrevoked token in a
    // family whose other tokens are revoked.
    let (family, user_id): (uuid::Uuid, uuid::Uuid) = {
        use sea_orm::{EntityTrait, QuerySelect};
        entity::refresh_token::Entity::find()
            .select_only()
            .column(entity::refresh_token::Column::FamilyId)
            .column(entity::refresh_token::Column::UserId)
            .into_tuple()
            .one(&app.state.db)
            .await
            .unwrap()
            .unwrap()
    };
    let raw = "raced-refresh-token-0000000000000000000000";
    let now = app.clock_now();
    entity::refresh_token::ActiveModel {
        id: sea_orm::Set(uuid::Uuid::new_v4()),
        user_id: sea_orm::Set(user_id),
        family_id: sea_orm::Set(family),
        token_hash: sea_orm::Set(semasocial::auth::token::token_hash(raw)),
        created_at: sea_orm::Set(now),
        expires_at: sea_orm::Set(now + chrono::Duration::days(30)),
        used_at: sea_orm::Set(None),
        revoked_at: sea_orm::Set(None),
    }
    .insert(&app.state.db)
    .await
    .unwrap();
    let refreshed = app.gql_http(REFRESH, json!({ "i": { "refreshToken": raw } }), None).await;
    assert_eq!(error_code(&refreshed), "UNAUTHENTICATED", "{refreshed}");
    // Not only this instance's memory: the database says the session ended (what another
    // instance, or this one after a restart, finds).
    assert!(!semasocial::auth::session::alive_in_db(&app.state.db, family).await.unwrap());
    assert_eq!(me_status(&app, &ada.access_token).await.0, StatusCode::UNAUTHORIZED);
}

#[tokio::test]
async fn reusing_a_refresh_token_ends_the_session_the_thief_and_the_owner_hold() {
    let app = spawn_app().await;
    let ada = app.register("ada").await;
    let rotated = app.gql_http(REFRESH, json!({ "i": { "refreshToken": ada.refresh_token } }), None).await;
    let access = rotated["data"]["refreshToken"]["accessToken"].as_str().unwrap_or_else(|| panic!("{rotated}"));
    assert_eq!(me_status(&app, access).await.0, StatusCode::OK);

    let reused = app.gql_http(REFRESH, json!({ "i": { "refreshToken": ada.refresh_token } }), None).await;
    assert_eq!(error_code(&reused), "UNAUTHENTICATED");
    for token in [&ada.access_token, access] {
        assert_eq!(me_status(&app, token).await.0, StatusCode::UNAUTHORIZED, "every token of the family");
    }
}

#[tokio::test]
async fn a_logged_out_sessions_subscriptions_end_and_it_can_start_no_more() {
    let app = spawn_app().await;
    let ada = app.register("ada").await;
    let phone = app.login(&ada).await;
    let mut ws = ws_connect(&app, &ada.access_token).await;
    subscribe(&app, &mut ws, "subscription { notifications { id action } }", json!({})).await;
    let mut other = ws_connect(&app, &phone.access_token).await;
    subscribe(&app, &mut other, "subscription { notifications { id action } }", json!({})).await;

    logout(&app, &ada).await;
    assert_eq!(ended_with(&mut ws).await, "UNAUTHENTICATED");
    // A new operation on that socket is refused too.
    let again = json!({ "id": "2", "type": "subscribe", "payload": { "query": ME } });
    ws.send(Message::text(again.to_string())).await.unwrap();
    let refused = loop {
        let message = next_json(&mut ws).await;
        if message["id"] == "2" {
            break message;
        }
    };
    assert_eq!(refused["type"], "error", "{refused}");
    assert_eq!(refused["payload"][0]["extensions"]["code"], "UNAUTHENTICATED", "{refused}");

    // The phone's socket still answers.
    let query = json!({ "id": "q", "type": "subscribe", "payload": { "query": ME } });
    other.send(Message::text(query.to_string())).await.unwrap();
    let answer = loop {
        let message = next_json(&mut other).await;
        if message["id"] == "q" {
            break message;
        }
    };
    assert_eq!(answer["payload"]["data"]["me"]["profile"]["handle"], "ada", "{answer}");
}

#[tokio::test]
#[ignore = "needs Redis (TEST_REDIS_URL): a logout on one instance reaches another"]
async fn a_logout_on_one_instance_ends_the_session_on_the_other() {
    assert!(std::env::var("TEST_REDIS_URL").is_ok(), "set TEST_REDIS_URL");
    let a = spawn_app().await;
    let (_, b_port) = a.serve_another_instance().await;
    let ada = a.register("ada").await;
    let on_b = |token: String| {
        let client = a.client.clone();
        async move {
            client
                .post(format!("http://127.0.0.1:{b_port}/graphql"))
                .bearer_auth(token)
                .json(&json!({ "query": ME }))
                .send()
                .await
                .unwrap()
                .status()
        }
    };
    // Instance B has seen the session alive (and trusts it for a while).
    assert_eq!(on_b(ada.access_token.clone()).await, StatusCode::OK);
    logout(&a, &ada).await;
    // B hears of it over Redis: refused there as soon as the revocation arrives.
    let refused = tokio::time::timeout(Duration::from_secs(10), async {
        while on_b(ada.access_token.clone()).await != StatusCode::UNAUTHORIZED {
            tokio::task::yield_now().await;
        }
    })
    .await;
    assert!(refused.is_ok(), "instance B still accepts a logged-out session");
}
