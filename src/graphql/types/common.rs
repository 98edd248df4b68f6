//! Small shared types: money, ids, connections.
use async_graphql::{Context, ID, Object, ObjectType, connection::Connection};

pub use super::money::Money;
use uuid::Uuid;

use super::super::{GqlResult, loaders};
use crate::{
    domain::page::{Page, Total},
    error::AppError,
};

/// Parses a GraphQL ID into a UUID; `field` names the argument on error.
pub fn parse_id(id: &ID, field: &str) -> GqlResult<Uuid> {
    id.parse::<Uuid>().map_err(|_| AppError::bad_input(field, "is not a valid id").into())
}

/// A relay connection with the size of its whole list beside the page.
pub type List<N> = Connection<String, N, ListTotal>;

/// Turns a domain page into a relay connection, mapping each row.
pub fn connection<T, N: async_graphql::OutputType>(page: Page<T>, map: impl Fn(T) -> N) -> List<N> {
    let total = ListTotal(page.total.clone());
    connection_with(page, map, total)
}

/// Beside a page: its whole list, counted only when a client selects `totalCount`.
pub struct ListTotal(Option<Total>);

#[Object]
impl ListTotal {
    /// Items in the whole list, not only this page (one COUNT statement when selected).
    async fn total_count(&self, ctx: &Context<'_>) -> GqlResult<i64> {
        let total = self.0.as_ref().ok_or_else(|| AppError::Internal(anyhow::anyhow!("a list without its total")))?;
        Ok(total.count(&super::super::state(ctx)?.db).await?)
    }
}

/// Like [`connection`], with fields of the whole list beside the page (`totalCount`).
pub fn connection_with<T, N: async_graphql::OutputType, F: ObjectType>(
    page: Page<T>,
    map: impl Fn(T) -> N,
    fields: F,
) -> Connection<String, N, F> {
    let mut conn = Connection::with_additional_fields(page.has_previous_page, page.has_next_page, fields);
    conn.edges.extend(
        page.items.into_iter().map(|(cursor, row)| async_graphql::connection::Edge::new(cursor.encode(), map(row))),
    );
    conn
}

/// Which whole list a [`Counted`] connection counts.
#[derive(Clone, Copy)]
pub enum CountOf {
    /// A community's members.
    Members,
    /// A community's posts.
    Posts,
    /// A post's comments.
    Comments,
}

/// The fields a counted connection has beside its page: the list was authorized when it was
/// read, and its count comes through a loader (a page of posts with their comments' counts
/// costs one statement for all of them).
pub struct Counted(pub CountOf, pub Uuid);

#[Object]
impl Counted {
    /// Items in the whole list, not only this page.
    async fn total_count(&self, ctx: &Context<'_>) -> GqlResult<i64> {
        let loaders = loaders(ctx)?;
        let count = match self.0 {
            CountOf::Members => loaders.member_counts.load_one(self.1).await?,
            CountOf::Posts => loaders.post_counts.load_one(self.1).await?,
            CountOf::Comments => loaders.comment_counts.load_one(self.1).await?,
        };
        Ok(count.unwrap_or(0))
    }
}

/// Decimal places of the shares, rates and scores the API shows.
pub const FLOAT_PLACES: i32 = 4;

/// A computed share, rate or score as clients see it: rounded half away from zero to
/// [`FLOAT_PLACES`] decimal places (0.333333… → 0.3333), so a UI shows it as it is and caches
/// compare equal values equal. Rankings use the exact values.
pub fn rounded(x: f64) -> f64 {
    let scale = 10f64.powi(FLOAT_PLACES);
    (x * scale).round() / scale
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

/// A nullable input field as a partial update: absent keeps, `null` clears, a value sets.
pub fn change<T, U>(value: async_graphql::MaybeUndefined<T>, map: impl FnOnce(T) -> U) -> crate::domain::Change<U> {
    use crate::domain::Change;
    match value {
        async_graphql::MaybeUndefined::Undefined => Change::Keep,
        async_graphql::MaybeUndefined::Null => Change::Clear,
        async_graphql::MaybeUndefined::Value(v) => Change::Set(map(v)),
    }
}

#[cfg(test)]
mod tests {
    use super::rounded;

    #[test]
    fn shown_floats_keep_four_decimal_places() {
        assert_eq!(rounded(1.0 / 3.0), 0.3333);
        assert_eq!(rounded(2.0 / 3.0), 0.6667);
        assert_eq!(rounded(0.1 + 0.2), 0.3);
        assert_eq!(rounded(4.999_96), 5.0);
        assert_eq!(rounded(0.0), 0.0);
    }
}
