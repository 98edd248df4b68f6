//! Stripe's events and their `Stripe-Signature`, computed here independently of the app.
use hmac::{Hmac, Mac};
use serde_json::{Value, json};

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
