//! Payouts: earnings leave their hold (PENDING → AVAILABLE, done by the sweep), and payees
//! withdraw their available balance through the provider (PROCESSING → PAID, or FAILED with the
//! money back). Payout updates go to the payee's own topic.
use entity::{
    funding::{self, FundingStatus},
    ledger_account::AccountKind,
    ledger_transaction::TransactionKind,
    payout::{self, PayoutKind, PayoutStatus},
};
use sea_orm::{
    ActiveModelTrait, ColumnTrait, ConnectionTrait, EntityTrait, IntoActiveModel, QueryFilter, QueryOrder, QuerySelect,
    Set,
    sea_query::{LockBehavior, LockType, Query},
};
use serde_json::json;
use uuid::Uuid;

use super::{
    Entry, Posting, account, idempotency, post,
    provider::{Declined, PayoutRequest, Sent},
};
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
    let (user_id, me) = viewer.require_user()?;
    crate::domain::credentials::require_verified(&state.db, user_id).await?;
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
    let destination = super::payout_account::destination(work.txn(), state, me).await?;
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

    let source_payment = match destination {
        Some(_) => source_payment(&state.db, me, money.cents(), &currency).await?,
        None => None,
    };
    let sent = state
        .provider
        .payout(PayoutRequest {
            key: provider_key(payout.id),
            payee: me,
            destination,
            cents: money.cents(),
            currency: currency.clone(),
            source_payment,
        })
        .await;
    settle(state, viewer, payout.id, sent).await
}

/// A client payment that covers `cents` of what `payee` earned (the latest funding of a
/// contract that paid it): the provider ties the transfer to that charge, so the withdrawal can
/// leave before the charge's funds are available to the platform.
async fn source_payment(
    db: &impl ConnectionTrait,
    payee: Uuid,
    cents: i64,
    currency: &str,
) -> AppResult<Option<String>> {
    let earned_from = Query::select()
        .column(payout::Column::ContractId)
        .from(payout::Entity)
        .and_where(payout::Column::ProfileId.eq(payee))
        .and_where(payout::Column::Kind.eq(PayoutKind::Earning))
        .and_where(payout::Column::ContractId.is_not_null())
        .to_owned();
    Ok(funding::Entity::find()
        .select_only()
        .column(funding::Column::ProviderRef)
        .filter(funding::Column::Status.eq(FundingStatus::Succeeded))
        .filter(funding::Column::Currency.eq(currency))
        .filter(funding::Column::AmountCents.gte(cents))
        .filter(funding::Column::ContractId.in_subquery(earned_from))
        .order_by_desc(funding::Column::CreatedAt)
        .into_tuple()
        .one(db)
        .await?)
}

/// Books the provider's answer on a PROCESSING withdrawal (once; a settled one is returned as
/// is). The payee is told live either way (its payouts topic and inbox).
async fn settle(
    state: &AppState,
    viewer: &Viewer,
    payout_id: Uuid,
    sent: Result<Sent, Declined>,
) -> AppResult<payout::Model> {
    let mut work = UnitOfWork::begin(state, viewer).await?;
    let (payout, _) = book(&mut work, state, payout_id, sent).await?;
    work.commit().await?;
    Ok(payout)
}

/// The provider's word on a withdrawal, from a webhook.
#[derive(Clone, Debug, PartialEq, Eq)]
pub(crate) enum Word {
    /// The money reached the payee's bank.
    Paid,
    /// The bank refused it (the reason); the provider's transfer must be taken back.
    Failed(String),
    /// The provider's transfer was reversed (the money is the platform's again).
    Reversed,
}

/// What the provider's word did to a withdrawal.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum WordApplied {
    /// Settled (PAID, or FAILED with the money back).
    Changed,
    /// Nothing: settled already that way, not ours, or about another account.
    Unchanged,
    /// A failure about a withdrawal whose transfer its own request has not recorded yet: the
    /// provider must deliver it again (the transfer has to be taken back first).
    NotYet,
}

