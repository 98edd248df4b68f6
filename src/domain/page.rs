//! Keyset pagination: opaque cursors over (timestamp, id), never OFFSET.
use base64::{Engine, engine::general_purpose::URL_SAFE_NO_PAD};
use chrono::{DateTime, Utc};
use sea_orm::{
    ColumnTrait, Condition, ConnectionTrait, EntityTrait, Order, QueryFilter, QueryOrder, QuerySelect, QueryTrait,
    Select,
    sea_query::{Expr, ExprTrait},
};
use uuid::Uuid;

use crate::{
    config::Limits,
    error::{AppError, AppResult},
};

/// A position in a list ordered by (key, timestamp, id); `key` is the leading sort value
/// (a budget, a pinned flag, a relevance score) and 0 where a list has none.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Cursor {
    /// Leading sort key of the row.
    pub key: i64,
    /// Sort timestamp of the row.
    pub at: DateTime<Utc>,
    /// Tie-breaking id of the row.
    pub id: Uuid,
}

impl Cursor {
    /// The opaque string form.
    pub fn encode(&self) -> String {
        URL_SAFE_NO_PAD.encode(format!("{}:{}:{}", self.key, self.at.timestamp_micros(), self.id))
    }

    /// Parses the opaque form; `BAD_USER_INPUT` on `after` when it is not ours.
    pub fn decode(raw: &str) -> AppResult<Self> {
        let bad = || AppError::bad_input("after", "is not a valid cursor");
        let bytes = URL_SAFE_NO_PAD.decode(raw).map_err(|_| bad())?;
        let text = String::from_utf8(bytes).map_err(|_| bad())?;
        let mut parts = text.splitn(3, ':');
        let (key, micros, id) =
            (parts.next().ok_or_else(bad)?, parts.next().ok_or_else(bad)?, parts.next().ok_or_else(bad)?);
        let key: i64 = key.parse().map_err(|_| bad())?;
        let micros: i64 = micros.parse().map_err(|_| bad())?;
        Ok(Self {
            key,
            at: DateTime::from_timestamp_micros(micros).ok_or_else(bad)?,
            id: id.parse().map_err(|_| bad())?,
        })
    }
}

/// What page a client asks for.
#[derive(Clone, Copy, Debug)]
pub struct PageRequest {
    /// Rows wanted (already capped).
    pub first: u64,
    /// Rows strictly after this position.
    pub after: Option<Cursor>,
}

impl PageRequest {
    /// Rows to fetch: one more than wanted, to learn whether more follow.
    pub fn fetch(&self) -> u64 {
        self.first.saturating_add(1)
    }

    /// Validates `first` (0 or more; capped at the configured maximum) and `after`.
    pub fn new(first: Option<i32>, after: Option<&str>, limits: &Limits) -> AppResult<Self> {
        let first = match first {
            None => limits.default_page_size,
            Some(n) if n < 0 => return Err(AppError::bad_input("first", "must not be negative")),
            Some(n) => (n as usize).min(limits.max_page_size),
        };
        Ok(Self { first: first as u64, after: after.map(Cursor::decode).transpose()? })
    }
}

/// One page of rows with their cursors.
#[derive(Debug)]
pub struct Page<T> {
    /// The rows, each with its cursor.
    pub items: Vec<(Cursor, T)>,
    /// Whether more rows follow.
    pub has_next_page: bool,
    /// Whether rows precede (a cursor was given).
    pub has_previous_page: bool,
    /// The whole list the page was cut from, for counting it when a client asks.
    pub total: Option<Total>,
}

/// The whole list behind a page (its filters, no cursor, order or limit): counted only when a
/// client selects `totalCount`, with one `COUNT(*)` statement.
#[derive(Clone, Debug)]
pub struct Total(sea_orm::sea_query::SelectStatement);

impl Total {
    /// The list `query` selects.
    pub fn of<E: EntityTrait>(query: &Select<E>) -> Self {
        Self(QueryTrait::into_query(query.clone()))
    }

    /// How many rows the list holds.
    pub async fn count(&self, db: &impl ConnectionTrait) -> AppResult<i64> {
        use sea_orm::sea_query::{Alias, Query};
        let statement = Query::select()
            .expr_as(Expr::cust("COUNT(*)"), Alias::new("n"))
            .from_subquery(self.0.clone(), Alias::new("list"))
            .to_owned();
        let row = db
            .query_one(&statement)
            .await?
            .ok_or_else(|| AppError::Internal(anyhow::anyhow!("COUNT(*) returned no row")))?;
        Ok(row.try_get::<i64>("", "n")?)
    }
}

