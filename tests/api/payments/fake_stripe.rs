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
    Form, Router,
    extract::{Path, Query, State},
    http::{HeaderMap, StatusCode},
    response::{IntoResponse, Response},
    routing::{get, post},
};
use hmac::{Hmac, Mac};
use serde_json::{Value, json};

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

    /// The requests to `path` so far (`POST`s: what the app asked Stripe to do).
    pub fn seen(&self, path: &str) -> Vec<Seen> {
        self.inner.lock().unwrap().seen.iter().filter(|s| s.path == path).cloned().collect()
    }

    /// The objects whose id starts with `prefix` (`pi_`, `cus_`, `re_`, `acct_`, `tr_`,
    /// `trr_`, `po_`).
    pub fn objects(&self, prefix: &str) -> Vec<Value> {
        self.inner
            .lock()
            .unwrap()
            .objects
            .iter()
            .filter(|(id, _)| id.starts_with(prefix))
            .map(|(_, o)| o.clone())
            .collect()
    }

    /// Applies the next request but cuts its answer short.
    pub fn lose_next_answer(&self) {
        self.inner.lock().unwrap().lose_next = true;
    }

    /// Refuses transfers of `cents` or more as Stripe does when the platform's available
    /// balance is short (`balance_insufficient`).
    pub fn fail_transfers_from_cents(&self, cents: i64) {
        self.inner.lock().unwrap().fail_transfers_from = Some(cents);
    }

    /// Moves a PaymentIntent to `status` (as Stripe does when a bank debit settles or fails)
    /// and returns the event Stripe would send about it.
    pub fn settle(&self, intent: &str, succeeded: bool) -> Value {
        let mut inner = self.inner.lock().unwrap();
        let object = inner.objects.get_mut(intent).expect("a PaymentIntent");
        if succeeded {
            object["status"] = json!("succeeded");
        } else {
            object["status"] = json!("requires_payment_method");
            object["last_payment_error"] = json!({ "type": "card_error", "code": "payment_intent_payment_attempt_failed", "message": "The bank account could not be debited." });
        }
        let object = object.clone();
        drop(inner);
        event(if succeeded { "payment_intent.succeeded" } else { "payment_intent.payment_failed" }, object)
    }

    /// Finishes a connected account's onboarding, as its owner does on Stripe's hosted pages:
    /// it may now take charges and receive transfers and payouts. Returns the
    /// `account.updated` event Stripe would send about it.
    pub fn complete_onboarding(&self, account: &str) -> Value {
        let mut inner = self.inner.lock().unwrap();
        let object = inner.objects.get_mut(account).expect("a connected account");
        for flag in ["charges_enabled", "payouts_enabled", "details_submitted"] {
            object[flag] = json!(true);
        }
        if let Some(capabilities) = object.get_mut("capabilities").and_then(Value::as_object_mut) {
            capabilities.values_mut().for_each(|status| *status = json!("active"));
        }
        let object = object.clone();
        drop(inner);
        connect_event("account.updated", object, account)
    }

    /// Pays a payout out to the connected account's bank (`paid`), or fails it as Stripe does
    /// when the bank account is closed, and returns the `payout.paid` / `payout.failed`
    /// event Stripe would send about it.
    pub fn finish_payout(&self, payout: &str, paid: bool) -> Value {
        let mut inner = self.inner.lock().unwrap();
        let account = inner.payout_accounts.get(payout).cloned().expect("a payout made on a connected account");
        let object = inner.objects.get_mut(payout).expect("a payout");
        if paid {
            object["status"] = json!("paid");
        } else {
            object["status"] = json!("failed");
            object["failure_code"] = json!("account_closed");
            object["failure_message"] = json!("The bank account has been closed.");
        }
        let object = object.clone();
        drop(inner);
        connect_event(if paid { "payout.paid" } else { "payout.failed" }, object, &account)
    }

    /// Reverses what is left of a transfer (as from Stripe's dashboard) and returns the
    /// `transfer.reversed` event Stripe would send about it.
    pub fn reverse_transfer(&self, transfer: &str) -> Value {
        let mut inner = self.inner.lock().unwrap();
        let object = inner.objects.get(transfer).expect("a transfer");
        let amount = object["amount"].as_i64().unwrap_or(0);
        let left = amount - object["amount_reversed"].as_i64().unwrap_or(0);
        if left > 0 {
            let (status, body) = reverse(&mut inner, transfer, Some(left), json!({}));
            assert_eq!(status, 200, "{body}");
        }
        let object = inner.objects.get_mut(transfer).expect("a transfer");
        object["amount_reversed"] = json!(amount);
        object["reversed"] = json!(true);
        let object = object.clone();
        drop(inner);
        event("transfer.reversed", object)
    }

    /// Stores `object` as is under its `id`, as though Stripe held it: a test makes Stripe
    /// drift from what the app recorded.
    pub fn insert(&self, object: Value) {
        let id = object["id"].as_str().expect("an object with an id").to_owned();
        self.inner.lock().unwrap().objects.insert(id, object);
    }

    /// Edits the stored object `id` in place.
    pub fn update(&self, id: &str, f: impl FnOnce(&mut Value)) {
        let mut inner = self.inner.lock().unwrap();
        f(inner.objects.get_mut(id).expect("a stored object"));
    }

    /// The connected account `payout` was made on.
    pub fn connected_payout(&self, payout: &str) -> Option<String> {
        self.inner.lock().unwrap().payout_accounts.get(payout).cloned()
    }
}

