//! Notification mail: what reaches the inbox reaches a verified address too, per kind as the
//! person chooses (IMMEDIATE by default, DAILY_DIGEST, OFF), and every mail carries a signed
//! link that stops its kind without signing in.
use serde_json::{Value, json};

use crate::{
    communities::{create_community, join},
    helpers::{TestApp, TestUser, assert_ok, error_code, error_field, spawn_app},
};

const PREFERENCES: &str = "{ me { notificationMailPreferences { kind mode } } }";
const SET: &str =
    "mutation($i: SetNotificationMailPreferenceInput!) { setNotificationMailPreference(input: $i) { kind mode } }";
const UNSUBSCRIBE: &str = "mutation($i: UnsubscribeFromMailInput!) { unsubscribeFromMail(input: $i) }";

/// `author` posts in a community `replier` joined; returns the post id.
async fn post_by(app: &TestApp, author: &TestUser, replier: &TestUser) -> String {
    let community =
        create_community(app, author, &format!("c{}", &uuid::Uuid::new_v4().simple().to_string()[..8]), "PUBLIC").await;
    join(app, replier, &community).await;
    let body = app
        .gql(
            "mutation($i: CreatePostInput!) { createPost(input: $i) { id } }",
            json!({ "i": { "communityId": community, "title": "Hello", "body": "text" } }),
            Some(&author.access_token),
        )
        .await;
    body["data"]["createPost"]["id"].as_str().unwrap_or_else(|| panic!("{body}")).to_owned()
}

async fn reply(app: &TestApp, who: &TestUser, post: &str) {
    let body = app
        .gql(
            "mutation($i: CreateCommentInput!) { createComment(input: $i) { id } }",
            json!({ "i": { "postId": post, "body": "Nice post" } }),
            Some(&who.access_token),
        )
        .await;
    assert_ok(&body);
}

/// Runs the sweep's digest part at the test clock's time: how many digests were written.
async fn digests(app: &TestApp) -> usize {
    semasocial::domain::notification_mail::send_digests(&app.state, 100).await.unwrap()
}

/// The token of the unsubscribe link in a mail.
fn unsubscribe_token(mail: &str) -> String {
    let start = mail.find("unsubscribe?token=").expect("an unsubscribe link") + "unsubscribe?token=".len();
    mail[start..].chars().take_while(|c| !c.is_whitespace() && *c != '>').collect()
}

fn mode_of(body: &Value, kind: &str) -> String {
    body["data"]["me"]["notificationMailPreferences"]
        .as_array()
        .unwrap_or_else(|| panic!("{body}"))
        .iter()
        .find(|p| p["kind"] == kind)
        .map(|p| p["mode"].as_str().unwrap().to_owned())
        .unwrap_or_default()
}

#[tokio::test]
async fn a_reply_is_mailed_at_once_and_its_link_stops_replies_without_signing_in() {
    let app = spawn_app().await;
    let ada = app.register("ada").await;
    let bob = app.register("bob").await;
    let prefs = app.gql(PREFERENCES, json!({}), Some(&ada.access_token)).await;
    assert_eq!(prefs["data"]["me"]["notificationMailPreferences"].as_array().map(Vec::len), Some(5), "{prefs}");
    assert_eq!(mode_of(&prefs, "REPLY"), "IMMEDIATE");

    let post = post_by(&app, &ada, &bob).await;
    reply(&app, &bob, &post).await;
    let mails = app.mails_to(&ada.email).await;
    let mail = mails.iter().find(|m| m.contains("Someone replied to your post")).unwrap_or_else(|| panic!("{mails:?}"));
    assert!(mail.contains("List-Unsubscribe: <http"), "{mail}");
    assert!(app.mails_to(&bob.email).await.iter().all(|m| !m.contains("replied")), "the replier is not told");

    // A forged or altered token changes nothing.
    let token = unsubscribe_token(mail);
    let (user, rest) = token.split_once('.').unwrap();
    let forged = format!("{}.{rest}", uuid::Uuid::new_v4());
    for bad in [forged.as_str(), "nonsense", &token.replace("reply", "payout")] {
        let body = app.gql(UNSUBSCRIBE, json!({ "i": { "token": bad } }), None).await;
        assert_eq!((error_code(&body), error_field(&body)), ("BAD_USER_INPUT", "token"), "{bad}: {body}");
    }
    assert_eq!(mode_of(&app.gql(PREFERENCES, json!({}), Some(&ada.access_token)).await, "REPLY"), "IMMEDIATE");
    assert!(!user.is_empty());

    // The real one works signed out, for that kind only.
    let body = app.gql(UNSUBSCRIBE, json!({ "i": { "token": token } }), None).await;
    assert_eq!(body["data"]["unsubscribeFromMail"], "REPLY", "{body}");
    let prefs = app.gql(PREFERENCES, json!({}), Some(&ada.access_token)).await;
    assert_eq!((mode_of(&prefs, "REPLY"), mode_of(&prefs, "PAYOUT")), ("OFF".to_owned(), "IMMEDIATE".to_owned()));
    let before = app.mails_to(&ada.email).await.len();
    reply(&app, &bob, &post).await;
    assert_eq!(app.inbox(&ada).await.iter().filter(|a| *a == "comment.created").count(), 2, "the inbox still has it");
    assert_eq!(app.mails_to(&ada.email).await.len(), before, "no mail");
}

