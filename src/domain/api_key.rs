//! API keys: made by a signed-in person for their own systems (or by an organization's owner
//! or admin, for the organization), shown once, stored as a hash, refused from the moment they
//! are revoked or expire. A key acts as its creator with the creator's current rights, within
//! its scopes; an organization's key only for its organization.
use chrono::{DateTime, Duration, Utc};
use entity::{api_key, organization_member::OrgRole};
use sea_orm::{
    ActiveModelTrait, ColumnTrait, ConnectionTrait, EntityTrait, IntoActiveModel, PaginatorTrait, QueryFilter,
    QueryOrder, Set,
};
use serde_json::json;
use uuid::Uuid;

use super::{
    Action, NewActivity, UnitOfWork,
    activity::{organization_topic, user_topic},
    organization, sessions, validate,
};
use crate::{
    auth::{
        Viewer,
        api_key::{API_KEY_PREFIX, ApiScope, Area},
        token::{random_token, token_hash},
    },
    error::{AppError, AppResult},
    state::AppState,
};

/// Keys not revoked one owner (a person's own, or an organization's) holds at most.
pub const MAX_ACTIVE_KEYS: u64 = 50;

/// Input of `createApiKey`.
pub struct NewApiKey {
    /// A name to tell it apart.
    pub name: String,
    /// Scope names (`contracts:read`...).
    pub scopes: Vec<String>,
    /// The organization it acts for, if any.
    pub organization_id: Option<Uuid>,
    /// When it stops working, if ever.
    pub expires_at: Option<DateTime<Utc>>,
}

/// Makes an API key (a person signed in, not with a key; for an organization its current owners
/// and admins). Returns the secret, shown this once, and the stored key.
pub async fn create(state: &AppState, viewer: &Viewer, input: NewApiKey) -> AppResult<(String, api_key::Model)> {
    let (user_id, me) = viewer.require_signed_in()?;
    let name = validate::text(&input.name, "name", 1, 100, false)?;
    let scopes = scopes(&input.scopes, input.organization_id.is_some())?;
    let now = state.clock.now();
    if input.expires_at.is_some_and(|at| at <= now) {
        return Err(AppError::bad_input("expiresAt", "must be in the future"));
    }
    let mut work = UnitOfWork::begin(state, viewer).await?;
    if let Some(org) = input.organization_id {
        organization::by_id(work.txn(), org)
            .await?
            .ok_or_else(|| AppError::bad_input("organizationId", "no such organization"))?;
        if !matches!(organization::role_held(work.txn(), org, me).await?, Some(OrgRole::Owner | OrgRole::Admin)) {
            return Err(AppError::forbidden("only owners and admins make the organization's API keys"));
        }
    }
    let held =
        owned(input.organization_id, user_id).filter(api_key::Column::RevokedAt.is_null()).count(work.txn()).await?;
    if held >= MAX_ACTIVE_KEYS {
        return Err(AppError::conflict(format!("at most {MAX_ACTIVE_KEYS} API keys at a time; revoke one first")));
    }
    let secret = format!("{API_KEY_PREFIX}{}", random_token(32));
    let row = api_key::ActiveModel {
        id: Set(Uuid::new_v4()),
        user_id: Set(user_id),
        organization_id: Set(input.organization_id),
        name: Set(name),
        scopes: Set(scopes.join(" ")),
        prefix: Set(secret.chars().take(API_KEY_PREFIX.len().saturating_add(4)).collect()),
        token_hash: Set(token_hash(&secret)),
        created_at: Set(now),
        last_used_at: Set(None),
        expires_at: Set(input.expires_at),
        revoked_at: Set(None),
    }
    .insert(work.txn())
    .await?;
    work.record(activity(Action::ApiKeyCreated, &row, me)).await?;
    work.commit().await?;
    Ok((secret, row))
}

/// Revokes a key: its creator, or (an organization's key) the organization's current owners
/// and admins. Refused from the commit on. Revoking twice is harmless.
pub async fn revoke(state: &AppState, viewer: &Viewer, key_id: Uuid) -> AppResult<api_key::Model> {
    let (user_id, me) = viewer.require_signed_in()?;
    let mut work = UnitOfWork::begin(state, viewer).await?;
    let row = api_key::Entity::find_by_id(key_id).one(work.txn()).await?.ok_or(AppError::NotFound("API key"))?;
    let may = row.user_id == user_id
        || match row.organization_id {
            Some(org) => {
                matches!(organization::role_held(work.txn(), org, me).await?, Some(OrgRole::Owner | OrgRole::Admin))
            }
            None => false,
        };
    if !may {
        return Err(AppError::NotFound("API key"));
    }
    if row.revoked_at.is_some() {
        return Ok(row);
    }
    let creator = sessions::person_profile(work.txn(), row.user_id).await?.id;
    let mut active = row.into_active_model();
    active.revoked_at = Set(Some(state.clock.now()));
    let row = active.update(work.txn()).await?;
    work.record(activity(Action::ApiKeyRevoked, &row, creator)).await?;
    work.commit().await?;
    Ok(row)
}