/// A Stripe event about `object`.
pub fn event(kind: &str, object: Value) -> Value {
    json!({
        "id": format!("evt_{}", uuid::Uuid::new_v4().simple()),
        "object": "event",
        "api_version": "2024-06-20",
        "created": chrono::Utc::now().timestamp(),
        "type": kind,
        "livemode": false,
        "pending_webhooks": 1,
        "request": { "id": null, "idempotency_key": null },
        "data": { "object": object },
    })
}

/// A Stripe event about `object` on the connected account `account`: Connect events name it
/// in a top-level `account`.
pub fn connect_event(kind: &str, object: Value, account: &str) -> Value {
    let mut e = event(kind, object);
    e["account"] = json!(account);
    e
}

/// The `Stripe-Signature` header of `body` signed with `secret` at `timestamp`.
pub fn signature(body: &[u8], secret: &str, timestamp: i64) -> String {
    let mut mac = Hmac::<sha2::Sha256>::new_from_slice(secret.as_bytes()).unwrap();
    mac.update(format!("{timestamp}.").as_bytes());
    mac.update(body);
    format!("t={timestamp},v1={}", hex::encode(mac.finalize().into_bytes()))
}

fn error(
    status: StatusCode,
    kind: &str,
    code: Option<&str>,
    decline: Option<&str>,
    message: &str,
    extra: Value,
) -> (u16, Value) {
    let mut e = json!({ "type": kind, "code": code, "decline_code": decline, "message": message });
    if let (Some(e), Some(extra)) = (e.as_object_mut(), extra.as_object()) {
        e.extend(extra.clone());
    }
    (status.as_u16(), json!({ "error": e }))
}

/// A 400 `invalid_request_error` about the parameter `param`.
fn invalid(param: &str, code: Option<&str>, message: &str) -> (u16, Value) {
    error(StatusCode::BAD_REQUEST, "invalid_request_error", code, None, message, json!({ "param": param }))
}

/// A required parameter missing.
fn missing(param: &str) -> (u16, Value) {
    invalid(param, Some("parameter_missing"), &format!("Missing required param: {param}."))
}

/// The parameter `param` names no `kind` Stripe has.
fn no_such(kind: &str, id: &str, param: &str) -> (u16, Value) {
    invalid(param, Some("resource_missing"), &format!("No such {kind}: '{id}'"))
}

