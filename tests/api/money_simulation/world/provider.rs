//! The provider's failure modes: a withdrawal whose process dies before or after the provider
//! made it; a charge made whose answer is lost (the retry must find it, not charge again); a
//! charge accepted without settling (a bank debit) whose webhooks come late, twice, out of
//! order, or contradicted by a later word.
use std::sync::Mutex;

use semasocial::domain::ledger::{
    provider::stripe::signature,
    webhook::{self, Receipt},
};

use super::*;

/// The webhook signing secret of the simulated world.
pub(super) const WEBHOOK_SECRET: &str = "whsec_simulation";

/// The simulated provider, whose next payout can be made to never answer (the step then drops
/// the request's future there, as a process dying between the withdrawal's two transactions),
/// and whose next charge can lose its answer or stay pending.
pub(super) struct CrashingProvider {
    pub(super) inner: SimulatedProvider,
    /// 0: answer; 1: never hear of the next payout; 2: make it, then never answer.
    pub(super) mode: AtomicU8,
    pub(super) reached: tokio::sync::Notify,
    /// 0: answer; 1: make the next charge and lose the answer; 2: accept it as pending.
    pub(super) charge_mode: AtomicU8,
    /// Every charge made: (the provider key, its reference), in order.
    pub(super) charged: Mutex<Vec<(String, String)>>,
}

impl CrashingProvider {
    pub(super) fn new(inner: SimulatedProvider) -> Self {
        Self {
            inner,
            mode: AtomicU8::new(0),
            reached: tokio::sync::Notify::new(),
            charge_mode: AtomicU8::new(0),
            charged: Mutex::new(Vec::new()),
        }
    }

    pub(super) fn charges(&self) -> Vec<(String, String)> {
        self.charged.lock().unwrap().clone()
    }
}

impl PaymentProvider for CrashingProvider {
    fn charge(&self, request: ChargeRequest) -> BoxFuture<'_, Result<Charged, ChargeError>> {
        let mode = self.charge_mode.swap(0, Ordering::SeqCst);
        let key = request.key.clone();
        let made = self.inner.charge(request);
        async move {
            let answer = made.await;
            if let Ok(charged) = &answer {
                self.charged.lock().unwrap().push((key, charged.reference().to_owned()));
            }
            match (mode, answer) {
                (1, Ok(_)) => Err(ChargeError::Unavailable("the answer was lost on the way".into())),
                (2, Ok(charged)) => Ok(Charged::Pending(charged.reference().to_owned())),
                (_, answer) => answer,
            }
        }
        .boxed()
    }
    fn void(&self, reference: &str) -> BoxFuture<'_, ()> {
        self.inner.void(reference)
    }
    fn payout(&self, request: PayoutRequest) -> BoxFuture<'_, Result<Sent, Declined>> {
        let mode = self.mode.swap(0, Ordering::SeqCst);
        if mode == 0 {
            return self.inner.payout(request);
        }
        if mode == 2 {
            let _ = self.inner.payout(request).now_or_never();
        }
        self.reached.notify_one();
        futures_util::future::pending().boxed()
    }
    fn find_payout(&self, request: PayoutRequest) -> BoxFuture<'_, Option<Result<Sent, Declined>>> {
        self.inner.find_payout(request)
    }
    fn connect_payout_account(
        &self,
        payee: Uuid,
        existing: Option<String>,
        return_url: &str,
        refresh_url: &str,
    ) -> BoxFuture<'_, Result<Onboarding, Declined>> {
        self.inner.connect_payout_account(payee, existing, return_url, refresh_url)
    }
    fn refund(
        &self,
        key: &str,
        payment: &str,
        cents: i64,
        currency: &str,
    ) -> BoxFuture<'_, Result<String, ChargeError>> {
        self.inner.refund(key, payment, cents, currency)
    }
}

/// How often the provider's failure modes came up in a run.
#[derive(Default, Debug)]
pub(crate) struct Faults {
    /// Charges whose answer was lost, retried.
    pub(crate) lost_answers: usize,
    /// Charges left pending.
    pub(crate) pending: usize,
    /// Webhooks applied, repeated (duplicates), and late or contradicting (ignored).
    pub(crate) applied: usize,
    pub(crate) duplicates: usize,
    pub(crate) late: usize,
}

/// A webhook the provider owes about a pending charge: the same event id on every delivery.
#[derive(Clone)]
pub(crate) struct Owed {
    event: String,
    intent: String,
    succeeded: bool,
    body: Vec<u8>,
}

impl Owed {
    /// The two words the provider may send about a pending charge: the real one first, and a
    /// contradicting one that must change nothing once the first is applied.
    pub(super) fn about(intent: &str, contract: Uuid, succeeded: bool) -> [Self; 2] {
        [succeeded, !succeeded].map(|ok| {
            let event = format!("evt_{}", Uuid::new_v4().simple());
            let kind = if ok { "payment_intent.succeeded" } else { "payment_intent.payment_failed" };
            let body = json!({
                "id": event, "object": "event", "type": kind,
                "data": { "object": { "id": intent, "object": "payment_intent",
                    "status": if ok { "succeeded" } else { "requires_payment_method" },
                    "metadata": { "contract_id": contract },
                    "last_payment_error": if ok { json!(null) } else { json!({ "message": "the debit bounced" }) } } },
            });
            Self { event, intent: intent.to_owned(), succeeded: ok, body: serde_json::to_vec(&body).unwrap() }
        })
    }
}

