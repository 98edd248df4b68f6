//! Small shared types: money, ids, connections.
use async_graphql::{ID, connection::Connection};

pub use super::money::Money;
use uuid::Uuid;

use super::super::GqlResult;
use crate::{domain::page::Page, error::AppError};

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

/// The stable id of an object that has no row id of its own (a membership, the caller's view):
/// its type and the ids it is made of, so it never equals another object's id.
pub fn derived_id(kind: &str, parts: &[Uuid]) -> ID {
    let mut id = kind.to_owned();
    for part in parts {
        id.push(':');
        id.push_str(&part.to_string());
    }
    ID(id)
}
