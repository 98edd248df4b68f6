//! Money out through Stripe Connect, against the Stripe-shaped server: a payee connects an
//! Express account and is refused withdrawals until Stripe says it is onboarded; a withdrawal
//! is a Transfer to that account (net amount, currency, our payout id, an idempotency key, the
//! funding charge as `source_transaction`) and a bank payout on it; the payout's webhooks settle
//! it in any order, once; a failure brings the money back. Refunds go back to the client's
//! PaymentIntents oldest first, partial where needed, and `reconcile` finds injected drift.
use std::collections::HashMap;

use serde_json::{Value, json};

use super::{books, deliver_signed, fake_stripe::FakeStripe, stripe_app};
use crate::{
    helpers::{TestApp, TestUser, error_code, error_field, spawn_app},
    money::{BALANCE, accept_outcome, payout, submitted},
};

const CONNECT: &str = "mutation($i: ConnectPayoutAccountInput!) { connectPayoutAccount(input: $i) { onboardingUrl payoutAccount { provider ready } } }";
const ACCOUNT: &str = "{ me { payoutAccount { provider ready } } }";
const PAYOUTS: &str =
    "{ me { payouts(first: 10) { edges { node { id kind status failureReason amount { amountCents } } } } } }";

async fn connect(app: &TestApp, who: &TestUser, return_url: &str) -> Value {
    let input = json!({ "returnUrl": return_url, "refreshUrl": "https://app.example/payouts/refresh" });
    app.gql(CONNECT, json!({ "i": input }), Some(&who.access_token)).await
}

async fn balance(app: &TestApp, who: &TestUser) -> Value {
    let body = app.gql(BALANCE, json!({}), Some(&who.access_token)).await;
    body["data"]["me"]["balance"].clone()
}

fn form(seen: &super::fake_stripe::Seen) -> HashMap<String, String> {
    seen.form.iter().cloned().collect()
}

/// A worker with 9,750 EUR available (10,000 earned, 2.5% fee, hold passed), and the client.
async fn earner(app: &TestApp) -> (TestUser, TestUser) {
    let s = submitted(app, "EUR", 10_000, &[1]).await;
    let accepted = accept_outcome(app, &s, "accept-1").await;
    assert!(accepted["errors"].is_null(), "{accepted}");
    app.clock.advance(chrono::Duration::days(3));
    assert_eq!(app.sweep().await.payouts_available, 1);
    let bob = app.login(&s.workers[0]).await;
    (bob, s.client)
}

/// Connects `who` and completes its onboarding with Stripe's webhook; returns the account id.
async fn onboarded(app: &TestApp, fake: &FakeStripe, who: &TestUser) -> String {
    let connected = connect(app, who, "https://app.example/payouts/done").await;
    assert!(connected["errors"].is_null(), "{connected}");
    let account = fake.objects("acct_").into_iter().find(|a| a["metadata"]["profile_id"] == who.profile_id.as_str());
    let account = account.expect("an account for the payee")["id"].as_str().unwrap().to_owned();
    let (status, body) = deliver_signed(app, &fake.complete_onboarding(&account)).await;
    assert_eq!((status, body["outcome"].as_str()), (200, Some("applied")), "{body}");
    account
}

