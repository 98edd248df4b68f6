//! Reading money: a payee's balances, payouts and earnings; a contract's escrow figures. Only
//! the owner sees their money; the client side sees its contracts' escrow.
use std::collections::{BTreeMap, HashMap};

use entity::{
    ledger_account::{self, AccountKind},
    ledger_line,
    ledger_transaction::{self, TransactionKind},
    payout::{self, PayoutKind},
};
use sea_orm::{
    ColumnTrait, ConnectionTrait, EntityTrait, QueryFilter, QuerySelect,
    sea_query::{Alias, Expr, ExprTrait, Func, JoinType, Query},
};
use uuid::Uuid;

use crate::{
    auth::{AgentScope, Viewer},
    domain::{
        contract::Access,
        page::{Cursor, Direction, Page, PageRequest, keyset},
    },
    error::{AppError, AppResult},
};

/// What a contract's escrow has seen, in its currency.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct ContractTotals {
    /// Paid in by the client.
    pub funded: i64,
    /// Paid out to workers and fees (acceptances and dispute releases).
    pub released: i64,
    /// Paid back to the client (cancellations and dispute refunds).
    pub refunded: i64,
    /// Held by open disputes.
    pub held: i64,
    /// Platform fees taken from released money.
    pub fees: i64,
    /// What escrow holds now.
    pub remaining: i64,
    /// Fundings the provider has not settled yet (not in escrow).
    pub pending: i64,
}

/// Totals of many contracts in one statement.
pub async fn contract_totals(
    db: &impl ConnectionTrait,
    contract_ids: &[Uuid],
) -> AppResult<HashMap<Uuid, ContractTotals>> {
    if contract_ids.is_empty() {
        return Ok(HashMap::new());
    }
    let (t, l, a) = (Alias::new("t"), Alias::new("l"), Alias::new("a"));
    let query = Query::select()
        .expr_as(Expr::col((t.clone(), ledger_transaction::Column::ContractId)), Alias::new("contract_id"))
        .expr_as(Expr::col((t.clone(), ledger_transaction::Column::Kind)), Alias::new("txn_kind"))
        .expr_as(Expr::col((a.clone(), ledger_account::Column::Kind)), Alias::new("account_kind"))
        .expr_as(Func::sum(Expr::col((l.clone(), ledger_line::Column::AmountCents))), Alias::new("cents"))
        .from_as(ledger_line::Entity, l.clone())
        .join_as(
            JoinType::InnerJoin,
            ledger_transaction::Entity,
            t.clone(),
            Expr::col((t.clone(), ledger_transaction::Column::Id))
                .equals((l.clone(), ledger_line::Column::TransactionId)),
        )
        .join_as(
            JoinType::InnerJoin,
            ledger_account::Entity,
            a.clone(),
            Expr::col((a.clone(), ledger_account::Column::Id)).equals((l.clone(), ledger_line::Column::AccountId)),
        )
        .and_where(Expr::col((t.clone(), ledger_transaction::Column::ContractId)).is_in(contract_ids.iter().copied()))
        .group_by_col((t.clone(), ledger_transaction::Column::ContractId))
        .group_by_col((t, ledger_transaction::Column::Kind))
        .group_by_col((a, ledger_account::Column::Kind))
        .to_owned();
    let rows = db.query_all(&query).await?;
    let mut totals: HashMap<Uuid, ContractTotals> = HashMap::new();
    for row in rows {
        let contract: Uuid = row.try_get("", "contract_id")?;
        let txn_kind: String = row.try_get("", "txn_kind")?;
        let account_kind: String = row.try_get("", "account_kind")?;
        // SUM of BIGINT is NUMERIC on PostgreSQL and INTEGER on SQLite.
        let cents: i64 = row.try_get::<i64>("", "cents").or_else(|_| {
            row.try_get::<sea_orm::prelude::Decimal>("", "cents").map(|d| i64::try_from(d).unwrap_or(0))
        })?;
        let entry = totals.entry(contract).or_default();
        add_line(entry, &txn_kind, &account_kind, cents);
    }
    // Fundings still on their way: a second statement for the whole page.
    let pending = entity::funding::Entity::find()
        .filter(entity::funding::Column::ContractId.is_in(contract_ids.iter().copied()))
        .filter(entity::funding::Column::Status.eq(entity::funding::FundingStatus::Pending))
        .all(db)
        .await?;
    for f in pending {
        let entry = totals.entry(f.contract_id).or_default();
        entry.pending = entry.pending.saturating_add(f.amount_cents);
    }
    Ok(totals)
}

