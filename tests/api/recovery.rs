//! Accounts people can recover: the verification mail and what an unverified account may not
//! do, password reset by mail (same answer for unknown addresses, single use, 30 minutes, every
//! session ends), and password change (other sessions end). Mails are read where they land:
//! `.eml` files without an SMTP server, and (CI) a real SMTP server.
use reqwest::StatusCode;
use serde_json::{Value, json};

use crate::helpers::{PASSWORD, TestApp, TestUser, error_code, error_field, spawn_app, spawn_app_with};

const VERIFY: &str = "mutation($i: VerifyEmailInput!) { verifyEmail(input: $i) }";
const RESEND: &str = "mutation { resendVerificationEmail }";
const REQUEST_RESET: &str = "mutation($i: RequestPasswordResetInput!) { requestPasswordReset(input: $i) }";
const RESET: &str = "mutation($i: ResetPasswordInput!) { resetPassword(input: $i) }";
const CHANGE: &str = "mutation($i: ChangePasswordInput!) { changePassword(input: $i) }";
const VERIFIED: &str = "{ me { emailVerified } }";
const LOGIN: &str = "mutation($i: LoginInput!) { login(input: $i) { accessToken } }";

/// A mail's text as a mail client shows it: quoted-printable soft breaks joined, `=XX` decoded.
fn decoded(mail: &str) -> String {
    let joined = mail.replace("=\r\n", "").replace("=\n", "");
    let bytes = joined.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while i < bytes.len() {
        let hex = bytes
            .get(i + 1..i + 3)
            .and_then(|h| std::str::from_utf8(h).ok())
            .and_then(|h| u8::from_str_radix(h, 16).ok());
        match (bytes[i], hex) {
            (b'=', Some(byte)) => {
                out.push(byte);
                i += 3;
            }
            (b, _) => {
                out.push(b);
                i += 1;
            }
        }
    }
    String::from_utf8_lossy(&out).into_owned()
}

/// The token in a mail's link (`…?token=<token>`).
fn token_in(mail: &str) -> String {
    let mail = decoded(mail);
    let at = mail.find("token=").unwrap_or_else(|| panic!("no token in {mail}")) + "token=".len();
    mail[at..].chars().take_while(|c| c.is_ascii_alphanumeric() || *c == '-' || *c == '_').collect()
}

async fn verified(app: &TestApp, who: &TestUser) -> Value {
    app.gql(VERIFIED, json!({}), Some(&who.access_token)).await["data"]["me"]["emailVerified"].clone()
}

async fn login(app: &TestApp, email: &str, password: &str) -> Value {
    app.gql(LOGIN, json!({ "i": { "email": email, "password": password } }), None).await
}

#[tokio::test]
async fn registration_mails_a_link_that_verifies_once_and_unverified_accounts_move_no_money() {
    let app = spawn_app().await;
    let ada = app.register_unverified("ada").await;
    assert_eq!(verified(&app, &ada).await, false);

    // Unverified: no funding, no payout account, no withdrawal; nothing written.
    let contract = crate::work::contract(&app, &ada, None, 10_000).await;
    let funded = crate::work::fund(&app, &ada, &contract, 5_000).await;
    assert_eq!(error_code(&funded), "FORBIDDEN", "{funded}");
    assert!(funded["errors"][0]["message"].as_str().unwrap().contains("verify your email"), "{funded}");
    assert_eq!(app.count("fundings").await, 0);
    let connect = app
        .gql(
            "mutation($i: ConnectPayoutAccountInput!) { connectPayoutAccount(input: $i) { onboardingUrl } }",
            json!({ "i": { "returnUrl": "https://a.example", "refreshUrl": "https://a.example" } }),
            Some(&ada.access_token),
        )
        .await;
    assert_eq!(error_code(&connect), "FORBIDDEN", "{connect}");
    let withdraw = crate::money::payout(&app, &ada, 100, "EUR", "w-1").await;
    assert_eq!(error_code(&withdraw), "FORBIDDEN", "{withdraw}");

    // The mail: to the address, with a link on the public URL.
    let mails = app.mails_to(&ada.email).await;
    assert_eq!(mails.len(), 1);
    assert!(mails[0].contains("Subject: Verify your email address"), "{}", mails[0]);
    assert!(decoded(&mails[0]).contains("https://app.example/verify-email?token="), "{}", mails[0]);
    let token = token_in(&mails[0]);

    let garbage = app.gql(VERIFY, json!({ "i": { "token": "not-a-token" } }), None).await;
    assert_eq!((error_code(&garbage), error_field(&garbage)), ("BAD_USER_INPUT", "token"));
    // Signed out: the token is the proof.
    let ok = app.gql(VERIFY, json!({ "i": { "token": token } }), None).await;
    assert_eq!(ok["data"]["verifyEmail"], true, "{ok}");
    assert_eq!(verified(&app, &ada).await, true);
    let again = app.gql(VERIFY, json!({ "i": { "token": token } }), None).await;
    assert_eq!((error_code(&again), error_field(&again)), ("BAD_USER_INPUT", "token"), "single use");
    let resend = app.gql(RESEND, json!({}), Some(&ada.access_token)).await;
    assert_eq!(error_code(&resend), "CONFLICT", "{resend}");

    let funded = crate::work::fund(&app, &ada, &contract, 5_000).await;
    assert!(funded["errors"].is_null(), "verified, the funding goes through: {funded}");
}

