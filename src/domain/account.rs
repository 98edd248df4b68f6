//! Accounts and sessions: register, login, rotating refresh tokens, logout.
use crate::domain::Action;
use chrono::{DateTime, Duration, Utc};
use entity::{
    profile::{self, Availability, ProfileKind},
    refresh_token, user,
};
use sea_orm::{ActiveModelTrait, ColumnTrait, ConnectionTrait, EntityTrait, QueryFilter, Set, sea_query::Expr};
use serde_json::json;
use uuid::Uuid;

use super::{
    NewActivity, UnitOfWork,
    activity::user_topic,
    sessions::revoke_family,
    validate::{Email, Handle, Password, text},
};
use crate::{
    auth::{
        Viewer,
        password::{hash_password, verify_password},
        token::{random_token, token_hash},
    },
    error::{AppError, AppResult},
    state::AppState,
};

/// What a successful register, login or refresh hands out.
#[derive(Debug, Clone)]
pub struct Session {
    /// Short-lived JWT.
    pub access_token: String,
    /// When the access token expires.
    pub access_token_expires_at: DateTime<Utc>,
    /// Opaque, single-use refresh token.
    pub refresh_token: String,
    /// When the refresh token expires.
    pub refresh_token_expires_at: DateTime<Utc>,
    /// The account.
    pub user: user::Model,
    /// Its person profile.
    pub profile: profile::Model,
}

/// Input of `register`.
pub struct RegisterInput {
    /// Login email.
    pub email: String,
    /// Password, 10 characters or more.
    pub password: String,
    /// Unique public handle.
    pub handle: String,
    /// Name shown on the profile.
    pub display_name: String,
}

/// Creates an account with its person profile and signs it in.
pub async fn register(state: &AppState, input: RegisterInput) -> AppResult<Session> {
    let email = Email::parse(&input.email, "email")?;
    let password = Password::parse(&input.password, "password")?;
    let handle = Handle::parse(&input.handle, "handle")?;
    let display_name = text(&input.display_name, "displayName", 1, 100, false)?;
    if user::Entity::find().filter(user::Column::Email.eq(email.as_str())).one(&state.db).await?.is_some() {
        return Err(AppError::bad_input("email", "is already registered"));
    }
    if super::profile::handle_taken(&state.db, &handle).await? {
        return Err(AppError::bad_input("handle", "is already taken"));
    }
    let password_hash = hash_password(state.config.hashing, password.into_inner()).await?;

    let now = state.clock.now();
    let (user_id, profile_id) = (Uuid::new_v4(), Uuid::new_v4());
    let mut work = UnitOfWork::begin(state, &Viewer::Anonymous).await?;
    work.act_as(user_id, profile_id);
    // A concurrent registration can still win the race: the unique index answers then.
    let user = user::ActiveModel {
        id: Set(user_id),
        email: Set(email.as_str().to_owned()),
        password_hash: Set(password_hash),
        email_verified_at: Set(None),
        created_at: Set(now),
        updated_at: Set(now),
    }
    .insert(work.txn())
    .await?;
    let profile = profile::ActiveModel {
        id: Set(profile_id),
        user_id: Set(Some(user_id)),
        operator_user_id: Set(None),
        handle: Set(handle.as_str().to_owned()),
        display_name: Set(display_name),
        headline: Set(None),
        bio: Set(None),
        location: Set(None),
        timezone: Set(None),
        rate_cents: Set(None),
        rate_currency: Set(None),
        availability: Set(Availability::Available),
        kind: Set(ProfileKind::Human),
        reputation: Set(crate::domain::reputation::NEUTRAL),
        created_at: Set(now),
        updated_at: Set(now),
    }
    .insert(work.txn())
    .await?;
    work.record(NewActivity {
        topic: user_topic(user_id),
        action: Action::AccountRegistered,
        subject_type: "user",
        subject_id: user_id,
        before: None,
        after: Some(json!({ "handle": profile.handle, "profileId": profile.id })),
    })
    .await?;
    super::credentials::mail_verification(&mut work, state, &user).await?;
    let session = start_session(state, &mut work, user, profile, Uuid::new_v4()).await?;
    work.commit().await?;
    Ok(session)
}

/// Signs in with email and password. Wrong email and wrong password look the same. Attempts
/// are limited per account *and* client address, so a stranger elsewhere cannot lock a person
/// out (spraying from one address is limited per address by the HTTP layer).
pub async fn login(
    state: &AppState,
    email: &str,
    password: &str,
    client: Option<std::net::IpAddr>,
) -> AppResult<Session> {
    let wrong = || AppError::Unauthenticated("invalid email or password".into());
    let email = email.trim().to_lowercase();
    let from = client.map_or_else(|| "-".to_owned(), |ip| ip.to_string());
    state
        .limiter
        .hit(
            state.clock.as_ref(),
            &format!("login:{email}:{from}"),
            state.config.limits.login_attempts,
            state.config.limits.login_window,
        )
        .await?;
    let user = user::Entity::find().filter(user::Column::Email.eq(&email)).one(&state.db).await?;
    let Some(user) = user else {
        // Spend the same time as a real check so response times do not reveal accounts.
        let _ = verify_password(state.dummy_password_hash.to_string(), password.to_owned()).await;
        return Err(wrong());
    };
    if !verify_password(user.password_hash.clone(), password.to_owned()).await? {
        return Err(wrong());
    }
    let profile = person_profile(&state.db, user.id).await?;
    let mut work = UnitOfWork::begin(state, &Viewer::Anonymous).await?;
    work.act_as(user.id, profile.id);
    let session = start_session(state, &mut work, user, profile, Uuid::new_v4()).await?;
    work.commit().await?;
    Ok(session)
}

