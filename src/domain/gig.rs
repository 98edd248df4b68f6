//! Gigs: posting, the DRAFT → OPEN → FILLED / CLOSED / CANCELLED machine, visibility and search.
use crate::domain::Action;
use std::collections::HashMap;

use chrono::{DateTime, Utc};
use entity::{
    community_member,
    gig::{self, GigStatus, GigVisibility},
    gig_skill,
    organization_member::{self, OrgRole},
    profile,
};
use sea_orm::{
    ActiveModelTrait, ColumnTrait, Condition, ConnectionTrait, DbBackend, EntityTrait, IntoActiveModel, JoinType,
    QueryFilter, QueryOrder, QuerySelect, Set,
    sea_query::{Expr, ExprTrait, Query},
};
use serde_json::json;
use uuid::Uuid;

use super::{
    NewActivity, UnitOfWork, community, organization,
    page::{Cursor, Page, PageRequest, Total, after_desc},
    validate,
};
use crate::{
    auth::Viewer,
    error::{AppError, AppResult},
    state::AppState,
};

/// Topic of a gig's changes.
pub fn topic(gig_id: Uuid) -> String {
    format!("gig:{gig_id}")
}

/// What can happen to a gig.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum GigAction {
    /// DRAFT → OPEN.
    Publish,
    /// OPEN → FILLED (a proposal was accepted).
    Fill,
    /// OPEN → CLOSED.
    Close,
    /// DRAFT or OPEN → CANCELLED.
    Cancel,
}

/// The gig state machine: the next status, or CONFLICT naming both states.
pub fn transition(from: GigStatus, action: GigAction) -> AppResult<GigStatus> {
    use GigStatus::*;
    let to = match (from, action) {
        (Draft, GigAction::Publish) => Open,
        (Open, GigAction::Fill) => Filled,
        (Open, GigAction::Close) => Closed,
        (Draft | Open, GigAction::Cancel) => Cancelled,
        _ => {
            let target = match action {
                GigAction::Publish => Open,
                GigAction::Fill => Filled,
                GigAction::Close => Closed,
                GigAction::Cancel => Cancelled,
            };
            return Err(AppError::conflict(format!(
                "a gig cannot go from {} to {}",
                crate::domain::wire(from),
                crate::domain::wire(target)
            )));
        }
    };
    Ok(to)
}

/// Fields of a gig; `None` leaves a field as is on update.
#[derive(Default)]
pub struct GigInput {
    /// Post for this organization (OWNER/ADMIN only); create only.
    pub organization_id: Option<Uuid>,
    /// Belongs to this community; create only.
    pub community_id: Option<Uuid>,
    /// Title.
    pub title: Option<String>,
    /// Description.
    pub description: Option<String>,
    /// Required skills (replaces the list).
    pub skills: Option<Vec<String>>,
    /// Budget in minor units.
    pub budget_cents: Option<i64>,
    /// ISO currency.
    pub currency: Option<String>,
    /// Deadline.
    pub deadline: Option<DateTime<Utc>>,
    /// Remote work.
    pub remote: Option<bool>,
    /// Location when not remote.
    pub location: Option<String>,
    /// PUBLIC or COMMUNITY.
    pub visibility: Option<GigVisibility>,
}

