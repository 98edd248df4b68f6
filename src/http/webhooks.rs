//! `POST /webhooks/stripe`: the payment provider's events, verified and applied by
//! `domain::ledger::webhook` (2xx acknowledges; anything else makes Stripe deliver it again).
use axum::{
    body::Bytes,
    extract::State,
    http::{HeaderMap, StatusCode},
    response::{IntoResponse, Response},
};
use serde_json::json;

use super::HttpState;
use crate::domain::ledger::webhook::{self, WebhookError};

/// Verifies and applies one Stripe event.
pub async fn stripe(State(state): State<HttpState>, headers: HeaderMap, body: Bytes) -> Response {
    let signature = headers.get("stripe-signature").and_then(|v| v.to_str().ok());
    match webhook::stripe(&state.app, signature, &body).await {
        Ok(receipt) => {
            (StatusCode::OK, axum::Json(json!({ "received": true, "outcome": receipt.as_str() }))).into_response()
        }
        Err(error) => {
            let status = match &error {
                WebhookError::NotConfigured => StatusCode::NOT_FOUND,
                WebhookError::Refused(_) | WebhookError::Malformed => StatusCode::BAD_REQUEST,
                WebhookError::NotYet => StatusCode::CONFLICT,
                WebhookError::App(cause) => {
                    tracing::error!(error = ?cause, "applying a Stripe event failed");
                    StatusCode::INTERNAL_SERVER_ERROR
                }
            };
            let message = match &error {
                WebhookError::App(_) => "internal error".to_owned(),
                other => other.to_string(),
            };
            (status, axum::Json(json!({ "error": message }))).into_response()
        }
    }
}