/// The parameter `param_name` as a positive integer (an amount in cents), if given.
fn positive(form: &[(String, String)], param_name: &str) -> Result<Option<i64>, (u16, Value)> {
    match param(form, param_name) {
        None => Ok(None),
        Some(value) => match value.parse::<i64>() {
            Ok(amount) if amount > 0 => Ok(Some(amount)),
            _ => Err(invalid(param_name, Some("parameter_invalid_integer"), "Invalid positive integer")),
        },
    }
}

fn unauthorized() -> (u16, Value) {
    error(StatusCode::UNAUTHORIZED, "invalid_request_error", None, None, "Invalid API Key provided", json!({}))
}

fn authorized(headers: &HeaderMap) -> bool {
    header(headers, "authorization").is_some_and(|v| v == format!("Bearer {SECRET_KEY}"))
}

fn header(headers: &HeaderMap, name: &str) -> Option<String> {
    headers.get(name).and_then(|v| v.to_str().ok()).map(str::to_owned)
}

fn now() -> i64 {
    chrono::Utc::now().timestamp()
}

/// Runs `create` under Stripe's rules: the secret key checked, the Idempotency-Key honoured
/// (per account: the platform's, or the connected one named by `Stripe-Account`), the answer
/// lost when asked.
fn handle(
    fake: &FakeStripe,
    path: &str,
    headers: &HeaderMap,
    form: Vec<(String, String)>,
    create: impl FnOnce(&mut Inner, &[(String, String)]) -> (u16, Value),
) -> Response {
    let key = header(headers, "idempotency-key");
    let account = header(headers, "stripe-account");
    let mut inner = fake.inner.lock().unwrap();
    inner.seen.push(Seen {
        path: path.to_owned(),
        idempotency_key: key.clone(),
        form: form.clone(),
        account: account.clone(),
    });
    let (status, body) = if !authorized(headers) {
        unauthorized()
    } else {
        let key = key.map(|k| (account, k));
        match key.as_ref().and_then(|k| inner.keys.get(k)).cloned() {
            Some((params, status, body)) if params == form => (status, body),
            Some(_) => error(
                StatusCode::BAD_REQUEST,
                "idempotency_error",
                None,
                None,
                "Keys for idempotent requests can only be used with the same parameters they were first used with.",
                json!({}),
            ),
            None => {
                let (status, body) = create(&mut inner, &form);
                if let Some(k) = key {
                    inner.keys.insert(k, (form, status, body.clone()));
                }
                (status, body)
            }
        }
    };
    let lost = std::mem::take(&mut inner.lose_next);
    let status = StatusCode::from_u16(status).unwrap();
    if lost {
        // The connection died mid-answer: what arrives is not Stripe's JSON.
        let text = body.to_string();
        return (status, [("content-type", "application/json")], text[..text.len() / 2].to_owned()).into_response();
    }
    (status, axum::Json(body)).into_response()
}

/// Answers a `GET` list of the objects whose id starts with `prefix` as Stripe lists them:
/// `{"object": "list", "url", "has_more", "data"}`, newest first (by `created`, then id),
/// filtered by `created` (exact, `[gte]`, `[gt]`, `[lte]`, `[lt]`) and by equality on each
/// field of `filters`, `limit` at a time (1 to 100, 10 by default) after the object
/// `starting_after` or before `ending_before`. The secret key is checked; nothing is recorded.
fn list(
    fake: &FakeStripe,
    headers: &HeaderMap,
    query: &[(String, String)],
    object: &str,
    prefix: &str,
    filters: &[&str],
) -> Response {
    let (status, body) = if authorized(headers) {
        let account = header(headers, "stripe-account");
        let inner = fake.inner.lock().unwrap();
        page(&inner, query, object, prefix, filters, account.as_deref())
    } else {
        unauthorized()
    };
    (StatusCode::from_u16(status).unwrap(), axum::Json(body)).into_response()
}

