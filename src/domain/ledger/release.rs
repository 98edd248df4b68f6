//! Release: when the client accepts an outcome its amount leaves escrow in the same database
//! transaction, split exactly across the accepted tasks by weight (`money::task_shares`); the
//! platform fee is taken from each share; an agent's share is credited to its operator and
//! recorded as earned by the agent. Each share becomes a PENDING payout.
use std::collections::HashMap;

use entity::{
    contract as contract_db,
    ledger_account::{self, AccountKind},
    ledger_transaction::{self, TransactionKind},
    outcome,
    payout::{self, PayoutKind, PayoutStatus},
    profile::{self, ProfileKind},
    task::{self, TaskStatus},
};
use sea_orm::{ActiveModelTrait, ColumnTrait, ConnectionTrait, EntityTrait, QueryFilter, Set};
use serde_json::json;
use uuid::Uuid;

use super::{Entry, Posting, Side, account, payout::payout_activity, post};
use crate::{
    domain::{
        Action, UnitOfWork,
        money::{self, Money},
    },
    error::{AppError, AppResult},
    state::AppState,
};

/// What a release paid.
#[derive(Debug)]
pub struct Released {
    /// The ledger transaction.
    pub transaction: ledger_transaction::Model,
    /// One PENDING payout per paid task.
    pub payouts: Vec<payout::Model>,
}

/// Releases an accepted outcome's amount from escrow (the contract, the outcome's `tasks` and the
/// outcome locked by the caller). Refuses while a task of the outcome is unfinished.
pub(crate) async fn release_outcome(
    work: &mut UnitOfWork<'_>,
    state: &AppState,
    contract: &contract_db::Model,
    outcome: &outcome::Model,
    tasks: &[task::Model],
) -> AppResult<Released> {
    if let Some(open) = tasks.iter().find(|t| !matches!(t.status, TaskStatus::Accepted | TaskStatus::Cancelled)) {
        return Err(AppError::conflict(format!(
            "task \"{}\" is {}; every task must be accepted before the outcome is paid",
            open.title,
            crate::domain::wire(open.status)
        )));
    }
    let amount = Money::of(outcome.amount_cents, &contract.currency, "amountCents")?;
    let escrow = super::escrow::require_covers(work, contract, &amount, "this outcome pays").await?;
    let paid: Vec<task::Model> = tasks.iter().filter(|t| t.status == TaskStatus::Accepted).cloned().collect();
    let mut parts = Vec::with_capacity(paid.len());
    for (task_id, cents) in money::task_shares(amount.cents(), &paid) {
        let task = paid.iter().find(|t| t.id == task_id).ok_or(AppError::NotFound("task"))?;
        let worker = task
            .assignee_profile_id
            .ok_or_else(|| AppError::conflict(format!("task \"{}\" has nobody to pay", task.title)))?;
        parts.push(Part { task_id, worker, cents });
    }
    pay(work, state, contract, outcome, &escrow, &amount, &parts, TransactionKind::Release, None).await
}

/// One worker's gross part of a payment: the task it did, and its exact cents.
#[derive(Clone, Copy, Debug)]
pub(crate) struct Part {
    /// The task paid for.
    pub task_id: Uuid,
    /// Who did it (a person, or an agent whose operator is paid).
    pub worker: Uuid,
    /// The gross part (the parts add up to the amount paid).
    pub cents: i64,
}

