//! Real payments through Stripe, against a Stripe-shaped server (`fake_stripe`): a saved card
//! funds a contract once whatever the retries, a decline moves nothing, an answer lost on the
//! way is found by the retry, a bank debit is PENDING until its signed webhook, and webhooks
//! that are forged, stale, repeated, late or out of order apply nothing more.
use serde_json::{Value, json};

use self::fake_stripe::{FakeStripe, WEBHOOK_SECRET, event, signature};
use crate::{
    helpers::{TestApp, TestUser, error_code, error_field, spawn_app_with},
    work::contract,
};

mod fake_stripe;
mod payouts;

const FUND: &str = "mutation($i: FundContractInput!) { fundContract(input: $i) { fundingId status transactionId replayed amount { amountCents } } }";
const ESCROW: &str = "query($id: ID!) { contract(id: $id) { status escrow { funded { amountCents } refunded { amountCents } remaining { amountCents } pending { amountCents } } } }";

async fn stripe_app() -> (TestApp, FakeStripe) {
    let fake = FakeStripe::start().await;
    let base = fake.base.clone();
    let app = spawn_app_with(move |c| {
        c.payments.provider = semasocial::config::ProviderKind::Stripe;
        c.payments.stripe.secret_key = Some(semasocial::config::Secret::new(fake_stripe::SECRET_KEY));
        c.payments.stripe.webhook_secret = Some(semasocial::config::Secret::new(WEBHOOK_SECRET));
        c.payments.stripe.api_base = base;
    })
    .await;
    (app, fake)
}

async fn fund(app: &TestApp, who: &TestUser, contract: &str, cents: i64, method: Option<&str>, key: &str) -> Value {
    let input =
        json!({ "contractId": contract, "amountCents": cents, "idempotencyKey": key, "paymentMethodId": method });
    app.gql(FUND, json!({ "i": input }), Some(&who.access_token)).await
}

async fn escrow(app: &TestApp, who: &TestUser, contract: &str) -> Value {
    let body = app.gql(ESCROW, json!({ "id": contract }), Some(&who.access_token)).await;
    let e = &body["data"]["contract"]["escrow"];
    assert!(e.is_object(), "{body}");
    json!({ "funded": e["funded"]["amountCents"], "refunded": e["refunded"]["amountCents"],
            "remaining": e["remaining"]["amountCents"], "pending": e["pending"]["amountCents"] })
}

/// Posts `body` to the webhook endpoint with `header` as its Stripe-Signature.
async fn deliver(app: &TestApp, body: &[u8], header: Option<&str>) -> (u16, Value) {
    let mut request = app.client.post(format!("{}/webhooks/stripe", app.address)).body(body.to_vec());
    if let Some(header) = header {
        request = request.header("Stripe-Signature", header);
    }
    let response = request.send().await.unwrap();
    let status = response.status().as_u16();
    (status, response.json().await.unwrap_or(Value::Null))
}

/// Delivers `event` signed as Stripe signs it, now.
async fn deliver_signed(app: &TestApp, event: &Value) -> (u16, Value) {
    let body = serde_json::to_vec(event).unwrap();
    let header = signature(&body, WEBHOOK_SECRET, app.clock_now().timestamp());
    deliver(app, &body, Some(&header)).await
}

/// The money state a refusal must leave as it was.
async fn books(app: &TestApp) -> Value {
    json!({
        "transactions": app.count("ledger_transactions").await,
        "fundings": app.count("fundings").await,
        "pending": app.count("fundings WHERE status = 'PENDING'").await,
        "events": app.count("provider_events").await,
    })
}