/// The page `list` answers. Objects made on a connected account (payouts) are listed only on
/// it (its `Stripe-Account` header), the platform's only without one.
fn page(
    inner: &Inner,
    query: &[(String, String)],
    object: &str,
    prefix: &str,
    filters: &[&str],
    account: Option<&str>,
) -> (u16, Value) {
    let (mut limit, mut after, mut before) = (10, None, None);
    let mut created = Vec::new();
    let mut equal = Vec::new();
    for (name, value) in query {
        match name.as_str() {
            "limit" => match value.parse::<usize>() {
                Ok(l) if (1..=100).contains(&l) => limit = l,
                Ok(_) => return invalid(name, None, "Invalid limit: must be between 1 and 100"),
                Err(_) => {
                    return invalid(name, Some("parameter_invalid_integer"), &format!("Invalid integer: {value}"));
                }
            },
            "starting_after" => after = Some(value.as_str()),
            "ending_before" => before = Some(value.as_str()),
            "created" | "created[gte]" | "created[gt]" | "created[lte]" | "created[lt]" => match value.parse::<i64>() {
                Ok(bound) => created.push((name.as_str(), bound)),
                Err(_) => {
                    return invalid(name, Some("parameter_invalid_integer"), &format!("Invalid integer: {value}"));
                }
            },
            n if filters.contains(&n) => equal.push((n, value.as_str())),
            n if n.starts_with("expand[") => {}
            n => return invalid(n, Some("parameter_unknown"), &format!("Received unknown parameter: {n}")),
        }
    }
    if after.is_some() && before.is_some() {
        return invalid(
            "ending_before",
            None,
            "You may only specify one of these parameters: ending_before, starting_after.",
        );
    }
    let mut all: Vec<(i64, &str, &Value)> = inner
        .objects
        .iter()
        .filter(|(id, o)| {
            let at = o["created"].as_i64().unwrap_or(0);
            id.starts_with(prefix)
                && inner.payout_accounts.get(*id).map(String::as_str) == account
                && equal.iter().all(|(field, value)| o[*field].as_str() == Some(*value))
                && created.iter().all(|&(op, bound)| match op {
                    "created[gte]" => at >= bound,
                    "created[gt]" => at > bound,
                    "created[lte]" => at <= bound,
                    "created[lt]" => at < bound,
                    _ => at == bound,
                })
        })
        .map(|(id, o)| (o["created"].as_i64().unwrap_or(0), id.as_str(), o))
        .collect();
    all.sort_by(|a, b| (b.0, b.1).cmp(&(a.0, a.1)));
    if let Some(cursor) = after.or(before) {
        let stamp = inner
            .objects
            .get(cursor)
            .filter(|_| cursor.starts_with(prefix))
            .map(|o| o["created"].as_i64().unwrap_or(0));
        let Some(stamp) = stamp else {
            return no_such(object, cursor, if after.is_some() { "starting_after" } else { "ending_before" });
        };
        let cursor = (stamp, cursor);
        if after.is_some() {
            all.retain(|o| (o.0, o.1) < cursor);
        } else {
            all.retain(|o| (o.0, o.1) > cursor);
        }
    }
    let (shown, has_more) = if before.is_some() {
        // The page just before the cursor: the `limit` objects nearest to it.
        let skip = all.len().saturating_sub(limit);
        (&all[skip..], skip > 0)
    } else {
        (&all[..limit.min(all.len())], all.len() > limit)
    };
    let data: Vec<Value> = shown.iter().map(|(_, _, o)| (*o).clone()).collect();
    (200, json!({ "object": "list", "url": format!("/v1/{object}s"), "has_more": has_more, "data": data }))
}

fn new_id(inner: &mut Inner, prefix: &str) -> String {
    inner.next_id += 1;
    format!("{prefix}{:024}", inner.next_id)
}