#[tokio::test]
async fn a_new_verification_link_replaces_the_old_one_and_links_expire() {
    let app = spawn_app().await;
    let bob = app.register_unverified("bob").await;
    let first = token_in(&app.mails_to(&bob.email).await[0]);
    let resent = app.gql(RESEND, json!({}), Some(&bob.access_token)).await;
    assert_eq!(resent["data"]["resendVerificationEmail"], true, "{resent}");
    let mails = app.mails_to(&bob.email).await;
    assert_eq!(mails.len(), 2);
    let second = token_in(&mails[1]);
    assert_ne!(first, second);
    let old = app.gql(VERIFY, json!({ "i": { "token": first } }), None).await;
    assert_eq!(error_field(&old), "token", "the replaced link no longer works: {old}");

    app.clock.advance(chrono::Duration::hours(49));
    let late = app.gql(VERIFY, json!({ "i": { "token": second } }), None).await;
    assert_eq!(error_field(&late), "token", "expired: {late}");
    assert_eq!(verified(&app, &app.login(&bob).await).await, false);
}

#[tokio::test]
async fn a_password_reset_by_mail_works_once_within_30_minutes_and_ends_every_session() {
    let app = spawn_app().await;
    let ada = app.register("ada").await;
    let phone = app.login(&ada).await;

    // The same answer for an unknown address, and no mail.
    let unknown = app.gql(REQUEST_RESET, json!({ "i": { "email": "nobody@example.com" } }), None).await;
    assert_eq!(unknown["data"]["requestPasswordReset"], true, "{unknown}");
    assert_eq!(app.count("mail_outbox WHERE recipient = 'nobody@example.com'").await, 0);
    let malformed = app.gql(REQUEST_RESET, json!({ "i": { "email": "not an address" } }), None).await;
    assert_eq!((error_code(&malformed), error_field(&malformed)), ("BAD_USER_INPUT", "email"));

    let asked = app.gql(REQUEST_RESET, json!({ "i": { "email": ada.email } }), None).await;
    assert_eq!(asked["data"]["requestPasswordReset"], true);
    let mail = app.mails_to(&ada.email).await.into_iter().find(|m| m.contains("Reset your password")).expect("a mail");
    assert!(decoded(&mail).contains("https://app.example/reset-password?token="), "{mail}");
    let token = token_in(&mail);
    assert_eq!(app.count("account_tokens WHERE purpose = 'RESET_PASSWORD'").await, 1);
    let stored = app.count(&format!("account_tokens WHERE token_hash = '{token}'")).await;
    assert_eq!(stored, 0, "the token is stored hashed, not as sent");

    // A weak password is refused and does not use the token up.
    let weak = app.gql(RESET, json!({ "i": { "token": token, "newPassword": "short" } }), None).await;
    assert_eq!((error_code(&weak), error_field(&weak)), ("BAD_USER_INPUT", "newPassword"), "{weak}");
    let new_password = "a brand new passphrase";
    let reset = app.gql(RESET, json!({ "i": { "token": token, "newPassword": new_password } }), None).await;
    assert_eq!(reset["data"]["resetPassword"], true, "{reset}");

    // Every session has ended; the old password is gone, the new one works; the token is spent.
    for token in [&ada.access_token, &phone.access_token] {
        let (status, _) = app.gql_status(VERIFIED, json!({}), Some(token)).await;
        assert_eq!(status, StatusCode::UNAUTHORIZED);
    }
    assert_eq!(error_code(&login(&app, &ada.email, PASSWORD).await), "UNAUTHENTICATED");
    assert!(login(&app, &ada.email, new_password).await["data"]["login"]["accessToken"].is_string());
    let reused =
        app.gql(RESET, json!({ "i": { "token": token, "newPassword": "yet another passphrase" } }), None).await;
    assert_eq!((error_code(&reused), error_field(&reused)), ("BAD_USER_INPUT", "token"));
    assert!(app.mails_to(&ada.email).await.iter().any(|m| m.contains("Your password was changed")));

    // A token older than 30 minutes is refused.
    app.gql(REQUEST_RESET, json!({ "i": { "email": ada.email } }), None).await;
    let late_mail = app.mails_to(&ada.email).await.into_iter().rev().find(|m| m.contains("Reset your password"));
    app.clock.advance(chrono::Duration::minutes(31));
    let late = app
        .gql(
            RESET,
            json!({ "i": { "token": token_in(&late_mail.unwrap()), "newPassword": "too late passphrase" } }),
            None,
        )
        .await;
    assert_eq!(error_field(&late), "token", "{late}");
}