#[tokio::test]
async fn a_saved_card_funds_a_contract_once_whatever_the_retries() {
    let (app, fake) = stripe_app().await;
    let ada = app.register("ada").await;
    let c = contract(&app, &ada, None, 10_000).await;

    let before = books(&app).await;
    let missing = fund(&app, &ada, &c, 5_000, None, "k-0").await;
    assert_eq!((error_code(&missing), error_field(&missing)), ("BAD_USER_INPUT", "paymentMethodId"), "{missing}");
    assert_eq!(books(&app).await, before);
    assert!(fake.seen("/v1/payment_intents").is_empty(), "nothing asked of Stripe");

    let first = fund(&app, &ada, &c, 5_000, Some("pm_card_visa"), "k-1").await;
    let f = &first["data"]["fundContract"];
    assert_eq!((f["status"].as_str(), f["replayed"].as_bool()), (Some("SUCCEEDED"), Some(false)), "{first}");
    assert!(f["transactionId"].is_string());
    assert_eq!(
        escrow(&app, &ada, &c).await,
        json!({ "funded": 5_000, "refunded": 0, "remaining": 5_000, "pending": 0 })
    );

    // The request Stripe received: its documented form, off-session, with our metadata and an
    // Idempotency-Key derived from ours.
    let intents = fake.seen("/v1/payment_intents");
    assert_eq!(intents.len(), 1);
    let form: std::collections::HashMap<_, _> = intents[0].form.iter().cloned().collect();
    let customers = fake.objects("cus_");
    assert_eq!(customers.len(), 1);
    assert_eq!(customers[0]["metadata"]["account_id"], ada.profile_id.as_str());
    for (k, v) in [
        ("amount", "5000"),
        ("currency", "eur"),
        ("payment_method", "pm_card_visa"),
        ("confirm", "true"),
        ("off_session", "true"),
        ("customer", customers[0]["id"].as_str().unwrap()),
        ("metadata[contract_id]", c.as_str()),
    ] {
        assert_eq!(form.get(k).map(String::as_str), Some(v), "{k} in {form:?}");
    }
    let key = intents[0].idempotency_key.clone().expect("an Idempotency-Key");
    assert!(key.ends_with(":k-1") && key.contains(&c), "{key}");

    // A replay answers the first funding and asks Stripe nothing.
    let again = fund(&app, &ada, &c, 5_000, Some("pm_card_visa"), "k-1").await;
    assert_eq!(again["data"]["fundContract"]["replayed"], true, "{again}");
    assert_eq!(again["data"]["fundContract"]["fundingId"], f["fundingId"]);
    assert_eq!(fake.seen("/v1/payment_intents").len(), 1);
    // Another funding keeps the same customer.
    let second = fund(&app, &ada, &c, 1_000, Some("pm_card_visa"), "k-2").await;
    assert_eq!(second["data"]["fundContract"]["status"], "SUCCEEDED", "{second}");
    assert_eq!((fake.objects("cus_").len(), fake.objects("pi_").len()), (1, 2));
    app.assert_ledger_sound().await;
}

#[tokio::test]
async fn a_declined_card_is_a_conflict_with_the_reason_and_moves_nothing() {
    let (app, fake) = stripe_app().await;
    let ada = app.register("ada").await;
    let c = contract(&app, &ada, None, 10_000).await;
    let before = books(&app).await;
    for (method, reason) in [
        ("pm_card_chargeDeclined", "Your card was declined."),
        ("pm_card_chargeDeclinedInsufficientFunds", "insufficient_funds"),
    ] {
        let body = fund(&app, &ada, &c, 5_000, Some(method), method).await;
        assert_eq!(error_code(&body), "CONFLICT", "{body}");
        let message = body["errors"][0]["message"].as_str().unwrap_or_default();
        assert!(message.contains(reason), "{message}");
    }
    let unknown = fund(&app, &ada, &c, 5_000, Some("pm_nothing"), "k-3").await;
    assert_eq!(error_code(&unknown), "CONFLICT", "{unknown}");
    assert_eq!(books(&app).await, before);
    assert_eq!(escrow(&app, &ada, &c).await, json!({ "funded": 0, "refunded": 0, "remaining": 0, "pending": 0 }));
    assert_eq!(fake.objects("pi_").len(), 2, "Stripe keeps its declined PaymentIntents; we book none");
}

#[tokio::test]
async fn an_answer_lost_on_the_way_is_found_by_the_retry_and_charged_once() {
    let (app, fake) = stripe_app().await;
    let ada = app.register("ada").await;
    let c = contract(&app, &ada, None, 10_000).await;
    // The customer first, so the lost answer is the PaymentIntent's.
    assert_eq!(
        fund(&app, &ada, &c, 1_000, Some("pm_card_visa"), "k-0").await["data"]["fundContract"]["status"],
        "SUCCEEDED"
    );
    let before = books(&app).await;
    fake.lose_next_answer();
    let lost = fund(&app, &ada, &c, 5_000, Some("pm_card_visa"), "k-1").await;
    assert_eq!(error_code(&lost), "CONFLICT", "{lost}");
    assert!(lost["errors"][0]["message"].as_str().unwrap_or_default().contains("same idempotencyKey"), "{lost}");
    assert_eq!(books(&app).await, before, "nothing booked");
    assert_eq!(fake.objects("pi_").len(), 2, "but Stripe charged");

    let retry = fund(&app, &ada, &c, 5_000, Some("pm_card_visa"), "k-1").await;
    assert_eq!(retry["data"]["fundContract"]["status"], "SUCCEEDED", "{retry}");
    assert_eq!(fake.objects("pi_").len(), 2, "the retry found the first charge");
    assert_eq!(escrow(&app, &ada, &c).await["funded"], 6_000);
    // Retrying a lost request with other parameters under its key: Stripe's idempotency error,
    // told as such, and nothing booked.
    fake.lose_next_answer();
    assert_eq!(error_code(&fund(&app, &ada, &c, 1_000, Some("pm_card_visa"), "k-5").await), "CONFLICT");
    let before = books(&app).await;
    let other = fund(&app, &ada, &c, 2_000, Some("pm_card_visa"), "k-5").await;
    assert_eq!(error_code(&other), "CONFLICT", "{other}");
    assert!(other["errors"][0]["message"].as_str().unwrap_or_default().contains("new key"), "{other}");
    assert_eq!(books(&app).await, before);
    app.assert_ledger_sound().await;
}