#[tokio::test]
async fn a_payee_onboards_a_connected_account_and_is_paid_by_transfer_and_bank_payout() {
    let (app, fake) = stripe_app().await;
    let (bob, _) = earner(&app).await;
    let before = (books(&app).await, balance(&app, &bob).await);

    // No account yet: refused, nothing moved, nothing asked of Stripe.
    let refused = payout(&app, &bob, 9_000, "EUR", "w-0").await;
    assert_eq!(error_code(&refused), "CONFLICT", "{refused}");
    assert!(refused["errors"][0]["message"].as_str().unwrap().contains("connectPayoutAccount"), "{refused}");
    assert_eq!((books(&app).await, balance(&app, &bob).await), before);
    assert!(fake.seen("/v1/transfers").is_empty());

    let bad = connect(&app, &bob, "javascript:alert(1)").await;
    assert_eq!((error_code(&bad), error_field(&bad)), ("BAD_USER_INPUT", "returnUrl"), "{bad}");
    assert!(fake.seen("/v1/accounts").is_empty());

    // An Express account with manual payouts, and its onboarding link; again: the same account.
    let first = connect(&app, &bob, "https://app.example/payouts/done").await;
    let link = first["data"]["connectPayoutAccount"]["onboardingUrl"].as_str().unwrap_or_else(|| panic!("{first}"));
    assert!(link.starts_with("https://connect.stripe.com/setup/e/acct_"), "{link}");
    assert_eq!(first["data"]["connectPayoutAccount"]["payoutAccount"], json!({ "provider": "stripe", "ready": false }));
    let again = connect(&app, &bob, "https://app.example/payouts/done").await;
    assert!(again["errors"].is_null(), "{again}");
    let accounts = fake.seen("/v1/accounts");
    assert_eq!(accounts.len(), 1, "one account per payee");
    let created = form(&accounts[0]);
    for (k, v) in [
        ("type", "express"),
        ("capabilities[transfers][requested]", "true"),
        ("settings[payouts][schedule][interval]", "manual"),
        ("metadata[profile_id]", bob.profile_id.as_str()),
    ] {
        assert_eq!(created.get(k).map(String::as_str), Some(v), "{k} in {created:?}");
    }
    let links = fake.seen("/v1/account_links");
    assert_eq!(links.len(), 2);
    assert_eq!(form(&links[1]).get("return_url").map(String::as_str), Some("https://app.example/payouts/done"));

    // Not onboarded yet: still refused.
    let early = payout(&app, &bob, 9_000, "EUR", "w-1").await;
    assert_eq!(error_code(&early), "CONFLICT", "{early}");
    assert!(early["errors"][0]["message"].as_str().unwrap().contains("onboarding"), "{early}");
    assert_eq!(balance(&app, &bob).await, before.1);

    // Stripe says it is ready (once: the repeat is a duplicate).
    let account = fake.objects("acct_")[0]["id"].as_str().unwrap().to_owned();
    let ready = fake.complete_onboarding(&account);
    assert_eq!(deliver_signed(&app, &ready).await.1["outcome"], "applied");
    assert_eq!(deliver_signed(&app, &ready).await.1["outcome"], "duplicate");
    let me = app.gql(ACCOUNT, json!({}), Some(&bob.access_token)).await;
    assert_eq!(me["data"]["me"]["payoutAccount"], json!({ "provider": "stripe", "ready": true }), "{me}");

    // The withdrawal: a Transfer of the amount to the account, tied to the funding's charge,
    // then a bank payout on the account; PROCESSING until Stripe's word.
    let sent = payout(&app, &bob, 9_000, "EUR", "w-2").await;
    let p = &sent["data"]["requestPayout"];
    assert_eq!(p["status"], "PROCESSING", "{sent}");
    let payout_id = p["id"].as_str().unwrap().to_owned();
    let transfers = fake.seen("/v1/transfers");
    assert_eq!(transfers.len(), 1);
    let transfer = form(&transfers[0]);
    let charge = fake.objects("pi_")[0]["latest_charge"].as_str().unwrap().to_owned();
    for (k, v) in [
        ("amount", "9000"),
        ("currency", "eur"),
        ("destination", account.as_str()),
        ("transfer_group", payout_id.as_str()),
        ("metadata[payout_id]", payout_id.as_str()),
        ("source_transaction", charge.as_str()),
    ] {
        assert_eq!(transfer.get(k).map(String::as_str), Some(v), "{k} in {transfer:?}");
    }
    assert_eq!(transfers[0].idempotency_key.as_deref(), Some(format!("transfer-{payout_id}").as_str()));
    let bank = fake.seen("/v1/payouts");
    assert_eq!(bank.len(), 1);
    assert_eq!(bank[0].account.as_deref(), Some(account.as_str()), "made on the connected account");
    assert_eq!(form(&bank[0]).get("metadata[payout_id]"), Some(&payout_id));
    assert_eq!(
        balance(&app, &bob).await,
        json!([{ "currency": "EUR", "pending": 0, "available": 750, "inFlight": 9_000, "paidOut": 0 }])
    );

    // A payout on another connected account that carries our payout id settles nothing.
    let mut elsewhere = fake.objects("po_")[0].clone();
    elsewhere["id"] = json!("po_elsewhere");
    elsewhere["status"] = json!("paid");
    let elsewhere = super::fake_stripe::connect_event("payout.paid", elsewhere, "acct_someone_else");
    assert_eq!(deliver_signed(&app, &elsewhere).await.1["outcome"], "ignored");
    assert_eq!(balance(&app, &bob).await[0]["inFlight"], 9_000);

    // The bank payout arrives: PAID, once.
    let po = fake.objects("po_")[0]["id"].as_str().unwrap().to_owned();
    let paid = fake.finish_payout(&po, true);
    assert_eq!(deliver_signed(&app, &paid).await.1["outcome"], "applied");
    assert_eq!(deliver_signed(&app, &paid).await.1["outcome"], "duplicate");
    let payouts = app.gql(PAYOUTS, json!({}), Some(&bob.access_token)).await;
    assert_eq!(payouts["data"]["me"]["payouts"]["edges"][0]["node"]["status"], "PAID", "{payouts}");
    assert_eq!(
        balance(&app, &bob).await,
        json!([{ "currency": "EUR", "pending": 0, "available": 750, "inFlight": 0, "paidOut": 9_000 }])
    );
    assert!(app.inbox(&bob).await.iter().any(|a| a == "payout.paid"));
    app.assert_ledger_sound().await;

    // Days later the bank returns it: the transfer is taken back and the money is available again.
    let returned = fake.finish_payout(&po, false);
    assert_eq!(deliver_signed(&app, &returned).await.1["outcome"], "applied");
    let transfer = fake.objects("tr_")[0]["id"].as_str().unwrap().to_owned();
    assert_eq!(fake.seen(&format!("/v1/transfers/{transfer}/reversals")).len(), 1);
    assert_eq!(
        balance(&app, &bob).await,
        json!([{ "currency": "EUR", "pending": 0, "available": 9_750, "inFlight": 0, "paidOut": 0 }])
    );
    let payouts = app.gql(PAYOUTS, json!({}), Some(&bob.access_token)).await;
    assert_eq!(payouts["data"]["me"]["payouts"]["edges"][0]["node"]["status"], "FAILED", "{payouts}");
    assert_eq!(deliver_signed(&app, &returned).await.1["outcome"], "duplicate");
    app.assert_ledger_sound().await;
}

