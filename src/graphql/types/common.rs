//! Small shared types: money, ids, connections.
use async_graphql::{ID, SimpleObject, connection::Connection};
use uuid::Uuid;

use super::super::GqlResult;
use crate::{domain::page::Page, error::AppError};

/// An amount of money in minor units (cents) with its ISO 4217 currency.
#[derive(SimpleObject, Clone, Debug)]
pub struct Money {
    /// Amount in minor units, e.g. 12_50 for 12.50.
    pub amount_cents: i64,
    /// ISO 4217 code, e.g. EUR.
    pub currency: String,
}

/// Parses a GraphQL ID into a UUID; `field` names the argument on error.
pub fn parse_id(id: &ID, field: &str) -> GqlResult<Uuid> {
    id.parse::<Uuid>().map_err(|_| AppError::bad_input(field, "is not a valid id").into())
}

/// Turns a domain page into a relay connection, mapping each row.
pub fn connection<T, N: async_graphql::OutputType>(page: Page<T>, map: impl Fn(T) -> N) -> Connection<String, N> {
    let mut conn = Connection::new(page.has_previous_page, page.has_next_page);
    conn.edges.extend(
        page.items.into_iter().map(|(cursor, row)| async_graphql::connection::Edge::new(cursor.encode(), map(row))),
    );
    conn
}