fn param<'a>(form: &'a [(String, String)], name: &str) -> Option<&'a str> {
    form.iter().find(|(k, _)| k == name).map(|(_, v)| v.as_str())
}

fn metadata(form: &[(String, String)]) -> Value {
    form.iter()
        .filter_map(|(k, v)| {
            k.strip_prefix("metadata[").and_then(|k| k.strip_suffix(']')).map(|k| (k.to_owned(), json!(v)))
        })
        .collect::<serde_json::Map<_, _>>()
        .into()
}

/// Whether `id` is a connected account Stripe has.
fn is_account(inner: &Inner, id: &str) -> bool {
    id.starts_with("acct_") && inner.objects.contains_key(id)
}

async fn customers(
    State(fake): State<FakeStripe>,
    headers: HeaderMap,
    Form(form): Form<Vec<(String, String)>>,
) -> Response {
    handle(&fake, "/v1/customers", &headers, form, |inner, form| {
        let id = new_id(inner, "cus_");
        let customer = json!({ "id": id, "object": "customer", "metadata": metadata(form), "created": now() });
        inner.objects.insert(id, customer.clone());
        (200, customer)
    })
}

async fn payment_intents(
    State(fake): State<FakeStripe>,
    headers: HeaderMap,
    Form(form): Form<Vec<(String, String)>>,
) -> Response {
    handle(&fake, "/v1/payment_intents", &headers, form, |inner, form| {
        let amount: Option<i64> = param(form, "amount").and_then(|a| a.parse().ok());
        let (Some(amount), Some(currency), Some(customer)) = (amount, param(form, "currency"), param(form, "customer"))
        else {
            return error(
                StatusCode::BAD_REQUEST,
                "invalid_request_error",
                Some("parameter_missing"),
                None,
                "Missing required param: amount, currency or customer.",
                json!({}),
            );
        };
        if !inner.objects.contains_key(customer) {
            return error(
                StatusCode::BAD_REQUEST,
                "invalid_request_error",
                Some("resource_missing"),
                None,
                &format!("No such customer: '{customer}'"),
                json!({ "param": "customer" }),
            );
        }
        let method = param(form, "payment_method").unwrap_or_default().to_owned();
        let id = new_id(inner, "pi_");
        let mut intent = json!({
            "id": id, "object": "payment_intent", "amount": amount, "currency": currency, "customer": customer,
            "payment_method": method, "confirmation_method": "automatic", "status": "succeeded",
            "metadata": metadata(form), "last_payment_error": null, "latest_charge": format!("ch_{}", &id[3..]),
            "created": now(),
        });
        let declined = match method.as_str() {
            "pm_card_visa" => None,
            "pm_bank_debit" => {
                intent["status"] = json!("processing");
                None
            }
            "pm_card_chargeDeclined" => Some(("card_declined", "generic_decline", "Your card was declined.")),
            "pm_card_chargeDeclinedInsufficientFunds" => {
                Some(("card_declined", "insufficient_funds", "Your card has insufficient funds."))
            }
            other => {
                return error(
                    StatusCode::BAD_REQUEST,
                    "invalid_request_error",
                    Some("resource_missing"),
                    None,
                    &format!("No such PaymentMethod: '{other}'"),
                    json!({ "param": "payment_method" }),
                );
            }
        };
        if let Some((code, decline, message)) = declined {
            intent["status"] = json!("requires_payment_method");
            intent["last_payment_error"] =
                json!({ "type": "card_error", "code": code, "decline_code": decline, "message": message });
            inner.objects.insert(id, intent.clone());
            return error(
                StatusCode::PAYMENT_REQUIRED,
                "card_error",
                Some(code),
                Some(decline),
                message,
                json!({ "payment_intent": intent }),
            );
        }
        inner.objects.insert(id, intent.clone());
        (200, intent)
    })
}