impl Sim {
    /// A funding whose provider answer is lost (`fault` 1: then retried at once with the same
    /// request, which must find the charge the provider made, not make another) or pending
    /// (`fault` 2: its webhooks are owed). Returns the result the model books.
    pub(super) async fn fund_with_fault(
        &mut self,
        by: usize,
        input: impl Fn() -> FundInput,
        cents: i64,
        contract: Uuid,
        fault: u8,
    ) -> Result<AppResult<Funded>, String> {
        let made_before = self.crash.charges().len();
        self.crash.charge_mode.store(fault, Ordering::SeqCst);
        let first = checked(fund_contract(&self.st, &self.people[by], input()).await)?;
        self.crash.charge_mode.store(0, Ordering::SeqCst);
        let made = self.crash.charges();
        if made.len() == made_before {
            return Ok(first);
        }
        let (key, reference) = made[made.len() - 1].clone();
        if fault == 2 {
            if let Ok(f) = &first
                && f.status == FundingStatus::Pending
            {
                let succeeded = cents % 2 == 0;
                self.owed.extend(Owed::about(&reference, contract, succeeded));
                self.pending_fundings.insert(reference, (contract, cents));
                self.faults.pending += 1;
            }
            return Ok(first);
        }
        if fault != 1 {
            return Ok(first);
        }
        if !matches!(first, Err(AppError::Conflict(_))) {
            return Err(format!("a charge whose answer was lost answered {:?}", first.as_ref().map(|f| f.status)));
        }
        let retry = checked(fund_contract(&self.st, &self.people[by], input()).await)?;
        self.faults.lost_answers += 1;
        let again: Vec<_> = self.crash.charges()[made.len()..].to_vec();
        if let Ok(f) = &retry {
            let booked = f.funding.as_ref().map(|r| r.provider_ref.clone());
            if again.iter().any(|(k, _)| *k != key) || booked.as_deref() != Some(reference.as_str()) {
                return Err(format!(
                    "the retry after a lost answer charged {again:?} and booked {booked:?}, not {reference} under {key}"
                ));
            }
        }
        Ok(retry)
    }

    /// Delivers an owed webhook (`pick`, in any order), signed; `again` keeps it owed, so it
    /// comes twice. The first word on a pending funding settles it; a repeat is a duplicate; a
    /// later word changes nothing. Returns whether money moved.
    pub(super) async fn deliver(&mut self, pick: usize, again: bool) -> Result<bool, String> {
        if self.owed.is_empty() {
            return Ok(false);
        }
        let i = pick % self.owed.len();
        let owed = if again { self.owed[i].clone() } else { self.owed.remove(i) };
        let status = |st: AppState, intent: String| async move {
            entity::funding::Entity::find()
                .filter(entity::funding::Column::ProviderRef.eq(intent))
                .one(&st.db)
                .await
                .map_err(db)?
                .map(|f| f.status)
                .ok_or_else(|| "an owed webhook's funding is missing".to_owned())
        };
        let before = status(self.st.clone(), owed.intent.clone()).await?;
        let header = signature::sign(&owed.body, WEBHOOK_SECRET, self.now().timestamp());
        let receipt = webhook::stripe(&self.st, Some(&header), &owed.body)
            .await
            .map_err(|e| format!("a signed webhook was refused: {e:?}"))?;
        let after = status(self.st.clone(), owed.intent.clone()).await?;
        let expected = if !self.delivered.insert(owed.event.clone()) {
            Receipt::Duplicate
        } else if before == FundingStatus::Pending {
            Receipt::Applied
        } else {
            Receipt::Ignored
        };
        let settled = if owed.succeeded { FundingStatus::Succeeded } else { FundingStatus::Failed };
        let expected_after = if expected == Receipt::Applied { settled } else { before };
        if receipt != expected || after != expected_after {
            return Err(format!(
                "webhook {} ({}): {receipt:?} and {after:?}, expected {expected:?} and {expected_after:?}",
                owed.event,
                if owed.succeeded { "succeeded" } else { "failed" }
            ));
        }
        match receipt {
            Receipt::Applied => self.faults.applied += 1,
            Receipt::Duplicate => self.faults.duplicates += 1,
            Receipt::Ignored => self.faults.late += 1,
        }
        if receipt == Receipt::Applied && owed.succeeded {
            let (contract, cents) = self.pending_fundings[&owed.intent];
            if let Some(slot) = self.slots.iter_mut().find(|s| s.contract == contract) {
                slot.funded += cents;
            }
        }
        Ok(receipt == Receipt::Applied)
    }
}
