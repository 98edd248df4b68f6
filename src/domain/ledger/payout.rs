//! Payouts: earnings leave their hold (PENDING → AVAILABLE, done by the sweep), and payees
//! withdraw their available balance through the provider (PROCESSING → PAID, or FAILED with the
//! money back). Payout updates go to the payee's own topic.
use entity::{
    ledger_account::AccountKind,
    ledger_transaction::TransactionKind,
    payout::{self, PayoutKind, PayoutStatus},
};
use sea_orm::{
    ActiveModelTrait, ColumnTrait, EntityTrait, IntoActiveModel, QueryFilter, QueryOrder, QuerySelect, Set,
    sea_query::{LockBehavior, LockType},
};
use serde_json::json;
use uuid::Uuid;

use super::{Entry, Posting, account, idempotency, post};
use crate::{
    auth::Viewer,
    domain::{Action, NewActivity, UnitOfWork, money::Money, validate, wire},
    error::{AppError, AppResult},
    state::AppState,
};

/// Topic of a payee's payouts.
pub fn topic(profile_id: Uuid) -> String {
    format!("payouts:{profile_id}")
}

/// A payout change on its payee's topic.
pub(crate) fn payout_activity(action: Action, p: &payout::Model) -> NewActivity {
    NewActivity {
        topic: topic(p.profile_id),
        action,
        subject_type: "payout",
        subject_id: p.id,
        before: None,
        after: Some(json!({
            "kind": wire(p.kind),
            "status": wire(p.status),
            "amountCents": p.amount_cents,
            "feeCents": p.fee_cents,
            "currency": p.currency,
            "contractId": p.contract_id,
            "earnedByProfileId": p.earned_by_profile_id,
            "failureReason": p.failure_reason,
        })),
    }
}

/// Input of `requestPayout`.
pub struct PayoutInput {
    /// Amount in minor units.
    pub amount_cents: i64,
    /// ISO currency of the balance to withdraw from.
    pub currency: String,
    /// The payee's key for this request.
    pub idempotency_key: String,
}

/// `requestPayout`: a person withdraws from its available balance. The money moves to
/// in-flight under the account's lock (two withdrawals never overdraw), then the provider is
/// asked, then the payout is PAID or FAILED (the money back). A replay returns the first payout.
pub async fn request(state: &AppState, viewer: &Viewer, input: PayoutInput) -> AppResult<payout::Model> {
    let (_, me) = viewer.require_user()?;
    let key = idempotency::validate(&input.idempotency_key)?;
    let currency = validate::currency(&input.currency, "currency")?;
    let money = Money::positive(input.amount_cents, &currency, "amountCents")?;
    let mut work = UnitOfWork::begin(state, viewer).await?;
    let available = account(&work, AccountKind::PayeeAvailable, me, &currency, true).await?;
    let request = json!({ "amountCents": input.amount_cents, "currency": currency });
    if let idempotency::Claim::Replay(first) =
        idempotency::claim(work.txn(), state, me, &key, "requestPayout", &request).await?
    {
        let id = idempotency::replayed_id(&first, "payoutId")?;
        let first = payout::Entity::find_by_id(id).one(work.txn()).await?.ok_or(AppError::NotFound("payout"))?;
        drop(work);
        // A retry of a withdrawal a crash left PROCESSING finishes it, once the bound has passed.
        return match finish_stuck(state, first.clone()).await? {
            Some(settled) => Ok(settled),
            None => Ok(first),
        };
    }
    if available.balance_cents < money.cents() {
        return Err(AppError::bad_input(
            "amountCents",
            format!("exceeds the available {} {currency}", available.balance_cents),
        ));
    }
    let in_flight = account(&work, AccountKind::PayoutInFlight, me, &currency, false).await?;
    let now = state.clock.now();
    let payout = payout::ActiveModel {
        id: Set(Uuid::new_v4()),
        profile_id: Set(me),
        kind: Set(PayoutKind::Withdrawal),
        status: Set(PayoutStatus::Processing),
        currency: Set(currency.clone()),
        amount_cents: Set(money.cents()),
        fee_cents: Set(0),
        contract_id: Set(None),
        outcome_id: Set(None),
        task_id: Set(None),
        earned_by_profile_id: Set(None),
        available_at: Set(None),
        failure_reason: Set(None),
        provider_ref: Set(None),
        created_at: Set(now),
        updated_at: Set(now),
    }
    .insert(work.txn())
    .await?;
    let mut posting = Posting::new(TransactionKind::PayoutRequested, &currency, "withdrawal requested");
    posting.payout = Some(payout.id);
    posting.actor = Some(me);
    posting.entries = Entry::transfer(&available, &in_flight, &money);
    post(work.txn(), now, posting).await?;
    work.record(payout_activity(Action::PayoutProcessing, &payout)).await?;
    idempotency::finish(work.txn(), me, &key, json!({ "payoutId": payout.id })).await?;
    work.commit().await?;

    let sent = state.provider.payout(&provider_key(payout.id), me, money.cents(), &currency).await;
    settle(state, viewer, payout.id, sent).await
}