#[tokio::test]
async fn a_failure_about_a_withdrawal_whose_transfer_is_not_recorded_yet_is_asked_again() {
    let (app, fake) = stripe_app().await;
    let (bob, _) = earner(&app).await;
    let account = onboarded(&app, &fake, &bob).await;

    // Stripe makes the transfer but its answer is lost: the withdrawal stays PROCESSING.
    fake.lose_next_answer();
    let sent = payout(&app, &bob, 4_000, "EUR", "w-1").await;
    let p = &sent["data"]["requestPayout"];
    assert_eq!(p["status"], "PROCESSING", "{sent}");
    let payout_id = p["id"].as_str().unwrap().to_owned();
    let in_flight = json!([{ "currency": "EUR", "pending": 0, "available": 5_750, "inFlight": 4_000, "paidOut": 0 }]);
    assert_eq!(balance(&app, &bob).await, in_flight);

    // A failure arriving now cannot take the transfer back yet: 409, nothing applied.
    let failed = super::fake_stripe::connect_event(
        "payout.failed",
        json!({ "id": "po_early", "object": "payout", "status": "failed", "amount": 4_000, "currency": "eur",
                "failure_code": "account_closed", "failure_message": "The bank account has been closed.",
                "metadata": { "payout_id": payout_id } }),
        &account,
    );
    let (status, _) = deliver_signed(&app, &failed).await;
    assert_eq!(status, 409);
    assert_eq!(balance(&app, &bob).await, in_flight);

    // Past the bound the sweep finds the transfer by its group and sends the bank payout.
    app.clock.advance(chrono::Duration::minutes(16));
    let bob = app.login(&bob).await;
    assert_eq!(app.sweep().await.payouts_finished, 1);
    assert_eq!(fake.objects("tr_").len(), 1, "the transfer was found, not made again");
    assert_eq!(fake.seen("/v1/payouts").len(), 1);
    // Delivered again, the failure now takes the transfer back and returns the money.
    let (status, body) = deliver_signed(&app, &failed).await;
    assert_eq!((status, body["outcome"].as_str()), (200, Some("applied")), "{body}");
    let transfer = fake.objects("tr_")[0]["id"].as_str().unwrap().to_owned();
    assert_eq!(fake.seen(&format!("/v1/transfers/{transfer}/reversals")).len(), 1);
    assert_eq!(
        balance(&app, &bob).await,
        json!([{ "currency": "EUR", "pending": 0, "available": 9_750, "inFlight": 0, "paidOut": 0 }])
    );
    app.assert_ledger_sound().await;
}