#[tokio::test]
async fn password_reset_requests_are_limited_per_address() {
    let app = spawn_app().await;
    let ada = app.register("ada").await;
    for _ in 0..3 {
        let ok = app.gql(REQUEST_RESET, json!({ "i": { "email": ada.email } }), None).await;
        assert_eq!(ok["data"]["requestPasswordReset"], true, "{ok}");
    }
    let limited = app.gql(REQUEST_RESET, json!({ "i": { "email": ada.email } }), None).await;
    assert_eq!(error_code(&limited), "RATE_LIMITED", "{limited}");
    // The limit is the address's: an unknown address answers as before.
    let other = app.gql(REQUEST_RESET, json!({ "i": { "email": "someone@example.com" } }), None).await;
    assert_eq!(other["data"]["requestPasswordReset"], true);
}

#[tokio::test]
async fn changing_the_password_keeps_this_session_and_ends_the_others() {
    let app = spawn_app().await;
    let ada = app.register("ada").await;
    let phone = app.login(&ada).await;
    let change = |current: &str, new: &str| json!({ "i": { "currentPassword": current, "newPassword": new } });

    let wrong = app.gql(CHANGE, change("not my password", "a fresh passphrase"), Some(&ada.access_token)).await;
    assert_eq!((error_code(&wrong), error_field(&wrong)), ("BAD_USER_INPUT", "currentPassword"), "{wrong}");
    let same = app.gql(CHANGE, change(PASSWORD, PASSWORD), Some(&ada.access_token)).await;
    assert_eq!(error_field(&same), "newPassword", "{same}");
    let weak = app.gql(CHANGE, change(PASSWORD, "short"), Some(&ada.access_token)).await;
    assert_eq!(error_field(&weak), "newPassword", "{weak}");
    assert_eq!(app.gql_status(VERIFIED, json!({}), Some(&phone.access_token)).await.0, StatusCode::OK);

    let changed = app.gql(CHANGE, change(PASSWORD, "a fresh passphrase"), Some(&ada.access_token)).await;
    assert_eq!(changed["data"]["changePassword"], true, "{changed}");
    assert_eq!(app.gql_status(VERIFIED, json!({}), Some(&ada.access_token)).await.0, StatusCode::OK, "this session");
    assert_eq!(app.gql_status(VERIFIED, json!({}), Some(&phone.access_token)).await.0, StatusCode::UNAUTHORIZED);
    assert!(login(&app, &ada.email, "a fresh passphrase").await["data"]["login"]["accessToken"].is_string());
}

#[tokio::test]
#[ignore = "needs an SMTP server (TEST_SMTP_URL, and TEST_SMTP_DIR where it writes what it receives)"]
async fn mails_leave_through_a_real_smtp_server() {
    let url = std::env::var("TEST_SMTP_URL").expect("set TEST_SMTP_URL");
    let dir = std::env::var("TEST_SMTP_DIR").expect("set TEST_SMTP_DIR");
    let app = spawn_app_with(|c| c.mail.smtp_url = Some(semasocial::config::Secret::new(url))).await;
    let ada = app.register_unverified(&format!("smtp{}", &uuid::Uuid::new_v4().simple().to_string()[..8])).await;
    // Sent after commit, in the background: the server has it once the outbox says so.
    let sent = format!("mail_outbox WHERE recipient = '{}' AND sent_at IS NOT NULL", ada.email);
    let waited = tokio::time::timeout(std::time::Duration::from_secs(10), async {
        while app.count(&sent).await == 0 {
            tokio::task::yield_now().await;
        }
    })
    .await;
    assert!(waited.is_ok(), "the mail never left through SMTP");
    let received: Vec<String> = std::fs::read_dir(&dir)
        .unwrap()
        .filter_map(Result::ok)
        .map(|e| std::fs::read_to_string(e.path()).unwrap())
        .filter(|m| m.contains(&ada.email))
        .collect();
    assert_eq!(received.len(), 1, "the SMTP server received it once");
    let ok = app.gql(VERIFY, json!({ "i": { "token": token_in(&received[0]) } }), None).await;
    assert_eq!(ok["data"]["verifyEmail"], true, "{ok}");
}