/// Applies the provider's word on the withdrawal `payout_id` about the connected account
/// `on_account`, inside the webhook's unit of work, the withdrawal locked before the provider
/// is asked anything: PAID; FAILED with the money back in the payee's available balance (a
/// failed bank payout first takes the transfer back at the provider) — also after PAID, as a
/// bank may return a payout days later. A word about a withdrawal already settled that way,
/// not ours, or about another account changes nothing.
pub(crate) async fn apply_word(
    work: &mut UnitOfWork<'_>,
    state: &AppState,
    payout_id: Uuid,
    on_account: Option<&str>,
    word: Word,
) -> AppResult<WordApplied> {
    let Some(found) = payout::Entity::find_by_id(payout_id).lock_exclusive().one(work.txn()).await? else {
        return Ok(WordApplied::Unchanged);
    };
    if found.kind != PayoutKind::Withdrawal {
        return Ok(WordApplied::Unchanged);
    }
    // Only a word about the payee's own account counts: a payout on another connected account
    // carrying our payout id in its metadata settles nothing.
    let payee_account = super::payout_account::of(work.txn(), state, found.profile_id).await?.map(|a| a.account_ref);
    if on_account.is_none() || on_account != payee_account.as_deref() {
        tracing::warn!(payout = %found.id, account = ?on_account, "a payout event about another account; ignored");
        return Ok(WordApplied::Unchanged);
    }
    let take_back = |transfer: String| async move {
        state.provider.reverse_payout(&provider_key(payout_id), &transfer).await.map_err(|error| {
            AppError::Internal(anyhow::anyhow!("taking back the transfer of a failed payout: {error:?}"))
        })
    };
    let outcome = match (found.status, word) {
        (PayoutStatus::Processing, Word::Paid) => Ok(Sent::Paid(found.provider_ref.clone().unwrap_or_default())),
        (PayoutStatus::Processing, Word::Failed(reason)) => {
            let Some(transfer) = found.provider_ref.clone() else { return Ok(WordApplied::NotYet) };
            take_back(transfer).await?;
            Err(Declined(reason))
        }
        (PayoutStatus::Processing, Word::Reversed) => {
            Err(Declined("the payment provider reversed the transfer".into()))
        }
        (PayoutStatus::Paid, Word::Failed(reason)) => {
            let Some(transfer) = found.provider_ref.clone() else { return Ok(WordApplied::Unchanged) };
            take_back(transfer).await?;
            returned_after_paid(work, state, found, reason).await?;
            return Ok(WordApplied::Changed);
        }
        (PayoutStatus::Paid, Word::Reversed) => {
            tracing::error!(payout = %found.id, "a paid withdrawal's transfer was reversed at the provider; a person must look");
            return Ok(WordApplied::Unchanged);
        }
        _ => return Ok(WordApplied::Unchanged),
    };
    let (_, changed) = book(work, state, payout_id, outcome).await?;
    Ok(if changed { WordApplied::Changed } else { WordApplied::Unchanged })
}

/// A withdrawal the bank returned after it was PAID: the money comes back from paid-out to the
/// payee's available balance, the withdrawal is FAILED with the bank's reason, the payee told.
async fn returned_after_paid(
    work: &mut UnitOfWork<'_>,
    state: &AppState,
    payout: payout::Model,
    reason: String,
) -> AppResult<()> {
    let available = account(work, AccountKind::PayeeAvailable, payout.profile_id, &payout.currency, true).await?;
    let paid_out = account(work, AccountKind::PaidOut, payout.profile_id, &payout.currency, true).await?;
    let amount = Money::of(payout.amount_cents, &payout.currency, "amountCents")?;
    let now = state.clock.now();
    let mut posting = Posting::new(TransactionKind::PayoutFailed, &payout.currency, "withdrawal returned by the bank");
    posting.payout = Some(payout.id);
    posting.provider_ref = payout.provider_ref.clone();
    posting.entries = Entry::transfer(&paid_out, &available, &amount);
    post(work.txn(), now, posting).await?;
    let mut active = payout.into_active_model();
    active.status = Set(PayoutStatus::Failed);
    active.failure_reason = Set(Some(reason));
    active.updated_at = Set(now);
    let payout = active.update(work.txn()).await?;
    work.record(payout_activity(Action::PayoutFailed, &payout)).await
}

