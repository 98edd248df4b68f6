//! Customers, PaymentIntents (with Stripe's test payment methods) and refunds.
use axum::{
    Form,
    extract::{Path, Query, State},
    http::{HeaderMap, StatusCode},
    response::{IntoResponse, Response},
};
use serde_json::json;

use super::{
    FakeStripe,
    protocol::{error, handle, list, metadata, new_id, now, param},
};

pub(super) async fn customers(
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

pub(super) async fn payment_intents(
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

pub(super) async fn payment_intent(State(fake): State<FakeStripe>, Path(id): Path<String>) -> Response {
    match fake.inner.lock().unwrap().objects.get(&id).cloned() {
        Some(intent) => axum::Json(intent).into_response(),
        None => (StatusCode::NOT_FOUND, axum::Json(json!({ "error": { "type": "invalid_request_error", "code": "resource_missing", "message": format!("No such payment_intent: '{id}'") } }))).into_response(),
    }
}

pub(super) async fn list_payment_intents(
    State(fake): State<FakeStripe>,
    headers: HeaderMap,
    Query(query): Query<Vec<(String, String)>>,
) -> Response {
    list(&fake, &headers, &query, "payment_intent", "pi_", &["customer"])
}

pub(super) async fn refunds(
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

pub(super) async fn list_refunds(
    State(fake): State<FakeStripe>,
    headers: HeaderMap,
    Query(query): Query<Vec<(String, String)>>,
) -> Response {
    list(&fake, &headers, &query, "refund", "re_", &["payment_intent"])
}
