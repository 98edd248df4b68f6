//! A small client of Stripe's REST API as Stripe documents it: form-encoded requests with the
//! secret key as a bearer token, an `Idempotency-Key` on every POST that moves money (a retry
//! with the same key returns the first object and never charges twice), JSON answers, and
//! errors as `{"error": {"type", "code", "decline_code", "message"}}`.
use std::time::Duration;

use serde_json::Value;

use crate::config::Secret;

/// What went wrong talking to Stripe.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
pub enum StripeError {
    /// Stripe answered with an error object (a declined card, invalid parameters, an
    /// idempotency key reused with other parameters…).
    #[error("{message}")]
    Api {
        /// HTTP status.
        status: u16,
        /// `error.type`: `card_error`, `invalid_request_error`, `idempotency_error`, `api_error`…
        kind: String,
        /// `error.code`, e.g. `card_declined`.
        code: Option<String>,
        /// `error.decline_code`, e.g. `insufficient_funds`.
        decline_code: Option<String>,
        /// `error.message`, meant for people.
        message: String,
    },
    /// No answer (refused connection, timeout, a body that is not Stripe's): the request may
    /// or may not have been applied; retrying with the same idempotency key is safe.
    #[error("the payment provider did not answer: {0}")]
    Unreachable(String),
}

/// Stripe's API at `base` (its public API, or a local Stripe-shaped server in tests).
#[derive(Clone)]
pub struct StripeClient {
    http: reqwest::Client,
    base: String,
    secret_key: Secret,
}

impl StripeClient {
    /// A client of the API at `base` with `secret_key`; requests give up after `timeout`.
    pub fn new(base: &str, secret_key: Secret, timeout: Duration) -> Result<Self, StripeError> {
        let http = reqwest::Client::builder()
            .timeout(timeout)
            .build()
            .map_err(|e| StripeError::Unreachable(format!("building the HTTP client: {e}")))?;
        Ok(Self { http, base: base.trim_end_matches('/').to_owned(), secret_key })
    }

    /// `POST /v1/<path>` with `form`, under `idempotency_key` when given.
    pub async fn post(
        &self,
        path: &str,
        idempotency_key: Option<&str>,
        form: &[(String, String)],
    ) -> Result<Value, StripeError> {
        self.post_on(None, path, idempotency_key, form).await
    }

    /// `POST /v1/<path>` made on the connected account `account` (the `Stripe-Account`
    /// header) when given, on the platform otherwise.
    pub async fn post_on(
        &self,
        account: Option<&str>,
        path: &str,
        idempotency_key: Option<&str>,
        form: &[(String, String)],
    ) -> Result<Value, StripeError> {
        let mut request =
            self.http.post(format!("{}/v1/{path}", self.base)).bearer_auth(self.secret_key.expose()).form(form);
        if let Some(key) = idempotency_key {
            request = request.header("Idempotency-Key", key);
        }
        if let Some(account) = account {
            request = request.header("Stripe-Account", account);
        }
        answer(request.send().await).await
    }

    /// Every object of the list at `GET /v1/<path>` with `query`, following `has_more` with
    /// `starting_after` (100 a page).
    pub async fn list_all(&self, path: &str, query: &[(String, String)]) -> Result<Vec<Value>, StripeError> {
        let mut all = Vec::new();
        let mut after: Option<String> = None;
        loop {
            let mut page_query = query.to_vec();
            page_query.push(("limit".to_owned(), "100".to_owned()));
            if let Some(after) = &after {
                page_query.push(("starting_after".to_owned(), after.clone()));
            }
            let page = self.get(path, &page_query).await?;
            let data = page["data"].as_array().cloned().unwrap_or_default();
            after = data.last().and_then(|o| o["id"].as_str()).map(str::to_owned);
            all.extend(data);
            if page["has_more"].as_bool() != Some(true) || after.is_none() {
                return Ok(all);
            }
        }
    }

    /// `GET /v1/<path>` with `query`.
    pub async fn get(&self, path: &str, query: &[(String, String)]) -> Result<Value, StripeError> {
        let request =
            self.http.get(format!("{}/v1/{path}", self.base)).bearer_auth(self.secret_key.expose()).query(query);
        answer(request.send().await).await
    }
}

async fn answer(sent: Result<reqwest::Response, reqwest::Error>) -> Result<Value, StripeError> {
    let response = sent.map_err(|e| StripeError::Unreachable(e.without_url().to_string()))?;
    let status = response.status();
    let body: Value = response.json().await.map_err(|e| StripeError::Unreachable(e.without_url().to_string()))?;
    if status.is_success() {
        return Ok(body);
    }
    let error = &body["error"];
    let text = |k: &str| error[k].as_str().map(str::to_owned);
    Err(StripeError::Api {
        status: status.as_u16(),
        kind: text("type").unwrap_or_else(|| "api_error".into()),
        code: text("code"),
        decline_code: text("decline_code"),
        message: text("message").unwrap_or_else(|| format!("Stripe answered {status}")),
    })
}

/// Stripe's form encoding of nested fields: `metadata[payout_id]`.
pub fn field(parent: &str, key: &str) -> String {
    format!("{parent}[{key}]")
}
