//! Stripe's rules for every request: the secret key, idempotency keys, errors, list pages, form parameters.
use axum::{
    http::{HeaderMap, StatusCode},
    response::{IntoResponse, Response},
};
use serde_json::{Value, json};

use super::{FakeStripe, Inner, SECRET_KEY, Seen};

pub(super) fn error(
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
pub(super) fn invalid(param: &str, code: Option<&str>, message: &str) -> (u16, Value) {
    error(StatusCode::BAD_REQUEST, "invalid_request_error", code, None, message, json!({ "param": param }))
}

/// A required parameter missing.
pub(super) fn missing(param: &str) -> (u16, Value) {
    invalid(param, Some("parameter_missing"), &format!("Missing required param: {param}."))
}

/// The parameter `param` names no `kind` Stripe has.
pub(super) fn no_such(kind: &str, id: &str, param: &str) -> (u16, Value) {
    invalid(param, Some("resource_missing"), &format!("No such {kind}: '{id}'"))
}

/// The parameter `param_name` as a positive integer (an amount in cents), if given.
pub(super) fn positive(form: &[(String, String)], param_name: &str) -> Result<Option<i64>, (u16, Value)> {
    match param(form, param_name) {
        None => Ok(None),
        Some(value) => match value.parse::<i64>() {
            Ok(amount) if amount > 0 => Ok(Some(amount)),
            _ => Err(invalid(param_name, Some("parameter_invalid_integer"), "Invalid positive integer")),
        },
    }
}

pub(super) fn unauthorized() -> (u16, Value) {
    error(StatusCode::UNAUTHORIZED, "invalid_request_error", None, None, "Invalid API Key provided", json!({}))
}

pub(super) fn authorized(headers: &HeaderMap) -> bool {
    header(headers, "authorization").is_some_and(|v| v == format!("Bearer {SECRET_KEY}"))
}

pub(super) fn header(headers: &HeaderMap, name: &str) -> Option<String> {
    headers.get(name).and_then(|v| v.to_str().ok()).map(str::to_owned)
}

pub(super) fn now() -> i64 {
    chrono::Utc::now().timestamp()
}

/// Runs `create` under Stripe's rules: the secret key checked, the Idempotency-Key honoured
/// (per account: the platform's, or the connected one named by `Stripe-Account`), the answer
/// lost when asked.
pub(super) fn handle(
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
pub(super) fn list(
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

pub(super) fn new_id(inner: &mut Inner, prefix: &str) -> String {
    inner.next_id += 1;
    format!("{prefix}{:024}", inner.next_id)
}

pub(super) fn param<'a>(form: &'a [(String, String)], name: &str) -> Option<&'a str> {
    form.iter().find(|(k, _)| k == name).map(|(_, v)| v.as_str())
}

pub(super) fn metadata(form: &[(String, String)]) -> Value {
    form.iter()
        .filter_map(|(k, v)| {
            k.strip_prefix("metadata[").and_then(|k| k.strip_suffix(']')).map(|k| (k.to_owned(), json!(v)))
        })
        .collect::<serde_json::Map<_, _>>()
        .into()
}

/// Whether `id` is a connected account Stripe has.
pub(super) fn is_account(inner: &Inner, id: &str) -> bool {
    id.starts_with("acct_") && inner.objects.contains_key(id)
}
