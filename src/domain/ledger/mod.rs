//! Money follows outcomes: a double-entry ledger. Every movement is one transaction whose lines
//! sum to zero per currency; accounts are the client's funding source, each contract's escrow,
//! each dispute's hold, each payee's pending, available, in-flight and paid-out money, and the
//! platform's fees. The ledger is append-only: a correction is a new transaction.
//!
//! - `funding`: money in (`fundContract`);
//! - `escrow`: the one sufficiency rule, and the refund of what is left when a contract ends;
//! - `release`: escrow to payees and fees when an outcome is accepted;
//! - `payout`: earnings leave their hold; withdrawals go out through the provider;
//! - `payout_account`: the payee's connected account at the provider, and whether it is ready;
//! - `refund`: money going back to the client's payments at the provider, queued and sent;
//! - `reconcile`: the provider's objects compared with the ledger (`semasocial reconcile`);
//! - `dispute`: holds and their resolution; `arbiter`: who may decide them;
//! - `idempotency`: replays of money-moving requests return the first result;
//! - `check`: the invariants `semasocial ledger-check` verifies;
//! - `reading`: balances, payouts, earnings and escrow figures;
//! - `provider`: the payment provider trait, the simulated provider and Stripe;
//! - `webhook`: the provider's signed events in.
//!
//! Lock order: a contract row, then an outcome row, then accounts. Nothing here calls the
//! task or outcome modules; outcome acceptance and contract cancellation call in.
pub mod arbiter;
pub mod check;
pub mod dispute;
pub mod escrow;
pub mod funding;
pub mod idempotency;
pub mod payout;
pub mod payout_account;
pub mod provider;
pub mod reading;
pub mod reconcile;
pub mod refund;
pub mod release;
pub mod webhook;

use std::collections::BTreeMap;

use entity::{
    contract,
    ledger_account::{self, AccountKind},
    ledger_line, ledger_transaction,
    ledger_transaction::TransactionKind,
};
use sea_orm::{
    ActiveModelTrait, ColumnTrait, ConnectionTrait, EntityTrait, QueryFilter, QuerySelect, Set, sea_query::OnConflict,
};
use uuid::Uuid;

use crate::{
    domain::{UnitOfWork, money::Money},
    error::{AppError, AppResult},
};

/// The owner of the platform's own accounts.
pub const PLATFORM: Uuid = Uuid::nil();

/// Who pays for a contract: its organization, or the person who created it.
pub fn payer_of(contract: &contract::Model) -> Uuid {
    contract.organization_id.unwrap_or(contract.client_profile_id)
}

/// The account of `kind` owned by `owner` in `currency`, opened on first use (at the unit of
/// work's clock time). With `lock` the row is locked for the rest of the transaction (take
/// locks in the order of this module).
pub(crate) async fn account(
    work: &UnitOfWork<'_>,
    kind: AccountKind,
    owner: Uuid,
    currency: &str,
    lock: bool,
) -> AppResult<ledger_account::Model> {
    let db = work.txn();
    let find = || {
        ledger_account::Entity::find()
            .filter(ledger_account::Column::Kind.eq(kind))
            .filter(ledger_account::Column::OwnerId.eq(owner))
            .filter(ledger_account::Column::Currency.eq(currency))
    };
    let existing = if lock { find().lock_exclusive().one(db).await? } else { find().one(db).await? };
    if let Some(account) = existing {
        return Ok(account);
    }
    ledger_account::Entity::insert(ledger_account::ActiveModel {
        id: Set(Uuid::new_v4()),
        kind: Set(kind),
        owner_id: Set(owner),
        currency: Set(currency.to_owned()),
        balance_cents: Set(0),
        // Only the outside world's side of funding runs negative.
        may_go_negative: Set(kind == AccountKind::ClientFunding),
        created_at: Set(work.now()),
    })
    .on_conflict(
        OnConflict::columns([
            ledger_account::Column::Kind,
            ledger_account::Column::OwnerId,
            ledger_account::Column::Currency,
        ])
        .do_nothing()
        .to_owned(),
    )
    .exec_without_returning(db)
    .await?;
    let created = if lock { find().lock_exclusive().one(db).await? } else { find().one(db).await? };
    created.ok_or_else(|| AppError::Internal(anyhow::anyhow!("ledger account {kind:?} of {owner} was not opened")))
}

/// The balance of an account that may not exist yet (0 then).
pub(crate) async fn balance(
    db: &impl ConnectionTrait,
    kind: AccountKind,
    owner: Uuid,
    currency: &str,
) -> AppResult<i64> {
    let balance: Option<i64> = ledger_account::Entity::find()
        .select_only()
        .column(ledger_account::Column::BalanceCents)
        .filter(ledger_account::Column::Kind.eq(kind))
        .filter(ledger_account::Column::OwnerId.eq(owner))
        .filter(ledger_account::Column::Currency.eq(currency))
        .into_tuple()
        .one(db)
        .await?;
    Ok(balance.unwrap_or(0))
}

/// Which way a line moves money.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Side {
    /// Money leaves the account.
    Out,
    /// Money enters the account.
    In,
}

/// One line to post: an amount of `Money` into or out of an account.
#[derive(Clone, Debug)]
pub(crate) struct Entry {
    pub account: Uuid,
    pub side: Side,
    pub amount: Money,
    /// On a release: the profile that did the work.
    pub earned_by: Option<Uuid>,
    /// On a release: the task paid for.
    pub task: Option<Uuid>,
}

