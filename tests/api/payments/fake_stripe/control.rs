//! What a test sees of the fake and changes behind the app's back: requests, objects, settlements, Connect.
use serde_json::{Value, json};

use super::{FakeStripe, Seen, connect::reverse, connect_event, event};

impl FakeStripe {
    /// The requests to `path` so far (`POST`s: what the app asked Stripe to do).
    pub fn seen(&self, path: &str) -> Vec<Seen> {
        self.inner.lock().unwrap().seen.iter().filter(|s| s.path == path).cloned().collect()
    }

    /// The objects whose id starts with `prefix` (`pi_`, `cus_`, `re_`, `acct_`, `tr_`,
    /// `trr_`, `po_`).
    pub fn objects(&self, prefix: &str) -> Vec<Value> {
        self.inner
            .lock()
            .unwrap()
            .objects
            .iter()
            .filter(|(id, _)| id.starts_with(prefix))
            .map(|(_, o)| o.clone())
            .collect()
    }

    /// Applies the next request but cuts its answer short.
    pub fn lose_next_answer(&self) {
        self.inner.lock().unwrap().lose_next = true;
    }

    /// Refuses transfers of `cents` or more as Stripe does when the platform's available
    /// balance is short (`balance_insufficient`).
    pub fn fail_transfers_from_cents(&self, cents: i64) {
        self.inner.lock().unwrap().fail_transfers_from = Some(cents);
    }

    /// Moves a PaymentIntent to `status` (as Stripe does when a bank debit settles or fails)
    /// and returns the event Stripe would send about it.
    pub fn settle(&self, intent: &str, succeeded: bool) -> Value {
        let mut inner = self.inner.lock().unwrap();
        let object = inner.objects.get_mut(intent).expect("a PaymentIntent");
        if succeeded {
            object["status"] = json!("succeeded");
        } else {
            object["status"] = json!("requires_payment_method");
            object["last_payment_error"] = json!({ "type": "card_error", "code": "payment_intent_payment_attempt_failed", "message": "The bank account could not be debited." });
        }
        let object = object.clone();
        drop(inner);
        event(if succeeded { "payment_intent.succeeded" } else { "payment_intent.payment_failed" }, object)
    }

    /// Finishes a connected account's onboarding, as its owner does on Stripe's hosted pages:
    /// it may now take charges and receive transfers and payouts. Returns the
    /// `account.updated` event Stripe would send about it.
    pub fn complete_onboarding(&self, account: &str) -> Value {
        let mut inner = self.inner.lock().unwrap();
        let object = inner.objects.get_mut(account).expect("a connected account");
        for flag in ["charges_enabled", "payouts_enabled", "details_submitted"] {
            object[flag] = json!(true);
        }
        if let Some(capabilities) = object.get_mut("capabilities").and_then(Value::as_object_mut) {
            capabilities.values_mut().for_each(|status| *status = json!("active"));
        }
        let object = object.clone();
        drop(inner);
        connect_event("account.updated", object, account)
    }

    /// Pays a payout out to the connected account's bank (`paid`), or fails it as Stripe does
    /// when the bank account is closed, and returns the `payout.paid` / `payout.failed`
    /// event Stripe would send about it.
    pub fn finish_payout(&self, payout: &str, paid: bool) -> Value {
        let mut inner = self.inner.lock().unwrap();
        let account = inner.payout_accounts.get(payout).cloned().expect("a payout made on a connected account");
        let object = inner.objects.get_mut(payout).expect("a payout");
        if paid {
            object["status"] = json!("paid");
        } else {
            object["status"] = json!("failed");
            object["failure_code"] = json!("account_closed");
            object["failure_message"] = json!("The bank account has been closed.");
        }
        let object = object.clone();
        drop(inner);
        connect_event(if paid { "payout.paid" } else { "payout.failed" }, object, &account)
    }

    /// Reverses what is left of a transfer (as from Stripe's dashboard) and returns the
    /// `transfer.reversed` event Stripe would send about it.
    pub fn reverse_transfer(&self, transfer: &str) -> Value {
        let mut inner = self.inner.lock().unwrap();
        let object = inner.objects.get(transfer).expect("a transfer");
        let amount = object["amount"].as_i64().unwrap_or(0);
        let left = amount - object["amount_reversed"].as_i64().unwrap_or(0);
        if left > 0 {
            let (status, body) = reverse(&mut inner, transfer, Some(left), json!({}));
            assert_eq!(status, 200, "{body}");
        }
        let object = inner.objects.get_mut(transfer).expect("a transfer");
        object["amount_reversed"] = json!(amount);
        object["reversed"] = json!(true);
        let object = object.clone();
        drop(inner);
        event("transfer.reversed", object)
    }

    /// Stores `object` as is under its `id`, as though Stripe held it: a test makes Stripe
    /// drift from what the app recorded.
    pub fn insert(&self, object: Value) {
        let id = object["id"].as_str().expect("an object with an id").to_owned();
        self.inner.lock().unwrap().objects.insert(id, object);
    }

    /// Edits the stored object `id` in place.
    pub fn update(&self, id: &str, f: impl FnOnce(&mut Value)) {
        let mut inner = self.inner.lock().unwrap();
        f(inner.objects.get_mut(id).expect("a stored object"));
    }

    /// The connected account `payout` was made on.
    pub fn connected_payout(&self, payout: &str) -> Option<String> {
        self.inner.lock().unwrap().payout_accounts.get(payout).cloned()
    }
}
