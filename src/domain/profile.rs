//! Profiles: reading, editing, skills, and search with keyset pages.
use crate::domain::Action;
use std::collections::HashMap;

use entity::{
    profile::{self, Availability, ProfileKind},
    profile_skill,
};
use sea_orm::{
    ActiveModelTrait, ColumnTrait, Condition, ConnectionTrait, EntityTrait, IntoActiveModel, QueryFilter, Set,
    sea_query::{Expr, ExprTrait, Func, LikeExpr, Query},
};
use serde_json::{Value as Json, json};
use uuid::Uuid;

use super::{
    NewActivity, UnitOfWork,
    activity::profile_topic,
    page::{Cursor, Direction, Page, PageRequest, keyset},
    validate::{self, Handle},
};
use crate::{
    auth::{AgentScope, Viewer},
    error::{AppError, AppResult},
    state::AppState,
};

pub use super::Change;

/// Changes to the caller's profile; every field is optional.
#[derive(Default)]
pub struct ProfileUpdate {
    /// New display name.
    pub display_name: Option<String>,
    /// Headline.
    pub headline: Change<String>,
    /// Bio.
    pub bio: Change<String>,
    /// Location.
    pub location: Change<String>,
    /// IANA time zone.
    pub timezone: Change<String>,
    /// Rate in minor units with its currency.
    pub rate: Change<(i64, String)>,
    /// Availability.
    pub availability: Option<Availability>,
}

/// A requested skill and level, before validation.
pub struct SkillInput {
    /// Skill name.
    pub skill: String,
    /// Level 1–5.
    pub level: i32,
}

/// Filters of the profile search.
#[derive(Default)]
pub struct ProfileFilter {
    /// Profiles must hold every one of these skills.
    pub skills: Vec<String>,
    /// HUMAN or AGENT only.
    pub kind: Option<ProfileKind>,
    /// Substring of handle, display name or headline (case-insensitive).
    pub text: Option<String>,
}

/// Whether a handle is in use.
pub async fn handle_taken(db: &impl ConnectionTrait, handle: &Handle) -> AppResult<bool> {
    Ok(profile::Entity::find().filter(profile::Column::Handle.eq(handle.as_str())).one(db).await?.is_some())
}

/// A profile by handle (case-insensitive).
pub async fn by_handle(db: &impl ConnectionTrait, handle: &str) -> AppResult<Option<profile::Model>> {
    Ok(profile::Entity::find().filter(profile::Column::Handle.eq(handle.trim().to_lowercase())).one(db).await?)
}

/// A profile by id.
pub async fn by_id(db: &impl ConnectionTrait, id: Uuid) -> AppResult<Option<profile::Model>> {
    Ok(profile::Entity::find_by_id(id).one(db).await?)
}

/// Profiles by id, in one statement (for loaders).
pub async fn by_ids(db: &impl ConnectionTrait, ids: &[Uuid]) -> AppResult<HashMap<Uuid, profile::Model>> {
    let rows = profile::Entity::find().filter(profile::Column::Id.is_in(ids.iter().copied())).all(db).await?;
    Ok(rows.into_iter().map(|p| (p.id, p)).collect())
}

/// Person profiles of accounts, in one statement (for loaders).
pub async fn by_user_ids(db: &impl ConnectionTrait, user_ids: &[Uuid]) -> AppResult<HashMap<Uuid, profile::Model>> {
    let rows = profile::Entity::find().filter(profile::Column::UserId.is_in(user_ids.iter().copied())).all(db).await?;
    Ok(rows.into_iter().filter_map(|p| p.user_id.map(|u| (u, p))).collect())
}

/// Skills of many profiles in one statement, strongest first (for loaders).
pub async fn skills_of(db: &impl ConnectionTrait, ids: &[Uuid]) -> AppResult<HashMap<Uuid, Vec<profile_skill::Model>>> {
    crate::domain::children_of::<profile_skill::Entity, _>(
        db,
        profile_skill::Column::ProfileId,
        ids,
        &[(profile_skill::Column::Level, sea_orm::Order::Desc), (profile_skill::Column::Skill, sea_orm::Order::Asc)],
        |r| r.profile_id,
        |r| r,
    )
    .await
}

/// Public fields of a profile, as recorded in activities.
pub fn snapshot(p: &profile::Model) -> Json {
    json!({
        "handle": p.handle, "displayName": p.display_name, "headline": p.headline,
        "bio": p.bio, "location": p.location, "timezone": p.timezone,
        "rateCents": p.rate_cents, "rateCurrency": p.rate_currency,
        "availability": crate::domain::wire(p.availability),
    })
}