async fn payment_intent(State(fake): State<FakeStripe>, Path(id): Path<String>) -> Response {
    match fake.inner.lock().unwrap().objects.get(&id).cloned() {
        Some(intent) => axum::Json(intent).into_response(),
        None => (StatusCode::NOT_FOUND, axum::Json(json!({ "error": { "type": "invalid_request_error", "code": "resource_missing", "message": format!("No such payment_intent: '{id}'") } }))).into_response(),
    }
}

async fn list_payment_intents(
    State(fake): State<FakeStripe>,
    headers: HeaderMap,
    Query(query): Query<Vec<(String, String)>>,
) -> Response {
    list(&fake, &headers, &query, "payment_intent", "pi_", &["customer"])
}

async fn refunds(
    State(fake): State<FakeStripe>,
    headers: HeaderMap,
    Form(form): Form<Vec<(String, String)>>,
) -> Response {
    handle(&fake, "/v1/refunds", &headers, form, |inner, form| {
        let Some(intent) = param(form, "payment_intent").and_then(|p| inner.objects.get(p)).cloned() else {
            return error(
                StatusCode::BAD_REQUEST,
                "invalid_request_error",
                Some("resource_missing"),
                None,
                "No such payment_intent",
                json!({}),
            );
        };
        let id = new_id(inner, "re_");
        let amount = param(form, "amount")
            .and_then(|a| a.parse::<i64>().ok())
            .unwrap_or_else(|| intent["amount"].as_i64().unwrap_or(0));
        let refund = json!({
            "id": id, "object": "refund", "amount": amount, "currency": intent["currency"],
            "payment_intent": intent["id"], "status": "succeeded", "metadata": metadata(form), "created": now(),
        });
        inner.objects.insert(id, refund.clone());
        (200, refund)
    })
}

async fn list_refunds(
    State(fake): State<FakeStripe>,
    headers: HeaderMap,
    Query(query): Query<Vec<(String, String)>>,
) -> Response {
    list(&fake, &headers, &query, "refund", "re_", &["payment_intent"])
}

/// `POST /v1/accounts`: a connected account, not yet onboarded (no charges, transfers or
/// payouts until `complete_onboarding`); each capability requested is `inactive` until then.
async fn accounts(
    State(fake): State<FakeStripe>,
    headers: HeaderMap,
    Form(form): Form<Vec<(String, String)>>,
) -> Response {
    handle(&fake, "/v1/accounts", &headers, form, |inner, form| {
        let capabilities: serde_json::Map<String, Value> = form
            .iter()
            .filter(|(_, v)| v.as_str() == "true")
            .filter_map(|(k, _)| k.strip_prefix("capabilities[")?.strip_suffix("][requested]"))
            .map(|capability| (capability.to_owned(), json!("inactive")))
            .collect();
        let interval = param(form, "settings[payouts][schedule][interval]").unwrap_or("daily");
        let id = new_id(inner, "acct_");
        let account = json!({
            "id": id, "object": "account", "type": param(form, "type"), "charges_enabled": false,
            "payouts_enabled": false, "details_submitted": false, "capabilities": capabilities,
            "settings": { "payouts": { "schedule": { "interval": interval } } },
            "metadata": metadata(form), "created": now(),
        });
        inner.objects.insert(id, account.clone());
        (200, account)
    })
}

/// `GET /v1/accounts/{id}`.
async fn account(State(fake): State<FakeStripe>, headers: HeaderMap, Path(id): Path<String>) -> Response {
    let found = fake.inner.lock().unwrap().objects.get(&id).filter(|_| id.starts_with("acct_")).cloned();
    let (status, body) = if !authorized(&headers) {
        unauthorized()
    } else if let Some(account) = found {
        (200, account)
    } else {
        error(
            StatusCode::NOT_FOUND,
            "invalid_request_error",
            Some("resource_missing"),
            None,
            &format!("No such account: '{id}'"),
            json!({ "param": "account" }),
        )
    };
    (StatusCode::from_u16(status).unwrap(), axum::Json(body)).into_response()
}