/// Books `sent` on the withdrawal in `work`: `Paid` → PAID, a refusal → FAILED with the money
/// back, `InFlight` → the provider's reference kept (still PROCESSING: its webhooks settle it),
/// `Unanswered` → nothing (the sweep asks again). Returns the payout and whether it changed.
async fn book(
    work: &mut UnitOfWork<'_>,
    state: &AppState,
    payout_id: Uuid,
    sent: Result<Sent, Declined>,
) -> AppResult<(payout::Model, bool)> {
    let payout = payout::Entity::find_by_id(payout_id)
        .lock_exclusive()
        .one(work.txn())
        .await?
        .ok_or(AppError::NotFound("payout"))?;
    let reference = sent.as_ref().ok().and_then(Sent::reference).filter(|r| !r.is_empty()).map(str::to_owned);
    let now = state.clock.now();
    if payout.status != PayoutStatus::Processing || matches!(sent, Ok(Sent::Unanswered(_))) {
        if let Ok(Sent::Unanswered(reason)) = &sent {
            tracing::warn!(payout = %payout.id, %reason, "the payment provider did not answer a withdrawal; the sweep asks again");
        }
        // A webhook may have settled it before its own request booked the reference.
        if payout.provider_ref.is_none() && reference.is_some() {
            let mut active = payout.into_active_model();
            active.provider_ref = Set(reference);
            return Ok((active.update(work.txn()).await?, false));
        }
        return Ok((payout, false));
    }
    if let Ok(Sent::InFlight(_)) = &sent {
        let mut active = payout.into_active_model();
        active.provider_ref = Set(reference);
        active.updated_at = Set(now);
        return Ok((active.update(work.txn()).await?, false));
    }
    // A payee's accounts are locked available first (as `request` does), then the others.
    account(work, AccountKind::PayeeAvailable, payout.profile_id, &payout.currency, true).await?;
    let in_flight = account(work, AccountKind::PayoutInFlight, payout.profile_id, &payout.currency, true).await?;
    let (kind, to, status, action) = match &sent {
        Ok(_) => (TransactionKind::PayoutPaid, AccountKind::PaidOut, PayoutStatus::Paid, Action::PayoutPaid),
        Err(_) => {
            (TransactionKind::PayoutFailed, AccountKind::PayeeAvailable, PayoutStatus::Failed, Action::PayoutFailed)
        }
    };
    let target = account(work, to, payout.profile_id, &payout.currency, false).await?;
    let amount = Money::of(payout.amount_cents, &payout.currency, "amountCents")?;
    let mut posting = Posting::new(kind, &payout.currency, "withdrawal settled");
    posting.payout = Some(payout.id);
    posting.provider_ref = reference.clone().or_else(|| payout.provider_ref.clone());
    posting.entries = Entry::transfer(&in_flight, &target, &amount);
    post(work.txn(), now, posting).await?;
    let mut active = payout.clone().into_active_model();
    active.status = Set(status);
    if reference.is_some() {
        active.provider_ref = Set(reference);
    }
    active.failure_reason = Set(sent.err().map(|declined| declined.0));
    active.updated_at = Set(now);
    let payout = active.update(work.txn()).await?;
    work.record(payout_activity(action, &payout)).await?;
    Ok((payout, true))
}

/// The provider's idempotency key of a withdrawal.
fn provider_key(payout_id: Uuid) -> String {
    payout_id.to_string()
}

/// Finishes a withdrawal a crash left PROCESSING (no provider reference) for longer than the
/// configured bound: the provider is asked by the payout's key; a payout it made is PAID (or,
/// with Stripe, in flight until its webhook), one it refused or never received is FAILED (the
/// money back to available). `None` when the payout is not
/// stuck (settled, or still within the bound: its own request may yet book the answer).
pub async fn finish_stuck(state: &AppState, payout: payout::Model) -> AppResult<Option<payout::Model>> {
    let bound = chrono::Duration::from_std(state.config.payments.payout_stuck_after).unwrap_or(chrono::Duration::MAX);
    let stuck = payout.status == PayoutStatus::Processing
        && payout.kind == PayoutKind::Withdrawal
        && payout.provider_ref.is_none()
        && payout.updated_at.checked_add_signed(bound).is_some_and(|at| at <= state.clock.now());
    if !stuck {
        return Ok(None);
    }
    let destination = super::payout_account::of(&state.db, state, payout.profile_id).await?.map(|a| a.account_ref);
    let request = PayoutRequest {
        key: provider_key(payout.id),
        payee: payout.profile_id,
        destination,
        cents: payout.amount_cents,
        currency: payout.currency.clone(),
        source_payment: None,
    };
    let answer = state
        .provider
        .find_payout(request)
        .await
        .unwrap_or_else(|| Err(Declined("the withdrawal never reached the payment provider".into())));
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
        .filter(payout::Column::ProviderRef.is_null())
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
