//! Webhooks in from the payment provider (Stripe): the `Stripe-Signature` is checked against
//! the raw body (HMAC-SHA256 of `t.body`, five minutes' tolerance) before anything is read;
//! each event id is recorded in the same transaction as its effect, so a replay applies
//! nothing twice; events may come late, twice or out of order (a funding already settled
//! ignores them). Unknown types are acknowledged and ignored.
//!
//! Acted on: `payment_intent.succeeded` / `payment_intent.payment_failed` (a PENDING funding),
//! `account.updated` (whether a payee's connected account may receive payouts), `payout.paid` /
//! `payout.failed` (a withdrawal's bank payout on the connected account) and
//! `transfer.reversed` (a withdrawal's transfer taken back: FAILED, the money back).
use entity::provider_event;
use sea_orm::{EntityTrait, Set, sea_query::OnConflict};
use serde_json::Value;

use uuid::Uuid;

use super::{
    funding::{self, Settled, Settlement},
    payout::{self, Word, WordApplied},
    payout_account,
    provider::stripe::{
        account_ready,
        signature::{self, Refused},
    },
};
use crate::{auth::Viewer, domain::UnitOfWork, error::AppError, state::AppState};

/// What became of a delivered event.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Receipt {
    /// Applied now.
    Applied,
    /// Applied before (a replay, or a retry after a lost answer): nothing done.
    Duplicate,
    /// Not an event we act on, or one that changes nothing now (a late or repeated word on a
    /// funding already settled).
    Ignored,
}

impl Receipt {
    /// Its wire name.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Applied => "applied",
            Self::Duplicate => "duplicate",
            Self::Ignored => "ignored",
        }
    }
}

/// Why an event was not taken.
#[derive(Debug, thiserror::Error)]
pub enum WebhookError {
    /// No webhook secret is configured: nothing can be verified (404).
    #[error("webhooks are not configured")]
    NotConfigured,
    /// A missing, forged or stale signature (400; nothing applied).
    #[error("{0}")]
    Refused(#[from] Refused),
    /// A signed body that is not an event (400).
    #[error("the body is not a Stripe event")]
    Malformed,
    /// About one of our charges or withdrawals before we recorded what it needs (a funding
    /// still committing, a withdrawal's transfer): the provider is asked to deliver it again (409).
    #[error("the charge is not recorded yet; deliver the event again")]
    NotYet,
    /// Our fault (500; the provider retries).
    #[error(transparent)]
    App(#[from] AppError),
}

/// `POST /webhooks/stripe`.
pub async fn stripe(state: &AppState, header: Option<&str>, body: &[u8]) -> Result<Receipt, WebhookError> {
    let secret = state.config.payments.stripe.webhook_secret.as_ref().ok_or(WebhookError::NotConfigured)?;
    let now = state.clock.now();
    signature::verify(body, header, secret.expose(), now.timestamp(), signature::TOLERANCE_SECS)?;
    let event: Value = serde_json::from_slice(body).map_err(|_| WebhookError::Malformed)?;
    let (Some(id), Some(kind)) = (event["id"].as_str(), event["type"].as_str()) else {
        return Err(WebhookError::Malformed);
    };
    if id.is_empty() || id.len() > 255 || kind.len() > 64 {
        return Err(WebhookError::Malformed);
    }
    let object = &event["data"]["object"];
    let mut work = UnitOfWork::begin(state, &Viewer::Anonymous).await?;
    // The event id first: a concurrent delivery of the same event waits here, then finds it.
    let recorded = provider_event::Entity::insert(provider_event::ActiveModel {
        id: Set(id.to_owned()),
        kind: Set(kind.to_owned()),
        received_at: Set(now),
    })
    .on_conflict(OnConflict::column(provider_event::Column::Id).do_nothing().to_owned())
    .exec_without_returning(work.txn())
    .await
    .map_err(AppError::from)?;
    if recorded == 0 {
        return Ok(Receipt::Duplicate);
    }
    let receipt = match kind {
        "payment_intent.succeeded" | "payment_intent.payment_failed" => {
            let settlement = if kind == "payment_intent.succeeded" {
                Settlement::Succeeded
            } else {
                Settlement::Failed(
                    object["last_payment_error"]["message"].as_str().unwrap_or("the payment failed").to_owned(),
                )
            };
            let Some(intent) = object["id"].as_str() else { return Err(WebhookError::Malformed) };
            match funding::settle(&mut work, state, intent, settlement).await? {
                Settled::Changed => Receipt::Applied,
                Settled::Unchanged => Receipt::Ignored,
                // Ours (our metadata) but not recorded yet: not acknowledged, so it comes again.
                Settled::Unknown if object["metadata"]["contract_id"].is_string() => return Err(WebhookError::NotYet),
                Settled::Unknown => Receipt::Ignored,
            }
        }
        "account.updated" => {
            let Some(account) = object["id"].as_str() else { return Err(WebhookError::Malformed) };
            let ready = account_ready(object);
            applied(payout_account::apply_update(&work, account, ready).await?)
        }
        // A withdrawal's bank payout (made on the connected account, tagged with our payout id),
        // or its transfer taken back. Keyed by our id, so the order they come in does not matter.
        "payout.paid" | "payout.failed" | "transfer.reversed" => {
            let Some(payout_id) = object["metadata"]["payout_id"].as_str().and_then(|id| Uuid::parse_str(id).ok())
            else {
                work.commit().await?;
                return Ok(Receipt::Ignored);
            };
            let word = match kind {
                "payout.paid" => Word::Paid,
                "payout.failed" => Word::Failed(
                    object["failure_message"]
                        .as_str()
                        .or(object["failure_code"].as_str())
                        .unwrap_or("the bank refused the payout")
                        .to_owned(),
                ),
                _ => Word::Reversed,
            };
            // The account the word is about: a bank payout's connected account (the event's
            // `account`), a transfer's destination.
            let on =
                if kind == "transfer.reversed" { object["destination"].as_str() } else { event["account"].as_str() };
            match payout::apply_word(&mut work, state, payout_id, on, word).await? {
                WordApplied::Changed => Receipt::Applied,
                WordApplied::Unchanged => Receipt::Ignored,
                // Not acknowledged: it comes again once the withdrawal's transfer is recorded.
                WordApplied::NotYet => return Err(WebhookError::NotYet),
            }
        }
        _ => Receipt::Ignored,
    };
    work.commit().await?;
    Ok(receipt)
}

/// A change or none.
fn applied(changed: bool) -> Receipt {
    if changed { Receipt::Applied } else { Receipt::Ignored }
}
