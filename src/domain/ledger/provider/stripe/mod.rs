//! Stripe Connect behind the payment provider: a Customer per paying account, PaymentIntents
//! confirmed off-session with a saved payment method to fund escrow, Refunds back to those
//! PaymentIntents, Express connected accounts with Account Links for payees, Transfers to pay
//! them, and signed webhooks in (`signature`). Every POST that moves money carries an
//! `Idempotency-Key` derived from ours, so a retry after a lost answer finds the first object.
pub mod client;
pub mod signature;

use std::time::Duration;

use futures_util::future::{BoxFuture, FutureExt};
use serde_json::Value;
use uuid::Uuid;

use self::client::{StripeClient, StripeError, field};
use super::{
    ChargeError, ChargeRequest, Charged, Declined, Onboarding, PaymentProvider, PayoutRequest, ProviderObject, Sent,
};
use crate::config::Secret;

/// What a confirmed PaymentIntent came to.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Payment {
    /// `succeeded`: the money is in; escrow is credited now.
    Succeeded(String),
    /// `processing` (a bank debit): escrow is credited when `payment_intent.succeeded` arrives.
    Pending(String),
    /// Refused (`requires_payment_method`, `requires_action` off-session, a card error): the
    /// provider's reason.
    Declined(String),
}

/// The Stripe provider's connection.
#[derive(Clone)]
pub struct StripeProvider {
    client: StripeClient,
}

impl StripeProvider {
    /// Stripe at `base` (`https://api.stripe.com` or a local Stripe-shaped server).
    pub fn new(base: &str, secret_key: Secret, timeout: Duration) -> Result<Self, StripeError> {
        Ok(Self { client: StripeClient::new(base, secret_key, timeout)? })
    }

    /// Creates the Customer of a paying account (`metadata[account_id]`); the caller keeps its
    /// id so there is one per account.
    pub async fn create_customer(&self, account: Uuid) -> Result<String, StripeError> {
        let form = vec![(field("metadata", "account_id"), account.to_string())];
        let customer = self.client.post("customers", Some(&format!("customer-{account}")), &form).await?;
        id_of(&customer)
    }

    /// Creates and confirms a PaymentIntent off-session for `customer` with its saved
    /// `payment_method`; `key` is the Stripe `Idempotency-Key` (derived from the funding's key).
    pub async fn confirm_payment(
        &self,
        key: &str,
        customer: &str,
        payment_method: &str,
        cents: i64,
        currency: &str,
        metadata: &[(&str, String)],
    ) -> Result<Payment, StripeError> {
        let mut form = vec![
            ("amount".to_owned(), cents.to_string()),
            ("currency".to_owned(), currency.to_lowercase()),
            ("customer".to_owned(), customer.to_owned()),
            ("payment_method".to_owned(), payment_method.to_owned()),
            ("confirm".to_owned(), "true".to_owned()),
            ("off_session".to_owned(), "true".to_owned()),
        ];
        form.extend(metadata.iter().map(|(k, v)| (field("metadata", k), v.clone())));
        match self.client.post("payment_intents", Some(key), &form).await {
            Ok(intent) => Ok(payment_of(&intent)),
            Err(StripeError::Api { kind, message, decline_code, .. }) if kind == "card_error" => {
                Ok(Payment::Declined(reason(&message, decline_code.as_deref())))
            }
            Err(error) => Err(error),
        }
    }

    /// A PaymentIntent as Stripe has it now.
    pub async fn payment_intent(&self, id: &str) -> Result<Value, StripeError> {
        self.client.get(&format!("payment_intents/{id}"), &[]).await
    }
}

/// Whether an error status is Stripe refusing the request, not "no answer yet": 4xx except 409
/// (another request with the same key is still running) and 429 (rate limited), which are
/// retried with the same key like a lost answer.
fn refusal(status: u16) -> bool {
    status < 500 && status != 409 && status != 429
}

