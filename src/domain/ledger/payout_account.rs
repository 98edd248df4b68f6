//! Payout accounts: where a payee's withdrawals go at the provider. `connectPayoutAccount`
//! creates the payee's connected account (once) and a fresh onboarding link; the provider's
//! `account.updated` webhook says when it may receive payouts. Providers that need one refuse a
//! withdrawal until then.
use entity::payout_account;
use sea_orm::{ActiveModelTrait, ColumnTrait, ConnectionTrait, EntityTrait, IntoActiveModel, QueryFilter, Set};
use uuid::Uuid;

use crate::{
    auth::Viewer,
    domain::UnitOfWork,
    error::{AppError, AppResult},
    state::AppState,
};

/// What `connectPayoutAccount` hands back.
pub struct Connected {
    /// The payee's account.
    pub account: payout_account::Model,
    /// Where the payee finishes onboarding (with the simulated provider: `returnUrl`).
    pub onboarding_url: String,
}

/// `connectPayoutAccount`: a person (an agent's earnings are its operator's, so the operator
/// connects) gets an onboarding link for its payout account, created on first use.
pub async fn connect(state: &AppState, viewer: &Viewer, return_url: &str, refresh_url: &str) -> AppResult<Connected> {
    let (user_id, me) = viewer.require_user()?;
    crate::domain::credentials::require_verified(&state.db, user_id).await?;
    let return_url = crate::domain::validate::http_url(return_url, "returnUrl")?;
    let refresh_url = crate::domain::validate::http_url(refresh_url, "refreshUrl")?;
    let provider = state.provider.name();
    let known = payout_account::Entity::find_by_id((me, provider.to_owned())).one(&state.db).await?;
    let onboarding = state
        .provider
        .connect_payout_account(me, known.as_ref().map(|k| k.account_ref.clone()), &return_url, &refresh_url)
        .await
        .map_err(|declined| AppError::conflict(format!("the payment provider refused: {}", declined.0)))?;
    let now = state.clock.now();
    let work = UnitOfWork::begin(state, viewer).await?;
    let account = match known {
        Some(known) => {
            let mut active = known.into_active_model();
            active.ready = Set(onboarding.ready);
            active.updated_at = Set(now);
            active.update(work.txn()).await?
        }
        None => {
            payout_account::ActiveModel {
                profile_id: Set(me),
                provider: Set(provider.to_owned()),
                account_ref: Set(onboarding.account.clone()),
                ready: Set(onboarding.ready),
                created_at: Set(now),
                updated_at: Set(now),
            }
            .insert(work.txn())
            .await?
        }
    };
    work.commit().await?;
    Ok(Connected { account, onboarding_url: onboarding.url })
}

/// The payee's payout account at the provider in use.
pub async fn of(db: &impl ConnectionTrait, state: &AppState, payee: Uuid) -> AppResult<Option<payout_account::Model>> {
    Ok(payout_account::Entity::find_by_id((payee, state.provider.name().to_owned())).one(db).await?)
}

/// Where a withdrawal of `payee` goes: `None` for providers that need no account; CONFLICT
/// saying what to do when the provider needs one that is missing or not onboarded yet.
pub(crate) async fn destination(db: &impl ConnectionTrait, state: &AppState, payee: Uuid) -> AppResult<Option<String>> {
    if !state.provider.needs_payout_account() {
        return Ok(None);
    }
    match of(db, state, payee).await? {
        Some(account) if account.ready => Ok(Some(account.account_ref)),
        Some(_) => Err(AppError::conflict(
            "your payout account is not ready to receive payouts: finish onboarding at the link connectPayoutAccount gives",
        )),
        None => Err(AppError::conflict(
            "you have no payout account: call connectPayoutAccount and finish onboarding, then withdraw",
        )),
    }
}

/// The provider's word on an account (`account.updated`): whether it may receive payouts.
/// Returns whether anything changed (an account not ours, or no change, is nothing).
pub(crate) async fn apply_update(work: &UnitOfWork<'_>, account_ref: &str, ready: bool) -> AppResult<bool> {
    let Some(account) = payout_account::Entity::find()
        .filter(payout_account::Column::AccountRef.eq(account_ref))
        .one(work.txn())
        .await?
    else {
        return Ok(false);
    };
    if account.ready == ready {
        return Ok(false);
    }
    let mut active = account.into_active_model();
    active.ready = Set(ready);
    active.updated_at = Set(work.now());
    active.update(work.txn()).await?;
    Ok(true)
}