#[tokio::test]
async fn a_bank_debit_is_pending_until_its_signed_webhook_and_applies_once() {
    let (app, fake) = stripe_app().await;
    let ada = app.register("ada").await;
    let c = contract(&app, &ada, None, 10_000).await;
    let body = fund(&app, &ada, &c, 6_000, Some("pm_bank_debit"), "k-1").await;
    let f = &body["data"]["fundContract"];
    assert_eq!((f["status"].as_str(), &f["transactionId"]), (Some("PENDING"), &Value::Null), "{body}");
    assert_eq!(escrow(&app, &ada, &c).await, json!({ "funded": 0, "refunded": 0, "remaining": 0, "pending": 6_000 }));
    // Pending money counts against the budget.
    let over = fund(&app, &ada, &c, 5_000, Some("pm_card_visa"), "k-2").await;
    assert_eq!((error_code(&over), error_field(&over)), ("BAD_USER_INPUT", "amountCents"), "{over}");

    let intent = fake.objects("pi_")[0]["id"].as_str().unwrap().to_owned();
    let succeeded = fake.settle(&intent, true);
    let (status, answer) = deliver_signed(&app, &succeeded).await;
    assert_eq!((status, answer["outcome"].as_str()), (200, Some("applied")), "{answer}");
    assert_eq!(
        escrow(&app, &ada, &c).await,
        json!({ "funded": 6_000, "refunded": 0, "remaining": 6_000, "pending": 0 })
    );
    let replay = fund(&app, &ada, &c, 6_000, Some("pm_bank_debit"), "k-1").await;
    assert_eq!(replay["data"]["fundContract"]["status"], "SUCCEEDED", "a replay tells where it stands: {replay}");
    assert!(replay["data"]["fundContract"]["transactionId"].is_string());

    // The same event again, and a late contradicting one, change nothing.
    let settled = books(&app).await;
    let (status, answer) = deliver_signed(&app, &succeeded).await;
    assert_eq!((status, answer["outcome"].as_str()), (200, Some("duplicate")), "{answer}");
    let late = event(
        "payment_intent.payment_failed",
        json!({ "id": intent, "object": "payment_intent", "metadata": { "contract_id": c } }),
    );
    let (status, answer) = deliver_signed(&app, &late).await;
    assert_eq!((status, answer["outcome"].as_str()), (200, Some("ignored")), "{answer}");
    let unknown = event("customer.updated", json!({ "id": "cus_1", "object": "customer" }));
    assert_eq!(deliver_signed(&app, &unknown).await.0, 200);
    let after = books(&app).await;
    assert_eq!(
        (&after["transactions"], &after["fundings"], &after["pending"]),
        (&settled["transactions"], &settled["fundings"], &settled["pending"])
    );
    assert_eq!(escrow(&app, &ada, &c).await["funded"], 6_000);
    app.assert_ledger_sound().await;
}

#[tokio::test]
async fn forged_stale_or_missing_signatures_are_refused_and_apply_nothing() {
    let (app, fake) = stripe_app().await;
    let ada = app.register("ada").await;
    let c = contract(&app, &ada, None, 10_000).await;
    fund(&app, &ada, &c, 6_000, Some("pm_bank_debit"), "k-1").await;
    let intent = fake.objects("pi_")[0]["id"].as_str().unwrap().to_owned();
    let succeeded = fake.settle(&intent, true);
    let body = serde_json::to_vec(&succeeded).unwrap();
    let now = app.clock_now().timestamp();
    let mut tampered = succeeded.clone();
    tampered["data"]["object"]["amount"] = json!(1);
    let tampered = serde_json::to_vec(&tampered).unwrap();
    let before = books(&app).await;
    for (why, payload, header) in [
        ("no header", &body, None),
        ("another secret", &body, Some(signature(&body, "whsec_forged", now))),
        ("ten minutes old", &body, Some(signature(&body, WEBHOOK_SECRET, now - 600))),
        ("body changed after signing", &tampered, Some(signature(&body, WEBHOOK_SECRET, now))),
        ("no v1", &body, Some(format!("t={now}"))),
    ] {
        let (status, answer) = deliver(&app, payload, header.as_deref()).await;
        assert_eq!(status, 400, "{why}: {answer}");
    }
    assert_eq!(books(&app).await, before, "nothing applied, no event recorded");
    assert_eq!(escrow(&app, &ada, &c).await["pending"], 6_000);
    assert_eq!(deliver_signed(&app, &succeeded).await.0, 200);
    assert_eq!(escrow(&app, &ada, &c).await["funded"], 6_000);
}

