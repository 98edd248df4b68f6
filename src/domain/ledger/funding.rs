//! Money in: `fundContract` charges the client through the provider into the contract's
//! escrow (what goes back when a contract ends is `escrow::refund_rest`).
use entity::{
    contract::{self as contract_db, ContractStatus},
    ledger_account::AccountKind,
    ledger_transaction::TransactionKind,
};
use sea_orm::ConnectionTrait;
use serde_json::json;
use uuid::Uuid;

use super::{Entry, Posting, account, idempotency, payer_of, post};
use crate::{
    auth::Viewer,
    domain::{
        Action, NewActivity, UnitOfWork,
        contract::{self, Access},
        money::Money,
        wire,
    },
    error::{AppError, AppResult},
    state::AppState,
};

/// Input of `fundContract`.
pub struct FundInput {
    /// The contract.
    pub contract_id: Uuid,
    /// Amount in minor units of the contract's currency.
    pub amount_cents: i64,
    /// The client's key for this request.
    pub idempotency_key: String,
}

/// What a funding did (or, replayed, what the first request did).
pub struct Funded {
    /// The ledger transaction that moved the money.
    pub transaction_id: Uuid,
    /// The amount moved.
    pub money: Money,
    /// The contract after funding, with the funder's access.
    pub contract: contract_db::Model,
    /// The funder's access.
    pub access: Access,
    /// True when this answers a replay of an earlier request.
    pub replayed: bool,
}

/// `fundContract`: the client side's owners and admins move money from the payment provider
/// into the contract's escrow. Escrow never holds more than the budget. The provider is
/// charged under the contract's lock, so funding and cancellation never interleave; a charge
/// whose booking does not commit is voided.
pub async fn fund_contract(state: &AppState, viewer: &Viewer, input: FundInput) -> AppResult<Funded> {
    let (_, me) = viewer.require_user()?;
    let key = idempotency::validate(&input.idempotency_key)?;
    let mut work = UnitOfWork::begin(state, viewer).await?;
    let contract = contract::lock(work.txn(), input.contract_id).await?;
    let access = contract::require_manager(work.txn(), viewer, &contract).await?;
    // The key is the paying account's: every admin of an organization shares its keys.
    let payer = payer_of(&contract);
    let request = json!({ "contractId": contract.id, "amountCents": input.amount_cents });
    if let idempotency::Claim::Replay(first) =
        idempotency::claim(work.txn(), state, payer, &key, "fundContract", &request).await?
    {
        let transaction_id = idempotency::replayed_id(&first, "transactionId")?;
        let money = Money::of(first["amountCents"].as_i64().unwrap_or(0), &contract.currency, "amountCents")?;
        return Ok(Funded { transaction_id, money, contract, access, replayed: true });
    }
    if !matches!(contract.status, ContractStatus::Draft | ContractStatus::Open | ContractStatus::Active) {
        return Err(AppError::conflict(format!("a {} contract takes no funding", wire(contract.status))));
    }
    let money = Money::positive(input.amount_cents, &contract.currency, "amountCents")?;
    let escrow = account(&work, AccountKind::Escrow, contract.id, &contract.currency, true).await?;
    let funded_net = funded_net(work.txn(), contract.id).await?;
    let after = funded_net.checked_add(money.cents()).unwrap_or(i64::MAX);
    if after > contract.budget_cents {
        return Err(AppError::bad_input(
            "amountCents",
            format!("escrow would have received {after} of a {} budget", contract.budget_cents),
        ));
    }
    let charge_key = format!("fund:{}:{payer}:{key}", contract.id);
    let reference =
        state.provider.charge(&charge_key, payer, money.cents(), money.currency()).await.map_err(|declined| {
            AppError::conflict(format!("the payment provider declined the charge: {}", declined.0))
        })?;
    let source = account(&work, AccountKind::ClientFunding, payer, &contract.currency, false).await?;
    let now = state.clock.now();
    let mut posting = Posting::new(TransactionKind::Funding, &contract.currency, "contract funded");
    posting.contract = Some(contract.id);
    posting.actor = Some(me);
    posting.provider_ref = Some(reference.clone());
    posting.entries = Entry::transfer(&source, &escrow, &money);
    let transaction = post(work.txn(), now, posting).await?;
    work.record(money_activity(Action::ContractFunded, &contract, transaction.id, &money)).await?;
    idempotency::finish(
        work.txn(),
        payer,
        &key,
        json!({ "transactionId": transaction.id, "amountCents": money.cents() }),
    )
    .await?;
    if let Err(error) = work.commit().await {
        state.provider.void(&reference).await;
        return Err(error);
    }
    Ok(Funded { transaction_id: transaction.id, money, contract, access, replayed: false })
}

/// Money a contract's escrow has received, less refunds.
async fn funded_net(db: &impl ConnectionTrait, contract_id: Uuid) -> AppResult<i64> {
    let totals = super::reading::contract_totals(db, &[contract_id]).await?;
    Ok(totals.get(&contract_id).map_or(0, |t| t.funded.saturating_sub(t.refunded)))
}

/// A money movement on a contract's activity feed.
pub(crate) fn money_activity(
    action: Action,
    contract: &contract_db::Model,
    transaction: Uuid,
    amount: &Money,
) -> NewActivity {
    NewActivity {
        topic: contract::topic(contract.id),
        action,
        subject_type: "contract",
        subject_id: contract.id,
        before: None,
        after: Some(json!({
            "transactionId": transaction,
            "amountCents": amount.cents(),
            "currency": amount.currency(),
            "clientProfileId": contract.client_profile_id,
        })),
    }
}