#[tokio::test]
async fn a_failed_bank_payout_or_transfer_brings_the_money_back_once_whatever_the_order() {
    let (app, fake) = stripe_app().await;
    let (bob, _) = earner(&app).await;
    let account = onboarded(&app, &fake, &bob).await;

    let sent = payout(&app, &bob, 6_000, "EUR", "w-1").await;
    let payout_id = sent["data"]["requestPayout"]["id"].as_str().unwrap_or_else(|| panic!("{sent}")).to_owned();
    let transfer = fake.objects("tr_")[0]["id"].as_str().unwrap().to_owned();
    let po = fake.objects("po_")[0]["id"].as_str().unwrap().to_owned();

    // The bank refuses: FAILED with Stripe's reason, the transfer taken back, the money back.
    let failed = fake.finish_payout(&po, false);
    assert_eq!(deliver_signed(&app, &failed).await.1["outcome"], "applied");
    let reversals = fake.seen(&format!("/v1/transfers/{transfer}/reversals"));
    assert_eq!(reversals.len(), 1, "the transfer is taken back");
    assert_eq!(reversals[0].idempotency_key.as_deref(), Some(format!("reversal-{payout_id}").as_str()));
    let payouts = app.gql(PAYOUTS, json!({}), Some(&bob.access_token)).await;
    let node = &payouts["data"]["me"]["payouts"]["edges"][0]["node"];
    assert_eq!(
        (node["status"].as_str(), node["failureReason"].as_str()),
        (Some("FAILED"), Some("The bank account has been closed.")),
        "{payouts}"
    );
    let back = json!([{ "currency": "EUR", "pending": 0, "available": 9_750, "inFlight": 0, "paidOut": 0 }]);
    assert_eq!(balance(&app, &bob).await, back);
    assert!(app.inbox(&bob).await.iter().any(|a| a == "payout.failed"), "the payee is told");

    // Later words about the same withdrawal (the reversal's own event, a late "paid") change
    // nothing: the money came back once.
    let before = books(&app).await;
    let reversed = fake.reverse_transfer(&transfer);
    assert_eq!(deliver_signed(&app, &reversed).await.1["outcome"], "ignored");
    let late = super::fake_stripe::connect_event("payout.paid", fake.objects("po_")[0].clone(), &account);
    assert_eq!(deliver_signed(&app, &late).await.1["outcome"], "ignored");
    assert_eq!(balance(&app, &bob).await, back);
    let after = books(&app).await;
    assert_eq!(after["transactions"], before["transactions"], "no second movement");

    // A transfer Stripe refuses outright: FAILED at once, nothing left in flight.
    fake.fail_transfers_from_cents(5_000);
    let refused = payout(&app, &bob, 5_500, "EUR", "w-2").await;
    let p = &refused["data"]["requestPayout"];
    assert_eq!(p["status"], "FAILED", "{refused}");
    assert!(p["failureReason"].as_str().unwrap().contains("insufficient available funds"), "{refused}");
    assert_eq!(balance(&app, &bob).await, back);
    assert_eq!(fake.seen("/v1/payouts").len(), 1, "no bank payout for a refused transfer");

    // Out of order: the bank payout's "paid" before the transfer's own event.
    let sent = payout(&app, &bob, 1_000, "EUR", "w-3").await;
    assert_eq!(sent["data"]["requestPayout"]["status"], "PROCESSING", "{sent}");
    let po = fake.seen("/v1/payouts").len();
    assert_eq!(po, 2);
    let newest = fake.objects("po_").into_iter().find(|o| o["amount"] == 1_000).unwrap();
    let paid = fake.finish_payout(newest["id"].as_str().unwrap(), true);
    assert_eq!(deliver_signed(&app, &paid).await.1["outcome"], "applied");
    let created = fake.objects("tr_").into_iter().find(|t| t["amount"] == 1_000).unwrap();
    let transfer_created = super::fake_stripe::event("transfer.created", created);
    assert_eq!(deliver_signed(&app, &transfer_created).await.1["outcome"], "ignored");
    assert_eq!(
        balance(&app, &bob).await,
        json!([{ "currency": "EUR", "pending": 0, "available": 8_750, "inFlight": 0, "paidOut": 1_000 }])
    );
    app.assert_ledger_sound().await;
}