/// A card error's text: Stripe's message and, when given, the decline code.
fn reason(message: &str, decline_code: Option<&str>) -> String {
    match decline_code {
        Some(code) => format!("{message} ({code})"),
        None => message.to_owned(),
    }
}

/// What a PaymentIntent object says about the payment.
pub fn payment_of(intent: &Value) -> Payment {
    let id = intent["id"].as_str().unwrap_or_default().to_owned();
    match intent["status"].as_str() {
        Some("succeeded") => Payment::Succeeded(id),
        Some("processing") => Payment::Pending(id),
        _ => Payment::Declined(
            intent["last_payment_error"]["message"]
                .as_str()
                .map_or_else(|| "the payment method needs the customer's action".to_owned(), str::to_owned),
        ),
    }
}

fn id_of(object: &Value) -> Result<String, StripeError> {
    object["id"]
        .as_str()
        .map(str::to_owned)
        .ok_or_else(|| StripeError::Unreachable(format!("Stripe answered an object without an id: {object}")))
}

impl From<StripeError> for ChargeError {
    fn from(error: StripeError) -> Self {
        match error {
            StripeError::Api { kind, message, .. } if kind == "idempotency_error" => Self::KeyReused(message),
            StripeError::Api { status, message, .. } if refusal(status) => Self::Declined(message),
            StripeError::Api { message, .. } => Self::Unavailable(message),
            StripeError::Unreachable(message) => Self::Unavailable(message),
        }
    }
}

