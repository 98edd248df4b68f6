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

/// A charge to make: `cents` of `currency` from `payer` (a client's paying account) for a
/// contract's escrow, under `key` (the provider's idempotency key, derived from the client's).
#[derive(Clone, Debug)]
pub struct ChargeRequest {
    /// The provider's idempotency key.
    pub key: String,
    /// The paying account.
    pub payer: Uuid,
    /// The payer's customer at the provider, for providers that keep customers.
    pub customer: Option<String>,
    /// The saved payment method to charge (required by providers that need one).
    pub payment_method: Option<String>,
    /// Amount in minor units.
    pub cents: i64,
    /// ISO currency.
    pub currency: String,
    /// The contract funded (the provider keeps it in the charge's metadata).
    pub contract: Uuid,
}

/// What a charge came to.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Charged {
    /// The money is in: escrow is credited now.
    Settled(String),
    /// Accepted, not settled (a bank debit): escrow is credited when the provider says so.
    Pending(String),
}

impl Charged {
    /// The provider's reference.
    pub fn reference(&self) -> &str {
        match self {
            Self::Settled(r) | Self::Pending(r) => r,
        }
    }
}

/// Why a charge did not happen.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum ChargeError {
    /// Refused (a declined card, a method that needs the customer), with the provider's reason.
    Declined(String),
    /// The key was used before with other parameters.
    KeyReused(String),
    /// No answer: the charge may or may not have happened; a retry with the same key finds it.
    Unavailable(String),
}

/// A withdrawal to send: `cents` of `currency` to `payee`'s connected account `destination`
/// (providers that need one), under `key` (our payout's id).
#[derive(Clone, Debug)]
pub struct PayoutRequest {
    /// Our payout's id: the provider's idempotency key and the payout's tag there.
    pub key: String,
    /// The payee.
    pub payee: Uuid,
    /// The payee's connected account at the provider.
    pub destination: Option<String>,
    /// Amount in minor units.
    pub cents: i64,
    /// ISO currency.
    pub currency: String,
    /// A client payment whose charge funded this money, when one covers it: the provider ties
    /// the transfer to it so it can leave before that charge's funds are available.
    pub source_payment: Option<String>,
}

/// What a sent withdrawal came to.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Sent {
    /// The money has arrived (the provider's reference).
    Paid(String),
    /// Made (the provider's reference); the provider says later whether it arrived.
    InFlight(String),
    /// No answer (why): it may or may not have been made; the withdrawal stays PROCESSING and
    /// the sweep asks again (`find_payout`).
    Unanswered(String),
}

impl Sent {
    /// The provider's reference, when it answered.
    pub fn reference(&self) -> Option<&str> {
        match self {
            Self::Paid(r) | Self::InFlight(r) => Some(r),
            Self::Unanswered(_) => None,
        }
    }
}

/// A payee's connected account and the link that onboards it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Onboarding {
    /// The provider's account id.
    pub account: String,
    /// Where the payee finishes onboarding.
    pub url: String,
    /// Whether the account may receive payouts already.
    pub ready: bool,
}

/// One of the provider's money objects, as reconciliation compares it with the ledger.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ProviderObject {
    /// `payment`, `transfer` or `refund`.
    pub kind: &'static str,
    /// The provider's id.
    pub id: String,
    /// Amount in minor units.
    pub cents: i64,
    /// ISO currency, upper case.
    pub currency: String,
    /// Our status name for it (`SUCCEEDED`, `PENDING`, `FAILED`; for a transfer `PAID` or
    /// `FAILED` once reversed).
    pub status: String,
}

/// Moves money across the platform's edge. Every call carries an idempotency key: the same key
/// returns the first result and never moves money twice.
pub trait PaymentProvider: Send + Sync + 'static {
    /// The provider's name where its objects are stored (`simulated`, `stripe`).
    fn name(&self) -> &'static str {
        "simulated"
    }
    /// Whether charges need a saved payment method (`paymentMethodId`).
    fn needs_payment_method(&self) -> bool {
        false
    }
    /// Creates the customer of a paying account, for providers that keep customers (`None`
    /// otherwise); the caller stores it so there is one per account.
    fn create_customer(&self, _payer: Uuid) -> BoxFuture<'_, Result<Option<String>, ChargeError>> {
        async { Ok(None) }.boxed()
    }
    /// Charges a client (see `ChargeRequest`).
    fn charge(&self, request: ChargeRequest) -> BoxFuture<'_, Result<Charged, ChargeError>>;
    /// Gives back a charge whose booking could not be committed.
    fn void(&self, reference: &str) -> BoxFuture<'_, ()>;
    /// Sends a withdrawal (see `PayoutRequest`): `Paid` when the money has arrived, `InFlight`
    /// when the provider reports the end later (webhooks), `Declined` when it refused.
    fn payout(&self, request: PayoutRequest) -> BoxFuture<'_, Result<Sent, Declined>>;
    /// What the provider did with the withdrawal sent under `request.key`: its answer then, or
    /// `None` when it never received it (the sweep finishes withdrawals a crash left PROCESSING
    /// this way).
    fn find_payout(&self, request: PayoutRequest) -> BoxFuture<'_, Option<Result<Sent, Declined>>>;
    /// Takes back a withdrawal the provider made but could not deliver (Stripe: reverses the
    /// transfer `reference`), under `key` (our payout's id).
    fn reverse_payout(&self, _key: &str, _reference: &str) -> BoxFuture<'_, Result<(), ChargeError>> {
        async { Ok(()) }.boxed()
    }
    /// Whether withdrawals need a connected payout account that finished onboarding.
    fn needs_payout_account(&self) -> bool {
        false
    }
    /// Creates the payee's connected account (unless `existing`) and a link to onboard it,
    /// coming back to `return_url` (or `refresh_url` when the link expired).
    fn connect_payout_account(
        &self,
        payee: Uuid,
        existing: Option<String>,
        return_url: &str,
        refresh_url: &str,
    ) -> BoxFuture<'_, Result<Onboarding, Declined>>;
    /// Gives `cents` back to the client's payment `payment` (a partial refund is fine), under
    /// `key`; returns the provider's refund.
    fn refund(
        &self,
        key: &str,
        payment: &str,
        cents: i64,
        currency: &str,
    ) -> BoxFuture<'_, Result<String, ChargeError>>;
    /// The provider's money objects created since `since`, for reconciliation (`None` when the
    /// provider keeps nothing to compare, as the in-memory one across processes).
    fn list_objects(
        &self,
        _since: chrono::DateTime<chrono::Utc>,
    ) -> BoxFuture<'_, Result<Option<Vec<ProviderObject>>, ChargeError>> {
        async { Ok(None) }.boxed()
    }
}

