//! Refunds to the client's payments: money that leaves escrow or a dispute's hold back to the
//! client (a cancelled contract, what a completed one did not spend, a dispute refunded) is
//! owed to the payments that brought it in. The transaction that moves it queues one refund per
//! funding, oldest funding first, each at most what that funding still has unrefunded (partial
//! refunds across several payments); after commit each is sent to the provider under its own id
//! as idempotency key. One the provider did not answer stays PENDING and the sweep sends it
//! again; one it refused is FAILED and `semasocial reconcile` lists it for a person.
use entity::{
    contract as contract_db,
    funding::{self, FundingStatus},
    provider_refund::{self, RefundStatus},
};
use futures_util::future::FutureExt;
use sea_orm::{
    ActiveModelTrait, ColumnTrait, ConnectionTrait, EntityTrait, QueryFilter, QueryOrder, QuerySelect, Set,
    sea_query::Expr,
};
use uuid::Uuid;

use super::provider::ChargeError;
use crate::{
    domain::UnitOfWork,
    error::{AppError, AppResult},
    state::AppState,
};

/// How long a refund the provider did not answer waits before the sweep sends it again.
const RETRY_AFTER: chrono::Duration = chrono::Duration::minutes(2);

/// Queues the refund of `cents` of `contract`'s money (moved back to the client by
/// `transaction_id` in `work`) to its fundings, and sends them once `work` commits. Money
/// beyond what the kept fundings brought in (fundings made before they were kept) is not sent
/// anywhere; it is logged for a person.
pub(crate) async fn queue(
    work: &mut UnitOfWork<'_>,
    contract: &contract_db::Model,
    transaction_id: Uuid,
    cents: i64,
) -> AppResult<()> {
    if cents <= 0 {
        return Ok(());
    }
    let fundings = funding::Entity::find()
        .filter(funding::Column::ContractId.eq(contract.id))
        .filter(funding::Column::Status.eq(FundingStatus::Succeeded))
        .order_by_asc(funding::Column::CreatedAt)
        .order_by_asc(funding::Column::Id)
        .all(work.txn())
        .await?;
    let earlier: Vec<(Uuid, i64)> = provider_refund::Entity::find()
        .select_only()
        .column(provider_refund::Column::FundingId)
        .column(provider_refund::Column::AmountCents)
        .filter(provider_refund::Column::ContractId.eq(contract.id))
        .filter(provider_refund::Column::Status.ne(RefundStatus::Failed))
        .into_tuple()
        .all(work.txn())
        .await?;
    let now = work.now();
    let mut left = cents;
    let mut queued = Vec::new();
    for funding in fundings {
        if left == 0 {
            break;
        }
        let refunded: i64 = earlier.iter().filter(|(f, _)| *f == funding.id).map(|(_, c)| *c).sum();
        let part = funding.amount_cents.saturating_sub(refunded).min(left);
        if part <= 0 {
            continue;
        }
        let row = provider_refund::ActiveModel {
            id: Set(Uuid::new_v4()),
            funding_id: Set(funding.id),
            contract_id: Set(contract.id),
            transaction_id: Set(transaction_id),
            amount_cents: Set(part),
            currency: Set(funding.currency.clone()),
            status: Set(RefundStatus::Pending),
            provider_ref: Set(None),
            failure_reason: Set(None),
            created_at: Set(now),
            updated_at: Set(now),
        }
        .insert(work.txn())
        .await?;
        queued.push(row.id);
        left = left.saturating_sub(part);
    }
    if left > 0 {
        tracing::error!(contract = %contract.id, cents = left, "refunded money no kept funding covers; refund it by hand");
    }
    if !queued.is_empty() {
        work.after_commit(Box::new(move |state| {
            async move {
                for id in queued {
                    if let Err(error) = send(state, id).await {
                        tracing::warn!(refund = %id, %error, "sending a refund failed; the sweep retries");
                    }
                }
            }
            .boxed()
        }));
    }
    Ok(())
}

