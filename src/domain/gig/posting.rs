//! Posting gigs: creating, editing and moving a gig through its machine (publish, close, cancel).
use chrono::{DateTime, Utc};
use entity::{
    gig::{self, GigStatus, GigVisibility},
    gig_skill,
    organization_member::OrgRole,
};
use sea_orm::{ActiveModelTrait, ColumnTrait, ConnectionTrait, EntityTrait, IntoActiveModel, QueryFilter, Set};
use serde_json::json;
use uuid::Uuid;

use super::{GigAction, lock, proposal, require_manager, topic, transition};
use crate::{
    auth::Viewer,
    domain::{Action, NewActivity, UnitOfWork, community, organization, validate},
    error::{AppError, AppResult},
    state::AppState,
};

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
        proposal::decline_waiting(&mut work, gig.id, None, &reason, state.clock.now()).await?;
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

fn budget_of(cents: i64, currency: &str) -> AppResult<(i64, String)> {
    let cents = crate::domain::money::amount(cents, "budget.amountCents")?;
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
