//! The payment provider: where money enters (charges) and leaves (payouts) the platform.
//! A real provider implements the trait; the simulated one ships for development and tests.
use std::{collections::HashMap, sync::Mutex};

use futures_util::future::{BoxFuture, FutureExt};
use uuid::Uuid;

use crate::config::SimulatedProviderConfig;

pub mod stripe;

/// A refusal by the provider (a declined card, a bounced transfer), with its reason.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Declined(pub String);

/// Moves money across the platform's edge. Every call carries an idempotency key: the same key
/// returns the first result and never moves money twice.
pub trait PaymentProvider: Send + Sync + 'static {
    /// Charges `payer` (a client) `cents` of `currency`; returns the provider's reference.
    fn charge(&self, key: &str, payer: Uuid, cents: i64, currency: &str) -> BoxFuture<'_, Result<String, Declined>>;
    /// Voids a charge whose booking could not be committed.
    fn void(&self, reference: &str) -> BoxFuture<'_, ()>;
    /// Sends `cents` of `currency` to `payee`; returns the provider's reference.
    fn payout(&self, key: &str, payee: Uuid, cents: i64, currency: &str) -> BoxFuture<'_, Result<String, Declined>>;
    /// What the provider did with the payout sent under `key`: its answer then, or `None` when
    /// it never received one (the sweep finishes withdrawals a crash left PROCESSING this way).
    fn find_payout(&self, key: &str) -> BoxFuture<'_, Option<Result<String, Declined>>>;
}

/// An in-memory provider: charges succeed and payouts arrive, except where its configuration
/// says they fail (amounts at or above a threshold), so every path can be exercised.
#[derive(Default)]
pub struct SimulatedProvider {
    failures: SimulatedProviderConfig,
    seen: Mutex<HashMap<String, Result<String, Declined>>>,
}

impl SimulatedProvider {
    /// A provider failing as `failures` says.
    pub fn new(failures: SimulatedProviderConfig) -> Self {
        Self { failures, seen: Mutex::new(HashMap::new()) }
    }

    /// The answer to `key` (the first one ever given to it): refused with `reason` when
    /// `fails`, otherwise a new reference starting with `prefix`.
    fn answer(
        &self,
        key: String,
        fails: bool,
        prefix: &str,
        reason: impl FnOnce() -> String,
    ) -> Result<String, Declined> {
        let Ok(mut seen) = self.seen.lock() else {
            return Err(Declined("the simulated provider is unavailable".into()));
        };
        seen.entry(key)
            .or_insert_with(|| {
                if fails { Err(Declined(reason())) } else { Ok(format!("{prefix}{}", Uuid::new_v4().simple())) }
            })
            .clone()
    }
}

impl PaymentProvider for SimulatedProvider {
    fn charge(&self, key: &str, payer: Uuid, cents: i64, currency: &str) -> BoxFuture<'_, Result<String, Declined>> {
        let fails = self.failures.decline_charges_from_cents.is_some_and(|limit| cents >= limit);
        let result = self.answer(format!("charge:{key}"), fails, "sim_ch_", || {
            format!("the card of {payer} was declined for {cents} {currency}")
        });
        async move { result }.boxed()
    }

    fn void(&self, _reference: &str) -> BoxFuture<'_, ()> {
        async {}.boxed()
    }

    fn payout(&self, key: &str, payee: Uuid, cents: i64, currency: &str) -> BoxFuture<'_, Result<String, Declined>> {
        let fails = self.failures.fail_payouts_from_cents.is_some_and(|limit| cents >= limit);
        let result = self.answer(format!("payout:{key}"), fails, "sim_po_", || {
            format!("the bank of {payee} returned {cents} {currency}")
        });
        if self.failures.hang_payouts_from_cents.is_some_and(|limit| cents >= limit) {
            // Made, but the answer never comes back (the caller dies waiting).
            return futures_util::future::pending().boxed();
        }
        async move { result }.boxed()
    }

    fn find_payout(&self, key: &str) -> BoxFuture<'_, Option<Result<String, Declined>>> {
        let found = self.seen.lock().ok().and_then(|seen| seen.get(&format!("payout:{key}")).cloned());
        async move { found }.boxed()
    }
}
