//! Money in: `fundContract` charges the client through the provider into the contract's
//! escrow (what goes back when a contract ends is `escrow::refund_rest`). A charge the provider
//! settles at once is booked in the same transaction; one it accepts without settling (a bank
//! debit) is a PENDING funding until its webhook (`settle`) books or fails it.
use entity::{
    contract::{self as contract_db, ContractStatus},
    funding::{self, FundingStatus},
    ledger_account::AccountKind,
    ledger_transaction::TransactionKind,
    payment_customer,
};
use sea_orm::{
    ActiveModelTrait, ColumnTrait, ConnectionTrait, EntityTrait, IntoActiveModel, QueryFilter, QuerySelect, Set,
};
use serde_json::json;
use uuid::Uuid;

use super::{
    Entry, Posting, account, idempotency, payer_of, post,
    provider::{ChargeError, ChargeRequest, Charged},
};
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
    /// The client's saved payment method at the provider (required by Stripe).
    pub payment_method_id: Option<String>,
}

/// What a funding did (or, replayed, what the first request did, as it stands now).
pub struct Funded {
    /// The funding (`None` only for a replay of a funding made before fundings were kept).
    pub funding: Option<funding::Model>,
    /// The ledger transaction that moved the money, once it moved.
    pub transaction_id: Option<Uuid>,
    /// Where the funding stands.
    pub status: FundingStatus,
    /// The amount.
    pub money: Money,
    /// The contract after funding, with the funder's access.
    pub contract: contract_db::Model,
    /// The funder's access.
    pub access: Access,
    /// True when this answers a replay of an earlier request.
    pub replayed: bool,
}

/// `fundContract`: the client side's owners and admins move money from the payment provider
/// into the contract's escrow. Escrow never holds more than the budget, counting fundings still
/// pending. The provider is charged under the contract's lock, so funding and cancellation
/// never interleave; a charge whose booking does not commit is given back.
pub async fn fund_contract(state: &AppState, viewer: &Viewer, input: FundInput) -> AppResult<Funded> {
    let (user_id, me) = viewer.require_user()?;
    crate::domain::credentials::require_verified(&state.db, user_id).await?;
    let key = idempotency::validate(&input.idempotency_key)?;
    let method = payment_method(input.payment_method_id.as_deref(), state.provider.needs_payment_method())?;
    let mut work = UnitOfWork::begin(state, viewer).await?;
    let contract = contract::lock(work.txn(), input.contract_id).await?;
    let access = contract::require_manager(work.txn(), viewer, &contract).await?;
    // The key is the paying account's: every admin of an organization shares its keys.
    let payer = payer_of(&contract);
    let mut request = json!({ "contractId": contract.id, "amountCents": input.amount_cents });
    if let Some(method) = &method {
        request["paymentMethodId"] = json!(method);
    }
    if let idempotency::Claim::Replay(first) =
        idempotency::claim(work.txn(), state, payer, &key, "fundContract", &request).await?
    {
        return replay(work.txn(), &first, contract, access).await;
    }
    if !matches!(contract.status, ContractStatus::Draft | ContractStatus::Open | ContractStatus::Active) {
        return Err(AppError::conflict(format!("a {} contract takes no funding", wire(contract.status))));
    }
    let money = Money::positive(input.amount_cents, &contract.currency, "amountCents")?;
    let escrow = account(&work, AccountKind::Escrow, contract.id, &contract.currency, true).await?;
    let committed = funded_net(work.txn(), contract.id).await?.saturating_add(pending(work.txn(), contract.id).await?);
    let after = committed.checked_add(money.cents()).unwrap_or(i64::MAX);
    if after > contract.budget_cents {
        return Err(AppError::bad_input(
            "amountCents",
            format!(
                "escrow would have received {after} of a {} budget (pending fundings count)",
                contract.budget_cents
            ),
        ));
    }
    let customer = customer(&work, state, payer).await?;
    let charged = state
        .provider
        .charge(ChargeRequest {
            key: format!("fund:{}:{payer}:{key}", contract.id),
            payer,
            customer,
            payment_method: method,
            cents: money.cents(),
            currency: money.currency().to_owned(),
            contract: contract.id,
        })
        .await
        .map_err(charge_error)?;
    let now = state.clock.now();
    let status = match charged {
        Charged::Settled(_) => FundingStatus::Succeeded,
        Charged::Pending(_) => FundingStatus::Pending,
    };
    let row = funding::ActiveModel {
        id: Set(Uuid::new_v4()),
        contract_id: Set(contract.id),
        payer_id: Set(payer),
        actor_profile_id: Set(me),
        amount_cents: Set(money.cents()),
        currency: Set(money.currency().to_owned()),
        provider_ref: Set(charged.reference().to_owned()),
        status: Set(status),
        transaction_id: Set(None),
        failure_reason: Set(None),
        created_at: Set(now),
        updated_at: Set(now),
    }
    .insert(work.txn())
    .await?;
    let row = match status {
        FundingStatus::Succeeded => book(&mut work, state, &contract, &escrow, row, Some(me)).await?,
        _ => {
            let record = funding_activity(Action::ContractFundingPending, &contract, &row);
            work.record(record).await?;
            row
        }
    };
    idempotency::finish(
        work.txn(),
        payer,
        &key,
        json!({ "fundingId": row.id, "transactionId": row.transaction_id, "amountCents": money.cents() }),
    )
    .await?;
    if let Err(error) = work.commit().await {
        state.provider.void(charged.reference()).await;
        return Err(error);
    }
    Ok(Funded {
        transaction_id: row.transaction_id,
        status: row.status,
        funding: Some(row),
        money,
        contract,
        access,
        replayed: false,
    })
}

