//! Liveness and readiness.
use axum::{Json, extract::State, http::StatusCode};
use serde_json::{Value, json};

use super::HttpState;

/// Alive as long as the process answers.
pub async fn live() -> Json<Value> {
    Json(json!({ "status": "ok" }))
}

/// Ready when the database (and Redis, when configured) answer.
pub async fn ready(State(state): State<HttpState>) -> (StatusCode, Json<Value>) {
    let database = state.app.db.ping().await.is_ok();
    let redis = match &state.app.redis {
        None => None,
        Some(conn) => {
            let mut conn = conn.clone();
            let command = redis::cmd("PING");
            let ping = command.query_async::<String>(&mut conn);
            let answered = matches!(tokio::time::timeout(std::time::Duration::from_millis(500), ping).await, Ok(Ok(_)));
            // The event bus's own subscriber connection must be up too, or live updates stall.
            Some(answered && state.app.bus.connected())
        }
    };
    let ok = database && redis.unwrap_or(true);
    let status = if ok { StatusCode::OK } else { StatusCode::SERVICE_UNAVAILABLE };
    let check = |up: bool| if up { "up" } else { "down" };
    let body = json!({
        "status": if ok { "ready" } else { "unavailable" },
        "database": check(database),
        "redis": redis.map(check).unwrap_or("not configured"),
    });
    (status, Json(body))
}