fn add_line(totals: &mut ContractTotals, txn: &str, account: &str, cents: i64) {
    let is = |k: TransactionKind| crate::domain::wire(k) == txn;
    let on = |k: AccountKind| crate::domain::wire(k) == account;
    if on(AccountKind::Escrow) {
        totals.remaining = totals.remaining.saturating_add(cents);
        if is(TransactionKind::Funding) {
            totals.funded = totals.funded.saturating_add(cents);
        }
        if is(TransactionKind::Release) {
            totals.released = totals.released.saturating_sub(cents);
        }
    }
    if on(AccountKind::DisputeHold) {
        totals.held = totals.held.saturating_add(cents);
    }
    if on(AccountKind::PlatformFees) {
        totals.fees = totals.fees.saturating_add(cents);
    }
    if is(TransactionKind::DisputeResolution) && (on(AccountKind::PayeePending) || on(AccountKind::PlatformFees)) {
        totals.released = totals.released.saturating_add(cents);
    }
    if on(AccountKind::ClientFunding) && (is(TransactionKind::Refund) || is(TransactionKind::DisputeResolution)) {
        totals.refunded = totals.refunded.saturating_add(cents);
    }
}

/// What a contract's escrow holds now (0 before it was ever funded).
pub async fn escrow_balance(db: &impl ConnectionTrait, contract: &entity::contract::Model) -> AppResult<i64> {
    super::balance(db, AccountKind::Escrow, contract.id, &contract.currency).await
}

/// Only the client side sees a contract's escrow.
pub fn require_escrow_access(access: Access) -> AppResult<()> {
    if access.is_client() { Ok(()) } else { Err(AppError::forbidden("only the client side sees a contract's escrow")) }
}

/// A payee's money in one currency.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Balance {
    /// ISO currency.
    pub currency: String,
    /// Earned, still on hold.
    pub pending: i64,
    /// Withdrawable.
    pub available: i64,
    /// Withdrawals on their way.
    pub in_flight: i64,
    /// Withdrawn in all.
    pub paid_out: i64,
}

/// The viewer's balances per currency (people only: an agent's earnings belong to its operator).
pub async fn balances(db: &impl ConnectionTrait, viewer: &Viewer) -> AppResult<Vec<Balance>> {
    let (_, me) = viewer.require_user()?;
    let accounts = ledger_account::Entity::find()
        .filter(ledger_account::Column::OwnerId.eq(me))
        .filter(ledger_account::Column::Kind.is_in([
            AccountKind::PayeePending,
            AccountKind::PayeeAvailable,
            AccountKind::PayoutInFlight,
            AccountKind::PaidOut,
        ]))
        .all(db)
        .await?;
    let mut by_currency: BTreeMap<String, Balance> = BTreeMap::new();
    for a in accounts {
        let line = by_currency
            .entry(a.currency.clone())
            .or_insert_with(|| Balance { currency: a.currency.clone(), ..Default::default() });
        match a.kind {
            AccountKind::PayeePending => line.pending = a.balance_cents,
            AccountKind::PayeeAvailable => line.available = a.balance_cents,
            AccountKind::PayoutInFlight => line.in_flight = a.balance_cents,
            AccountKind::PaidOut => line.paid_out = a.balance_cents,
            _ => {}
        }
    }
    Ok(by_currency.into_values().collect())
}