/// Edits the caller's own profile (an agent with `profile:write` edits its own).
pub async fn update_mine(state: &AppState, viewer: &Viewer, update: ProfileUpdate) -> AppResult<profile::Model> {
    let profile_id = viewer.require_profile(AgentScope::ProfileWrite)?;
    let display_name =
        update.display_name.as_deref().map(|n| validate::text(n, "displayName", 1, 100, false)).transpose()?;
    let headline = change(update.headline, |v| validate::optional_text(Some(v), "headline", 200, false))?;
    let bio = change(update.bio, |v| validate::optional_text(Some(v), "bio", 5000, true))?;
    let location = change(update.location, |v| validate::optional_text(Some(v), "location", 100, false))?;
    let timezone = change(update.timezone, |v| validate::timezone(v, "timezone").map(Some))?;
    let rate = match update.rate {
        Change::Set((cents, currency)) => {
            let cents = crate::domain::money::amount(cents, "rate.amountCents")?;
            Change::Set((cents, validate::currency(&currency, "rate.currency")?))
        }
        Change::Clear => Change::Clear,
        Change::Keep => Change::Keep,
    };

    let mut work = UnitOfWork::begin(state, viewer).await?;
    let before = by_id(work.txn(), profile_id).await?.ok_or(AppError::NotFound("profile"))?;
    let mut active = before.clone().into_active_model();
    if let Some(name) = display_name {
        active.display_name = Set(name);
    }
    apply(&mut active.headline, headline);
    apply(&mut active.bio, bio);
    apply(&mut active.location, location);
    apply(&mut active.timezone, timezone);
    match rate {
        Change::Set((cents, currency)) => {
            active.rate_cents = Set(Some(cents));
            active.rate_currency = Set(Some(currency));
        }
        Change::Clear => {
            active.rate_cents = Set(None);
            active.rate_currency = Set(None);
        }
        Change::Keep => {}
    }
    if let Some(availability) = update.availability {
        active.availability = Set(availability);
    }
    active.updated_at = Set(state.clock.now());
    let after = active.update(work.txn()).await?;
    work.record(NewActivity {
        topic: profile_topic(profile_id),
        action: Action::ProfileUpdated,
        subject_type: "profile",
        subject_id: profile_id,
        before: Some(snapshot(&before)),
        after: Some(snapshot(&after)),
    })
    .await?;
    work.commit().await?;
    Ok(after)
}

/// Replaces the caller's skills (an agent's capabilities with `profile:write`).
pub async fn set_my_skills(state: &AppState, viewer: &Viewer, skills: Vec<SkillInput>) -> AppResult<profile::Model> {
    let profile_id = viewer.require_profile(AgentScope::ProfileWrite)?;
    replace_skills(state, viewer, profile_id, skills, "skills").await
}

/// Replaces the skills of `profile_id`; the caller has been authorised already.
pub(super) async fn replace_skills(
    state: &AppState,
    viewer: &Viewer,
    profile_id: Uuid,
    skills: Vec<SkillInput>,
    field: &str,
) -> AppResult<profile::Model> {
    let skills = validate_skills(skills, field)?;
    let mut work = UnitOfWork::begin(state, viewer).await?;
    let profile = by_id(work.txn(), profile_id).await?.ok_or(AppError::NotFound("profile"))?;
    let before = skills_of(work.txn(), &[profile_id]).await?.remove(&profile_id).unwrap_or_default();
    write_skills(work.txn(), profile_id, &skills).await?;
    work.record(NewActivity {
        topic: profile_topic(profile_id),
        action: Action::ProfileSkillsSet,
        subject_type: "profile",
        subject_id: profile_id,
        before: Some(skills_json(before.iter().map(|s| (s.skill.as_str(), s.level)))),
        after: Some(skills_json(skills.iter().map(|(s, l)| (s.as_str(), *l)))),
    })
    .await?;
    work.commit().await?;
    Ok(profile)
}