/// Books the provider's answer on a PROCESSING withdrawal (once; a settled one is returned as
/// is). The payee is told live either way (its payouts topic and inbox).
async fn settle(
    state: &AppState,
    viewer: &Viewer,
    payout_id: Uuid,
    sent: Result<String, super::provider::Declined>,
) -> AppResult<payout::Model> {
    let mut work = UnitOfWork::begin(state, viewer).await?;
    let payout = payout::Entity::find_by_id(payout_id)
        .lock_exclusive()
        .one(work.txn())
        .await?
        .ok_or(AppError::NotFound("payout"))?;
    if payout.status != PayoutStatus::Processing {
        return Ok(payout);
    }
    // A payee's accounts are locked available first (as `request` does), then the others.
    account(&work, AccountKind::PayeeAvailable, payout.profile_id, &payout.currency, true).await?;
    let in_flight = account(&work, AccountKind::PayoutInFlight, payout.profile_id, &payout.currency, true).await?;
    let now = state.clock.now();
    let (kind, to, status, action) = match &sent {
        Ok(_) => (TransactionKind::PayoutPaid, AccountKind::PaidOut, PayoutStatus::Paid, Action::PayoutPaid),
        Err(_) => {
            (TransactionKind::PayoutFailed, AccountKind::PayeeAvailable, PayoutStatus::Failed, Action::PayoutFailed)
        }
    };
    let target = account(&work, to, payout.profile_id, &payout.currency, false).await?;
    let amount = Money::of(payout.amount_cents, &payout.currency, "amountCents")?;
    let mut posting = Posting::new(kind, &payout.currency, "withdrawal settled");
    posting.payout = Some(payout.id);
    posting.provider_ref = sent.as_ref().ok().cloned();
    posting.entries = Entry::transfer(&in_flight, &target, &amount);
    post(work.txn(), now, posting).await?;
    let mut active = payout.into_active_model();
    active.status = Set(status);
    active.provider_ref = Set(sent.as_ref().ok().cloned());
    active.failure_reason = Set(sent.err().map(|declined| declined.0));
    active.updated_at = Set(now);
    let payout = active.update(work.txn()).await?;
    work.record(payout_activity(action, &payout)).await?;
    work.commit().await?;
    Ok(payout)
}

/// The provider's idempotency key of a withdrawal.
fn provider_key(payout_id: Uuid) -> String {
    payout_id.to_string()
}

/// Finishes a withdrawal a crash left PROCESSING for longer than the configured bound: the
/// provider is asked by the payout's idempotency key; a transfer it made is PAID, one it refused
/// or never received is FAILED (the money back to available). `None` when the payout is not
/// stuck (settled, or still within the bound: its own request may yet book the answer).
pub async fn finish_stuck(state: &AppState, payout: payout::Model) -> AppResult<Option<payout::Model>> {
    let bound = chrono::Duration::from_std(state.config.payments.payout_stuck_after).unwrap_or(chrono::Duration::MAX);
    let stuck = payout.status == PayoutStatus::Processing
        && payout.kind == PayoutKind::Withdrawal
        && payout.updated_at.checked_add_signed(bound).is_some_and(|at| at <= state.clock.now());
    if !stuck {
        return Ok(None);
    }
    let answer =
        state.provider.find_payout(&provider_key(payout.id)).await.unwrap_or_else(|| {
            Err(super::provider::Declined("the withdrawal never reached the payment provider".into()))
        });
    settle(state, &Viewer::Anonymous, payout.id, answer).await.map(Some)
}

