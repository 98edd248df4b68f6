//! Gig search: filters, sort orders, keyset pages, visibility conditions and full-text matching.
use std::collections::HashMap;

use entity::{
    community_member,
    gig::{self, GigStatus, GigVisibility},
    gig_skill,
    organization_member::{self, OrgRole},
    profile,
};
use sea_orm::{
    ColumnTrait, Condition, ConnectionTrait, DbBackend, EntityTrait, JoinType, QueryFilter, QueryOrder, QuerySelect,
    sea_query::{Expr, ExprTrait, Query},
};
use uuid::Uuid;

use crate::{
    auth::Viewer,
    domain::{
        page::{Cursor, Page, PageRequest, Total, after_desc},
        validate,
    },
    error::{AppError, AppResult},
};

/// Sort orders of the gig search.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum GigSort {
    /// Newest first.
    Newest,
    /// Largest budget first.
    Budget,
    /// Best text match first (needs `text`).
    Relevance,
}

/// Filters of the gig search.
#[derive(Default)]
pub struct GigFilter {
    /// Words that must all match title or description (full-text, stemmed).
    pub text: Option<String>,
    /// Gigs requiring any of these skills.
    pub skills: Vec<String>,
    /// Minimum budget in minor units.
    pub min_budget: Option<i64>,
    /// Maximum budget in minor units.
    pub max_budget: Option<i64>,
    /// Only gigs budgeted in this currency; required with budget bounds and the budget sort
    /// (amounts in different currencies are never compared).
    pub currency: Option<String>,
    /// Only this community's gigs.
    pub community_id: Option<Uuid>,
    /// Status (OPEN when omitted); DRAFT lists only gigs you manage.
    pub status: Option<GigStatus>,
}

/// Searches visible gigs with keyset pages: a deep page costs what the first does.
pub async fn search(
    db: &impl ConnectionTrait,
    viewer: &Viewer,
    filter: GigFilter,
    sort: GigSort,
    page: PageRequest,
) -> AppResult<Page<gig::Model>> {
    Ok(search_with_owners(db, viewer, filter, sort, page, false).await?.0)
}

/// `search`, with each gig's owner joined into the page's statement when `owners` is set
/// (the owners by profile id; empty otherwise): a list showing owners costs no second query.
pub async fn search_with_owners(
    db: &impl ConnectionTrait,
    viewer: &Viewer,
    filter: GigFilter,
    sort: GigSort,
    page: PageRequest,
    owners: bool,
) -> AppResult<(Page<gig::Model>, HashMap<Uuid, profile::Model>)> {
    let backend = db.get_database_backend();
    let status = filter.status.unwrap_or(GigStatus::Open);
    let mut query = gig::Entity::find().filter(gig::Column::Status.eq(status));
    query = query.filter(visibility_condition(viewer, status));
    if let Some(community_id) = filter.community_id {
        query = query.filter(gig::Column::CommunityId.eq(community_id));
    }
    let currency = filter.currency.as_deref().map(|c| validate::currency(c, "filter.currency")).transpose()?;
    match &currency {
        Some(currency) => query = query.filter(gig::Column::Currency.eq(currency.as_str())),
        None if filter.min_budget.is_some() || filter.max_budget.is_some() => {
            return Err(AppError::bad_input("filter.currency", "give the currency the budget bounds are in"));
        }
        None if sort == GigSort::Budget => {
            return Err(AppError::bad_input("filter.currency", "sorting by budget needs one currency"));
        }
        None => {}
    }
    if let Some(min) = filter.min_budget {
        query = query.filter(gig::Column::BudgetCents.gte(min));
    }
    if let Some(max) = filter.max_budget {
        query = query.filter(gig::Column::BudgetCents.lte(max));
    }
    if let (Some(min), Some(max)) = (filter.min_budget, filter.max_budget)
        && min > max
    {
        return Err(AppError::bad_input("filter.maxBudget", "must not be below minBudget"));
    }
    validate::at_most(filter.skills.len(), 20, "filter.skills")?;
    if !filter.skills.is_empty() {
        let skills = filter
            .skills
            .iter()
            .enumerate()
            .map(|(i, s)| validate::skill_name(s, &format!("filter.skills[{i}]")))
            .collect::<AppResult<Vec<_>>>()?;
        query = query.filter(
            gig::Column::Id.in_subquery(
                Query::select()
                    .column(gig_skill::Column::GigId)
                    .from(gig_skill::Entity)
                    .and_where(gig_skill::Column::Skill.is_in(skills))
                    .to_owned(),
            ),
        );
    }
    let terms = filter.text.as_deref().map(search_terms).transpose()?.filter(|t| !t.is_empty());
    if let Some(terms) = &terms {
        query = query.filter(text_match(backend, terms));
    }
    let key_expr = match sort {
        GigSort::Newest => None,
        GigSort::Budget => Some(Expr::col((gig::Entity, gig::Column::BudgetCents))),
        GigSort::Relevance => {
            let terms = terms.as_ref().ok_or_else(|| AppError::bad_input("sort", "RELEVANCE needs filter.text"))?;
            Some(relevance(backend, terms))
        }
    };
    let total = Total::of(&query);
    if let Some(after) = page.after {
        // Qualified: the owner's profile, when joined, has these columns too.
        query = query.filter(after_desc(
            key_expr.clone().map(|k| (k, after.key.into())),
            Expr::col((gig::Entity, gig::Column::CreatedAt)),
            Expr::col((gig::Entity, gig::Column::Id)),
            &after,
        ));
    }
    if let Some(key) = &key_expr {
        query = query.order_by_desc(key.clone());
    }
    query = query.order_by_desc(gig::Column::CreatedAt).order_by_desc(gig::Column::Id).limit(page.fetch());
    let (rows, owners) = if owners {
        let owner =
            gig::Entity::belongs_to(profile::Entity).from(gig::Column::OwnerProfileId).to(profile::Column::Id).into();
        let pairs = query.join(JoinType::InnerJoin, owner).select_also(profile::Entity).all(db).await?;
        let owners = pairs.iter().filter_map(|(_, p)| p.clone().map(|p| (p.id, p))).collect();
        (pairs.into_iter().map(|(g, _)| g).collect::<Vec<_>>(), owners)
    } else {
        (query.all(db).await?, HashMap::new())
    };
    let page = match (sort, key_expr) {
        (GigSort::Relevance, Some(key)) => {
            // The rank of each row on the page, for its cursor: one more statement.
            let ids: Vec<Uuid> = rows.iter().map(|g| g.id).collect();
            let ranks: HashMap<Uuid, i64> = gig::Entity::find()
                .select_only()
                .column(gig::Column::Id)
                .column_as(key, "rank")
                .filter(gig::Column::Id.is_in(ids))
                .into_tuple::<(Uuid, Option<i64>)>()
                .all(db)
                .await?
                .into_iter()
                .map(|(id, rank)| (id, rank.unwrap_or(0)))
                .collect();
            Page::from_rows(rows, &page, |g| Cursor {
                key: ranks.get(&g.id).copied().unwrap_or(0),
                at: g.created_at,
                id: g.id,
            })
            .counting(total)
        }
        (GigSort::Budget, _) => {
            Page::from_rows(rows, &page, |g| Cursor { key: g.budget_cents, at: g.created_at, id: g.id }).counting(total)
        }
        _ => Page::from_rows(rows, &page, |g| Cursor { key: 0, at: g.created_at, id: g.id }).counting(total),
    };
    Ok((page, owners))
}