/// The validated payment method, required when the provider needs one.
fn payment_method(given: Option<&str>, required: bool) -> AppResult<Option<String>> {
    let given = given.map(str::trim).filter(|m| !m.is_empty());
    match given {
        None if required => Err(AppError::bad_input(
            "paymentMethodId",
            "the payment provider charges a saved payment method: give its id (pm_…)",
        )),
        None => Ok(None),
        Some(m) if m.len() > 255 || !m.chars().all(|c| c.is_ascii_alphanumeric() || c == '_') => {
            Err(AppError::bad_input("paymentMethodId", "a payment method id is at most 255 letters, digits and _"))
        }
        Some(m) => Ok(Some(m.to_owned())),
    }
}

/// The provider's answer as the client sees it: a refusal is CONFLICT with the reason.
fn charge_error(error: ChargeError) -> AppError {
    match error {
        ChargeError::Declined(reason) => {
            AppError::conflict(format!("the payment provider declined the charge: {reason}"))
        }
        ChargeError::KeyReused(reason) => AppError::conflict(format!(
            "the payment provider saw this idempotencyKey with another request; use a new key ({reason})"
        )),
        ChargeError::Unavailable(reason) => {
            tracing::warn!(%reason, "the payment provider did not answer a charge");
            AppError::conflict(
                "the payment provider did not answer; send the same request with the same idempotencyKey \
                 (it never charges twice)",
            )
        }
    }
}

/// The payer's customer at the provider, created (and kept) on first use.
async fn customer(work: &UnitOfWork<'_>, state: &AppState, payer: Uuid) -> AppResult<Option<String>> {
    let provider = state.provider.name();
    let known = payment_customer::Entity::find_by_id((payer, provider.to_owned())).one(work.txn()).await?;
    if let Some(known) = known {
        return Ok(Some(known.customer_ref));
    }
    let Some(created) = state.provider.create_customer(payer).await.map_err(charge_error)? else {
        return Ok(None);
    };
    payment_customer::ActiveModel {
        account_id: Set(payer),
        provider: Set(provider.to_owned()),
        customer_ref: Set(created.clone()),
        created_at: Set(state.clock.now()),
    }
    .insert(work.txn())
    .await?;
    Ok(Some(created))
}

/// The first request's funding as it stands now.
async fn replay(
    db: &impl ConnectionTrait,
    first: &serde_json::Value,
    contract: contract_db::Model,
    access: Access,
) -> AppResult<Funded> {
    let money = Money::of(first["amountCents"].as_i64().unwrap_or(0), &contract.currency, "amountCents")?;
    let Some(id) = first["fundingId"].as_str().and_then(|id| id.parse::<Uuid>().ok()) else {
        // A funding made before fundings were kept: it was booked at once.
        let transaction_id = idempotency::replayed_id(first, "transactionId")?;
        return Ok(Funded {
            funding: None,
            transaction_id: Some(transaction_id),
            status: FundingStatus::Succeeded,
            money,
            contract,
            access,
            replayed: true,
        });
    };
    let row = funding::Entity::find_by_id(id).one(db).await?.ok_or(AppError::NotFound("funding"))?;
    Ok(Funded {
        transaction_id: row.transaction_id,
        status: row.status,
        funding: Some(row),
        money,
        contract,
        access,
        replayed: true,
    })
}

