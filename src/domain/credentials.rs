//! Accounts people can recover. Registration mails a link that verifies the address
//! (`verifyEmail`, single use, 48 hours; `resendVerificationEmail` replaces it). A forgotten
//! password is reset through a mailed single-use token valid 30 minutes, stored hashed
//! (`requestPasswordReset` answers the same whether or not the address is known, and is limited
//! per address and per client); a reset ends every session of the account, a change every
//! session but the current one. An unverified account may not move money: it cannot fund
//! contracts, connect a payout account or withdraw.
use chrono::Duration;
use entity::{
    account_token::{self, TokenPurpose},
    refresh_token, user,
};
use sea_orm::{
    ActiveModelTrait, ColumnTrait, ConnectionTrait, EntityTrait, IntoActiveModel, QueryFilter, QuerySelect, Set,
    sea_query::Expr,
};
use uuid::Uuid;

use super::{
    Action, UnitOfWork,
    mail::{self, Mail},
    validate::{Email, Password},
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

/// How long a verification link works.
const VERIFY_FOR: Duration = Duration::hours(48);
/// How long a password-reset token works.
const RESET_FOR: Duration = Duration::minutes(30);

/// Refuses an account whose address is not verified (FORBIDDEN, saying what to do).
pub async fn require_verified(db: &impl ConnectionTrait, user_id: Uuid) -> AppResult<()> {
    let verified: Option<Option<chrono::DateTime<chrono::Utc>>> = user::Entity::find_by_id(user_id)
        .select_only()
        .column(user::Column::EmailVerifiedAt)
        .into_tuple()
        .one(db)
        .await?;
    match verified {
        Some(Some(_)) => Ok(()),
        _ => Err(AppError::forbidden(
            "verify your email address first: open the link we mailed you (resendVerificationEmail sends another)",
        )),
    }
}

/// Marks an account's address verified without a mail (demo data an operator seeds, and test
/// builders).
pub async fn mark_verified(
    db: &impl ConnectionTrait,
    user_id: Uuid,
    at: chrono::DateTime<chrono::Utc>,
) -> AppResult<()> {
    user::Entity::update_many()
        .col_expr(user::Column::EmailVerifiedAt, Expr::value(at))
        .filter(user::Column::Id.eq(user_id))
        .filter(user::Column::EmailVerifiedAt.is_null())
        .exec(db)
        .await?;
    Ok(())
}

/// A new token of `purpose` for `user_id` (earlier unused ones of that purpose stop working).
async fn issue(work: &UnitOfWork<'_>, user_id: Uuid, purpose: TokenPurpose, valid_for: Duration) -> AppResult<String> {
    let now = work.now();
    account_token::Entity::update_many()
        .col_expr(account_token::Column::UsedAt, Expr::value(now))
        .filter(account_token::Column::UserId.eq(user_id))
        .filter(account_token::Column::Purpose.eq(purpose))
        .filter(account_token::Column::UsedAt.is_null())
        .exec(work.txn())
        .await?;
    let token = random_token(32);
    account_token::ActiveModel {
        id: Set(Uuid::new_v4()),
        user_id: Set(user_id),
        purpose: Set(purpose),
        token_hash: Set(token_hash(&token)),
        expires_at: Set(now.checked_add_signed(valid_for).unwrap_or(chrono::DateTime::<chrono::Utc>::MAX_UTC)),
        used_at: Set(None),
        created_at: Set(now),
    }
    .insert(work.txn())
    .await?;
    Ok(token)
}

/// Uses a token of `purpose` once (in `work`): its account, or BAD_USER_INPUT on `token`.
async fn consume(work: &UnitOfWork<'_>, presented: &str, purpose: TokenPurpose) -> AppResult<user::Model> {
    let invalid = || AppError::bad_input("token", "this link is invalid, expired or already used; ask for a new one");
    let now = work.now();
    let row = account_token::Entity::find()
        .filter(account_token::Column::TokenHash.eq(token_hash(presented.trim())))
        .filter(account_token::Column::Purpose.eq(purpose))
        .one(work.txn())
        .await?
        .ok_or_else(invalid)?;
    // Claimed atomically: two requests with one token, one wins.
    let claimed = account_token::Entity::update_many()
        .col_expr(account_token::Column::UsedAt, Expr::value(now))
        .filter(account_token::Column::Id.eq(row.id))
        .filter(account_token::Column::UsedAt.is_null())
        .filter(account_token::Column::ExpiresAt.gt(now))
        .exec(work.txn())
        .await?;
    if claimed.rows_affected == 0 {
        return Err(invalid());
    }
    user::Entity::find_by_id(row.user_id).one(work.txn()).await?.ok_or_else(invalid)
}

/// Queues the verification mail of a new (or re-asking) account in `work`.
pub(crate) async fn mail_verification(
    work: &mut UnitOfWork<'_>,
    state: &AppState,
    user: &user::Model,
) -> AppResult<()> {
    let token = issue(work, user.id, TokenPurpose::VerifyEmail, VERIFY_FOR).await?;
    let base = &state.config.mail.public_url;
    let body = format!(
        "Welcome to Semasocial.\n\nConfirm that this address is yours:\n{base}/verify-email?token={token}\n\n\
         (or send the mutation verifyEmail(input: {{ token: \"{token}\" }})).\n\
         The link works once, for 48 hours. If you did not sign up, ignore this mail.\n"
    );
    let mail = Mail { to: user.email.clone(), kind: "verify_email", subject: "Verify your email address".into(), body };
    mail::queue(work, mail).await.map(drop)
}

/// `verifyEmail`: the token is the proof (signed in or not). Returns the account.
pub async fn verify_email(state: &AppState, token: &str) -> AppResult<user::Model> {
    let work = UnitOfWork::begin(state, &Viewer::Anonymous).await?;
    let found = consume(&work, token, TokenPurpose::VerifyEmail).await?;
    let verified = match found.email_verified_at {
        Some(_) => found,
        None => {
            let mut active = found.into_active_model();
            active.email_verified_at = Set(Some(work.now()));
            active.update(work.txn()).await?
        }
    };
    work.commit().await?;
    Ok(verified)
}

/// `resendVerificationEmail`: a new link for the signed-in person (the old one stops working).
pub async fn resend_verification(state: &AppState, viewer: &Viewer) -> AppResult<()> {
    let (user_id, _) = viewer.require_user()?;
    let found = user::Entity::find_by_id(user_id).one(&state.db).await?.ok_or(AppError::NotFound("account"))?;
    if found.email_verified_at.is_some() {
        return Err(AppError::conflict("your email address is already verified"));
    }
    let hour = std::time::Duration::from_secs(3600);
    state.limiter.hit(state.clock.as_ref(), &format!("verify-mail:{user_id}"), 5, hour).await?;
    let mut work = UnitOfWork::begin(state, viewer).await?;
    mail_verification(&mut work, state, &found).await?;
    work.commit().await
}

/// `requestPasswordReset`: mails a reset token to the address if it has an account; answers
/// the same either way. Limited per address and per client.
pub async fn request_password_reset(state: &AppState, email: &str, client: Option<std::net::IpAddr>) -> AppResult<()> {
    let email = Email::parse(email, "email")?;
    let hour = std::time::Duration::from_secs(3600);
    let from = client.map_or_else(|| "-".to_owned(), |ip| ip.to_string());
    state.limiter.hit(state.clock.as_ref(), &format!("reset:{}", email.as_str()), 3, hour).await?;
    state.limiter.hit(state.clock.as_ref(), &format!("reset-from:{from}"), 20, hour).await?;
    let Some(found) = user::Entity::find().filter(user::Column::Email.eq(email.as_str())).one(&state.db).await? else {
        return Ok(());
    };
    let mut work = UnitOfWork::begin(state, &Viewer::Anonymous).await?;
    let token = issue(&work, found.id, TokenPurpose::ResetPassword, RESET_FOR).await?;
    let base = &state.config.mail.public_url;
    let body = format!(
        "Someone asked to reset the password of your Semasocial account.\n\nChoose a new one:\n\
         {base}/reset-password?token={token}\n\n(or send resetPassword(input: {{ token: \"{token}\", newPassword: \"…\" }})).\n\
         The token works once, for 30 minutes, and signs you out everywhere. If it was not you, ignore this mail:\n\
         your password stays as it is.\n"
    );
    let mail = Mail { to: found.email, kind: "password_reset", subject: "Reset your password".into(), body };
    mail::queue(&mut work, mail).await?;
    work.commit().await
}

/// `resetPassword`: a new password with a mailed token; every session of the account ends (the
/// address is proven, so it counts as verified).
pub async fn reset_password(state: &AppState, token: &str, new_password: &str) -> AppResult<()> {
    let password = Password::parse(new_password, "newPassword")?;
    let hash = hash_password(state.config.hashing, password.into_inner()).await?;
    let mut work = UnitOfWork::begin(state, &Viewer::Anonymous).await?;
    let found = consume(&work, token, TokenPurpose::ResetPassword).await?;
    let profile = super::sessions::person_profile(work.txn(), found.id).await?;
    work.act_as(found.id, profile.id);
    let user_id = found.id;
    let email = found.email.clone();
    let mut active = found.clone().into_active_model();
    active.password_hash = Set(hash);
    if found.email_verified_at.is_none() {
        active.email_verified_at = Set(Some(work.now()));
    }
    active.updated_at = Set(work.now());
    active.update(work.txn()).await?;
    end_sessions(&mut work, user_id, None).await?;
    notice(&mut work, email).await?;
    work.commit().await
}

/// `changePassword`: the current password, then the new one; every other session ends.
pub async fn change_password(state: &AppState, viewer: &Viewer, current: &str, new_password: &str) -> AppResult<()> {
    let (user_id, profile_id) = viewer.require_user()?;
    let keep = match viewer {
        Viewer::User { session_id, .. } => *session_id,
        _ => None,
    };
    let hour = std::time::Duration::from_secs(3600);
    state.limiter.hit(state.clock.as_ref(), &format!("change-password:{user_id}"), 10, hour).await?;
    let found = user::Entity::find_by_id(user_id).one(&state.db).await?.ok_or(AppError::NotFound("account"))?;
    if !verify_password(found.password_hash.clone(), current.to_owned()).await? {
        return Err(AppError::bad_input("currentPassword", "is not your current password"));
    }
    let password = Password::parse(new_password, "newPassword")?;
    if new_password == current {
        return Err(AppError::bad_input("newPassword", "must differ from the current password"));
    }
    let hash = hash_password(state.config.hashing, password.into_inner()).await?;
    let mut work = UnitOfWork::begin(state, viewer).await?;
    work.act_as(user_id, profile_id);
    let email = found.email.clone();
    let mut active = found.into_active_model();
    active.password_hash = Set(hash);
    active.updated_at = Set(work.now());
    active.update(work.txn()).await?;
    end_sessions(&mut work, user_id, keep).await?;
    notice(&mut work, email).await?;
    work.commit().await
}

/// Ends every live session of the account but `keep`.
async fn end_sessions(work: &mut UnitOfWork<'_>, user_id: Uuid, keep: Option<Uuid>) -> AppResult<()> {
    let mut families: Vec<Uuid> = refresh_token::Entity::find()
        .select_only()
        .column(refresh_token::Column::FamilyId)
        .filter(refresh_token::Column::UserId.eq(user_id))
        .filter(refresh_token::Column::RevokedAt.is_null())
        .into_tuple()
        .all(work.txn())
        .await?;
    families.sort_unstable();
    families.dedup();
    let now = work.now();
    for family in families.into_iter().filter(|f| Some(*f) != keep) {
        super::sessions::revoke_family(work, family, user_id, now, Action::SessionEnded).await?;
    }
    Ok(())
}

/// Tells the account's address its password changed (so a takeover does not go unnoticed).
async fn notice(work: &mut UnitOfWork<'_>, to: String) -> AppResult<()> {
    let body = "The password of your Semasocial account was just changed, and its other sessions were \
                signed out.\nIf it was not you, reset your password now with requestPasswordReset.\n"
        .to_owned();
    let mail = Mail { to, kind: "password_changed", subject: "Your password was changed".into(), body };
    mail::queue(work, mail).await.map(drop)
}