/// Which gigs of `status` the viewer may list.
fn visibility_condition(viewer: &Viewer, status: GigStatus) -> Condition {
    let Some(me) = viewer.profile_id() else {
        return if status == GigStatus::Draft {
            Condition::all().add(Expr::val(1).eq(0))
        } else {
            Condition::all().add(gig::Column::Visibility.eq(GigVisibility::Public))
        };
    };
    let managed = Condition::any().add(gig::Column::OwnerProfileId.eq(me)).add(
        gig::Column::OrganizationId.in_subquery(
            Query::select()
                .column(organization_member::Column::OrganizationId)
                .from(organization_member::Entity)
                .and_where(organization_member::Column::ProfileId.eq(me))
                .and_where(organization_member::Column::Role.is_in([OrgRole::Owner, OrgRole::Admin]))
                .to_owned(),
        ),
    );
    if status == GigStatus::Draft {
        return managed;
    }
    Condition::any().add(gig::Column::Visibility.eq(GigVisibility::Public)).add(managed).add(
        gig::Column::CommunityId.in_subquery(
            Query::select()
                .column(community_member::Column::CommunityId)
                .from(community_member::Entity)
                .and_where(community_member::Column::ProfileId.eq(me))
                .to_owned(),
        ),
    )
}

/// Splits search text into plain words (letters and digits), at most 10.
pub fn search_terms(text: &str) -> AppResult<Vec<String>> {
    crate::domain::search::words(text, "filter.text")
}

/// Gigs whose title or description match every term: PostgreSQL full-text search, or SQLite FTS5.
fn text_match(backend: DbBackend, terms: &[String]) -> Expr {
    match backend {
        DbBackend::Postgres => {
            Expr::cust_with_values("gigs.search @@ plainto_tsquery('english', $1)", [terms.join(" ")])
        }
        _ => Expr::cust_with_values(
            "gigs.id IN (SELECT gig_id FROM gigs_fts WHERE gigs_fts MATCH ?)",
            [fts5_query(terms)],
        ),
    }
}

/// An integer relevance score (higher is better) for the RELEVANCE sort and its cursors.
fn relevance(backend: DbBackend, terms: &[String]) -> Expr {
    match backend {
        DbBackend::Postgres => Expr::cust_with_values(
            "CAST(ts_rank(gigs.search, plainto_tsquery('english', $1)) * 1000000000 AS BIGINT)",
            [terms.join(" ")],
        ),
        _ => Expr::cust_with_values(
            "(SELECT CAST(-bm25(gigs_fts, 0.0, 10.0, 1.0) * 1000000000 AS INTEGER) FROM gigs_fts WHERE gigs_fts MATCH ? AND gigs_fts.gig_id = gigs.id)",
            [fts5_query(terms)],
        ),
    }
}

/// Quotes each term so FTS5 reads them as words (AND), never as query syntax.
fn fts5_query(terms: &[String]) -> String {
    terms.iter().map(|t| format!("\"{}\"", t.replace('"', ""))).collect::<Vec<_>>().join(" ")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn search_text_becomes_plain_quoted_words() -> AppResult<()> {
        let terms = search_terms("Rust* OR \"data\" NEAR(x)")?;
        assert_eq!(terms, ["rust", "or", "data", "near", "x"]);
        assert_eq!(fts5_query(&terms[..2]), "\"rust\" \"or\"");
        Ok(())
    }
}