/// `POST /v1/account_links`: where a connected account's owner onboards, for five minutes.
async fn account_links(
    State(fake): State<FakeStripe>,
    headers: HeaderMap,
    Form(form): Form<Vec<(String, String)>>,
) -> Response {
    handle(&fake, "/v1/account_links", &headers, form, |inner, form| {
        for name in ["account", "refresh_url", "return_url", "type"] {
            if param(form, name).is_none() {
                return missing(name);
            }
        }
        let account = param(form, "account").unwrap_or_default();
        if !matches!(param(form, "type"), Some("account_onboarding" | "account_update")) {
            return invalid("type", None, "Invalid type: must be one of account_onboarding or account_update");
        }
        if !is_account(inner, account) {
            return no_such("account", account, "account");
        }
        let created = now();
        let url = format!("https://connect.stripe.com/setup/e/{account}/{}", uuid::Uuid::new_v4().simple());
        (200, json!({ "object": "account_link", "url": url, "created": created, "expires_at": created + 300 }))
    })
}

/// `POST /v1/transfers`: money from the platform's balance to a connected account.
async fn transfers(
    State(fake): State<FakeStripe>,
    headers: HeaderMap,
    Form(form): Form<Vec<(String, String)>>,
) -> Response {
    handle(&fake, "/v1/transfers", &headers, form, |inner, form| {
        let amount = match positive(form, "amount") {
            Ok(Some(amount)) => amount,
            Ok(None) => return missing("amount"),
            Err(e) => return e,
        };
        let Some(currency) = param(form, "currency") else {
            return missing("currency");
        };
        let Some(destination) = param(form, "destination") else {
            return missing("destination");
        };
        if !is_account(inner, destination) {
            return no_such("destination", destination, "destination");
        }
        if inner.objects[destination]["payouts_enabled"].as_bool() != Some(true) {
            return invalid(
                "destination",
                Some("insufficient_capabilities_for_transfer"),
                "Your destination account needs to have at least one of the following capabilities enabled: transfers, crypto_transfers, legacy_payments",
            );
        }
        if inner.fail_transfers_from.is_some_and(|from| amount >= from) {
            return error(
                StatusCode::BAD_REQUEST,
                "invalid_request_error",
                Some("balance_insufficient"),
                None,
                "You have insufficient available funds in your Stripe account. Try adding funds directly to your available balance by creating Charges using the 4000000000000077 test card.",
                json!({}),
            );
        }
        let id = new_id(inner, "tr_");
        let transfer = json!({
            "id": id, "object": "transfer", "amount": amount, "currency": currency, "destination": destination,
            "transfer_group": param(form, "transfer_group"),
            "source_transaction": param(form, "source_transaction"), "metadata": metadata(form),
            "reversed": false, "amount_reversed": 0,
            "reversals": {
                "object": "list", "url": format!("/v1/transfers/{id}/reversals"), "has_more": false,
                "total_count": 0, "data": [],
            },
            "created": now(),
        });
        inner.objects.insert(id, transfer.clone());
        (200, transfer)
    })
}

async fn list_transfers(
    State(fake): State<FakeStripe>,
    headers: HeaderMap,
    Query(query): Query<Vec<(String, String)>>,
) -> Response {
    list(&fake, &headers, &query, "transfer", "tr_", &["transfer_group", "destination"])
}

/// `POST /v1/transfers/{id}/reversals`: takes back `amount` of a transfer (all that is left
/// of it without one).
async fn transfer_reversals(
    State(fake): State<FakeStripe>,
    Path(id): Path<String>,
    headers: HeaderMap,
    Form(form): Form<Vec<(String, String)>>,
) -> Response {
    let path = format!("/v1/transfers/{id}/reversals");
    handle(&fake, &path, &headers, form, |inner, form| match positive(form, "amount") {
        Ok(amount) => reverse(inner, &id, amount, metadata(form)),
        Err(e) => e,
    })
}