/// A contract of 10,000 EUR funded by two payments of 5,000, one outcome of `spent` worked and
/// accepted (or none when 0), then cancelled or completed.
async fn funded_twice(app: &TestApp) -> (TestUser, String, String) {
    let client = app.register("ada").await;
    let contract = crate::work::contract(app, &client, None, 10_000).await;
    for _ in 0..2 {
        let funded = crate::work::fund(app, &client, &contract, 5_000).await;
        assert!(funded["errors"].is_null(), "{funded}");
    }
    let outcome =
        crate::work::outcome(app, &client, &contract, "Launched", 6_000, json!([{ "description": "Live" }])).await;
    (client, contract, outcome)
}

async fn refunds(app: &TestApp) -> Vec<(i64, String, Option<String>)> {
    use sea_orm::{EntityTrait, QueryOrder};
    let rows = entity::provider_refund::Entity::find()
        .order_by_asc(entity::provider_refund::Column::CreatedAt)
        .all(&app.state.db)
        .await
        .unwrap();
    let fundings = entity::funding::Entity::find().all(&app.state.db).await.unwrap();
    rows.into_iter()
        .map(|r| {
            let intent = fundings.iter().find(|f| f.id == r.funding_id).unwrap().provider_ref.clone();
            (r.amount_cents, format!("{:?}:{intent}", r.status), r.provider_ref)
        })
        .collect()
}

#[tokio::test]
async fn refunds_go_back_to_the_clients_payment_intents_oldest_first_and_survive_a_lost_answer() {
    let (app, fake) = stripe_app().await;
    let (client, contract, _) = funded_twice(&app).await;
    let intents: Vec<String> = {
        let mut pis = fake.objects("pi_");
        pis.sort_by_key(|p| p["id"].as_str().unwrap().to_owned());
        pis.iter().map(|p| p["id"].as_str().unwrap().to_owned()).collect()
    };
    assert_eq!(intents.len(), 2);

    // Stripe's answer to the first refund is lost on the way: it stays PENDING, the second goes.
    fake.lose_next_answer();
    let cancelled = app
        .gql(
            "mutation($i: ChangeContractStatusInput!) { changeContractStatus(input: $i) { status } }",
            json!({ "i": { "contractId": contract, "action": "CANCEL", "idempotencyKey": "cancel-1" } }),
            Some(&client.access_token),
        )
        .await;
    assert_eq!(cancelled["data"]["changeContractStatus"]["status"], "CANCELLED", "{cancelled}");
    let rows = refunds(&app).await;
    assert_eq!(rows.len(), 2, "{rows:?}");
    assert_eq!((rows[0].0, rows[0].1.as_str()), (5_000, format!("Pending:{}", intents[0]).as_str()));
    assert_eq!((rows[1].0, rows[1].1.as_str()), (5_000, format!("Succeeded:{}", intents[1]).as_str()));

    // Not at once (its sender may still be running); two minutes on, the sweep asks again and
    // finds the refund Stripe made (by our refund id), so it is made once.
    assert_eq!(app.sweep().await.refunds_sent, 0);
    app.clock.advance(chrono::Duration::minutes(3));
    assert_eq!(app.sweep().await.refunds_sent, 1);
    assert_eq!(fake.seen("/v1/refunds").len(), 2, "no second refund request");
    let rows = refunds(&app).await;
    assert!(rows.iter().all(|r| r.1.starts_with("Succeeded")), "{rows:?}");
    assert_eq!(fake.objects("re_").len(), 2, "one Stripe refund per payment");
    for seen in fake.seen("/v1/refunds") {
        let f = form(&seen);
        assert!(intents.contains(&f["payment_intent"]) && f["amount"] == "5000", "{f:?}");
        assert!(seen.idempotency_key.as_deref().unwrap().starts_with("refund-"));
    }
    assert_eq!(app.sweep().await.refunds_sent, 0);
    app.assert_ledger_sound().await;
}

