//! Idempotency keys of money-moving requests, kept as data: the key is claimed with
//! `INSERT … ON CONFLICT DO NOTHING` in the request's own transaction, and its result is saved
//! in that transaction. A key belongs to the account the request acts for (the contract's
//! client — its organization or its creator — for the client side's requests; the payee for a
//! withdrawal; the worker or arbiter for theirs), not to the caller: two admins of one
//! organization sending the same key and body get one effect. A concurrent duplicate waits on the key's row (PostgreSQL) or on the
//! single writer (SQLite) and then sees the saved result, so it can never move money twice.
use std::collections::BTreeSet;

use entity::idempotency_key;
use sea_orm::{ActiveModelTrait, ColumnTrait, ConnectionTrait, EntityTrait, QueryFilter, Set, sea_query::OnConflict};
use serde_json::Value;
use uuid::Uuid;

use crate::{
    error::{AppError, AppResult},
    state::AppState,
};

/// What claiming a key found.
#[derive(Debug)]
pub enum Claim {
    /// The key is new: do the work and `finish` it in the same transaction.
    New,
    /// The same request was done before: its saved result.
    Replay(Value),
}

/// Checks a client's key: 1 to 200 visible ASCII characters.
pub fn validate(key: &str) -> AppResult<String> {
    let key = key.trim();
    if key.is_empty() || key.len() > 200 || !key.chars().all(|c| c.is_ascii_graphic()) {
        return Err(AppError::bad_input("idempotencyKey", "must be 1 to 200 visible ASCII characters"));
    }
    Ok(key.to_owned())
}

/// Claims `key` of `account` for `operation` with `request` (an object of the input's fields).
/// Same key and same request → `Replay` of the first result; same key and another request →
/// CONFLICT naming the fields that differ; a first request still in flight → CONFLICT that is
/// safe to retry. Keys older than the configured time to live are forgotten.
pub async fn claim(
    db: &impl ConnectionTrait,
    state: &AppState,
    account: Uuid,
    key: &str,
    operation: &str,
    request: &Value,
) -> AppResult<Claim> {
    let now = state.clock.now();
    let ttl = chrono::Duration::from_std(state.config.payments.idempotency_ttl).unwrap_or(chrono::Duration::days(1));
    idempotency_key::Entity::delete_many()
        .filter(idempotency_key::Column::AccountId.eq(account))
        .filter(idempotency_key::Column::Key.eq(key))
        .filter(idempotency_key::Column::ExpiresAt.lte(now))
        .exec(db)
        .await?;
    let inserted = idempotency_key::Entity::insert(idempotency_key::ActiveModel {
        account_id: Set(account),
        key: Set(key.to_owned()),
        operation: Set(operation.to_owned()),
        request: Set(request.clone()),
        response: Set(None),
        created_at: Set(now),
        expires_at: Set(now.checked_add_signed(ttl).unwrap_or(now)),
    })
    .on_conflict(
        OnConflict::columns([idempotency_key::Column::AccountId, idempotency_key::Column::Key]).do_nothing().to_owned(),
    )
    .exec_without_returning(db)
    .await?;
    if inserted == 1 {
        return Ok(Claim::New);
    }
    let existing = idempotency_key::Entity::find_by_id((account, key.to_owned()))
        .one(db)
        .await?
        .ok_or_else(|| AppError::conflict("a request with this idempotencyKey is still in flight; retry it"))?;
    if existing.operation != operation {
        return Err(AppError::conflict(format!(
            "idempotencyKey was used for {} already; use a new key for {operation}",
            existing.operation
        )));
    }
    let differing = differing_fields(&existing.request, request);
    if !differing.is_empty() {
        return Err(AppError::conflict(format!(
            "idempotencyKey was used with different input: {} differ{}",
            differing.join(", "),
            if differing.len() == 1 { "s" } else { "" }
        )));
    }
    existing
        .response
        .map(Claim::Replay)
        .ok_or_else(|| AppError::conflict("a request with this idempotencyKey is still in flight; retry it"))
}

/// `claim` for an optional key: `Some(first result)` when this replays an earlier request,
/// `None` when there is no key or the key is new (validated as `validate` does).
pub async fn replayed(
    db: &impl ConnectionTrait,
    state: &AppState,
    account: Uuid,
    key: Option<&str>,
    operation: &str,
    request: &Value,
) -> AppResult<Option<Value>> {
    let Some(key) = key else { return Ok(None) };
    match claim(db, state, account, &validate(key)?, operation, request).await? {
        Claim::New => Ok(None),
        Claim::Replay(first) => Ok(Some(first)),
    }
}

/// `finish` for an optional key.
pub async fn finish_optional(
    db: &impl ConnectionTrait,
    account: Uuid,
    key: Option<&str>,
    response: Value,
) -> AppResult<()> {
    match key {
        Some(key) => finish(db, account, &validate(key)?, response).await,
        None => Ok(()),
    }
}

/// Saves the result of the request that claimed `key`, in the same transaction as its work.
pub async fn finish(db: &impl ConnectionTrait, account: Uuid, key: &str, response: Value) -> AppResult<()> {
    let row = idempotency_key::ActiveModel {
        account_id: Set(account),
        key: Set(key.to_owned()),
        response: Set(Some(response)),
        ..Default::default()
    };
    row.update(db).await?;
    Ok(())
}

/// The top-level fields whose values differ between two request objects.
fn differing_fields(first: &Value, now: &Value) -> Vec<String> {
    let keys: BTreeSet<&String> =
        first.as_object().into_iter().chain(now.as_object()).flat_map(|object| object.keys()).collect();
    keys.into_iter().filter(|k| first.get(k.as_str()) != now.get(k.as_str())).cloned().collect()
}

/// The id saved under `field` of a replayed result.
pub fn replayed_id(response: &Value, field: &str) -> AppResult<Uuid> {
    response
        .get(field)
        .and_then(Value::as_str)
        .and_then(|s| s.parse().ok())
        .ok_or_else(|| AppError::Internal(anyhow::anyhow!("an idempotent result lacks {field}: {response}")))
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;

    #[test]
    fn the_fields_that_differ_are_named() {
        let first = json!({ "contractId": "a", "amountCents": 100 });
        assert!(differing_fields(&first, &first).is_empty());
        assert_eq!(differing_fields(&first, &json!({ "contractId": "a", "amountCents": 101 })), ["amountCents"]);
        assert_eq!(differing_fields(&first, &json!({ "contractId": "b" })), ["amountCents", "contractId"]);
    }

    #[test]
    fn keys_are_short_visible_ascii() {
        assert_eq!(validate(" k-1 ").ok().as_deref(), Some("k-1"));
        for bad in ["", "a b", "é", &"x".repeat(201)] {
            assert_eq!(
                validate(bad).err().and_then(|e| e.field().map(str::to_owned)).as_deref(),
                Some("idempotencyKey")
            );
        }
    }
}