/// Exchanges a refresh token for a new pair. A token used twice revokes its whole family.
pub async fn refresh(state: &AppState, presented: &str) -> AppResult<Session> {
    let invalid = || AppError::Unauthenticated("invalid refresh token".into());
    let now = state.clock.now();
    let row = refresh_token::Entity::find()
        .filter(refresh_token::Column::TokenHash.eq(token_hash(presented.trim())))
        .one(&state.db)
        .await?
        .ok_or_else(invalid)?;
    if row.revoked_at.is_some() || row.expires_at <= now {
        return Err(invalid());
    }
    let user = user::Entity::find_by_id(row.user_id).one(&state.db).await?.ok_or_else(invalid)?;
    let profile = person_profile(&state.db, user.id).await?;
    let mut work = UnitOfWork::begin(state, &Viewer::Anonymous).await?;
    work.act_as(user.id, profile.id);
    // Claim the token atomically: only one exchange can flip `used_at`.
    let claimed = refresh_token::Entity::update_many()
        .col_expr(refresh_token::Column::UsedAt, Expr::value(now))
        .filter(refresh_token::Column::Id.eq(row.id))
        .filter(refresh_token::Column::UsedAt.is_null())
        .filter(refresh_token::Column::RevokedAt.is_null())
        .exec(work.txn())
        .await?;
    if claimed.rows_affected == 0 {
        revoke_family(&mut work, row.family_id, user.id, now, Action::SessionReuseDetected).await?;
        work.commit().await?;
        return Err(AppError::Unauthenticated("refresh token was already used; the session is revoked".into()));
    }
    // A session a revocation reached (every token of the family revoked but one a racing
    // refresh added) stays ended.
    if !crate::auth::session::alive_in_db(work.txn(), row.family_id).await? {
        return Err(invalid());
    }
    let session = start_session(state, &mut work, user, profile, row.family_id).await?;
    work.commit().await?;
    Ok(session)
}

/// Ends the session of a refresh token (its whole family). Logging out twice is fine.
pub async fn logout(state: &AppState, presented: &str) -> AppResult<()> {
    let row = refresh_token::Entity::find()
        .filter(refresh_token::Column::TokenHash.eq(token_hash(presented.trim())))
        .one(&state.db)
        .await?
        .ok_or_else(|| AppError::Unauthenticated("invalid refresh token".into()))?;
    if row.revoked_at.is_some() {
        return Ok(());
    }
    let mut work = UnitOfWork::begin(state, &Viewer::Anonymous).await?;
    let profile = person_profile(work.txn(), row.user_id).await?;
    work.act_as(row.user_id, profile.id);
    revoke_family(&mut work, row.family_id, row.user_id, state.clock.now(), Action::SessionEnded).await?;
    work.commit().await
}

pub use super::sessions::person_profile;

/// A user account by id.
pub async fn find_user(db: &impl ConnectionTrait, user_id: Uuid) -> AppResult<Option<user::Model>> {
    Ok(user::Entity::find_by_id(user_id).one(db).await?)
}

async fn start_session(
    state: &AppState,
    work: &mut UnitOfWork<'_>,
    user: user::Model,
    profile: profile::Model,
    family_id: Uuid,
) -> AppResult<Session> {
    let now = state.clock.now();
    let access_token_expires_at = later(now, state.config.access_token_ttl)?;
    let refresh_token_expires_at = later(now, state.config.refresh_token_ttl)?;
    let refresh_token = random_token(32);
    let token_id = Uuid::new_v4();
    refresh_token::ActiveModel {
        id: Set(token_id),
        user_id: Set(user.id),
        family_id: Set(family_id),
        token_hash: Set(token_hash(&refresh_token)),
        created_at: Set(now),
        expires_at: Set(refresh_token_expires_at),
        used_at: Set(None),
        revoked_at: Set(None),
    }
    .insert(work.txn())
    .await?;
    work.record(NewActivity {
        topic: user_topic(user.id),
        action: Action::SessionTokenIssued,
        subject_type: "session",
        subject_id: family_id,
        before: None,
        after: Some(json!({ "refreshTokenId": token_id })),
    })
    .await?;
    let access_token = state.keys.sign_access(user.id, profile.id, family_id, now, access_token_expires_at)?;
    Ok(Session { access_token, access_token_expires_at, refresh_token, refresh_token_expires_at, user, profile })
}

/// `now` plus a configured lifetime; a lifetime past the calendar is an internal error.
fn later(now: chrono::DateTime<chrono::Utc>, ttl: std::time::Duration) -> AppResult<chrono::DateTime<chrono::Utc>> {
    Duration::from_std(ttl)
        .ok()
        .and_then(|d| now.checked_add_signed(d))
        .ok_or_else(|| AppError::Internal(anyhow::anyhow!("a token lifetime of {ttl:?} is out of range")))
}