impl PaymentProvider for StripeProvider {
    fn name(&self) -> &'static str {
        "stripe"
    }

    fn needs_payment_method(&self) -> bool {
        true
    }

    fn create_customer(&self, payer: Uuid) -> BoxFuture<'_, Result<Option<String>, ChargeError>> {
        async move { Ok(Some(StripeProvider::create_customer(self, payer).await?)) }.boxed()
    }

    fn charge(&self, request: ChargeRequest) -> BoxFuture<'_, Result<Charged, ChargeError>> {
        async move {
            let (Some(customer), Some(method)) = (request.customer.as_deref(), request.payment_method.as_deref())
            else {
                return Err(ChargeError::Declined("a Stripe charge needs a customer and a payment method".into()));
            };
            let metadata = [("contract_id", request.contract.to_string()), ("account_id", request.payer.to_string())];
            match self
                .confirm_payment(&request.key, customer, method, request.cents, &request.currency, &metadata)
                .await?
            {
                Payment::Succeeded(id) => Ok(Charged::Settled(id)),
                Payment::Pending(id) => Ok(Charged::Pending(id)),
                Payment::Declined(reason) => Err(ChargeError::Declined(reason)),
            }
        }
        .boxed()
    }

    fn void(&self, reference: &str) -> BoxFuture<'_, ()> {
        let reference = reference.to_owned();
        async move {
            let form = vec![("payment_intent".to_owned(), reference.clone())];
            if let Err(error) = self.client.post("refunds", Some(&format!("void-{reference}")), &form).await {
                tracing::error!(payment_intent = %reference, %error, "refunding an unbooked charge failed; reconcile");
            }
        }
        .boxed()
    }

    fn needs_payout_account(&self) -> bool {
        true
    }

    fn payout(&self, request: PayoutRequest) -> BoxFuture<'_, Result<Sent, Declined>> {
        async move {
            let Some(destination) = request.destination.clone() else {
                return Err(Declined("no connected payout account to send the withdrawal to".into()));
            };
            let source = match &request.source_payment {
                Some(intent) => {
                    self.payment_intent(intent).await.ok().and_then(|i| i["latest_charge"].as_str().map(str::to_owned))
                }
                None => None,
            };
            let mut form = vec![
                ("amount".to_owned(), request.cents.to_string()),
                ("currency".to_owned(), request.currency.to_lowercase()),
                ("destination".to_owned(), destination),
                ("transfer_group".to_owned(), request.key.clone()),
                (field("metadata", "payout_id"), request.key.clone()),
            ];
            if let Some(charge) = source {
                form.push(("source_transaction".to_owned(), charge));
            }
            let transfer = match self.client.post("transfers", Some(&format!("transfer-{}", request.key)), &form).await
            {
                Ok(transfer) => transfer,
                Err(StripeError::Api { status, message, .. }) if refusal(status) => return Err(Declined(message)),
                Err(error) => return Ok(Sent::Unanswered(error.to_string())),
            };
            let transfer = id_of(&transfer).map_err(|e| Declined(e.to_string()))?;
            self.bank_payout(&request, &transfer).await
        }
        .boxed()
    }

    fn find_payout(&self, request: PayoutRequest) -> BoxFuture<'_, Option<Result<Sent, Declined>>> {
        async move {
            let query = [("transfer_group".to_owned(), request.key.clone())];
            let transfers = match self.client.list_all("transfers", &query).await {
                Ok(transfers) => transfers,
                Err(error) => return Some(Ok(Sent::Unanswered(error.to_string()))),
            };
            let transfer = transfers.into_iter().next()?;
            if transfer["reversed"].as_bool() == Some(true) {
                return Some(Err(Declined("the transfer was reversed".into())));
            }
            let id = transfer["id"].as_str()?.to_owned();
            // The bank payout goes on the account the transfer went to, whatever the payee's now.
            let mut request = request;
            request.destination = transfer["destination"].as_str().map(str::to_owned).or(request.destination);
            Some(self.bank_payout(&request, &id).await)
        }
        .boxed()
    }

    fn reverse_payout(&self, key: &str, reference: &str) -> BoxFuture<'_, Result<(), ChargeError>> {
        let (key, reference) = (key.to_owned(), reference.to_owned());
        async move {
            let form = vec![(field("metadata", "payout_id"), key.clone())];
            match self
                .client
                .post(&format!("transfers/{reference}/reversals"), Some(&format!("reversal-{key}")), &form)
                .await
            {
                Ok(_) => Ok(()),
                // Reversed already (in the dashboard, or by an earlier delivery): nothing left.
                Err(StripeError::Api { status: 400, ref message, .. }) if message.contains("reversed") => Ok(()),
                Err(error) => Err(error.into()),
            }
        }
        .boxed()
    }

    fn connect_payout_account(
        &self,
        payee: Uuid,
        existing: Option<String>,
        return_url: &str,
        refresh_url: &str,
    ) -> BoxFuture<'_, Result<Onboarding, Declined>> {
        let (return_url, refresh_url) = (return_url.to_owned(), refresh_url.to_owned());
        async move {
            let declined = |e: StripeError| Declined(e.to_string());
            let (account, ready) = match existing {
                Some(account) => {
                    let found = self.client.get(&format!("accounts/{account}"), &[]).await.map_err(declined)?;
                    (account, account_ready(&found))
                }
                None => {
                    let form = vec![
                        ("type".to_owned(), "express".to_owned()),
                        ("capabilities[transfers][requested]".to_owned(), "true".to_owned()),
                        ("settings[payouts][schedule][interval]".to_owned(), "manual".to_owned()),
                        (field("metadata", "profile_id"), payee.to_string()),
                    ];
                    let created = self
                        .client
                        .post("accounts", Some(&format!("account-{payee}")), &form)
                        .await
                        .map_err(declined)?;
                    (id_of(&created).map_err(declined)?, account_ready(&created))
                }
            };
            let form = vec![
                ("account".to_owned(), account.clone()),
                ("refresh_url".to_owned(), refresh_url),
                ("return_url".to_owned(), return_url),
                ("type".to_owned(), "account_onboarding".to_owned()),
            ];
            let link = self.client.post("account_links", None, &form).await.map_err(declined)?;
            let url = link["url"]
                .as_str()
                .map(str::to_owned)
                .ok_or_else(|| Declined("Stripe answered an account link without a url".into()))?;
            Ok(Onboarding { account, url, ready })
        }
        .boxed()
    }

    fn refund(
        &self,
        key: &str,
        payment: &str,
        cents: i64,
        _currency: &str,
    ) -> BoxFuture<'_, Result<String, ChargeError>> {
        let form = vec![
            ("payment_intent".to_owned(), payment.to_owned()),
            ("amount".to_owned(), cents.to_string()),
            (field("metadata", "refund_id"), key.to_owned()),
        ];
        let (ours, payment) = (key.to_owned(), payment.to_owned());
        let key = format!("refund-{key}");
        async move {
            // A refund made earlier under this id (its idempotency key may have expired since):
            // answered from the PaymentIntent's refunds, never made twice.
            let query = [("payment_intent".to_owned(), payment)];
            let made = self.client.list_all("refunds", &query).await?;
            if let Some(found) = made.iter().find(|r| r["metadata"]["refund_id"].as_str() == Some(ours.as_str())) {
                return Ok(id_of(found)?);
            }
            let refund = self.client.post("refunds", Some(&key), &form).await?;
            Ok(id_of(&refund)?)
        }
        .boxed()
    }

    fn list_objects(
        &self,
        since: chrono::DateTime<chrono::Utc>,
    ) -> BoxFuture<'_, Result<Option<Vec<ProviderObject>>, ChargeError>> {
        async move {
            let query = [("created[gte]".to_owned(), since.timestamp().to_string())];
            let mut objects = Vec::new();
            for (path, kind) in [("payment_intents", "payment"), ("transfers", "transfer"), ("refunds", "refund")] {
                for object in self.client.list_all(path, &query).await? {
                    objects.push(provider_object(kind, &object));
                }
            }
            Ok(Some(objects))
        }
        .boxed()
    }
}