#[tokio::test]
async fn what_a_completed_contract_did_not_spend_is_refunded_partly_to_its_oldest_payment() {
    let (app, fake) = stripe_app().await;
    let (client, contract, outcome) = funded_twice(&app).await;
    let bob = crate::work::worker(&app, "bob", json!([{ "skill": "rust", "level": 4 }])).await;
    let fields = json!({ "title": "part", "mode": "JUDGMENT", "skills": ["rust"], "weight": 1, "criteria": ["c1"] });
    let task = crate::work::id(&crate::work::task(&app, &client, &outcome, fields).await);
    for action in ["OPEN", "ACTIVATE"] {
        let body = app
            .gql(
                "mutation($i: ChangeContractStatusInput!) { changeContractStatus(input: $i) { status } }",
                json!({ "i": { "contractId": contract, "action": action } }),
                Some(&client.access_token),
            )
            .await;
        assert!(body["errors"].is_null(), "{body}");
    }
    crate::work::act(&app, "acceptTaskOffer", &task, &bob.access_token).await;
    crate::work::submit(&app, &task, json!({ "text": "done" }), &bob.access_token).await;
    crate::work::act(&app, "acceptTask", &task, &client.access_token).await;
    let accepted = app
        .gql(
            "mutation($i: OutcomeIdInput!) { acceptOutcome(input: $i) { status } }",
            json!({ "i": { "outcomeId": outcome, "idempotencyKey": "accept" } }),
            Some(&client.access_token),
        )
        .await;
    assert!(accepted["errors"].is_null(), "{accepted}");

    // 6,000 spent of 10,000 from two payments of 5,000: 4,000 back to the first, partly.
    let mut pis = fake.objects("pi_");
    pis.sort_by_key(|p| p["id"].as_str().unwrap().to_owned());
    let rows = refunds(&app).await;
    assert_eq!(rows.len(), 1, "{rows:?}");
    assert_eq!((rows[0].0, rows[0].1.clone()), (4_000, format!("Succeeded:{}", pis[0]["id"].as_str().unwrap())));
    let refund = &fake.objects("re_")[0];
    assert_eq!((refund["amount"].as_i64(), refund["payment_intent"].as_str()), (Some(4_000), pis[0]["id"].as_str()));
    app.assert_ledger_sound().await;

    // Reconciliation: the two payments and the refund agree with the ledger.
    let since = app.clock_now() - chrono::Duration::hours(1);
    let clean = semasocial::domain::ledger::reconcile::run(&app.state, since).await.unwrap();
    assert_eq!(clean, Some(vec![]));

    // Injected drift: a payment the ledger never saw, and an amount changed at Stripe.
    let mut stray = pis[1].clone();
    stray["id"] = json!("pi_stray");
    fake.insert(stray);
    let first = pis[0]["id"].as_str().unwrap().to_owned();
    fake.update(&first, |pi| pi["amount"] = json!(4_999));
    let drift = semasocial::domain::ledger::reconcile::run(&app.state, since).await.unwrap().unwrap();
    let lines: Vec<String> = drift.iter().map(ToString::to_string).collect();
    assert_eq!(lines.len(), 2, "{lines:#?}");
    assert!(
        lines
            .iter()
            .any(|l| l.starts_with(&format!("payment {first}: amount 4999 at the provider, 5000 in the ledger"))),
        "{lines:#?}"
    );
    assert!(
        lines.iter().any(|l| l == "payment pi_stray: at the provider (5000 EUR SUCCEEDED), not in the ledger"),
        "{lines:#?}"
    );
}

