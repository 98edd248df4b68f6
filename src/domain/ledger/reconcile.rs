//! Reconciliation: the provider's money objects of a window (PaymentIntents, Transfers,
//! Refunds) compared with what the ledger recorded about them. An object on one side only, or
//! one whose amount, currency or status differs, is drift: `semasocial reconcile` prints each
//! and exits 1. Run it daily (see the README); drift needs a person.
use std::collections::HashMap;

use entity::{
    funding::{self, FundingStatus},
    payout::{self, PayoutKind, PayoutStatus},
    provider_refund::{self, RefundStatus},
};
use sea_orm::{ColumnTrait, EntityTrait, QueryFilter};

use super::provider::ProviderObject;
use crate::{
    error::{AppError, AppResult},
    state::AppState,
};

/// One difference between the provider and the ledger.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Drift {
    /// `payment`, `transfer` or `refund`.
    pub kind: &'static str,
    /// The provider's id.
    pub id: String,
    /// What differs.
    pub problem: String,
}

impl std::fmt::Display for Drift {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{} {}: {}", self.kind, self.id, self.problem)
    }
}

/// Compares the provider's objects created since `since` with the ledger's records of the same
/// window. `None` when the provider keeps nothing to compare (the in-memory simulated one).
pub async fn run(state: &AppState, since: chrono::DateTime<chrono::Utc>) -> AppResult<Option<Vec<Drift>>> {
    let Some(theirs) = state
        .provider
        .list_objects(since)
        .await
        .map_err(|error| AppError::Internal(anyhow::anyhow!("listing the provider's objects: {error:?}")))?
    else {
        return Ok(None);
    };
    let ours = ledger_objects(state, since).await?;
    Ok(Some(compare(&theirs, &ours)))
}

/// The ledger's view of the provider's objects created since `since`.
async fn ledger_objects(state: &AppState, since: chrono::DateTime<chrono::Utc>) -> AppResult<Vec<ProviderObject>> {
    let db = &state.db;
    let mut ours = Vec::new();
    for f in funding::Entity::find().filter(funding::Column::CreatedAt.gte(since)).all(db).await? {
        let status = match f.status {
            FundingStatus::Succeeded => "SUCCEEDED",
            FundingStatus::Pending => "PENDING",
            FundingStatus::Failed => "FAILED",
        };
        ours.push(object("payment", f.provider_ref, f.amount_cents, f.currency, status));
    }
    let withdrawals = payout::Entity::find()
        .filter(payout::Column::Kind.eq(PayoutKind::Withdrawal))
        .filter(payout::Column::ProviderRef.is_not_null())
        .filter(payout::Column::CreatedAt.gte(since))
        .all(db)
        .await?;
    for p in withdrawals {
        // A transfer stands while the withdrawal is in flight or paid; a failed one was taken back.
        let status = if p.status == PayoutStatus::Failed { "REVERSED" } else { "SENT" };
        ours.push(object("transfer", p.provider_ref.unwrap_or_default(), p.amount_cents, p.currency, status));
    }
    let refunds = provider_refund::Entity::find()
        .filter(provider_refund::Column::ProviderRef.is_not_null())
        .filter(provider_refund::Column::CreatedAt.gte(since))
        .all(db)
        .await?;
    for r in refunds {
        let status = match r.status {
            RefundStatus::Succeeded => "SUCCEEDED",
            RefundStatus::Pending => "PENDING",
            RefundStatus::Failed => "FAILED",
        };
        ours.push(object("refund", r.provider_ref.unwrap_or_default(), r.amount_cents, r.currency, status));
    }
    Ok(ours)
}

fn object(kind: &'static str, id: String, cents: i64, currency: String, status: &str) -> ProviderObject {
    ProviderObject { kind, id, cents, currency: currency.to_uppercase(), status: status.to_owned() }
}

/// Every difference between the provider's objects and the ledger's, in the provider's order
/// then the ledger's.
pub fn compare(theirs: &[ProviderObject], ours: &[ProviderObject]) -> Vec<Drift> {
    let ours_by_id: HashMap<&str, &ProviderObject> = ours.iter().map(|o| (o.id.as_str(), o)).collect();
    let theirs_by_id: HashMap<&str, &ProviderObject> = theirs.iter().map(|o| (o.id.as_str(), o)).collect();
    let mut drift = Vec::new();
    for t in theirs {
        let Some(o) = ours_by_id.get(t.id.as_str()) else {
            // A declined attempt moved nothing, and the ledger keeps no record of it.
            if t.kind == "payment" && t.status == "FAILED" {
                continue;
            }
            drift.push(Drift {
                kind: t.kind,
                id: t.id.clone(),
                problem: format!("at the provider ({} {} {}), not in the ledger", t.cents, t.currency, t.status),
            });
            continue;
        };
        let mut differences = Vec::new();
        if o.cents != t.cents {
            differences.push(format!("amount {} at the provider, {} in the ledger", t.cents, o.cents));
        }
        if o.currency != t.currency {
            differences.push(format!("currency {} at the provider, {} in the ledger", t.currency, o.currency));
        }
        if o.status != t.status {
            differences.push(format!("status {} at the provider, {} in the ledger", t.status, o.status));
        }
        if !differences.is_empty() {
            drift.push(Drift { kind: t.kind, id: t.id.clone(), problem: differences.join("; ") });
        }
    }
    for o in ours {
        if !theirs_by_id.contains_key(o.id.as_str()) {
            drift.push(Drift {
                kind: o.kind,
                id: o.id.clone(),
                problem: format!("in the ledger ({} {} {}), not at the provider", o.cents, o.currency, o.status),
            });
        }
    }
    drift
}

#[cfg(test)]
mod tests {
    use super::*;

    fn o(kind: &'static str, id: &str, cents: i64, status: &str) -> ProviderObject {
        object(kind, id.to_owned(), cents, "eur".to_owned(), status)
    }

    #[test]
    fn matching_sides_have_no_drift_and_each_difference_is_named() {
        let theirs = vec![o("payment", "pi_1", 500, "SUCCEEDED"), o("transfer", "tr_1", 300, "SENT")];
        assert!(compare(&theirs, &theirs.clone()).is_empty());
        // A declined PaymentIntent is not in the ledger, and that is no drift.
        assert!(compare(&[o("payment", "pi_2", 500, "FAILED")], &[]).is_empty());

        let ours = vec![o("payment", "pi_1", 400, "PENDING"), o("refund", "re_9", 100, "SUCCEEDED")];
        let drift = compare(&theirs, &ours);
        let lines: Vec<String> = drift.iter().map(ToString::to_string).collect();
        assert_eq!(
            lines,
            vec![
                "payment pi_1: amount 500 at the provider, 400 in the ledger; status SUCCEEDED at the provider, PENDING in the ledger",
                "transfer tr_1: at the provider (300 EUR SENT), not in the ledger",
                "refund re_9: in the ledger (100 EUR SUCCEEDED), not at the provider",
            ]
        );
    }
}