/// Creates a DRAFT gig as yourself, or for an organization you own or administer.
pub async fn create(state: &AppState, viewer: &Viewer, input: GigInput) -> AppResult<gig::Model> {
    let (_, me) = viewer.require_user()?;
    let now = state.clock.now();
    let title = validate::text(input.title.as_deref().unwrap_or_default(), "title", 1, 200, false)?;
    let description = validate::text(input.description.as_deref().unwrap_or_default(), "description", 1, 20_000, true)?;
    let budget = input.budget_cents.ok_or_else(|| AppError::bad_input("budget.amountCents", "is required"))?;
    let (budget, currency) = budget_of(budget, input.currency.as_deref().unwrap_or_default())?;
    let skills = skills_of_input(input.skills.unwrap_or_default())?;
    let remote = input.remote.unwrap_or(true);
    let location = validate::optional_text(input.location.as_deref(), "location", 100, false)?;
    check_place(remote, &location)?;
    check_deadline(input.deadline, now)?;
    let visibility = input.visibility.unwrap_or(GigVisibility::Public);
    if visibility == GigVisibility::Community && input.community_id.is_none() {
        return Err(AppError::bad_input("visibility", "COMMUNITY gigs need a communityId"));
    }
    let mut work = UnitOfWork::begin(state, viewer).await?;
    if let Some(org) = input.organization_id {
        organization::by_id(work.txn(), org)
            .await?
            .ok_or_else(|| AppError::bad_input("organizationId", "no such organization"))?;
        let role = organization::role_of(work.txn(), org, me).await?;
        if !matches!(role, Some(OrgRole::Owner | OrgRole::Admin)) {
            return Err(AppError::forbidden("only owners and admins post gigs for an organization"));
        }
    }
    if let Some(community_id) = input.community_id {
        community::by_id(work.txn(), community_id)
            .await?
            .ok_or_else(|| AppError::bad_input("communityId", "no such community"))?;
        if community::role_of(work.txn(), community_id, me).await?.is_none() {
            return Err(AppError::forbidden("post community gigs in communities you belong to"));
        }
    }
    let gig = gig::ActiveModel {
        id: Set(Uuid::new_v4()),
        owner_profile_id: Set(me),
        organization_id: Set(input.organization_id),
        community_id: Set(input.community_id),
        title: Set(title),
        description: Set(description),
        budget_cents: Set(budget),
        currency: Set(currency),
        deadline: Set(input.deadline),
        remote: Set(remote),
        location: Set(location),
        visibility: Set(visibility),
        status: Set(GigStatus::Draft),
        accepted_proposal_id: Set(None),
        created_at: Set(now),
        updated_at: Set(now),
    }
    .insert(work.txn())
    .await?;
    write_skills(work.txn(), gig.id, &skills).await?;
    work.record(gig_activity(Action::GigCreated, &gig, None)).await?;
    work.commit().await?;
    Ok(gig)
}

/// Edits a gig while DRAFT or OPEN (its managers only).
pub async fn update(state: &AppState, viewer: &Viewer, id: Uuid, input: GigInput) -> AppResult<gig::Model> {
    let now = state.clock.now();
    let mut work = UnitOfWork::begin(state, viewer).await?;
    let before = lock(work.txn(), id).await?;
    require_manager(work.txn(), viewer, &before).await?;
    if !matches!(before.status, GigStatus::Draft | GigStatus::Open) {
        return Err(AppError::conflict(format!("a {} gig cannot be edited", crate::domain::wire(before.status))));
    }
    let mut active = before.clone().into_active_model();
    if let Some(title) = &input.title {
        active.title = Set(validate::text(title, "title", 1, 200, false)?);
    }
    if let Some(description) = &input.description {
        active.description = Set(validate::text(description, "description", 1, 20_000, true)?);
    }
    if input.budget_cents.is_some() || input.currency.is_some() {
        let (budget, currency) = budget_of(
            input.budget_cents.unwrap_or(before.budget_cents),
            input.currency.as_deref().unwrap_or(&before.currency),
        )?;
        active.budget_cents = Set(budget);
        active.currency = Set(currency);
    }
    if let Some(deadline) = input.deadline {
        check_deadline(Some(deadline), now)?;
        active.deadline = Set(Some(deadline));
    }
    let remote = input.remote.unwrap_or(before.remote);
    let location = match &input.location {
        Some(l) => validate::optional_text(Some(l), "location", 100, false)?,
        None => before.location.clone(),
    };
    check_place(remote, &location)?;
    active.remote = Set(remote);
    active.location = Set(location);
    if let Some(visibility) = input.visibility {
        if visibility == GigVisibility::Community && before.community_id.is_none() {
            return Err(AppError::bad_input("visibility", "COMMUNITY gigs need a communityId"));
        }
        active.visibility = Set(visibility);
    }
    active.updated_at = Set(now);
    let gig = active.update(work.txn()).await?;
    if let Some(skills) = input.skills {
        write_skills(work.txn(), gig.id, &skills_of_input(skills)?).await?;
    }
    work.record(gig_activity(Action::GigUpdated, &gig, None)).await?;
    work.commit().await?;
    Ok(gig)
}