#[tokio::test]
async fn an_unverified_address_gets_no_notification_mail() {
    let app = spawn_app().await;
    let ada = app.register_unverified("ada").await;
    let bob = app.register("bob").await;
    let post = post_by(&app, &ada, &bob).await;
    reply(&app, &bob, &post).await;
    assert_eq!(app.inbox(&ada).await.first().map(String::as_str), Some("comment.created"));
    let mails = app.mails_to(&ada.email).await;
    assert!(mails.iter().all(|m| !m.contains("replied")), "only the verification mail: {mails:?}");
}

#[tokio::test]
async fn a_daily_digest_lists_what_happened_once_a_day() {
    let app = spawn_app().await;
    let ada = app.register("ada").await;
    let bob = app.register("bob").await;
    let set = app.gql(SET, json!({ "i": { "kind": "REPLY", "mode": "DAILY_DIGEST" } }), Some(&ada.access_token)).await;
    assert!(
        set["data"]["setNotificationMailPreference"]
            .as_array()
            .unwrap()
            .contains(&json!({ "kind": "REPLY", "mode": "DAILY_DIGEST" })),
        "{set}"
    );
    // Registration mailed each a verification link; only what follows counts.
    let (ada_before, bob_before) = (app.mails_to(&ada.email).await.len(), app.mails_to(&bob.email).await.len());
    let post = post_by(&app, &ada, &bob).await;
    reply(&app, &bob, &post).await;
    reply(&app, &bob, &post).await;
    assert_eq!(app.mails_to(&ada.email).await.len(), ada_before, "nothing at once");

    assert_eq!(digests(&app).await, 1);
    let mails = app.mails_to(&ada.email).await.split_off(ada_before);
    assert_eq!(mails.len(), 1, "{mails:?}");
    assert!(mails[0].contains("Your daily digest: 2 notifications"), "{}", mails[0]);
    assert_eq!(mails[0].matches("Someone replied to your post").count(), 2, "{}", mails[0]);
    assert!(mails[0].contains("unsubscribe?token="), "{}", mails[0]);

    // Not twice a day, and nothing twice.
    reply(&app, &bob, &post).await;
    assert_eq!(digests(&app).await, 0);
    app.clock.advance(chrono::Duration::hours(24));
    assert_eq!(digests(&app).await, 1);
    let mails = app.mails_to(&ada.email).await.split_off(ada_before);
    assert_eq!(mails.len(), 2);
    assert!(
        mails[1].contains("Your daily digest: 1 notification") && !mails[1].contains("1 notifications"),
        "{}",
        mails[1]
    );
    // Nothing new: no empty digest.
    app.clock.advance(chrono::Duration::hours(24));
    assert_eq!(digests(&app).await, 0);
    // Bob, who chose nothing, gets none.
    assert_eq!(app.mails_to(&bob.email).await.len(), bob_before);
}
