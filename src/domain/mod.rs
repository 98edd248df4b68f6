//! Business rules and state machines, one module per area. No axum or async-graphql here.
//!
//! Lock order, everywhere: a contract row, then its task rows, then the outcome row, then a
//! dispute row, then ledger accounts (a payee's available balance before its other accounts).
//! A command takes any subsequence of it, never two rows in another order. Settling a payout
//! locks the payout row before its accounts; nothing holding an account waits for an existing
//! payout row. Last of all, at commit, the unit of work takes the heads of the streams its
//! activities are filed under, in name order (`activity::UnitOfWork`).
#![warn(clippy::arithmetic_side_effects)]
pub mod account;
pub mod activity;
pub mod agent;
pub mod api_key;
pub mod audit;
pub mod community;
pub mod contract;
pub mod conversation;
pub mod credentials;
pub mod dashboard;
pub mod event;
pub mod gig;
pub mod ledger;
pub mod mail;
pub mod money;
pub mod node;
pub mod notification;
pub mod notification_mail;
pub mod organization;
pub mod outcome;
pub mod page;
pub mod playbook;
pub mod profile;
pub mod reputation;
pub mod search;
pub mod sessions;
pub mod task;
pub mod validate;
pub mod webhook;

use crate::error::{AppError, AppResult};

pub use activity::{Action, NewActivity, UnitOfWork};
pub use gig::proposal;

/// Groups rows (already in the wanted order) by `key`, keeping their order within a group: the
/// shape every "children of many parents in one statement" query hands to a loader.
pub(crate) fn group<K, T, V>(
    rows: Vec<T>,
    key: impl Fn(&T) -> K,
    value: impl Fn(T) -> V,
) -> std::collections::HashMap<K, Vec<V>>
where
    K: Eq + std::hash::Hash,
{
    let mut map: std::collections::HashMap<K, Vec<V>> = std::collections::HashMap::new();
    for row in rows {
        map.entry(key(&row)).or_default().push(value(row));
    }
    map
}

/// Rows of `E` whose `parent` column is one of `ids`, sorted by `order`, grouped by parent
/// (`parent_of`) with `value` taken from each row: the one "children of many parents in one
/// statement" query every loader uses.
pub(crate) async fn children_of<E: sea_orm::EntityTrait, V>(
    db: &impl sea_orm::ConnectionTrait,
    parent: E::Column,
    ids: &[uuid::Uuid],
    order: &[(E::Column, sea_orm::Order)],
    parent_of: impl Fn(&E::Model) -> uuid::Uuid,
    value: impl Fn(E::Model) -> V,
) -> AppResult<std::collections::HashMap<uuid::Uuid, Vec<V>>> {
    use sea_orm::{ColumnTrait, QueryFilter, QueryOrder};
    let mut query = E::find().filter(parent.is_in(ids.iter().copied()));
    for (column, direction) in order {
        query = query.order_by(*column, direction.clone());
    }
    Ok(group(query.all(db).await?, parent_of, value))
}

/// How many rows of `E` each of `ids` has in its `parent` column, in one statement (parents
/// with none are absent): the counts lists show next to a page.
pub(crate) async fn counts_of<E: sea_orm::EntityTrait>(
    db: &impl sea_orm::ConnectionTrait,
    parent: E::Column,
    ids: &[uuid::Uuid],
) -> AppResult<std::collections::HashMap<uuid::Uuid, i64>> {
    use sea_orm::{
        ColumnTrait, QueryFilter, QuerySelect,
        sea_query::{Expr, Func},
    };
    let rows: Vec<(uuid::Uuid, i64)> = E::find()
        .select_only()
        .column(parent)
        .column_as(Expr::expr(Func::count(Expr::col(sea_orm::sea_query::Asterisk))), "n")
        .filter(parent.is_in(ids.iter().copied()))
        .group_by(parent)
        .into_tuple()
        .all(db)
        .await?;
    Ok(rows.into_iter().collect())
}

/// A partial update of one optional field.
#[derive(Clone, Debug, Default)]
pub enum Change<T> {
    /// Leave as is.
    #[default]
    Keep,
    /// Remove the value.
    Clear,
    /// Set a new value.
    Set(T),
}

impl<T> Change<T> {
    /// The value after the change, given the current one.
    pub fn apply(self, current: Option<T>) -> Option<T> {
        match self {
            Change::Keep => current,
            Change::Clear => None,
            Change::Set(v) => Some(v),
        }
    }
}

/// The wire name of a stored enum (its `string_value`, e.g. `IN_PROGRESS`): the one way status
/// names reach messages, activity snapshots and dashboards.
pub fn wire<E: sea_orm::ActiveEnum<Value = String>>(value: E) -> String {
    value.to_value()
}

/// Decodes a stored JSON column. A row that does not decode is corrupt: an INTERNAL error
/// (logged with `what`), never an empty default.
pub(crate) fn decode<T: serde::de::DeserializeOwned>(value: &serde_json::Value, what: &str) -> AppResult<T> {
    serde_json::from_value(value.clone()).map_err(|e| {
        tracing::error!(error = %e, what, "stored JSON does not decode");
        AppError::Internal(anyhow::anyhow!("{what} does not decode: {e}"))
    })
}
