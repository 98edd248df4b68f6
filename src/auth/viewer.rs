//! Who is calling: nobody, a user, or an agent acting with its API token.
use chrono::Duration;
use entity::{agent_token, profile};
use sea_orm::{ActiveModelTrait, ColumnTrait, EntityTrait, QueryFilter, Set};
use uuid::Uuid;

use std::sync::Arc;

use super::{
    api_key::{API_KEY_PREFIX, KeyGrant},
    token::{AGENT_TOKEN_PREFIX, token_hash},
};
use crate::{
    error::{AppError, AppResult},
    state::AppState,
};

/// A permission an agent token carries.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum AgentScope {
    /// Read offered and assigned tasks.
    TasksRead,
    /// Claim and submit tasks.
    TasksWrite,
    /// Edit the agent's own profile.
    ProfileWrite,
}

impl AgentScope {
    /// Every scope.
    pub const ALL: [AgentScope; 3] = [Self::TasksRead, Self::TasksWrite, Self::ProfileWrite];

    /// Stored name of the scope.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::TasksRead => "tasks:read",
            Self::TasksWrite => "tasks:write",
            Self::ProfileWrite => "profile:write",
        }
    }

    /// Parses a stored scope name.
    pub fn parse(s: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|scope| scope.as_str() == s)
    }

    /// Parses a space-separated scope list, ignoring unknown names.
    pub fn parse_list(s: &str) -> Vec<Self> {
        s.split_whitespace().filter_map(Self::parse).collect()
    }
}

/// The caller of one request.
#[derive(Clone, Debug, Default)]
pub enum Viewer {
    /// No credentials.
    #[default]
    Anonymous,
    /// A logged-in user acting through its person profile.
    User {
        /// Account id.
        user_id: Uuid,
        /// Person profile id.
        profile_id: Uuid,
        /// The session the access token was issued in (`None` for work done on a person's
        /// behalf without one: seeding, tests in process, API keys).
        session_id: Option<Uuid>,
        /// The API key the request came with, if it came with one: the person acts within its
        /// scopes (and, for an organization's key, for that organization only).
        key: Option<Arc<KeyGrant>>,
    },
    /// An agent acting with its API token.
    Agent {
        /// The agent's profile id.
        agent_id: Uuid,
        /// The user operating the agent.
        operator_user_id: Uuid,
        /// The token used.
        token_id: Uuid,
        /// What the token allows.
        scopes: Vec<AgentScope>,
    },
}

impl Viewer {
    /// A person acting without a session or key (seeding, in-process work and tests).
    pub fn person(user_id: Uuid, profile_id: Uuid) -> Self {
        Self::User { user_id, profile_id, session_id: None, key: None }
    }

    /// The API key the request came with, if any.
    pub fn key(&self) -> Option<&KeyGrant> {
        match self {
            Self::User { key: Some(key), .. } => Some(key),
            _ => None,
        }
    }

    /// Requires that the caller may act in `organization` (`None`: personally): an
    /// organization's API key acts only for its organization. FORBIDDEN otherwise.
    pub fn require_acting_in(&self, organization: Option<Uuid>) -> AppResult<()> {
        match self.key().and_then(|k| k.organization_id) {
            Some(bound) if Some(bound) != organization => {
                Err(AppError::forbidden("this API key acts only for its own organization"))
            }
            _ => Ok(()),
        }
    }

    /// Whether the caller may act in `organization` (see [`Viewer::require_acting_in`]).
    pub fn acts_in(&self, organization: Option<Uuid>) -> bool {
        self.require_acting_in(organization).is_ok()
    }

    /// Requires a person signed in with a session (not an API key): for managing credentials.
    pub fn require_signed_in(&self) -> AppResult<(Uuid, Uuid)> {
        if self.key().is_some() {
            return Err(AppError::forbidden("API keys cannot do this; sign in"));
        }
        self.require_user()
    }

    /// The profile acting: the person's or the agent's.
    pub fn profile_id(&self) -> Option<Uuid> {
        match self {
            Self::Anonymous => None,
            Self::User { profile_id, .. } => Some(*profile_id),
            Self::Agent { agent_id, .. } => Some(*agent_id),
        }
    }

    /// The account acting (an agent's operator for agents).
    pub fn user_id(&self) -> Option<Uuid> {
        match self {
            Self::Anonymous => None,
            Self::User { user_id, .. } => Some(*user_id),
            Self::Agent { operator_user_id, .. } => Some(*operator_user_id),
        }
    }

    /// Requires a logged-in person; agents are refused. Returns (user id, profile id).
    pub fn require_user(&self) -> AppResult<(Uuid, Uuid)> {
        match self {
            Self::User { user_id, profile_id, .. } => Ok((*user_id, *profile_id)),
            Self::Anonymous => Err(AppError::Unauthenticated("authentication required".into())),
            Self::Agent { .. } => Err(AppError::forbidden("agents cannot do this; sign in as the operator")),
        }
    }

    /// Requires any caller with a profile; agents need `scope`.
    pub fn require_profile(&self, scope: AgentScope) -> AppResult<Uuid> {
        match self {
            Self::Anonymous => Err(AppError::Unauthenticated("authentication required".into())),
            Self::Agent { scopes, .. } if !scopes.contains(&scope) => {
                Err(AppError::forbidden(format!("agent token lacks the {} scope", scope.as_str())))
            }
            _ => self.profile_id().ok_or_else(|| AppError::Unauthenticated("authentication required".into())),
        }
    }