/// The person's own keys (not bound to an organization), not revoked, newest first.
pub async fn of_person(db: &impl ConnectionTrait, viewer: &Viewer) -> AppResult<Vec<api_key::Model>> {
    let (user_id, _) = viewer.require_signed_in()?;
    Ok(owned(None, user_id).filter(api_key::Column::RevokedAt.is_null()).all(db).await?)
}

/// An organization's keys, not revoked, newest first (its current owners and admins).
pub async fn of_organization(db: &impl ConnectionTrait, viewer: &Viewer, org: Uuid) -> AppResult<Vec<api_key::Model>> {
    let (user_id, me) = viewer.require_signed_in()?;
    if !matches!(organization::role_of(db, org, me).await?, Some(OrgRole::Owner | OrgRole::Admin)) {
        return Err(AppError::forbidden("only owners and admins see the organization's API keys"));
    }
    Ok(owned(Some(org), user_id).filter(api_key::Column::RevokedAt.is_null()).all(db).await?)
}

/// The live key behind `secret` and its creator's person profile: not revoked, not expired.
/// Records its use at most once a minute, so reads stay reads.
pub async fn authenticate(
    db: &impl ConnectionTrait,
    secret: &str,
    now: DateTime<Utc>,
) -> AppResult<(api_key::Model, Uuid)> {
    let invalid = || AppError::Unauthenticated("invalid API key".into());
    let key = api_key::Entity::find()
        .filter(api_key::Column::TokenHash.eq(token_hash(secret)))
        .filter(api_key::Column::RevokedAt.is_null())
        .one(db)
        .await?
        .ok_or_else(invalid)?;
    if key.expires_at.is_some_and(|at| at <= now) {
        return Err(AppError::Unauthenticated("the API key has expired".into()));
    }
    let profile = sessions::person_profile(db, key.user_id).await?.id;
    if key.last_used_at.is_none_or(|t| now.signed_duration_since(t) > Duration::minutes(1)) {
        let mut active = key.clone().into_active_model();
        active.last_used_at = Set(Some(now));
        active.update(db).await?;
    }
    Ok((key, profile))
}

/// Whether a key a connection authenticated with earlier still works (not revoked or expired).
pub async fn still_valid(db: &impl ConnectionTrait, key_id: Uuid, now: DateTime<Utc>) -> AppResult<()> {
    let key = api_key::Entity::find_by_id(key_id).filter(api_key::Column::RevokedAt.is_null()).one(db).await?;
    match key {
        Some(key) if key.expires_at.is_none_or(|at| at > now) => Ok(()),
        _ => Err(AppError::Unauthenticated("the API key was revoked or has expired".into())),
    }
}

/// Parses and checks scope names: known, at least one, and for an organization's key only
/// the organization's areas. Sorted, without repeats.
fn scopes(names: &[String], for_organization: bool) -> AppResult<Vec<String>> {
    if names.is_empty() {
        return Err(AppError::bad_input("scopes", "must name at least one scope"));
    }
    let mut parsed = Vec::with_capacity(names.len());
    for name in names {
        let scope = ApiScope::parse(name).ok_or_else(|| {
            AppError::bad_input(
                "scopes",
                format!("unknown scope `{name}`; one of {}", ApiScope::all_names().join(", ")),
            )
        })?;
        if for_organization && !Area::ORGANIZATION.contains(&scope.area) {
            let allowed: Vec<&str> = Area::ORGANIZATION.iter().map(|a| a.as_str()).collect();
            return Err(AppError::bad_input(
                "scopes",
                format!("an organization's key reaches only {}; `{name}` is personal", allowed.join(", ")),
            ));
        }
        parsed.push(scope.name());
    }
    parsed.sort_unstable();
    parsed.dedup();
    Ok(parsed)
}

/// The keys of one owner: an organization's (any creator), or a person's own.
fn owned(organization: Option<Uuid>, user_id: Uuid) -> sea_orm::Select<api_key::Entity> {
    let query = api_key::Entity::find().order_by_desc(api_key::Column::CreatedAt).order_by_desc(api_key::Column::Id);
    match organization {
        Some(org) => query.filter(api_key::Column::OrganizationId.eq(org)),
        None => query.filter(api_key::Column::UserId.eq(user_id)).filter(api_key::Column::OrganizationId.is_null()),
    }
}

/// The activity of a key's creation or revocation: under the organization (its audit log) or
/// the person; a revocation also reaches the creator's access stream (live subscriptions made
/// with the key end).
fn activity(action: Action, key: &api_key::Model, creator_profile: Uuid) -> NewActivity {
    NewActivity {
        topic: key.organization_id.map_or_else(|| user_topic(key.user_id), organization_topic),
        action,
        subject_type: "api_key",
        subject_id: key.id,
        before: None,
        after: Some(json!({
            "name": key.name,
            "scopes": key.scopes,
            "prefix": key.prefix,
            "organizationId": key.organization_id,
            "profileId": creator_profile,
        })),
    }
}