/// Books a funding's money into escrow (the contract locked by the caller): the ledger
/// transaction, the funding SUCCEEDED, and `contract.funded` on the feed.
async fn book(
    work: &mut UnitOfWork<'_>,
    state: &AppState,
    contract: &contract_db::Model,
    escrow: &entity::ledger_account::Model,
    row: funding::Model,
    actor: Option<Uuid>,
) -> AppResult<funding::Model> {
    let money = Money::of(row.amount_cents, &row.currency, "amountCents")?;
    let source = account(work, AccountKind::ClientFunding, row.payer_id, &row.currency, false).await?;
    let now = state.clock.now();
    let mut posting = Posting::new(TransactionKind::Funding, &contract.currency, "contract funded");
    posting.contract = Some(contract.id);
    posting.actor = actor;
    posting.provider_ref = Some(row.provider_ref.clone());
    posting.entries = Entry::transfer(&source, escrow, &money);
    let transaction = post(work.txn(), now, posting).await?;
    let mut record = super::money_activity(Action::ContractFunded, contract, transaction.id, &money);
    if let Some(after) = record.after.as_mut().and_then(|a| a.as_object_mut()) {
        after.insert("fundingId".into(), json!(row.id));
    }
    work.record(record).await?;
    let mut active = row.into_active_model();
    active.status = Set(FundingStatus::Succeeded);
    active.transaction_id = Set(Some(transaction.id));
    active.updated_at = Set(now);
    Ok(active.update(work.txn()).await?)
}

/// What the provider finally said about a charge.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Settlement {
    /// The money is in.
    Succeeded,
    /// It failed, with the provider's reason.
    Failed(String),
}

/// What `settle` did.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Settled {
    /// The funding was PENDING and now is not.
    Changed,
    /// The funding was settled already (a late or repeated word): nothing changed.
    Unchanged,
    /// No funding has this charge (not ours, or not committed yet).
    Unknown,
}

/// Applies the provider's final word on the charge `provider_ref` (from a webhook, inside the
/// caller's unit of work): a PENDING funding is booked into escrow — and refunded at once if
/// its contract ended meanwhile — or FAILED. A funding already settled changes nothing.
pub(crate) async fn settle(
    work: &mut UnitOfWork<'_>,
    state: &AppState,
    provider_ref: &str,
    settlement: Settlement,
) -> AppResult<Settled> {
    let Some(found) =
        funding::Entity::find().filter(funding::Column::ProviderRef.eq(provider_ref)).one(work.txn()).await?
    else {
        return Ok(Settled::Unknown);
    };
    // The contract's lock first, as every money move takes it.
    let contract = contract::lock(work.txn(), found.contract_id).await?;
    let row = funding::Entity::find_by_id(found.id)
        .lock_exclusive()
        .one(work.txn())
        .await?
        .ok_or(AppError::NotFound("funding"))?;
    if row.status != FundingStatus::Pending {
        return Ok(Settled::Unchanged);
    }
    match settlement {
        Settlement::Succeeded => {
            let escrow = account(work, AccountKind::Escrow, contract.id, &contract.currency, true).await?;
            book(work, state, &contract, &escrow, row, None).await?;
            let ending = match contract.status {
                ContractStatus::Cancelled => Some(super::escrow::Ending::Cancelled),
                ContractStatus::Completed => Some(super::escrow::Ending::Completed),
                _ => None,
            };
            if let Some(ending) = ending {
                // The contract ended while the payment was on its way: it goes straight back.
                super::escrow::refund_rest(work, state, &contract, ending).await?;
            }
        }
        Settlement::Failed(reason) => {
            let now = state.clock.now();
            let mut active = row.into_active_model();
            active.status = Set(FundingStatus::Failed);
            active.failure_reason = Set(Some(reason));
            active.updated_at = Set(now);
            let row = active.update(work.txn()).await?;
            let record = funding_activity(Action::ContractFundingFailed, &contract, &row);
            let managers = super::escrow::client_managers(work.txn(), &contract).await?;
            work.record_notifying(record, managers).await?;
        }
    }
    Ok(Settled::Changed)
}

/// Money a contract's escrow has received, less refunds.
async fn funded_net(db: &impl ConnectionTrait, contract_id: Uuid) -> AppResult<i64> {
    let totals = super::reading::contract_totals(db, &[contract_id]).await?;
    Ok(totals.get(&contract_id).map_or(0, |t| t.funded.saturating_sub(t.refunded)))
}

/// What a contract's PENDING fundings add up to (a handful at most).
async fn pending(db: &impl ConnectionTrait, contract_id: Uuid) -> AppResult<i64> {
    let rows = funding::Entity::find()
        .filter(funding::Column::ContractId.eq(contract_id))
        .filter(funding::Column::Status.eq(FundingStatus::Pending))
        .all(db)
        .await?;
    Ok(rows.iter().fold(0_i64, |sum, f| sum.saturating_add(f.amount_cents)))
}

/// A funding that is not (yet) money on the contract's feed.
fn funding_activity(action: Action, contract: &contract_db::Model, row: &funding::Model) -> NewActivity {
    NewActivity {
        topic: contract::topic(contract.id),
        action,
        subject_type: "contract",
        subject_id: contract.id,
        before: None,
        after: Some(json!({
            "fundingId": row.id,
            "status": wire(row.status),
            "amountCents": row.amount_cents,
            "currency": row.currency,
            "failureReason": row.failure_reason,
            "clientProfileId": contract.client_profile_id,
        })),
    }
}
