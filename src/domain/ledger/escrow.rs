//! A contract's escrow: the one rule for whether it covers an amount (release, dispute hold,
//! activation), and the refund of what it holds when the contract ends (cancel or complete).
use entity::{
    contract as contract_db,
    ledger_account::{self, AccountKind},
    ledger_transaction::TransactionKind,
    organization_member::{self, OrgRole},
    outcome::{self, OutcomeStatus},
};
use sea_orm::{ColumnTrait, ConnectionTrait, EntityTrait, QueryFilter, QuerySelect};
use uuid::Uuid;

use super::{Entry, Posting, account, payer_of, post};
use crate::{
    domain::{Action, UnitOfWork, money::Money},
    error::{AppError, AppResult},
    state::AppState,
};

/// Locks a contract's escrow (the contract row locked by the caller) and requires it to hold
/// `needed`: CONFLICT naming what the money was for otherwise. Every movement out of escrow
/// asks here first.
pub(crate) async fn require_covers(
    work: &UnitOfWork<'_>,
    contract: &contract_db::Model,
    needed: &Money,
    purpose: &str,
) -> AppResult<ledger_account::Model> {
    let escrow = account(work, AccountKind::Escrow, contract.id, &contract.currency, true).await?;
    if escrow.balance_cents < needed.cents() {
        return Err(AppError::conflict(format!(
            "escrow holds {} of the {} {purpose}; fund the contract first",
            escrow.balance_cents,
            needed.cents()
        )));
    }
    Ok(escrow)
}

/// Why escrow is being emptied.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Ending {
    /// The client cancelled the contract.
    Cancelled,
    /// The contract's last outcome was accepted: what it did not spend goes back.
    Completed,
}

/// Refunds everything a contract's escrow still holds to the client (inside the unit of work
/// that ends the contract, the contract row locked), records it on the contract's feed and
/// notifies the client side's managers. Money held by open disputes is not escrow and stays.
pub(crate) async fn refund_rest(
    work: &mut UnitOfWork<'_>,
    state: &AppState,
    contract: &contract_db::Model,
    ending: Ending,
) -> AppResult<i64> {
    let escrow = account(work, AccountKind::Escrow, contract.id, &contract.currency, true).await?;
    if escrow.balance_cents <= 0 {
        return Ok(0);
    }
    let rest = Money::of(escrow.balance_cents, &contract.currency, "escrow")?;
    let source = account(work, AccountKind::ClientFunding, payer_of(contract), &contract.currency, false).await?;
    let memo = match ending {
        Ending::Cancelled => "unreleased escrow refunded",
        Ending::Completed => "unspent escrow refunded at completion",
    };
    let mut posting = Posting::new(TransactionKind::Refund, &contract.currency, memo);
    posting.contract = Some(contract.id);
    posting.actor = work.actor_profile_id();
    posting.entries = Entry::transfer(&escrow, &source, &rest);
    let transaction = post(work.txn(), state.clock.now(), posting).await?;
    super::refund::queue(work, contract, transaction.id, rest.cents()).await?;
    let mut record = super::money_activity(Action::ContractRefunded, contract, transaction.id, &rest);
    if let Some(after) = record.after.as_mut().and_then(|a| a.as_object_mut()) {
        let reason = if ending == Ending::Completed { "completed" } else { "cancelled" };
        after.insert("reason".into(), reason.into());
    }
    let managers = client_managers(work.txn(), contract).await?;
    work.record_notifying(record, managers).await?;
    Ok(rest.cents())
}

/// The profiles that manage a contract's money now: the creator of a personal contract, or
/// the organization's current owners and admins.
pub(crate) async fn client_managers(db: &impl ConnectionTrait, contract: &contract_db::Model) -> AppResult<Vec<Uuid>> {
    let Some(org) = contract.organization_id else { return Ok(vec![contract.client_profile_id]) };
    Ok(organization_member::Entity::find()
        .select_only()
        .column(organization_member::Column::ProfileId)
        .filter(organization_member::Column::OrganizationId.eq(org))
        .filter(organization_member::Column::Role.is_in([OrgRole::Owner, OrgRole::Admin]))
        .into_tuple()
        .all(db)
        .await?)
}

/// What escrow still owes the contract's live outcomes: the amounts of outcomes neither
/// accepted nor disputed, less what escrow holds (0 or more).
pub async fn uncovered_cents(db: &impl ConnectionTrait, contract: &contract_db::Model) -> AppResult<i64> {
    let owed = unreleased_commitments(db, contract.id).await?;
    let escrow = super::balance(db, AccountKind::Escrow, contract.id, &contract.currency).await?;
    Ok(owed.saturating_sub(escrow).max(0))
}

/// The amounts of a contract's outcomes that escrow must still cover.
pub async fn unreleased_commitments(db: &impl ConnectionTrait, contract_id: Uuid) -> AppResult<i64> {
    let amounts: Vec<i64> = outcome::Entity::find()
        .select_only()
        .column(outcome::Column::AmountCents)
        .filter(outcome::Column::ContractId.eq(contract_id))
        .filter(outcome::Column::Status.ne(OutcomeStatus::Accepted))
        .filter(
            outcome::Column::Id.not_in_subquery(
                sea_orm::sea_query::Query::select()
                    .column(entity::dispute::Column::OutcomeId)
                    .from(entity::dispute::Entity)
                    .to_owned(),
            ),
        )
        .into_tuple()
        .all(db)
        .await?;
    crate::domain::money::checked_sum(amounts, "amountCents")
}
