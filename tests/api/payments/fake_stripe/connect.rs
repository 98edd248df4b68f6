//! Connect: Express accounts and their onboarding links, transfers and their reversals, payouts.
use axum::{
    Form,
    extract::{Path, Query, State},
    http::{HeaderMap, StatusCode},
    response::{IntoResponse, Response},
};
use serde_json::{Value, json};

use super::{
    FakeStripe, Inner,
    protocol::{
        authorized, error, handle, header, invalid, is_account, list, metadata, missing, new_id, no_such, now, param,
        positive, unauthorized,
    },
};

/// `POST /v1/accounts`: a connected account, not yet onboarded (no charges, transfers or
/// payouts until `complete_onboarding`); each capability requested is `inactive` until then.
pub(super) async fn accounts(
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
pub(super) async fn account(State(fake): State<FakeStripe>, headers: HeaderMap, Path(id): Path<String>) -> Response {
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
pub(super) async fn account_links(
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
pub(super) async fn transfers(
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

pub(super) async fn list_transfers(
    State(fake): State<FakeStripe>,
    headers: HeaderMap,
    Query(query): Query<Vec<(String, String)>>,
) -> Response {
    list(&fake, &headers, &query, "transfer", "tr_", &["transfer_group", "destination"])
}

/// `POST /v1/transfers/{id}/reversals`: takes back `amount` of a transfer (all that is left
/// of it without one).
pub(super) async fn transfer_reversals(
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
pub(super) fn reverse(inner: &mut Inner, id: &str, amount: Option<i64>, metadata: Value) -> (u16, Value) {
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
pub(super) async fn payouts(
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
