//! A Stripe-shaped server for the tests: the endpoints the provider uses, answering as Stripe's
//! API reference documents them — form-encoded requests with a bearer secret key, JSON
//! objects, `{"error": {...}}` bodies with Stripe's types and codes, and `Idempotency-Key`
//! honoured (the same key and parameters return the first answer, errors included; other
//! parameters are an `idempotency_error`; keys are scoped to the account a request is made on).
//! Every object has its `created` time. Test payment methods follow Stripe's test ids:
//! `pm_card_visa` succeeds, `pm_card_chargeDeclined` and
//! `pm_card_chargeDeclinedInsufficientFunds` are declined; `pm_bank_debit` stays `processing`
//! (settled later by a webhook). Connect: Express accounts (`/v1/accounts`, onboarded through
//! `/v1/account_links`, not payable until `complete_onboarding`), transfers to them
//! (`/v1/transfers`, refused for want of balance from `fail_transfers_from_cents`), their
//! reversals (`/v1/transfers/{id}/reversals`, or `reverse_transfer` as from the dashboard), and
//! payouts made on a connected account (`Stripe-Account` header, recorded in `Seen::account`)
//! that `finish_payout` pays or fails. `GET /v1/transfers`, `/v1/payment_intents` and
//! `/v1/refunds` list newest first with Stripe's filters and cursors. `insert` and `update`
//! change what Stripe holds behind the app's back. `lose_next_answer` applies the next request
//! and cuts its answer short, as a connection dying on the way back. Events are signed as
//! Stripe signs them (`Stripe-Signature: t=…,v1=HMAC-SHA256(secret, "t.body")`), computed here
//! independently; `connect_event` names the connected account an event is about.
// Helpers for the tests that use them (as in helpers.rs): not every test file uses each.
#![allow(dead_code)]

use std::{
    collections::HashMap,
    sync::{Arc, Mutex},
};

use axum::{
    Router,
    routing::{get, post},
};
use serde_json::Value;

use self::{
    charges::{customers, list_payment_intents, list_refunds, payment_intent, payment_intents, refunds},
    connect::{account, account_links, accounts, list_transfers, payouts, transfer_reversals, transfers},
};

mod charges;
mod connect;
mod control;
mod protocol;
mod webhooks;

pub use self::webhooks::{connect_event, event, signature};

pub const SECRET_KEY: &str = "sk_test_semasocial";
pub const WEBHOOK_SECRET: &str = "whsec_semasocial_test";

/// A request the fake received.
#[derive(Clone, Debug)]
pub struct Seen {
    pub path: String,
    pub idempotency_key: Option<String>,
    pub form: Vec<(String, String)>,
    /// The `Stripe-Account` header: the connected account the request was made on.
    pub account: Option<String>,
}

/// A form's parameters, in order.
type Params = Vec<(String, String)>;

#[derive(Default)]
struct Inner {
    objects: HashMap<String, Value>,
    /// (Stripe-Account, Idempotency-Key) → (the parameters, the status and body answered).
    keys: HashMap<(Option<String>, String), (Params, u16, Value)>,
    seen: Vec<Seen>,
    lose_next: bool,
    next_id: u64,
    /// Transfers of this many cents or more are refused for want of balance.
    fail_transfers_from: Option<i64>,
    /// Payout id → the connected account it was made on.
    payout_accounts: HashMap<String, String>,
}

#[derive(Clone, Default)]
pub struct FakeStripe {
    inner: Arc<Mutex<Inner>>,
    pub base: String,
}

impl FakeStripe {
    pub async fn start() -> Self {
        let mut fake = Self::default();
        let app = Router::new()
            .route("/v1/customers", post(customers))
            .route("/v1/payment_intents", post(payment_intents).get(list_payment_intents))
            .route("/v1/payment_intents/{id}", get(payment_intent))
            .route("/v1/refunds", post(refunds).get(list_refunds))
            .route("/v1/accounts", post(accounts))
            .route("/v1/accounts/{id}", get(account))
            .route("/v1/account_links", post(account_links))
            .route("/v1/transfers", post(transfers).get(list_transfers))
            .route("/v1/transfers/{id}/reversals", post(transfer_reversals))
            .route("/v1/payouts", post(payouts))
            .with_state(fake.clone());
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        fake.base = format!("http://{}", listener.local_addr().unwrap());
        tokio::spawn(async move { axum::serve(listener, app).await });
        fake
    }
}