    /// Requires any authenticated caller and returns its profile id.
    pub fn require_any(&self) -> AppResult<Uuid> {
        self.profile_id().ok_or_else(|| AppError::Unauthenticated("authentication required".into()))
    }
}

/// Resolves the bearer token of a request into a viewer. A bad token is an error, not anonymous.
pub async fn authenticate(state: &AppState, bearer: Option<&str>) -> AppResult<Viewer> {
    Ok(authenticate_session(state, bearer).await?.0)
}

/// Like [`authenticate`], with the time the credentials expire (an access token's expiry;
/// agent tokens last until revoked), for connections that outlive one request.
pub async fn authenticate_session(
    state: &AppState,
    bearer: Option<&str>,
) -> AppResult<(Viewer, Option<chrono::DateTime<chrono::Utc>>)> {
    let Some(token) = bearer.map(str::trim).filter(|t| !t.is_empty()) else {
        return Ok((Viewer::Anonymous, None));
    };
    if token.starts_with(AGENT_TOKEN_PREFIX) {
        return Ok((authenticate_agent(state, token).await?, None));
    }
    if token.starts_with(API_KEY_PREFIX) {
        return authenticate_key(state, token).await;
    }
    let claims = state.keys.verify_access(token, state.clock.now())?;
    let viewer = Viewer::User { user_id: claims.sub, profile_id: claims.pid, session_id: claims.sid, key: None };
    still_valid(state, &viewer).await?;
    Ok((viewer, chrono::DateTime::from_timestamp(claims.exp, 0)))
}

/// Whether a viewer authenticated earlier still may act: a person's session must not have
/// ended, an agent's token must not have been revoked since. (Expiry is checked apart.)
pub async fn still_valid(state: &AppState, viewer: &Viewer) -> AppResult<()> {
    valid(state, viewer, false).await
}

/// Like [`still_valid`], asking the database about the session whatever this instance knows
/// (for live subscriptions re-checking after a change to the person's access).
pub async fn still_valid_now(state: &AppState, viewer: &Viewer) -> AppResult<()> {
    valid(state, viewer, true).await
}

async fn valid(state: &AppState, viewer: &Viewer, now: bool) -> AppResult<()> {
    let db = &state.db;
    if let Viewer::User { session_id: Some(session), .. } = viewer {
        return if now {
            state.sessions.check_now(db, *session, state.clock.now()).await
        } else {
            state.sessions.check(db, *session, state.clock.now()).await
        };
    }
    if let Viewer::User { key: Some(key), .. } = viewer {
        return crate::domain::api_key::still_valid(db, key.key_id, state.clock.now()).await;
    }
    let Viewer::Agent { token_id, .. } = viewer else { return Ok(()) };
    let live = agent_token::Entity::find_by_id(*token_id)
        .filter(agent_token::Column::RevokedAt.is_null())
        .one(db)
        .await?
        .is_some();
    if live { Ok(()) } else { Err(AppError::Unauthenticated("the agent token was revoked".into())) }
}

/// A person acting with an API key: the key must be live (not revoked or expired), its use
/// within the per-key rate limit; the person acts as themselves within the key's scopes.
async fn authenticate_key(
    state: &AppState,
    secret: &str,
) -> AppResult<(Viewer, Option<chrono::DateTime<chrono::Utc>>)> {
    let (key, profile_id) = crate::domain::api_key::authenticate(&state.db, secret, state.clock.now()).await?;
    spend_key_allowance(state, key.id).await?;
    let grant = KeyGrant::new(key.id, &key.scopes, key.organization_id);
    let viewer = Viewer::User { user_id: key.user_id, profile_id, session_id: None, key: Some(grant) };
    Ok((viewer, key.expires_at))
}

/// Counts one request (or WebSocket operation) against an API key's per-minute allowance;
/// RATE_LIMITED beyond it.
pub async fn spend_key_allowance(state: &AppState, key_id: Uuid) -> AppResult<()> {
    let per_minute = state.config.limits.api_key_requests_per_minute;
    let window = std::time::Duration::from_secs(60);
    state.limiter.hit(state.clock.as_ref(), &format!("api-key:{key_id}"), per_minute, window).await
}

async fn authenticate_agent(state: &AppState, token: &str) -> AppResult<Viewer> {
    let invalid = || AppError::Unauthenticated("invalid agent token".into());
    let (row, agent) = agent_token::Entity::find()
        .filter(agent_token::Column::TokenHash.eq(token_hash(token)))
        .filter(agent_token::Column::RevokedAt.is_null())
        .find_also_related(profile::Entity)
        .one(&state.db)
        .await?
        .ok_or_else(invalid)?;
    let operator_user_id = agent.and_then(|a| a.operator_user_id).ok_or_else(invalid)?;
    let now = state.clock.now();
    // Record use at most once a minute, so reads stay reads.
    if row.last_used_at.is_none_or(|t| now - t > Duration::minutes(1)) {
        let mut active: agent_token::ActiveModel = row.clone().into();
        active.last_used_at = Set(Some(now));
        active.update(&state.db).await?;
    }
    Ok(Viewer::Agent {
        agent_id: row.agent_profile_id,
        operator_user_id,
        token_id: row.id,
        scopes: AgentScope::parse_list(&row.scopes),
    })
}
