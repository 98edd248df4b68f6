//! The ledger's invariants, as `semasocial ledger-check` and every money test verify them:
//! every transaction balances per currency and is sealed; no account that must not go negative
//! is negative; every balance equals the sum of its lines; no contract released or refunded
//! more than it was funded; pending and in-flight balances match their payouts; a completed or
//! cancelled contract's escrow is empty.
use std::collections::HashMap;

use entity::{
    contract::{self, ContractStatus},
    ledger_account::{self, AccountKind},
    ledger_line, ledger_transaction,
    payout::{self, PayoutKind, PayoutStatus},
};
use sea_orm::{ColumnTrait, ConnectionTrait, EntityTrait, QueryFilter};
use uuid::Uuid;

use crate::error::AppResult;

/// Every violation found, in words (empty when the ledger is sound).
pub async fn run(db: &impl ConnectionTrait) -> AppResult<Vec<String>> {
    let mut violations = Vec::new();
    let accounts = ledger_account::Entity::find().all(db).await?;
    let transactions = ledger_transaction::Entity::find().all(db).await?;
    let lines = ledger_line::Entity::find().all(db).await?;

    let mut per_txn: HashMap<(Uuid, &str), i64> = HashMap::new();
    let mut per_account: HashMap<Uuid, i64> = HashMap::new();
    for line in &lines {
        let sum = per_txn.entry((line.transaction_id, line.currency.as_str())).or_default();
        *sum = sum.saturating_add(line.amount_cents);
        let balance = per_account.entry(line.account_id).or_default();
        *balance = balance.saturating_add(line.amount_cents);
    }
    for ((txn, currency), sum) in &per_txn {
        if *sum != 0 {
            violations.push(format!("transaction {txn} does not balance in {currency}: lines sum to {sum}"));
        }
    }
    for txn in transactions.iter().filter(|t| !t.sealed) {
        violations.push(format!("transaction {} was never sealed", txn.id));
    }
    for a in &accounts {
        if !a.may_go_negative && a.balance_cents < 0 {
            violations
                .push(format!("{:?} account {} of {} is negative: {}", a.kind, a.id, a.owner_id, a.balance_cents));
        }
        let sum = per_account.get(&a.id).copied().unwrap_or(0);
        if sum != a.balance_cents {
            violations.push(format!("account {} holds {} but its lines sum to {sum}", a.id, a.balance_cents));
        }
    }

    let contracts: Vec<Uuid> = {
        let mut ids: Vec<Uuid> = transactions.iter().filter_map(|t| t.contract_id).collect();
        ids.sort_unstable();
        ids.dedup();
        ids
    };
    for (contract, totals) in super::reading::contract_totals(db, &contracts).await? {
        let out = totals.released.saturating_add(totals.refunded);
        if out > totals.funded {
            violations.push(format!(
                "contract {contract} released {} and refunded {} of {} funded",
                totals.released, totals.refunded, totals.funded
            ));
        }
    }

    let payouts = payout::Entity::find()
        .filter(payout::Column::Status.is_in([PayoutStatus::Pending, PayoutStatus::Processing]))
        .all(db)
        .await?;
    let mut owed: HashMap<(AccountKind, Uuid, String), i64> = HashMap::new();
    for p in payouts {
        let kind = match (p.kind, p.status) {
            (PayoutKind::Earning, PayoutStatus::Pending) => AccountKind::PayeePending,
            (PayoutKind::Withdrawal, PayoutStatus::Processing) => AccountKind::PayoutInFlight,
            _ => continue,
        };
        let sum = owed.entry((kind, p.profile_id, p.currency)).or_default();
        *sum = sum.saturating_add(p.amount_cents);
    }
    for a in accounts.iter().filter(|a| matches!(a.kind, AccountKind::PayeePending | AccountKind::PayoutInFlight)) {
        let expected = owed.remove(&(a.kind, a.owner_id, a.currency.clone())).unwrap_or(0);
        if expected != a.balance_cents {
            violations.push(format!(
                "{:?} of {} holds {} {} but its payouts add up to {expected}",
                a.kind, a.owner_id, a.balance_cents, a.currency
            ));
        }
    }
    for ((kind, owner, currency), cents) in owed {
        violations.push(format!("{kind:?} payouts of {owner} add up to {cents} {currency} with no account"));
    }

    // A contract that has ended holds no escrow (completion and cancellation refund it).
    let ended: std::collections::HashSet<Uuid> = contract::Entity::find()
        .filter(contract::Column::Status.is_in([ContractStatus::Completed, ContractStatus::Cancelled]))
        .all(db)
        .await?
        .into_iter()
        .map(|c| c.id)
        .collect();
    for a in accounts.iter().filter(|a| a.kind == AccountKind::Escrow && a.balance_cents != 0) {
        if ended.contains(&a.owner_id) {
            violations.push(format!(
                "contract {} has ended but its escrow holds {} {}",
                a.owner_id, a.balance_cents, a.currency
            ));
        }
    }
    Ok(violations)
}
