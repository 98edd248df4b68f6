//! The axum router: `/graphql` (POST, GET, WebSocket), GraphiQL, `/health`, `/ready`, `/metrics`,
//! `/webhooks/stripe`.
mod graphiql;
mod graphql;
mod health;
mod ics;
mod media;
pub mod metrics;
mod persisted;
mod webhooks;
mod ws;

use axum::{
    Router,
    extract::DefaultBodyLimit,
    http::{HeaderName, Request},
    middleware,
    routing::get,
};
use tower_http::{
    catch_panic::CatchPanicLayer,
    request_id::{MakeRequestUuid, PropagateRequestIdLayer, SetRequestIdLayer},
    trace::TraceLayer,
};

use axum::response::IntoResponse;

use crate::{graphql::AppSchema, state::AppState};

/// Turns a panic anywhere below into an `INTERNAL` GraphQL error body (500), logged, instead of
/// a dropped connection.
pub fn catch_panics() -> CatchPanicLayer<fn(Box<dyn std::any::Any + Send + 'static>) -> axum::response::Response> {
    CatchPanicLayer::custom(panic_response as fn(Box<dyn std::any::Any + Send + 'static>) -> axum::response::Response)
}

fn panic_response(panic: Box<dyn std::any::Any + Send + 'static>) -> axum::response::Response {
    let detail = panic
        .downcast_ref::<String>()
        .map(String::as_str)
        .or_else(|| panic.downcast_ref::<&str>().copied())
        .unwrap_or("a panic");
    tracing::error!(panic = detail, "a request panicked");
    let body = serde_json::json!({ "errors": [{ "message": "internal error", "extensions": { "code": "INTERNAL" } }] });
    (
        axum::http::StatusCode::INTERNAL_SERVER_ERROR,
        [(axum::http::header::CONTENT_TYPE, "application/json")],
        body.to_string(),
    )
        .into_response()
}

/// State of the HTTP handlers.
#[derive(Clone)]
pub struct HttpState {
    /// Shared application state.
    pub app: AppState,
    /// The executable schema.
    pub schema: AppSchema,
    /// Queries clients may send by hash.
    pub persisted: std::sync::Arc<persisted::PersistedQueries>,
    /// Subscriptions running over WebSocket, rendered once per group of identical ones.
    pub live: std::sync::Arc<crate::graphql::subscription::LiveSubscriptions>,
}

const REQUEST_ID: HeaderName = HeaderName::from_static("x-request-id");

/// Builds the router with request ids, tracing, metrics and the body limit.
pub fn router(app: AppState, schema: AppSchema) -> Router {
    let body_limit = app.config.limits.max_body_bytes;
    let persisted =
        std::sync::Arc::new(persisted::PersistedQueries::new(app.redis.clone(), &app.config.redis_namespace));
    let live = std::sync::Arc::new(crate::graphql::subscription::LiveSubscriptions::new(schema.clone()));
    let state = HttpState { app, schema, persisted, live };
    Router::new()
        .route("/graphql", get(graphql::get).post(graphql::post))
        .route("/graphiql/assets/{file}", get(graphiql::asset))
        .route("/events/{file}", get(ics::event_ics))
        .route("/health", get(health::live))
        .route("/ready", get(health::ready))
        .route("/metrics", get(metrics::render))
        .route("/webhooks/stripe", axum::routing::post(webhooks::stripe))
        .layer(DefaultBodyLimit::max(body_limit))
        .layer(catch_panics())
        .layer(middleware::from_fn(metrics::track))
        .layer(PropagateRequestIdLayer::new(REQUEST_ID))
        .layer(TraceLayer::new_for_http().make_span_with(|req: &Request<_>| {
            let id = req.headers().get(&REQUEST_ID).and_then(|v| v.to_str().ok()).unwrap_or("-");
            tracing::info_span!("request", request_id = %id, method = %req.method(), path = %req.uri().path())
        }))
        .layer(SetRequestIdLayer::new(REQUEST_ID, MakeRequestUuid))
        .with_state(state)
}
