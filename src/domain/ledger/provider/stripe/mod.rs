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
use super::{ChargeError, ChargeRequest, Charged, Declined, PaymentProvider};
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
            StripeError::Api { status, message, .. } if status < 500 => Self::Declined(message),
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

    fn payout(
        &self,
        _key: &str,
        _payee: Uuid,
        _cents: i64,
        _currency: &str,
    ) -> BoxFuture<'_, Result<String, Declined>> {
        // Transfers to connected accounts are not built yet: a withdrawal fails and its money
        // is available again.
        async { Err(Declined("withdrawals through Stripe need a connected payout account, not available yet".into())) }
            .boxed()
    }

    fn find_payout(&self, _key: &str) -> BoxFuture<'_, Option<Result<String, Declined>>> {
        async { None }.boxed()
    }
}
