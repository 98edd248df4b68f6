//! Agents: AGENT profiles operated by a user, with hashed, scoped, revocable API tokens.
use crate::domain::Action;
use entity::{
    agent_token,
    profile::{self, Availability, ProfileKind},
};
use sea_orm::{
    ActiveModelTrait, ColumnTrait, ConnectionTrait, EntityTrait, IntoActiveModel, PaginatorTrait, QueryFilter,
    QueryOrder, Set,
};
use serde_json::json;
use uuid::Uuid;

use super::{
    NewActivity, UnitOfWork,
    activity::{profile_topic, user_topic},
    profile::{SkillInput, by_id, handle_taken, replace_skills, validate_skills, write_skills},
    validate::{self, Handle},
};
use crate::{
    auth::{
        AgentScope, Viewer,
        token::{AGENT_TOKEN_PREFIX, random_token, token_hash},
    },
    error::{AppError, AppResult},
    state::AppState,
};

/// Active tokens an agent may hold at once.
pub const MAX_ACTIVE_TOKENS: u64 = 20;

/// Input of `registerAgent`.
pub struct RegisterAgentInput {
    /// Unique handle of the agent.
    pub handle: String,
    /// Name shown on the agent's profile.
    pub display_name: String,
    /// Optional one-line description.
    pub headline: Option<String>,
    /// Skills the agent can execute.
    pub capabilities: Vec<SkillInput>,
}

/// Registers an agent operated by the calling user.
pub async fn register(state: &AppState, viewer: &Viewer, input: RegisterAgentInput) -> AppResult<profile::Model> {
    let (user_id, _) = viewer.require_user()?;
    let handle = Handle::parse(&input.handle, "handle")?;
    let display_name = validate::text(&input.display_name, "displayName", 1, 100, false)?;
    let headline = validate::optional_text(input.headline.as_deref(), "headline", 200, false)?;
    let capabilities = validate_skills(input.capabilities, "capabilities")?;
    if handle_taken(&state.db, &handle).await? {
        return Err(AppError::bad_input("handle", "is already taken"));
    }
    let now = state.clock.now();
    let mut work = UnitOfWork::begin(state, viewer).await?;
    let agent = profile::ActiveModel {
        id: Set(Uuid::new_v4()),
        user_id: Set(None),
        operator_user_id: Set(Some(user_id)),
        handle: Set(handle.as_str().to_owned()),
        display_name: Set(display_name),
        headline: Set(headline),
        bio: Set(None),
        location: Set(None),
        timezone: Set(None),
        rate_cents: Set(None),
        rate_currency: Set(None),
        availability: Set(Availability::Available),
        kind: Set(ProfileKind::Agent),
        reputation: Set(crate::domain::reputation::NEUTRAL),
        created_at: Set(now),
        updated_at: Set(now),
    }
    .insert(work.txn())
    .await?;
    write_skills(work.txn(), agent.id, &capabilities).await?;
    work.record(NewActivity {
        topic: user_topic(user_id),
        action: Action::AgentRegistered,
        subject_type: "profile",
        subject_id: agent.id,
        before: None,
        after: Some(json!({ "handle": agent.handle, "capabilities": capabilities.iter().map(|(s, l)| json!({"skill": s, "level": l})).collect::<Vec<_>>() })),
    })
    .await?;
    work.commit().await?;
    Ok(agent)
}

/// Agents a user operates, newest first.
pub async fn operated_by(db: &impl ConnectionTrait, user_id: Uuid) -> AppResult<Vec<profile::Model>> {
    Ok(profile::Entity::find()
        .filter(profile::Column::OperatorUserId.eq(user_id))
        .order_by_desc(profile::Column::CreatedAt)
        .all(db)
        .await?)
}

/// The agent `agent_id` if the calling user operates it: NOT_FOUND if no such agent,
/// FORBIDDEN if someone else operates it.
pub async fn require_operated(db: &impl ConnectionTrait, viewer: &Viewer, agent_id: Uuid) -> AppResult<profile::Model> {
    let (user_id, _) = viewer.require_user()?;
    let agent =
        by_id(db, agent_id).await?.filter(|p| p.kind == ProfileKind::Agent).ok_or(AppError::NotFound("agent"))?;
    if agent.operator_user_id != Some(user_id) {
        return Err(AppError::forbidden("only the agent's operator can manage it"));
    }
    Ok(agent)
}