/// Moves a gig through its machine (publish, close, cancel). Closing or cancelling declines
/// the proposals still waiting.
pub async fn act(state: &AppState, viewer: &Viewer, id: Uuid, action: GigAction) -> AppResult<gig::Model> {
    let mut work = UnitOfWork::begin(state, viewer).await?;
    let before = lock(work.txn(), id).await?;
    require_manager(work.txn(), viewer, &before).await?;
    let to = transition(before.status, action)?;
    let mut active = before.clone().into_active_model();
    active.status = Set(to);
    active.updated_at = Set(state.clock.now());
    let gig = active.update(work.txn()).await?;
    if matches!(to, GigStatus::Closed | GigStatus::Cancelled) {
        let reason = format!("the gig was {}", crate::domain::wire(to).to_lowercase());
        super::proposal::decline_waiting(&mut work, gig.id, None, &reason, state.clock.now()).await?;
    }
    let action_name = match action {
        GigAction::Publish => Action::GigPublished,
        GigAction::Fill => Action::GigFilled,
        GigAction::Close => Action::GigClosed,
        GigAction::Cancel => Action::GigCancelled,
    };
    work.record(gig_activity(action_name, &gig, Some(crate::domain::wire(before.status).as_str()))).await?;
    work.commit().await?;
    Ok(gig)
}

/// Whether the viewer manages the gig: the owner of a personal gig, or a current OWNER/ADMIN
/// of the gig's organization (whoever posted it keeps nothing once demoted or removed).
pub async fn can_manage(db: &impl ConnectionTrait, viewer: &Viewer, gig: &gig::Model) -> AppResult<bool> {
    let Viewer::User { profile_id, .. } = viewer else { return Ok(false) };
    match gig.organization_id {
        Some(org) => {
            Ok(matches!(organization::role_of(db, org, *profile_id).await?, Some(OrgRole::Owner | OrgRole::Admin)))
        }
        None => Ok(gig.owner_profile_id == *profile_id),
    }
}

/// Requires the viewer to manage the gig, holding an organization role that authorizes it
/// until the caller's transaction ends (a concurrent demotion waits for the change).
pub async fn require_manager(db: &impl ConnectionTrait, viewer: &Viewer, gig: &gig::Model) -> AppResult<()> {
    let (_, me) = viewer.require_user()?;
    let manages = match gig.organization_id {
        Some(org) => matches!(organization::role_held(db, org, me).await?, Some(OrgRole::Owner | OrgRole::Admin)),
        None => gig.owner_profile_id == me,
    };
    if manages { Ok(()) } else { Err(AppError::forbidden("only the gig's owner manages it")) }
}

/// Whether the viewer may see the gig at all.
pub async fn can_view(db: &impl ConnectionTrait, viewer: &Viewer, gig: &gig::Model) -> AppResult<bool> {
    if can_manage(db, viewer, gig).await? {
        return Ok(true);
    }
    if gig.status == GigStatus::Draft {
        return Ok(false);
    }
    match (gig.visibility, gig.community_id, viewer.profile_id()) {
        (GigVisibility::Public, _, _) => Ok(true),
        (GigVisibility::Community, Some(c), Some(me)) => Ok(community::role_of(db, c, me).await?.is_some()),
        _ => Ok(false),
    }
}

/// A gig the viewer may see; NOT_FOUND otherwise (its existence stays private).
pub async fn visible(db: &impl ConnectionTrait, viewer: &Viewer, id: Uuid) -> AppResult<gig::Model> {
    let gig = gig::Entity::find_by_id(id).one(db).await?.ok_or(AppError::NotFound("gig"))?;
    if can_view(db, viewer, &gig).await? { Ok(gig) } else { Err(AppError::NotFound("gig")) }
}

/// Gigs by id in one statement (for loaders; callers check visibility).
pub async fn by_ids(db: &impl ConnectionTrait, ids: &[Uuid]) -> AppResult<HashMap<Uuid, gig::Model>> {
    let rows = gig::Entity::find().filter(gig::Column::Id.is_in(ids.iter().copied())).all(db).await?;
    Ok(rows.into_iter().map(|g| (g.id, g)).collect())
}