/// The sweep's part: finishes every withdrawal stuck in PROCESSING past the bound (oldest
/// first, `batch` at most). Returns how many it settled.
pub async fn finish_stuck_payouts(state: &AppState, batch: u64) -> AppResult<usize> {
    let bound = chrono::Duration::from_std(state.config.payments.payout_stuck_after).unwrap_or(chrono::Duration::MAX);
    let Some(before) = state.clock.now().checked_sub_signed(bound) else { return Ok(0) };
    let stuck = payout::Entity::find()
        .filter(payout::Column::Status.eq(PayoutStatus::Processing))
        .filter(payout::Column::Kind.eq(PayoutKind::Withdrawal))
        .filter(payout::Column::UpdatedAt.lte(before))
        .order_by_asc(payout::Column::UpdatedAt)
        .limit(batch)
        .all(&state.db)
        .await?;
    let mut settled = 0usize;
    for payout in stuck {
        let id = payout.id;
        match finish_stuck(state, payout).await {
            Ok(Some(_)) => settled = settled.saturating_add(1),
            Ok(None) => {}
            Err(error) => tracing::warn!(payout = %id, error = %error, "could not finish a stuck withdrawal"),
        }
    }
    Ok(settled)
}

/// Moves earnings whose hold has passed to AVAILABLE, each in its own transaction (rows another
/// instance is handling are skipped). Returns how many moved.
pub async fn release_holds(state: &AppState, batch: u64) -> AppResult<usize> {
    let now = state.clock.now();
    let due: Vec<Uuid> = payout::Entity::find()
        .select_only()
        .column(payout::Column::Id)
        .filter(payout::Column::Status.eq(PayoutStatus::Pending))
        .filter(payout::Column::AvailableAt.lte(now))
        .order_by_asc(payout::Column::AvailableAt)
        .limit(batch)
        .into_tuple()
        .all(&state.db)
        .await?;
    let mut moved = 0usize;
    for id in due {
        match make_available(state, id).await {
            Ok(true) => moved = moved.saturating_add(1),
            Ok(false) => {}
            Err(error) => tracing::warn!(payout = %id, error = %error, "could not release a payout's hold"),
        }
    }
    Ok(moved)
}

async fn make_available(state: &AppState, id: Uuid) -> AppResult<bool> {
    let system = Viewer::Anonymous;
    let mut work = UnitOfWork::begin(state, &system).await?;
    let Some(payout) = payout::Entity::find_by_id(id)
        .lock_with_behavior(LockType::Update, LockBehavior::SkipLocked)
        .one(work.txn())
        .await?
    else {
        return Ok(false);
    };
    let now = state.clock.now();
    if payout.status != PayoutStatus::Pending || payout.available_at.is_none_or(|at| at > now) {
        return Ok(false);
    }
    let available = account(&work, AccountKind::PayeeAvailable, payout.profile_id, &payout.currency, true).await?;
    let pending = account(&work, AccountKind::PayeePending, payout.profile_id, &payout.currency, true).await?;
    let mut posting = Posting::new(TransactionKind::EarningsAvailable, &payout.currency, "hold passed");
    posting.payout = Some(payout.id);
    posting.contract = payout.contract_id;
    posting.entries =
        Entry::transfer(&pending, &available, &Money::of(payout.amount_cents, &payout.currency, "amountCents")?);
    if payout.amount_cents > 0 {
        post(work.txn(), now, posting).await?;
    }
    let mut active = payout.into_active_model();
    active.status = Set(PayoutStatus::Available);
    active.updated_at = Set(now);
    let payout = active.update(work.txn()).await?;
    work.record(payout_activity(Action::PayoutAvailable, &payout)).await?;
    work.commit().await?;
    Ok(true)
}