impl Entry {
    /// The two lines moving `amount` from one account to another.
    pub fn transfer(from: &ledger_account::Model, to: &ledger_account::Model, amount: &Money) -> Vec<Self> {
        vec![Self::new(from, Side::Out, amount), Self::new(to, Side::In, amount)]
    }

    /// A plain line.
    pub fn new(account: &ledger_account::Model, side: Side, amount: &Money) -> Self {
        Self { account: account.id, side, amount: amount.clone(), earned_by: None, task: None }
    }

    /// The line's signed amount as stored (out negative, in positive).
    fn signed_cents(&self) -> i64 {
        match self.side {
            Side::In => self.amount.cents(),
            Side::Out => self.amount.cents().saturating_neg(),
        }
    }
}

/// A transaction to post: what moved the money, what it concerns, its lines.
#[derive(Clone, Debug)]
pub(crate) struct Posting {
    pub kind: TransactionKind,
    pub currency: String,
    pub contract: Option<Uuid>,
    pub outcome: Option<Uuid>,
    pub payout: Option<Uuid>,
    pub dispute: Option<Uuid>,
    pub actor: Option<Uuid>,
    pub provider_ref: Option<String>,
    pub memo: String,
    pub entries: Vec<Entry>,
}

impl Posting {
    /// A posting of `kind` in `currency` with no lines yet.
    pub fn new(kind: TransactionKind, currency: &str, memo: impl Into<String>) -> Self {
        Self {
            kind,
            currency: currency.to_owned(),
            contract: None,
            outcome: None,
            payout: None,
            dispute: None,
            actor: None,
            provider_ref: None,
            memo: memo.into(),
            entries: Vec::new(),
        }
    }
}

/// Writes a transaction and its lines, then seals it. Lines of zero are left out. A posting
/// that does not balance, or mixes currencies, is a bug (INTERNAL); a balance the database
/// refuses to take below zero is a CONFLICT (the caller's check ran under a lock, so this is
/// the backstop).
pub(crate) async fn post(
    db: &impl ConnectionTrait,
    now: chrono::DateTime<chrono::Utc>,
    posting: Posting,
) -> AppResult<ledger_transaction::Model> {
    let entries: Vec<Entry> = posting.entries.iter().filter(|e| e.amount.cents() != 0).cloned().collect();
    let total = entries.iter().try_fold(0i64, |sum, e| sum.checked_add(e.signed_cents()));
    let one_currency = entries.iter().all(|e| e.amount.currency() == posting.currency);
    if total != Some(0) || entries.is_empty() || !one_currency {
        return Err(AppError::Internal(anyhow::anyhow!("unbalanced ledger posting: {posting:?}")));
    }
    let transaction = ledger_transaction::ActiveModel {
        id: Set(Uuid::new_v4()),
        kind: Set(posting.kind),
        contract_id: Set(posting.contract),
        outcome_id: Set(posting.outcome),
        payout_id: Set(posting.payout),
        dispute_id: Set(posting.dispute),
        actor_profile_id: Set(posting.actor),
        provider_ref: Set(posting.provider_ref.clone()),
        memo: Set(posting.memo.clone()),
        sealed: Set(false),
        created_at: Set(now),
    }
    .insert(db)
    .await?;
    let lines = entries.iter().map(|e| ledger_line::ActiveModel {
        transaction_id: Set(transaction.id),
        account_id: Set(e.account),
        currency: Set(posting.currency.clone()),
        amount_cents: Set(e.signed_cents()),
        earned_by_profile_id: Set(e.earned_by),
        task_id: Set(e.task),
        created_at: Set(now),
        ..Default::default()
    });
    ledger_line::Entity::insert_many(lines).exec_without_returning(db).await.map_err(refused)?;
    let mut sealed: ledger_transaction::ActiveModel = transaction.into();
    sealed.sealed = Set(true);
    sealed.update(db).await.map_err(refused)
}

/// A database refusal of a posting (a balance below zero, an unbalanced transaction).
fn refused(err: sea_orm::DbErr) -> AppError {
    let text = err.to_string();
    if text.contains("ck_ledger_accounts_not_negative") || text.contains("CHECK constraint failed") {
        AppError::conflict("the ledger refused the movement: a balance would go below zero")
    } else {
        AppError::from(err)
    }
}

/// Sums amounts per currency (a small helper for reading models).
pub(crate) fn per_currency(rows: impl IntoIterator<Item = (String, i64)>) -> BTreeMap<String, i64> {
    let mut totals: BTreeMap<String, i64> = BTreeMap::new();
    for (currency, cents) in rows {
        let total = totals.entry(currency).or_default();
        *total = total.saturating_add(cents);
    }
    totals
}

/// A money movement on a contract's activity feed.
pub(crate) fn money_activity(
    action: crate::domain::Action,
    contract: &contract::Model,
    transaction: Uuid,
    amount: &Money,
) -> crate::domain::NewActivity {
    crate::domain::NewActivity {
        topic: crate::domain::contract::topic(contract.id),
        action,
        subject_type: "contract",
        subject_id: contract.id,
        before: None,
        after: Some(serde_json::json!({
            "transactionId": transaction,
            "amountCents": amount.cents(),
            "currency": amount.currency(),
            "clientProfileId": contract.client_profile_id,
        })),
    }
}
