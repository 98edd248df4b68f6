//! The axum router: `/graphql` (POST, GET, WebSocket), GraphiQL, `/health`, `/ready`, `/metrics`.
mod graphql;
mod health;
mod ics;
mod media;
pub mod metrics;

use axum::{
    Router,
    extract::DefaultBodyLimit,
    http::{HeaderName, Request},
    middleware,
    routing::get,
};
use tower_http::{
    request_id::{MakeRequestUuid, PropagateRequestIdLayer, SetRequestIdLayer},
    trace::TraceLayer,
};

use crate::{graphql::AppSchema, state::AppState};

/// State of the HTTP handlers.
#[derive(Clone)]
pub struct HttpState {
    /// Shared application state.
    pub app: AppState,
    /// The executable schema.
    pub schema: AppSchema,
}

const REQUEST_ID: HeaderName = HeaderName::from_static("x-request-id");

/// Builds the router with request ids, tracing, metrics and the body limit.
pub fn router(app: AppState, schema: AppSchema) -> Router {
    let body_limit = app.config.limits.max_body_bytes;
    let state = HttpState { app, schema };
    Router::new()
        .route("/graphql", get(graphql::get).post(graphql::post))
        .route("/events/{file}", get(ics::event_ics))
        .route("/health", get(health::live))
        .route("/ready", get(health::ready))
        .route("/metrics", get(metrics::render))
        .layer(DefaultBodyLimit::max(body_limit))
        .layer(middleware::from_fn(metrics::track))
        .layer(PropagateRequestIdLayer::new(REQUEST_ID))
        .layer(TraceLayer::new_for_http().make_span_with(|req: &Request<_>| {
            let id = req.headers().get(&REQUEST_ID).and_then(|v| v.to_str().ok()).unwrap_or("-");
            tracing::info_span!("request", request_id = %id, method = %req.method(), path = %req.uri().path())
        }))
        .layer(SetRequestIdLayer::new(REQUEST_ID, MakeRequestUuid))
        .with_state(state)
}
