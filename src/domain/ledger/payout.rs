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
    let available = account(work.txn(), AccountKind::PayeeAvailable, me, &currency, true).await?;
    let request = json!({ "amountCents": input.amount_cents, "currency": currency });
    if let idempotency::Claim::Replay(first) =
        idempotency::claim(work.txn(), state, me, &key, "requestPayout", &request).await?
    {
        let id = idempotency::replayed_id(&first, "payoutId")?;
        return payout::Entity::find_by_id(id).one(work.txn()).await?.ok_or(AppError::NotFound("payout"));
    }
    if available.balance_cents < money.cents() {
        return Err(AppError::bad_input(
            "amountCents",
            format!("exceeds the available {} {currency}", available.balance_cents),
        ));
    }
    let in_flight = account(work.txn(), AccountKind::PayoutInFlight, me, &currency, false).await?;
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
    posting.entries = Entry::transfer(&available, &in_flight, money.cents());
    post(work.txn(), now, posting).await?;
    work.record(payout_activity(Action::PayoutProcessing, &payout)).await?;
    idempotency::finish(work.txn(), me, &key, json!({ "payoutId": payout.id })).await?;
    work.commit().await?;

    let sent = state.provider.payout(&payout.id.to_string(), me, money.cents(), &currency).await;
    settle(state, viewer, payout.id, sent).await
}

/// Books the provider's answer on a PROCESSING withdrawal (once; a settled one is returned as is).
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
    account(work.txn(), AccountKind::PayeeAvailable, payout.profile_id, &payout.currency, true).await?;
    let in_flight = account(work.txn(), AccountKind::PayoutInFlight, payout.profile_id, &payout.currency, true).await?;
    let now = state.clock.now();
    let (kind, to, status, action) = match &sent {
        Ok(_) => (TransactionKind::PayoutPaid, AccountKind::PaidOut, PayoutStatus::Paid, Action::PayoutPaid),
        Err(_) => {
            (TransactionKind::PayoutFailed, AccountKind::PayeeAvailable, PayoutStatus::Failed, Action::PayoutFailed)
        }
    };
    let target = account(work.txn(), to, payout.profile_id, &payout.currency, false).await?;
    let mut posting = Posting::new(kind, &payout.currency, "withdrawal settled");
    posting.payout = Some(payout.id);
    posting.provider_ref = sent.as_ref().ok().cloned();
    posting.entries = Entry::transfer(&in_flight, &target, payout.amount_cents);
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
    let available = account(work.txn(), AccountKind::PayeeAvailable, payout.profile_id, &payout.currency, true).await?;
    let pending = account(work.txn(), AccountKind::PayeePending, payout.profile_id, &payout.currency, true).await?;
    let mut posting = Posting::new(TransactionKind::EarningsAvailable, &payout.currency, "hold passed");
    posting.payout = Some(payout.id);
    posting.contract = payout.contract_id;
    posting.entries = Entry::transfer(&pending, &available, payout.amount_cents);
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