#[tokio::test]
async fn a_failed_debit_moves_nothing_and_tells_the_client() {
    let (app, fake) = stripe_app().await;
    let ada = app.register("ada").await;
    let c = contract(&app, &ada, None, 10_000).await;
    fund(&app, &ada, &c, 6_000, Some("pm_bank_debit"), "k-1").await;
    let intent = fake.objects("pi_")[0]["id"].as_str().unwrap().to_owned();
    let transactions = app.count("ledger_transactions").await;
    let (status, _) = deliver_signed(&app, &fake.settle(&intent, false)).await;
    assert_eq!(status, 200);
    assert_eq!(escrow(&app, &ada, &c).await, json!({ "funded": 0, "refunded": 0, "remaining": 0, "pending": 0 }));
    assert_eq!(app.count("ledger_transactions").await, transactions);
    assert_eq!(app.count("fundings WHERE status = 'FAILED' AND failure_reason LIKE '%could not be debited%'").await, 1);
    assert_eq!(app.inbox(&ada).await.first().map(String::as_str), Some("contract.funding_failed"));
    let replay = fund(&app, &ada, &c, 6_000, Some("pm_bank_debit"), "k-1").await;
    assert_eq!(replay["data"]["fundContract"]["status"], "FAILED", "{replay}");
}

#[tokio::test]
async fn an_event_about_a_charge_not_recorded_yet_is_asked_again() {
    let (app, _fake) = stripe_app().await;
    let ours = event(
        "payment_intent.succeeded",
        json!({ "id": "pi_unrecorded", "object": "payment_intent", "metadata": { "contract_id": uuid::Uuid::new_v4().to_string() } }),
    );
    let (status, _) = deliver_signed(&app, &ours).await;
    assert_eq!(status, 409, "not acknowledged: Stripe delivers it again");
    assert_eq!(app.count("provider_events").await, 0);
    let theirs =
        event("payment_intent.succeeded", json!({ "id": "pi_elsewhere", "object": "payment_intent", "metadata": {} }));
    let (status, answer) = deliver_signed(&app, &theirs).await;
    assert_eq!((status, answer["outcome"].as_str()), (200, Some("ignored")));
}

#[tokio::test]
async fn money_that_arrives_after_its_contract_ended_goes_straight_back() {
    let (app, fake) = stripe_app().await;
    let ada = app.register("ada").await;
    let c = contract(&app, &ada, None, 10_000).await;
    fund(&app, &ada, &c, 6_000, Some("pm_bank_debit"), "k-1").await;
    let cancel = app
        .gql(
            "mutation($i: ChangeContractStatusInput!) { changeContractStatus(input: $i) { status } }",
            json!({ "i": { "contractId": c, "action": "CANCEL" } }),
            Some(&ada.access_token),
        )
        .await;
    assert_eq!(cancel["data"]["changeContractStatus"]["status"], "CANCELLED", "{cancel}");
    let intent = fake.objects("pi_")[0]["id"].as_str().unwrap().to_owned();
    assert_eq!(deliver_signed(&app, &fake.settle(&intent, true)).await.0, 200);
    assert_eq!(
        escrow(&app, &ada, &c).await,
        json!({ "funded": 6_000, "refunded": 6_000, "remaining": 0, "pending": 0 })
    );
    app.assert_ledger_sound().await;
}

#[tokio::test]
async fn webhooks_are_refused_where_no_secret_is_configured() {
    let app = crate::helpers::spawn_app().await;
    let e = event("payment_intent.succeeded", json!({ "id": "pi_1" }));
    let body = serde_json::to_vec(&e).unwrap();
    let (status, _) = deliver(&app, &body, Some(&signature(&body, WEBHOOK_SECRET, app.clock_now().timestamp()))).await;
    assert_eq!(status, 404);
}