/// The viewer's payouts (earnings and withdrawals), newest first.
pub async fn payouts(db: &impl ConnectionTrait, viewer: &Viewer, page: PageRequest) -> AppResult<Page<payout::Model>> {
    let (_, me) = viewer.require_user()?;
    let query = payout::Entity::find().filter(payout::Column::ProfileId.eq(me));
    keyset(db, query, (payout::Column::CreatedAt, payout::Column::Id), Direction::Descending, &page, |p| Cursor {
        key: 0,
        at: p.created_at,
        id: p.id,
    })
    .await
}

/// Earnings grouped three ways, each per currency.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Earnings {
    /// By calendar month (`YYYY-MM`, UTC), oldest first.
    pub by_period: Vec<(String, String, i64)>,
    /// By contract.
    pub by_contract: Vec<(Uuid, String, i64)>,
    /// By the profile that did the work: the viewer itself, or one of its agents.
    pub by_worker: Vec<(Uuid, String, i64)>,
}

/// The viewer's net earnings (released to it, fees taken), grouped (people only).
pub async fn earnings(db: &impl ConnectionTrait, viewer: &Viewer) -> AppResult<Earnings> {
    let (_, me) = viewer.require_user()?;
    type Row = (chrono::DateTime<chrono::Utc>, String, i64, Option<Uuid>, Option<Uuid>);
    let rows: Vec<Row> = payout::Entity::find()
        .select_only()
        .column(payout::Column::CreatedAt)
        .column(payout::Column::Currency)
        .column(payout::Column::AmountCents)
        .column(payout::Column::ContractId)
        .column(payout::Column::EarnedByProfileId)
        .filter(payout::Column::ProfileId.eq(me))
        .filter(payout::Column::Kind.eq(PayoutKind::Earning))
        .into_tuple()
        .all(db)
        .await?;
    let mut by_period: BTreeMap<(String, String), i64> = BTreeMap::new();
    let mut by_contract: BTreeMap<(Uuid, String), i64> = BTreeMap::new();
    let mut by_worker: BTreeMap<(Uuid, String), i64> = BTreeMap::new();
    for (at, currency, cents, contract, worker) in rows {
        let add = |total: &mut i64| *total = total.saturating_add(cents);
        add(by_period.entry((at.format("%Y-%m").to_string(), currency.clone())).or_default());
        if let Some(contract) = contract {
            add(by_contract.entry((contract, currency.clone())).or_default());
        }
        add(by_worker.entry((worker.unwrap_or(me), currency)).or_default());
    }
    Ok(Earnings {
        by_period: by_period.into_iter().map(|((p, c), n)| (p, c, n)).collect(),
        by_contract: by_contract.into_iter().map(|((k, c), n)| (k, c, n)).collect(),
        by_worker: by_worker.into_iter().map(|((k, c), n)| (k, c, n)).collect(),
    })
}

/// Net earnings per currency of a worker: an agent token sees what its work earned (paid to
/// its operator), a person what was released to it.
pub async fn earned_per_currency(db: &impl ConnectionTrait, viewer: &Viewer) -> AppResult<Vec<(String, i64)>> {
    let me = viewer.require_profile(AgentScope::TasksRead)?;
    let column = if matches!(viewer, Viewer::Agent { .. }) {
        payout::Column::EarnedByProfileId
    } else {
        payout::Column::ProfileId
    };
    let rows: Vec<(String, i64)> = payout::Entity::find()
        .select_only()
        .column(payout::Column::Currency)
        .column(payout::Column::AmountCents)
        .filter(column.eq(me))
        .filter(payout::Column::Kind.eq(PayoutKind::Earning))
        .into_tuple()
        .all(db)
        .await?;
    Ok(super::per_currency(rows).into_iter().collect())
}