/// Sends one queued refund to the provider and books its answer (a refund already answered is
/// left alone). Returns its status after.
pub async fn send(state: &AppState, id: Uuid) -> AppResult<RefundStatus> {
    let Some(row) = provider_refund::Entity::find_by_id(id).one(&state.db).await? else {
        return Err(AppError::NotFound("refund"));
    };
    if row.status != RefundStatus::Pending {
        return Ok(row.status);
    }
    let Some(funding) = funding::Entity::find_by_id(row.funding_id).one(&state.db).await? else {
        return Err(AppError::NotFound("funding"));
    };
    let answer =
        state.provider.refund(&row.id.to_string(), &funding.provider_ref, row.amount_cents, &row.currency).await;
    let (status, reference, reason) = match answer {
        Ok(reference) => (RefundStatus::Succeeded, Some(reference), None),
        Err(ChargeError::Unavailable(reason)) => {
            tracing::warn!(refund = %id, %reason, "the payment provider did not answer a refund; the sweep retries");
            // The next sweep waits a while from now (another sender may still be running).
            provider_refund::Entity::update_many()
                .col_expr(provider_refund::Column::UpdatedAt, Expr::value(state.clock.now()))
                .filter(provider_refund::Column::Id.eq(id))
                .filter(provider_refund::Column::Status.eq(RefundStatus::Pending))
                .exec(&state.db)
                .await?;
            return Ok(RefundStatus::Pending);
        }
        Err(ChargeError::Declined(reason) | ChargeError::KeyReused(reason)) => {
            tracing::error!(refund = %id, %reason, "the payment provider refused a refund; the client is owed it");
            (RefundStatus::Failed, None, Some(reason))
        }
    };
    // Only a PENDING row is answered: two senders (the commit and a sweep) book it once.
    provider_refund::Entity::update_many()
        .col_expr(provider_refund::Column::Status, Expr::value(status))
        .col_expr(provider_refund::Column::ProviderRef, Expr::value(reference))
        .col_expr(provider_refund::Column::FailureReason, Expr::value(reason))
        .col_expr(provider_refund::Column::UpdatedAt, Expr::value(state.clock.now()))
        .filter(provider_refund::Column::Id.eq(id))
        .filter(provider_refund::Column::Status.eq(RefundStatus::Pending))
        .exec(&state.db)
        .await?;
    Ok(status)
}

/// The sweep's part: sends refunds still PENDING two minutes after their last attempt (oldest
/// first, `batch` at most): ones the provider did not answer, or whose sending a crash after
/// commit cut short. Returns how many were answered.
pub async fn send_pending(state: &AppState, batch: u64) -> AppResult<usize> {
    // Left alone for a while after their last attempt, so the sender after commit (or a slow
    // provider call) is not raced; a duplicate that still races finds the first refund.
    let quiet = state.clock.now().checked_sub_signed(RETRY_AFTER).unwrap_or(chrono::DateTime::<chrono::Utc>::MIN_UTC);
    let ids: Vec<Uuid> = provider_refund::Entity::find()
        .select_only()
        .column(provider_refund::Column::Id)
        .filter(provider_refund::Column::Status.eq(RefundStatus::Pending))
        .filter(provider_refund::Column::UpdatedAt.lte(quiet))
        .order_by_asc(provider_refund::Column::CreatedAt)
        .limit(batch)
        .into_tuple()
        .all(&state.db)
        .await?;
    let mut answered = 0usize;
    for id in ids {
        match send(state, id).await {
            Ok(RefundStatus::Pending) => {}
            Ok(_) => answered = answered.saturating_add(1),
            Err(error) => tracing::warn!(refund = %id, %error, "could not send a refund"),
        }
    }
    Ok(answered)
}

/// The refunds of a contract, oldest first.
pub async fn of_contract(db: &impl ConnectionTrait, contract_id: Uuid) -> AppResult<Vec<provider_refund::Model>> {
    Ok(provider_refund::Entity::find()
        .filter(provider_refund::Column::ContractId.eq(contract_id))
        .order_by_asc(provider_refund::Column::CreatedAt)
        .all(db)
        .await?)
}