/// How long the simulated provider remembers an idempotency key (Stripe keeps keys 24 hours;
/// ours live at least as long, so a key reused after both expired is a new request).
const KEY_MEMORY_HOURS: i64 = 24;

/// An answer given under a key, and when.
type Remembered = (Result<String, Declined>, Option<chrono::DateTime<chrono::Utc>>);

/// An in-memory provider: charges succeed and payouts arrive, except where its configuration
/// says they fail (amounts at or above a threshold), so every path can be exercised.
#[derive(Default)]
pub struct SimulatedProvider {
    failures: SimulatedProviderConfig,
    seen: Mutex<HashMap<String, Remembered>>,
    clock: Option<std::sync::Arc<dyn crate::clock::Clock>>,
}

impl SimulatedProvider {
    /// A provider failing as `failures` says, remembering keys forever.
    pub fn new(failures: SimulatedProviderConfig) -> Self {
        Self { failures, seen: Mutex::new(HashMap::new()), clock: None }
    }

    /// A provider failing as `failures` says that forgets keys after 24 hours of `clock`, as
    /// Stripe does.
    pub fn with_clock(failures: SimulatedProviderConfig, clock: std::sync::Arc<dyn crate::clock::Clock>) -> Self {
        Self { failures, seen: Mutex::new(HashMap::new()), clock: Some(clock) }
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
        let now = self.clock.as_ref().map(|c| c.now());
        let forgotten = |at: &Option<chrono::DateTime<chrono::Utc>>| match (at, now) {
            (Some(at), Some(now)) => now.signed_duration_since(*at) >= chrono::Duration::hours(KEY_MEMORY_HOURS),
            _ => false,
        };
        if seen.get(&key).is_some_and(|(_, at)| forgotten(at)) {
            seen.remove(&key);
        }
        seen.entry(key)
            .or_insert_with(|| {
                let answer =
                    if fails { Err(Declined(reason())) } else { Ok(format!("{prefix}{}", Uuid::new_v4().simple())) };
                (answer, now)
            })
            .0
            .clone()
    }
}

impl PaymentProvider for SimulatedProvider {
    fn charge(&self, request: ChargeRequest) -> BoxFuture<'_, Result<Charged, ChargeError>> {
        let ChargeRequest { key, payer, cents, currency, .. } = request;
        let fails = self.failures.decline_charges_from_cents.is_some_and(|limit| cents >= limit);
        let result = self.answer(format!("charge:{key}"), fails, "sim_ch_", || {
            format!("the card of {payer} was declined for {cents} {currency}")
        });
        async move { result.map(Charged::Settled).map_err(|declined| ChargeError::Declined(declined.0)) }.boxed()
    }

    fn void(&self, _reference: &str) -> BoxFuture<'_, ()> {
        async {}.boxed()
    }

    fn payout(&self, request: PayoutRequest) -> BoxFuture<'_, Result<Sent, Declined>> {
        let PayoutRequest { key, payee, cents, currency, .. } = request;
        let fails = self.failures.fail_payouts_from_cents.is_some_and(|limit| cents >= limit);
        let result = self.answer(format!("payout:{key}"), fails, "sim_po_", || {
            format!("the bank of {payee} returned {cents} {currency}")
        });
        if self.failures.hang_payouts_from_cents.is_some_and(|limit| cents >= limit) {
            // Made, but the answer never comes back (the caller dies waiting).
            return futures_util::future::pending().boxed();
        }
        async move { result.map(Sent::Paid) }.boxed()
    }

    fn find_payout(&self, request: PayoutRequest) -> BoxFuture<'_, Option<Result<Sent, Declined>>> {
        let found = self
            .seen
            .lock()
            .ok()
            .and_then(|seen| seen.get(&format!("payout:{}", request.key)).map(|(a, _)| a.clone().map(Sent::Paid)));
        async move { found }.boxed()
    }

    fn connect_payout_account(
        &self,
        payee: Uuid,
        existing: Option<String>,
        return_url: &str,
        _refresh_url: &str,
    ) -> BoxFuture<'_, Result<Onboarding, Declined>> {
        // Nothing to fill in: the account is ready and the link goes straight back.
        let account = existing.unwrap_or_else(|| format!("sim_acct_{}", payee.simple()));
        let onboarding = Onboarding { account, url: return_url.to_owned(), ready: true };
        async move { Ok(onboarding) }.boxed()
    }

    fn refund(
        &self,
        key: &str,
        _payment: &str,
        _cents: i64,
        _currency: &str,
    ) -> BoxFuture<'_, Result<String, ChargeError>> {
        let result = self.answer(format!("refund:{key}"), false, "sim_re_", String::new);
        async move { result.map_err(|declined| ChargeError::Declined(declined.0)) }.boxed()
    }
}
