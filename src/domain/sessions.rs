//! Sessions and the person behind them: ending a session (logout, refresh-token reuse, a
//! password reset or change), and the person profile of an account. Below `account` and
//! `credentials`, which both end sessions.
use chrono::{DateTime, Utc};
use entity::{profile, refresh_token};
use sea_orm::{ColumnTrait, ConnectionTrait, EntityTrait, QueryFilter, sea_query::Expr};
use serde_json::json;
use uuid::Uuid;

use super::{Action, NewActivity, UnitOfWork, activity::user_topic};
use crate::error::{AppError, AppResult};

/// The person profile of an account.
pub async fn person_profile(db: &impl ConnectionTrait, user_id: Uuid) -> AppResult<profile::Model> {
    profile::Entity::find()
        .filter(profile::Column::UserId.eq(user_id))
        .one(db)
        .await?
        .ok_or_else(|| AppError::Internal(anyhow::anyhow!("user {user_id} has no profile")))
}

/// Ends a session: its refresh tokens are revoked, and its access tokens are refused from the
/// commit on, on this instance at once and on the others as the revocation reaches them (it is
/// filed under the `sessions` stream and the person's access stream, so live subscriptions of
/// the session end).
pub(crate) async fn revoke_family(
    work: &mut UnitOfWork<'_>,
    family_id: Uuid,
    user_id: Uuid,
    now: DateTime<Utc>,
    action: Action,
) -> AppResult<()> {
    let revoked = refresh_token::Entity::update_many()
        .col_expr(refresh_token::Column::RevokedAt, Expr::value(now))
        .filter(refresh_token::Column::FamilyId.eq(family_id))
        .filter(refresh_token::Column::RevokedAt.is_null())
        .exec(work.txn())
        .await?;
    work.record(NewActivity {
        topic: user_topic(user_id),
        action,
        subject_type: "session",
        subject_id: family_id,
        before: None,
        after: Some(json!({ "revokedTokens": revoked.rows_affected, "profileId": work.actor_profile_id() })),
    })
    .await?;
    work.after_commit(Box::new(move |state| {
        state.sessions.revoke(family_id, state.clock.now());
        futures_util::future::FutureExt::boxed(async {})
    }));
    Ok(())
}