impl<T> Page<T> {
    /// Builds a page from up to `first + 1` fetched rows; the extra row only signals more.
    pub fn from_rows(mut rows: Vec<T>, request: &PageRequest, cursor_of: impl Fn(&T) -> Cursor) -> Self {
        let has_next_page = u64::try_from(rows.len()).unwrap_or(u64::MAX) > request.first;
        rows.truncate(usize::try_from(request.first).unwrap_or(usize::MAX));
        Self {
            items: rows.into_iter().map(|row| (cursor_of(&row), row)).collect(),
            has_next_page,
            has_previous_page: request.after.is_some(),
            total: None,
        }
    }

    /// The same page, countable as a whole by `total`.
    pub fn counting(mut self, total: Total) -> Self {
        self.total = Some(total);
        self
    }
}

impl<T> Page<T> {
    /// The same page with each row mapped, dropping rows `f` turns into `None`.
    pub fn filter_map<U>(self, f: impl Fn(T) -> Option<U>) -> Page<U> {
        Page {
            items: self.items.into_iter().filter_map(|(cursor, row)| f(row).map(|u| (cursor, u))).collect(),
            has_next_page: self.has_next_page,
            has_previous_page: self.has_previous_page,
            total: self.total,
        }
    }
}

/// Which way a keyset list runs.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Direction {
    /// Oldest (or soonest) first.
    Ascending,
    /// Newest first.
    Descending,
}

/// One page of `query` sorted by (`at`, `id`) in `direction`, strictly after the request's
/// cursor: the shape of every plain keyset list. `cursor_of` reads (`at`, `id`) off a row.
pub async fn keyset<E: EntityTrait>(
    db: &impl ConnectionTrait,
    mut query: Select<E>,
    (at, id): (E::Column, E::Column),
    direction: Direction,
    page: &PageRequest,
    cursor_of: impl Fn(&E::Model) -> Cursor,
) -> AppResult<Page<E::Model>> {
    let total = Total::of(&query);
    if let Some(after) = page.after {
        let (at_expr, id_expr) = (Expr::col(at.as_column_ref()), Expr::col(id.as_column_ref()));
        query = query.filter(match direction {
            Direction::Ascending => after_asc(at_expr, id_expr, &after),
            Direction::Descending => after_desc(None, at_expr, id_expr, &after),
        });
    }
    let order = if direction == Direction::Ascending { Order::Asc } else { Order::Desc };
    let rows = query.order_by(at, order.clone()).order_by(id, order).limit(page.fetch()).all(db).await?;
    Ok(Page::from_rows(rows, page, cursor_of).counting(total))
}

/// The keyset condition "strictly after `cursor`" for a list sorted ascending by (`at`, `id`):
/// a row-value comparison, which an index on (…, `at`, `id`) answers as a range — a deep page
/// costs what the first does (an OR of the parts makes the database filter every row before).
pub fn after_asc(at: Expr, id: Expr, cursor: &Cursor) -> Condition {
    Condition::all().add(Expr::tuple([at, id]).gt(Expr::tuple([Expr::val(cursor.at), Expr::val(cursor.id)])))
}

/// The keyset condition "strictly after `cursor`" for a list sorted descending by
/// (`key`, `at`, `id`); `key` is `None` for lists without a leading sort value.
pub fn after_desc(key: Option<(Expr, sea_orm::Value)>, at: Expr, id: Expr, cursor: &Cursor) -> Condition {
    let (mut left, mut right) = (Vec::with_capacity(3), Vec::with_capacity(3));
    if let Some((key, value)) = key {
        left.push(key);
        right.push(Expr::val(value));
    }
    left.extend([at, id]);
    right.extend([Expr::val(cursor.at), Expr::val(cursor.id)]);
    Condition::all().add(Expr::tuple(left).lt(Expr::tuple(right)))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn cursors_round_trip_and_garbage_is_bad_input() -> AppResult<()> {
        let cursor = Cursor { key: -42, at: Utc::now(), id: Uuid::new_v4() };
        let decoded = Cursor::decode(&cursor.encode())?;
        assert_eq!(decoded.id, cursor.id);
        assert_eq!(decoded.key, -42);
        assert_eq!(decoded.at.timestamp_micros(), cursor.at.timestamp_micros());
        assert_eq!(Cursor::decode("nope").err().and_then(|e| e.field().map(str::to_owned)), Some("after".into()));
        Ok(())
    }

    #[test]
    fn page_size_is_capped_and_extra_row_means_more() -> AppResult<()> {
        let limits = Limits::default();
        assert_eq!(PageRequest::new(Some(10_000), None, &limits)?.first, limits.max_page_size as u64);
        assert!(PageRequest::new(Some(-1), None, &limits).is_err());
        let request = PageRequest::new(Some(2), None, &limits)?;
        let page = Page::from_rows(vec![1, 2, 3], &request, |_| Cursor { key: 0, at: Utc::now(), id: Uuid::nil() });
        assert_eq!(page.items.len(), 2);
        assert!(page.has_next_page);
        Ok(())
    }
}