/// Pays `amount` out of `source` in the given `parts`, fee taken from each, as one transaction
/// of `kind` with a PENDING payout per part (shared by acceptance and dispute releases).
#[allow(clippy::too_many_arguments)]
pub(crate) async fn pay(
    work: &mut UnitOfWork<'_>,
    state: &AppState,
    contract: &contract_db::Model,
    outcome: &outcome::Model,
    source: &ledger_account::Model,
    amount: &Money,
    parts: &[Part],
    kind: TransactionKind,
    dispute: Option<Uuid>,
) -> AppResult<Released> {
    let cents = amount.cents();
    let currency = amount.currency();
    let gross: Vec<i64> = parts.iter().map(|p| p.cents).collect();
    if gross.iter().map(|c| i128::from(*c)).sum::<i128>() != i128::from(cents) {
        return Err(AppError::Internal(anyhow::anyhow!("the parts of a payment do not add up to it")));
    }
    let fee_total = Money::of(money::fee(cents, state.config.payments.fee_bps), currency, "feeCents")?;
    let fees = money::split(fee_total.cents(), &gross);
    let workers: Vec<Uuid> = parts.iter().map(|p| p.worker).collect();
    let payees = payees(work.txn(), &workers).await?;
    let fee_account = account(work, AccountKind::PlatformFees, super::PLATFORM, &contract.currency, false).await?;
    let now = state.clock.now();
    let available_at = chrono::Duration::from_std(state.config.payments.payout_hold)
        .ok()
        .and_then(|hold| now.checked_add_signed(hold))
        .unwrap_or(now);

    let mut posting = Posting::new(kind, &contract.currency, format!("outcome \"{}\" released", outcome.title));
    posting.contract = Some(contract.id);
    posting.outcome = Some(outcome.id);
    posting.dispute = dispute;
    posting.actor = work.actor_profile_id();
    posting.entries.push(Entry::new(source, Side::Out, amount));
    posting.entries.push(Entry::new(&fee_account, Side::In, &fee_total));
    let mut payouts = Vec::new();
    for (part, fee) in parts.iter().zip(&fees) {
        let (task_id, worker, share) = (part.task_id, part.worker, part.cents);
        let net = share.saturating_sub(*fee);
        let payee = payees
            .get(&worker)
            .copied()
            .ok_or_else(|| AppError::conflict("the agent that did a task of this outcome has no operator to pay"))?;
        if net <= 0 && share <= 0 {
            continue;
        }
        let pending = account(work, AccountKind::PayeePending, payee, &contract.currency, false).await?;
        posting.entries.push(Entry {
            account: pending.id,
            side: Side::In,
            amount: Money::of(net, currency, "amountCents")?,
            earned_by: Some(worker),
            task: Some(task_id),
        });
        payouts.push(payout::ActiveModel {
            id: Set(Uuid::new_v4()),
            profile_id: Set(payee),
            kind: Set(PayoutKind::Earning),
            status: Set(PayoutStatus::Pending),
            currency: Set(contract.currency.clone()),
            amount_cents: Set(net),
            fee_cents: Set(*fee),
            contract_id: Set(Some(contract.id)),
            outcome_id: Set(Some(outcome.id)),
            task_id: Set(Some(task_id)),
            earned_by_profile_id: Set(Some(worker)),
            available_at: Set(Some(available_at)),
            failure_reason: Set(None),
            provider_ref: Set(None),
            created_at: Set(now),
            updated_at: Set(now),
        });
    }
    let transaction = post(work.txn(), now, posting).await?;
    let mut written = Vec::with_capacity(payouts.len());
    for row in payouts {
        let payout = row.insert(work.txn()).await?;
        work.record(payout_activity(Action::PayoutPending, &payout)).await?;
        written.push(payout);
    }
    let mut released = super::money_activity(Action::OutcomeReleased, contract, transaction.id, amount);
    if let Some(after) = released.after.as_mut().and_then(|a| a.as_object_mut()) {
        after.insert("outcomeId".into(), json!(outcome.id));
        after.insert("feeCents".into(), json!(fee_total.cents()));
    }
    work.record(released).await?;
    Ok(Released { transaction, payouts: written })
}

/// Who is paid for each worker: a person is paid itself; an agent's operator's person profile.
async fn payees(db: &impl ConnectionTrait, workers: &[Uuid]) -> AppResult<HashMap<Uuid, Uuid>> {
    let profiles = profile::Entity::find().filter(profile::Column::Id.is_in(workers.iter().copied())).all(db).await?;
    let operators: Vec<Uuid> = profiles.iter().filter_map(|p| p.operator_user_id).collect();
    let people: HashMap<Uuid, Uuid> = profile::Entity::find()
        .filter(profile::Column::UserId.is_in(operators))
        .filter(profile::Column::Kind.eq(ProfileKind::Human))
        .all(db)
        .await?
        .into_iter()
        .filter_map(|p| p.user_id.map(|u| (u, p.id)))
        .collect();
    Ok(profiles
        .into_iter()
        .filter_map(|p| match p.kind {
            ProfileKind::Human => Some((p.id, p.id)),
            ProfileKind::Agent => p.operator_user_id.and_then(|u| people.get(&u)).map(|person| (p.id, *person)),
        })
        .collect())
}