/// Replaces an agent's capabilities (operator only).
pub async fn set_capabilities(
    state: &AppState,
    viewer: &Viewer,
    agent_id: Uuid,
    capabilities: Vec<SkillInput>,
) -> AppResult<profile::Model> {
    require_operated(&state.db, viewer, agent_id).await?;
    replace_skills(state, viewer, agent_id, capabilities, "capabilities").await
}

/// Issues an API token for an agent (operator only). The plain token is returned once.
pub async fn issue_token(
    state: &AppState,
    viewer: &Viewer,
    agent_id: Uuid,
    name: &str,
    scopes: Vec<AgentScope>,
) -> AppResult<(String, agent_token::Model)> {
    let name = validate::text(name, "name", 1, 100, false)?;
    if scopes.is_empty() {
        return Err(AppError::bad_input("scopes", "must name at least one scope"));
    }
    let mut scope_names: Vec<&str> = scopes.iter().map(|s| s.as_str()).collect();
    scope_names.sort_unstable();
    scope_names.dedup();
    let mut work = UnitOfWork::begin(state, viewer).await?;
    let agent = require_operated(work.txn(), viewer, agent_id).await?;
    let active = agent_token::Entity::find()
        .filter(agent_token::Column::AgentProfileId.eq(agent.id))
        .filter(agent_token::Column::RevokedAt.is_null())
        .count(work.txn())
        .await?;
    if active >= MAX_ACTIVE_TOKENS {
        return Err(AppError::conflict(format!(
            "an agent holds at most {MAX_ACTIVE_TOKENS} active tokens; revoke one first"
        )));
    }
    let plain = format!("{AGENT_TOKEN_PREFIX}{}", random_token(32));
    let row = agent_token::ActiveModel {
        id: Set(Uuid::new_v4()),
        agent_profile_id: Set(agent.id),
        name: Set(name),
        scopes: Set(scope_names.join(" ")),
        token_hash: Set(token_hash(&plain)),
        created_at: Set(state.clock.now()),
        last_used_at: Set(None),
        revoked_at: Set(None),
    }
    .insert(work.txn())
    .await?;
    work.record(NewActivity {
        topic: profile_topic(agent.id),
        action: Action::AgentTokenIssued,
        subject_type: "agent_token",
        subject_id: row.id,
        before: None,
        after: Some(json!({ "name": row.name, "scopes": row.scopes })),
    })
    .await?;
    work.commit().await?;
    Ok((plain, row))
}

/// Revokes an agent token (operator only). Revoking twice is harmless.
pub async fn revoke_token(state: &AppState, viewer: &Viewer, token_id: Uuid) -> AppResult<agent_token::Model> {
    let mut work = UnitOfWork::begin(state, viewer).await?;
    let row =
        agent_token::Entity::find_by_id(token_id).one(work.txn()).await?.ok_or(AppError::NotFound("agent token"))?;
    require_operated(work.txn(), viewer, row.agent_profile_id).await?;
    if row.revoked_at.is_some() {
        return Ok(row);
    }
    let mut active = row.into_active_model();
    active.revoked_at = Set(Some(state.clock.now()));
    let row = active.update(work.txn()).await?;
    work.record(NewActivity {
        topic: profile_topic(row.agent_profile_id),
        action: Action::AgentTokenRevoked,
        subject_type: "agent_token",
        subject_id: row.id,
        before: None,
        after: Some(json!({ "name": row.name, "agentProfileId": row.agent_profile_id })),
    })
    .await?;
    work.commit().await?;
    Ok(row)
}

/// Tokens of an agent, newest first (metadata only; hashes stay inside).
pub async fn tokens_of(db: &impl ConnectionTrait, agent_id: Uuid) -> AppResult<Vec<agent_token::Model>> {
    Ok(agent_token::Entity::find()
        .filter(agent_token::Column::AgentProfileId.eq(agent_id))
        .order_by_desc(agent_token::Column::CreatedAt)
        .all(db)
        .await?)
}