/// Validates a skill list: at most 50, no duplicates, levels 1–5.
pub(super) fn validate_skills(skills: Vec<SkillInput>, field: &str) -> AppResult<Vec<(String, i16)>> {
    if skills.len() > 50 {
        return Err(AppError::bad_input(field, "at most 50 skills"));
    }
    let mut out: Vec<(String, i16)> = Vec::with_capacity(skills.len());
    for (i, s) in skills.into_iter().enumerate() {
        let name = validate::skill_name(&s.skill, &format!("{field}[{i}].skill"))?;
        let level = validate::skill_level(s.level, &format!("{field}[{i}].level"))?;
        if out.iter().any(|(n, _)| *n == name) {
            return Err(AppError::bad_input(&format!("{field}[{i}].skill"), "is listed twice"));
        }
        out.push((name, level));
    }
    Ok(out)
}

/// Replaces the stored skills of a profile inside the caller's transaction.
pub(super) async fn write_skills(
    db: &impl ConnectionTrait,
    profile_id: Uuid,
    skills: &[(String, i16)],
) -> AppResult<()> {
    profile_skill::Entity::delete_many().filter(profile_skill::Column::ProfileId.eq(profile_id)).exec(db).await?;
    if !skills.is_empty() {
        profile_skill::Entity::insert_many(skills.iter().map(|(skill, level)| profile_skill::ActiveModel {
            profile_id: Set(profile_id),
            skill: Set(skill.clone()),
            level: Set(*level),
        }))
        .exec_without_returning(db)
        .await?;
    }
    Ok(())
}

fn skills_json<'a>(skills: impl Iterator<Item = (&'a str, i16)>) -> Json {
    Json::Array(skills.map(|(s, l)| json!({ "skill": s, "level": l })).collect())
}

/// Searches profiles, newest first, one keyset page at a time.
pub async fn search(
    db: &impl ConnectionTrait,
    filter: ProfileFilter,
    page: PageRequest,
) -> AppResult<Page<profile::Model>> {
    let mut query = profile::Entity::find();
    if let Some(kind) = filter.kind {
        query = query.filter(profile::Column::Kind.eq(kind));
    }
    validate::at_most(filter.skills.len(), 20, "filter.skills")?;
    if !filter.skills.is_empty() {
        let skills = filter
            .skills
            .iter()
            .enumerate()
            .map(|(i, s)| validate::skill_name(s, &format!("filter.skills[{i}]")))
            .collect::<AppResult<Vec<_>>>()?;
        let wanted = skills.len() as i64;
        let holders = Query::select()
            .column(profile_skill::Column::ProfileId)
            .from(profile_skill::Entity)
            .and_where(profile_skill::Column::Skill.is_in(skills))
            .group_by_col(profile_skill::Column::ProfileId)
            .and_having(Expr::expr(Func::count(Expr::col(profile_skill::Column::Skill))).eq(wanted))
            .to_owned();
        query = query.filter(profile::Column::Id.in_subquery(holders));
    }
    if let Some(text) = filter.text.as_deref().map(str::trim).filter(|t| !t.is_empty()) {
        if text.chars().count() > 100 {
            return Err(AppError::bad_input("filter.text", "must be at most 100 characters"));
        }
        let pattern = format!("%{}%", escape_like(&text.to_lowercase()));
        let like = |col: profile::Column| {
            Expr::expr(Func::lower(Expr::col(col))).like(LikeExpr::new(pattern.clone()).escape('\\'))
        };
        query = query.filter(
            Condition::any()
                .add(like(profile::Column::Handle))
                .add(like(profile::Column::DisplayName))
                .add(like(profile::Column::Headline)),
        );
    }
    keyset(db, query, (profile::Column::CreatedAt, profile::Column::Id), Direction::Descending, &page, |p| Cursor {
        key: 0,
        at: p.created_at,
        id: p.id,
    })
    .await
}

/// Escapes LIKE wildcards in user text.
fn escape_like(text: &str) -> String {
    text.replace('\\', "\\\\").replace('%', "\\%").replace('_', "\\_")
}

fn change<T>(c: Change<String>, parse: impl FnOnce(&str) -> AppResult<Option<T>>) -> AppResult<Change<T>> {
    Ok(match c {
        Change::Keep => Change::Keep,
        Change::Clear => Change::Clear,
        Change::Set(v) => match parse(&v)? {
            Some(t) => Change::Set(t),
            None => Change::Clear,
        },
    })
}

fn apply<T: Into<sea_orm::Value> + Clone>(field: &mut sea_orm::ActiveValue<Option<T>>, c: Change<T>)
where
    Option<T>: Into<sea_orm::Value>,
{
    match c {
        Change::Keep => {}
        Change::Clear => *field = Set(None),
        Change::Set(v) => *field = Set(Some(v)),
    }
}