impl StripeProvider {
    /// Pays a transferred withdrawal out of the connected account to its bank (the account's
    /// payouts are manual, so each withdrawal is one Stripe payout tagged with our id). A
    /// refusal takes the transfer back, so the money is the platform's again.
    async fn bank_payout(&self, request: &PayoutRequest, transfer: &str) -> Result<Sent, Declined> {
        let Some(account) = request.destination.as_deref() else {
            return Err(Declined("no connected payout account to send the withdrawal to".into()));
        };
        let form = vec![
            ("amount".to_owned(), request.cents.to_string()),
            ("currency".to_owned(), request.currency.to_lowercase()),
            (field("metadata", "payout_id"), request.key.clone()),
        ];
        match self.client.post_on(Some(account), "payouts", Some(&format!("payout-{}", request.key)), &form).await {
            Ok(_) => Ok(Sent::InFlight(transfer.to_owned())),
            Err(StripeError::Api { status, message, .. }) if refusal(status) => {
                match PaymentProvider::reverse_payout(self, &request.key, transfer).await {
                    Ok(()) => Err(Declined(message)),
                    Err(error) => {
                        Ok(Sent::Unanswered(format!("{message}; taking the transfer back failed: {error:?}")))
                    }
                }
            }
            Err(error) => Ok(Sent::Unanswered(error.to_string())),
        }
    }
}

/// Whether a connected account may receive payouts (onboarding done).
pub fn account_ready(account: &Value) -> bool {
    account["payouts_enabled"].as_bool() == Some(true) && account["details_submitted"].as_bool() == Some(true)
}

/// A listed Stripe object as reconciliation compares it.
fn provider_object(kind: &'static str, object: &Value) -> ProviderObject {
    let status = match (kind, object["status"].as_str()) {
        ("transfer", _) if object["reversed"].as_bool() == Some(true) => "REVERSED",
        ("transfer", _) => "SENT",
        (_, Some("succeeded")) => "SUCCEEDED",
        (_, Some("processing" | "pending" | "requires_action")) => "PENDING",
        _ => "FAILED",
    };
    ProviderObject {
        kind,
        id: object["id"].as_str().unwrap_or_default().to_owned(),
        cents: object["amount"].as_i64().unwrap_or_default(),
        currency: object["currency"].as_str().unwrap_or_default().to_uppercase(),
        status: status.to_owned(),
    }
}
