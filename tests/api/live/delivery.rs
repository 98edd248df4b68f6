//! Delivery: resuming after the last event seen, refilling a follower from the outbox, one render per event.
use std::time::Duration;

use futures_util::StreamExt;
use serde_json::{Value, json};

use super::{COMMUNITY, activity, error_code_of, next_of, post, send, subscribe_message};
use crate::{
    communities::create_community,
    events::{subscribe, ws_connect},
    helpers::spawn_app,
};

#[tokio::test]
async fn a_subscriber_resumes_after_the_last_event_it_saw_with_nothing_lost_or_repeated() {
    let app = spawn_app().await;
    let ada = app.register("ada").await;
    let c = create_community(&app, &ada, "rustaceans", "PUBLIC").await;
    let mut ws = ws_connect(&app, &ada.access_token).await;
    subscribe(&app, &mut ws, COMMUNITY, json!({ "c": c })).await;
    let a = post(&app, &ada, &c, "A").await;
    let seen = activity(&mut ws, 1).await;
    assert_eq!((seen[0]["action"].as_str(), seen[0]["subjectId"].as_str()), (Some("post.created"), Some(a.as_str())));
    let last = seen[0]["id"].as_str().unwrap().to_owned();
    drop(ws);

    // Offline: two posts happen.
    let b = post(&app, &ada, &c, "B").await;
    let c2 = post(&app, &ada, &c, "C").await;

    // Back, resuming after the last event seen: the two missed posts are replayed from the
    // outbox, then the live one follows: no gap, no duplicate at the seam.
    let mut ws = ws_connect(&app, &ada.access_token).await;
    subscribe(&app, &mut ws, COMMUNITY, json!({ "c": c, "after": last })).await;
    let d = post(&app, &ada, &c, "D").await;
    let events = activity(&mut ws, 3).await;
    let subjects: Vec<&str> = events.iter().map(|e| e["subjectId"].as_str().unwrap()).collect();
    assert_eq!(subjects, [b.as_str(), c2.as_str(), d.as_str()]);
    let ids: Vec<i64> = events.iter().map(|e| e["id"].as_str().unwrap().parse().unwrap()).collect();
    assert!(ids.windows(2).all(|w| w[0] < w[1]), "in order: {ids:?}");
    assert!(ids[0] > last.parse::<i64>().unwrap(), "nothing at or before `after` again");
    // Nothing else was pending: the next message is the next post.
    let e = post(&app, &ada, &c, "E").await;
    assert_eq!(activity(&mut ws, 1).await[0]["subjectId"], e.as_str());
}

#[tokio::test]
async fn a_bad_resume_point_is_refused_with_the_field() {
    let app = spawn_app().await;
    let ada = app.register("ada").await;
    let c = create_community(&app, &ada, "rustaceans", "PUBLIC").await;
    let mut ws = ws_connect(&app, &ada.access_token).await;
    send(&mut ws, subscribe_message("1", COMMUNITY, json!({ "c": c, "after": "yesterday" }))).await;
    let message = next_of(&mut ws, "1").await;
    assert_eq!(error_code_of(&message), "BAD_USER_INPUT");
    assert_eq!(message["payload"][0]["extensions"]["field"], "after", "{message}");
}

#[tokio::test]
async fn a_follower_that_falls_behind_is_refilled_from_the_outbox_in_order() {
    use semasocial::events::follow::{Follow, Gate, follow};
    struct Everything;
    #[async_trait::async_trait]
    impl Gate for Everything {
        fn visible(&self, _: &semasocial::events::DomainEvent) -> bool {
            true
        }
        async fn check(&self) -> semasocial::error::AppResult<()> {
            Ok(())
        }
    }
    let app = spawn_app().await;
    let ada = app.register("ada").await;
    let c = create_community(&app, &ada, "rustaceans", "PUBLIC").await;
    let spec = Follow { stream: format!("community:{c}"), after: None, access: None, expires_in: None };
    let mut events = Box::pin(follow(app.state.db.clone(), app.state.bus.hub(), spec, Everything).await.unwrap());
    // 300 posts while the follower reads nothing: more than the stream's buffer holds.
    let mut posted = Vec::new();
    for n in 0..300 {
        let (body, _) = app
            .execute(
                "mutation($i: CreatePostInput!) { createPost(input: $i) { id } }",
                json!({ "i": { "communityId": c, "title": format!("post {n}"), "body": "text" } }),
                Some(&ada.access_token),
            )
            .await;
        posted.push(body["data"]["createPost"]["id"].as_str().unwrap().to_owned());
    }
    let mut received = Vec::new();
    while received.len() < posted.len() {
        let event =
            tokio::time::timeout(Duration::from_secs(10), events.next()).await.expect("an event").unwrap().unwrap();
        received.push(event.subject_id.to_string());
    }
    assert_eq!(received, posted, "every post, once, in commit order");
}

#[tokio::test]
async fn identical_subscriptions_render_each_event_once_and_share_its_bytes() {
    use semasocial::graphql::subscription::{LiveItem, LiveSubscriptions};
    let app = spawn_app().await;
    let ada = app.register("ada").await;
    let c = create_community(&app, &ada, "rustaceans", "PUBLIC").await;
    let live = LiveSubscriptions::new(app.schema.clone());
    let aliased = "subscription($c: ID!) { communityActivity(communityId: $c) { kind: action } }";
    // Each stream starts (runs its subscription once) when first polled, in its own task.
    let started: Vec<_> = [COMMUNITY, COMMUNITY, aliased]
        .into_iter()
        .map(|query| {
            let request = async_graphql::Request::new(query)
                .variables(async_graphql::Variables::from_json(json!({ "c": c })))
                .data(semasocial::auth::Viewer::Anonymous);
            let mut stream = live.start(request).boxed();
            tokio::spawn(async move { stream.next().await })
        })
        .collect();
    app.wait_for_subscribers(3).await;
    assert_eq!(live.group_count(), 2, "two documents, two groups");

    let p = post(&app, &ada, &c, "Hello").await;
    let mut payloads = Vec::new();
    for task in started {
        match task.await.unwrap() {
            Some(LiveItem::Next(payload)) => payloads.push(payload),
            other => panic!("a payload, not {other:?}"),
        }
    }

    // One render per group: the two identical subscribers got the very same bytes.
    assert_eq!(live.renders(), 2);
    assert!(std::sync::Arc::ptr_eq(&payloads[0], &payloads[1]), "shared, not copied");
    let same: Value = serde_json::from_str(&payloads[0]).unwrap();
    assert_eq!(same["data"]["communityActivity"]["action"], "post.created");
    assert_eq!(same["data"]["communityActivity"]["subjectId"], p.as_str());
    let other: Value = serde_json::from_str(&payloads[2]).unwrap();
    assert_eq!(other, json!({ "data": { "communityActivity": { "kind": "post.created" } } }));
    // The streams ended with their tasks: their groups are gone.
    assert_eq!(live.group_count(), 0);
}