#[tokio::test]
async fn the_simulated_provider_needs_no_onboarding_and_agents_connect_nothing() {
    let app = spawn_app().await;
    let ada = app.register("ada").await;
    let body = connect(&app, &ada, "http://localhost:3000/payouts").await;
    assert_eq!(
        body["data"]["connectPayoutAccount"],
        json!({ "onboardingUrl": "http://localhost:3000/payouts", "payoutAccount": { "provider": "simulated", "ready": true } }),
        "{body}"
    );
    let missing_host = connect(&app, &ada, "https:///payouts").await;
    assert_eq!((error_code(&missing_host), error_field(&missing_host)), ("BAD_USER_INPUT", "returnUrl"));
    let (_, agent) = crate::work::agent(&app, &ada, "bot", json!([]), json!(["TASKS_READ"])).await;
    let refused = app
        .gql(
            CONNECT,
            json!({ "i": { "returnUrl": "https://a.example", "refreshUrl": "https://a.example" } }),
            Some(&agent),
        )
        .await;
    assert_eq!(error_code(&refused), "FORBIDDEN", "{refused}");
    assert_eq!(app.count("payout_accounts").await, 1);
}

/// Runs `semasocial reconcile` against the SQLite database in `dir` and Stripe at `base` (the
/// simulated provider when `None`): its exit code and output.
async fn reconcile_cli(dir: &std::path::Path, base: Option<&str>) -> (Option<i32>, String) {
    let url = format!("sqlite://{}?mode=rwc", dir.join("reconcile.db").display());
    let mut command = std::process::Command::new(env!("CARGO_BIN_EXE_semasocial"));
    command.args(["reconcile", "--since", "2020-01-01T00:00:00Z"]).env("DATABASE_URL", &url).env("DATA_DIR", dir);
    if let Some(base) = base {
        command
            .env("PAYMENT_PROVIDER", "stripe")
            .env("STRIPE_SECRET_KEY", super::fake_stripe::SECRET_KEY)
            .env("STRIPE_API_BASE", base);
    }
    // The fake answers on this runtime: wait for the process off it.
    let out = tokio::task::spawn_blocking(move || command.output().unwrap()).await.unwrap();
    let text = format!("{}{}", String::from_utf8_lossy(&out.stdout), String::from_utf8_lossy(&out.stderr));
    (out.status.code(), text)
}

#[tokio::test]
async fn semasocial_reconcile_prints_each_drift_and_exits_1() {
    let dir = std::env::temp_dir().join(format!("semasocial-reconcile-{}", uuid::Uuid::new_v4()));
    std::fs::create_dir_all(&dir).unwrap();
    let fake = FakeStripe::start().await;

    let (code, out) = reconcile_cli(&dir, None).await;
    assert_eq!(code, Some(0), "{out}");
    assert!(out.contains("nothing to compare"), "{out}");
    let (code, out) = reconcile_cli(&dir, Some(&fake.base)).await;
    assert_eq!(code, Some(0), "{out}");
    assert!(out.contains("agree"), "{out}");

    // A payment at Stripe the ledger never booked.
    fake.insert(json!({ "id": "pi_unbooked", "object": "payment_intent", "amount": 1_234, "currency": "eur",
        "status": "succeeded", "created": chrono::Utc::now().timestamp(), "metadata": {} }));
    let (code, out) = reconcile_cli(&dir, Some(&fake.base)).await;
    assert_eq!(code, Some(1), "{out}");
    assert!(
        out.contains("drift: payment pi_unbooked: at the provider (1234 EUR SUCCEEDED), not in the ledger"),
        "{out}"
    );
    assert!(out.contains("1 drift(s)"), "{out}");
    std::fs::remove_dir_all(&dir).ok();
}
