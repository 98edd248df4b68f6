//! A Stripe-shaped server for the tests: the endpoints the provider uses, answering as Stripe's
//! API reference documents them — form-encoded requests with a bearer secret key, JSON
//! objects, `{"error": {...}}` bodies with Stripe's types and codes, and `Idempotency-Key`
//! honoured (the same key and parameters return the first answer, errors included; other
//! parameters are an `idempotency_error`). Test payment methods follow Stripe's test ids:
//! `pm_card_visa` succeeds, `pm_card_chargeDeclined` and
//! `pm_card_chargeDeclinedInsufficientFunds` are declined; `pm_bank_debit` stays `processing`
//! (settled later by a webhook). `lose_next_answer` applies the next request and cuts its
//! answer short, as a connection dying on the way back. Events are signed as Stripe signs them
//! (`Stripe-Signature: t=…,v1=HMAC-SHA256(secret, "t.body")`), computed here independently.
use std::{
    collections::HashMap,
    sync::{Arc, Mutex},
};

use axum::{
    Form, Router,
    extract::{Path, State},
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
}

/// A form's parameters, in order.
type Params = Vec<(String, String)>;

#[derive(Default)]
struct Inner {
    objects: HashMap<String, Value>,
    /// Idempotency-Key → (the parameters, the status and body answered).
    keys: HashMap<String, (Params, u16, Value)>,
    seen: Vec<Seen>,
    lose_next: bool,
    next_id: u64,
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
            .route("/v1/payment_intents", post(payment_intents))
            .route("/v1/payment_intents/{id}", get(payment_intent))
            .route("/v1/refunds", post(refunds))
            .with_state(fake.clone());
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        fake.base = format!("http://{}", listener.local_addr().unwrap());
        tokio::spawn(async move { axum::serve(listener, app).await });
        fake
    }

    /// The requests to `path` so far.
    pub fn seen(&self, path: &str) -> Vec<Seen> {
        self.inner.lock().unwrap().seen.iter().filter(|s| s.path == path).cloned().collect()
    }

    /// The objects whose id starts with `prefix` (`pi_`, `cus_`, `re_`).
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

/// Runs `create` under Stripe's rules: the secret key checked, the Idempotency-Key honoured,
/// the answer lost when asked.
fn handle(
    fake: &FakeStripe,
    path: &str,
    headers: &HeaderMap,
    form: Vec<(String, String)>,
    create: impl FnOnce(&mut Inner, &[(String, String)]) -> (u16, Value),
) -> Response {
    let authorized =
        headers.get("authorization").and_then(|v| v.to_str().ok()) == Some(&format!("Bearer {SECRET_KEY}"));
    let key = headers.get("idempotency-key").and_then(|v| v.to_str().ok()).map(str::to_owned);
    let mut inner = fake.inner.lock().unwrap();
    inner.seen.push(Seen { path: path.to_owned(), idempotency_key: key.clone(), form: form.clone() });
    let (status, body) = if !authorized {
        error(StatusCode::UNAUTHORIZED, "invalid_request_error", None, None, "Invalid API Key provided", json!({}))
    } else {
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

async fn customers(
    State(fake): State<FakeStripe>,
    headers: HeaderMap,
    Form(form): Form<Vec<(String, String)>>,
) -> Response {
    handle(&fake, "/v1/customers", &headers, form, |inner, form| {
        let id = new_id(inner, "cus_");
        let customer = json!({ "id": id, "object": "customer", "metadata": metadata(form) });
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
        let refund = json!({ "id": id, "object": "refund", "amount": amount, "currency": intent["currency"], "payment_intent": intent["id"], "status": "succeeded" });
        inner.objects.insert(id, refund.clone());
        (200, refund)
    })
}