/// Reverses `amount` of the transfer `id` (what is left of it when `None`): a
/// `transfer_reversal`, added to the transfer's `reversals`, its `amount_reversed` grown and
/// `reversed` once nothing is left.
fn reverse(inner: &mut Inner, id: &str, amount: Option<i64>, metadata: Value) -> (u16, Value) {
    let Some(transfer) = inner.objects.get(id).filter(|_| id.starts_with("tr_")) else {
        return error(
            StatusCode::NOT_FOUND,
            "invalid_request_error",
            Some("resource_missing"),
            None,
            &format!("No such transfer: '{id}'"),
            json!({ "param": "id" }),
        );
    };
    let total = transfer["amount"].as_i64().unwrap_or(0);
    let reversed = transfer["amount_reversed"].as_i64().unwrap_or(0);
    let currency = transfer["currency"].clone();
    let left = total - reversed;
    if left <= 0 {
        return invalid("amount", None, &format!("Transfer {id} has already been fully reversed."));
    }
    let amount = amount.unwrap_or(left);
    if amount > left {
        return invalid(
            "amount",
            None,
            &format!("Attempted to reverse {amount} of transfer {id}, which has only {left} left to reverse."),
        );
    }
    let reversal_id = new_id(inner, "trr_");
    let reversal = json!({
        "id": reversal_id, "object": "transfer_reversal", "amount": amount, "currency": currency,
        "transfer": id, "metadata": metadata, "created": now(),
    });
    inner.objects.insert(reversal_id, reversal.clone());
    if let Some(transfer) = inner.objects.get_mut(id) {
        transfer["amount_reversed"] = json!(reversed + amount);
        transfer["reversed"] = json!(amount == left);
        if let Some(data) = transfer.pointer_mut("/reversals/data").and_then(Value::as_array_mut) {
            data.insert(0, reversal.clone());
        }
        if let Some(count) = transfer.pointer_mut("/reversals/total_count") {
            *count = json!(count.as_i64().unwrap_or(0) + 1);
        }
    }
    (200, reversal)
}

/// `POST /v1/payouts` on a connected account (its `Stripe-Account` header): money from its
/// balance to its bank, `pending` until `finish_payout`.
async fn payouts(
    State(fake): State<FakeStripe>,
    headers: HeaderMap,
    Form(form): Form<Vec<(String, String)>>,
) -> Response {
    let account = header(&headers, "stripe-account");
    handle(&fake, "/v1/payouts", &headers, form, move |inner, form| {
        let Some(account) = account else {
            return error(
                StatusCode::BAD_REQUEST,
                "invalid_request_error",
                None,
                None,
                "Payouts must be made on a connected account in this test server",
                json!({}),
            );
        };
        if !is_account(inner, &account) {
            return error(
                StatusCode::BAD_REQUEST,
                "invalid_request_error",
                Some("resource_missing"),
                None,
                &format!("No such account: '{account}'"),
                json!({}),
            );
        }
        let amount = match positive(form, "amount") {
            Ok(Some(amount)) => amount,
            Ok(None) => return missing("amount"),
            Err(e) => return e,
        };
        let Some(currency) = param(form, "currency") else {
            return missing("currency");
        };
        let id = new_id(inner, "po_");
        let created = now();
        let payout = json!({
            "id": id, "object": "payout", "amount": amount, "currency": currency, "status": "pending",
            "metadata": metadata(form), "failure_code": null, "failure_message": null,
            "created": created, "arrival_date": created + 86_400,
        });
        inner.objects.insert(id.clone(), payout.clone());
        inner.payout_accounts.insert(id, account);
        (200, payout)
    })
}