/// Skills of many gigs in one statement (for loaders).
pub async fn skills_of(db: &impl ConnectionTrait, ids: &[Uuid]) -> AppResult<HashMap<Uuid, Vec<String>>> {
    crate::domain::children_of::<gig_skill::Entity, _>(
        db,
        gig_skill::Column::GigId,
        ids,
        &[(gig_skill::Column::Skill, sea_orm::Order::Asc)],
        |r| r.gig_id,
        |r| r.skill,
    )
    .await
}

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
    super::search::words(text, "filter.text")
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

async fn lock(db: &impl ConnectionTrait, id: Uuid) -> AppResult<gig::Model> {
    gig::Entity::find_by_id(id).lock_exclusive().one(db).await?.ok_or(AppError::NotFound("gig"))
}

/// Locks a gig row for the rest of the transaction (proposal acceptance).
pub(super) async fn lock_gig(db: &impl ConnectionTrait, id: Uuid) -> AppResult<gig::Model> {
    lock(db, id).await
}

fn budget_of(cents: i64, currency: &str) -> AppResult<(i64, String)> {
    let cents = super::money::amount(cents, "budget.amountCents")?;
    Ok((cents, validate::currency(currency, "budget.currency")?))
}

fn check_place(remote: bool, location: &Option<String>) -> AppResult<()> {
    if !remote && location.is_none() {
        return Err(AppError::bad_input("location", "is required when the gig is not remote"));
    }
    Ok(())
}

fn check_deadline(deadline: Option<DateTime<Utc>>, now: DateTime<Utc>) -> AppResult<()> {
    match deadline {
        Some(d) if d <= now => Err(AppError::bad_input("deadline", "must be in the future")),
        _ => Ok(()),
    }
}

fn skills_of_input(skills: Vec<String>) -> AppResult<Vec<String>> {
    if skills.len() > 20 {
        return Err(AppError::bad_input("skills", "at most 20 skills"));
    }
    let mut out: Vec<String> = Vec::new();
    for (i, s) in skills.iter().enumerate() {
        let skill = validate::skill_name(s, &format!("skills[{i}]"))?;
        if !out.contains(&skill) {
            out.push(skill);
        }
    }
    Ok(out)
}

async fn write_skills(db: &impl ConnectionTrait, gig_id: Uuid, skills: &[String]) -> AppResult<()> {
    gig_skill::Entity::delete_many().filter(gig_skill::Column::GigId.eq(gig_id)).exec(db).await?;
    if !skills.is_empty() {
        gig_skill::Entity::insert_many(
            skills.iter().map(|s| gig_skill::ActiveModel { gig_id: Set(gig_id), skill: Set(s.clone()) }),
        )
        .exec_without_returning(db)
        .await?;
    }
    Ok(())
}

fn gig_activity(action: Action, gig: &gig::Model, from: Option<&str>) -> NewActivity {
    NewActivity {
        topic: topic(gig.id),
        action,
        subject_type: "gig",
        subject_id: gig.id,
        before: from.map(|s| json!({ "status": s })),
        after: Some(
            json!({ "status": crate::domain::wire(gig.status), "title": gig.title, "budgetCents": gig.budget_cents }),
        ),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_gig_machine_allows_only_its_transitions() {
        use GigStatus::*;
        assert_eq!(transition(Draft, GigAction::Publish).ok(), Some(Open));
        assert_eq!(transition(Open, GigAction::Fill).ok(), Some(Filled));
        assert_eq!(transition(Open, GigAction::Close).ok(), Some(Closed));
        assert_eq!(transition(Draft, GigAction::Cancel).ok(), Some(Cancelled));
        let err = transition(Filled, GigAction::Close).err().map(|e| e.to_string()).unwrap_or_default();
        assert!(err.contains("FILLED") && err.contains("CLOSED"), "{err}");
        assert!(transition(Draft, GigAction::Fill).is_err());
        assert!(transition(Cancelled, GigAction::Publish).is_err());
    }

    #[test]
    fn search_text_becomes_plain_quoted_words() -> AppResult<()> {
        let terms = search_terms("Rust* OR \"data\" NEAR(x)")?;
        assert_eq!(terms, ["rust", "or", "data", "near", "x"]);
        assert_eq!(fts5_query(&terms[..2]), "\"rust\" \"or\"");
        Ok(())
    }
}
