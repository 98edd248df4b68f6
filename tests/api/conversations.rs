//! Posts and threaded comments; moderation.
use serde_json::{Value, json};

use crate::{
    communities::{ban, create_community, join},
    helpers::{TestApp, TestUser, error_code, error_field, spawn_app},
};

async fn post(app: &TestApp, user: &TestUser, community: &str, title: &str) -> Value {
    app.gql(
        "mutation($i: CreatePostInput!) { createPost(input: $i) { id title } }",
        json!({ "i": { "communityId": community, "title": title, "body": "text" } }),
        Some(&user.access_token),
    )
    .await
}

async fn comment(app: &TestApp, user: &TestUser, post: &str, parent: Option<&str>, body: &str) -> Value {
    app.gql(
        "mutation($i: CreateCommentInput!) { createComment(input: $i) { id parentId body } }",
        json!({ "i": { "postId": post, "parentId": parent, "body": body } }),
        Some(&user.access_token),
    )
    .await
}

const FEED: &str = "query($id: ID!, $after: String) { community(id: $id) { posts(first: 2, after: $after) { edges { node { title pinned removed } } pageInfo { hasNextPage endCursor } } } }";

#[tokio::test]
async fn members_post_and_reply_in_threads() {
    let app = spawn_app().await;
    let ada = app.register("ada").await;
    let bob = app.register("bob").await;
    let c = create_community(&app, &ada, "rustaceans", "PUBLIC").await;
    join(&app, &bob, &c).await;
    let p = post(&app, &ada, &c, "Hello").await["data"]["createPost"]["id"].as_str().unwrap().to_owned();
    let first = comment(&app, &bob, &p, None, "Hi!").await["data"]["createComment"]["id"].as_str().unwrap().to_owned();
    let reply = comment(&app, &ada, &p, Some(&first), "Welcome").await;
    assert_eq!(reply["data"]["createComment"]["parentId"], first.as_str());

    let body = app
        .gql("query($id: ID!) { post(id: $id) { title author { handle } comments { edges { node { body parentId author { handle } } } } } }", json!({ "id": p }), None)
        .await;
    // Newest first; the reply points at its parent.
    let comments = &body["data"]["post"]["comments"]["edges"];
    assert_eq!(comments[0]["node"]["parentId"], first.as_str(), "{body}");
    assert_eq!(comments[1]["node"]["author"]["handle"], "bob");
    assert!(comments[1]["node"]["parentId"].is_null());

    // A reply must point into the same post.
    let other = post(&app, &ada, &c, "Other").await["data"]["createPost"]["id"].as_str().unwrap().to_owned();
    let body = comment(&app, &bob, &other, Some(&first), "lost").await;
    assert_eq!(error_field(&body), "parentId");
}

#[tokio::test]
async fn outsiders_and_banned_members_cannot_post() {
    let app = spawn_app().await;
    let ada = app.register("ada").await;
    let bob = app.register("bob").await;
    let eve = app.register("eve").await;
    let c = create_community(&app, &ada, "rustaceans", "PUBLIC").await;
    assert_eq!(error_code(&post(&app, &eve, &c, "drive-by").await), "FORBIDDEN");
    join(&app, &bob, &c).await;
    let p = post(&app, &bob, &c, "Before the ban").await["data"]["createPost"]["id"].as_str().unwrap().to_owned();
    ban(&app, &ada, &c, &bob).await;
    assert_eq!(error_code(&post(&app, &bob, &c, "After the ban").await), "FORBIDDEN");
    assert_eq!(error_code(&comment(&app, &bob, &p, None, "sneaky").await), "FORBIDDEN");
    assert_eq!(app.count("posts").await, 1);
}

#[tokio::test]
async fn only_authors_edit_and_only_moderators_remove_or_pin() {
    let app = spawn_app().await;
    let ada = app.register("ada").await;
    let bob = app.register("bob").await;
    let c = create_community(&app, &ada, "rustaceans", "PUBLIC").await;
    join(&app, &bob, &c).await;
    let p = post(&app, &ada, &c, "Mine").await["data"]["createPost"]["id"].as_str().unwrap().to_owned();
    let edit = "mutation($i: EditPostInput!) { editPost(input: $i) { title } }";
    assert_eq!(
        error_code(&app.gql(edit, json!({ "i": { "postId": p, "title": "Hacked" } }), Some(&bob.access_token)).await),
        "FORBIDDEN"
    );
    assert_eq!(
        app.gql(edit, json!({ "i": { "postId": p, "title": "Mine, edited" } }), Some(&ada.access_token)).await["data"]
            ["editPost"]["title"],
        "Mine, edited"
    );

    let bobs = post(&app, &bob, &c, "Spam").await["data"]["createPost"]["id"].as_str().unwrap().to_owned();
    let remove = "mutation($i: RemoveInput!) { removePost(input: $i) { title body removed removedReason } }";
    let body = app.gql(remove, json!({ "i": { "id": p, "reason": "no" } }), Some(&bob.access_token)).await;
    assert_eq!(error_code(&body), "FORBIDDEN", "a member cannot remove");
    let body = app
        .gql(
            "mutation($i: PinPostInput!) { pinPost(input: $i) { pinned } }",
            json!({ "i": { "postId": bobs } }),
            Some(&bob.access_token),
        )
        .await;
    assert_eq!(error_code(&body), "FORBIDDEN", "a member cannot pin");

    let body = app.gql(remove, json!({ "i": { "id": bobs, "reason": "spam" } }), Some(&ada.access_token)).await;
    assert_eq!(
        body["data"]["removePost"],
        json!({ "title": null, "body": null, "removed": true, "removedReason": "spam" })
    );
    // The removed post keeps its place; its content stays hidden for everyone.
    let body = app.gql(&FEED.replace("first: 2", "first: 10"), json!({ "id": c }), Some(&bob.access_token)).await;
    let removed: Vec<_> = body["data"]["community"]["posts"]["edges"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|e| e["node"]["removed"] == true)
        .collect();
    assert_eq!(removed.len(), 1);
    assert!(removed[0]["node"]["title"].is_null());
}

#[tokio::test]
async fn feeds_put_pinned_posts_first_then_newest_across_pages() {
    let app = spawn_app().await;
    let ada = app.register("ada").await;
    let c = create_community(&app, &ada, "rustaceans", "PUBLIC").await;
    let mut ids = Vec::new();
    for title in ["one", "two", "three", "four", "five"] {
        ids.push(post(&app, &ada, &c, title).await["data"]["createPost"]["id"].as_str().unwrap().to_owned());
    }
    app.gql(
        "mutation($i: PinPostInput!) { pinPost(input: $i) { pinned } }",
        json!({ "i": { "postId": ids[1] } }),
        Some(&ada.access_token),
    )
    .await;

    let mut titles = Vec::new();
    let mut after: Option<String> = None;
    loop {
        let body = app.gql(FEED, json!({ "id": c, "after": after }), None).await;
        let conn = &body["data"]["community"]["posts"];
        titles
            .extend(conn["edges"].as_array().unwrap().iter().map(|e| e["node"]["title"].as_str().unwrap().to_owned()));
        if conn["pageInfo"]["hasNextPage"] == false {
            break;
        }
        after = conn["pageInfo"]["endCursor"].as_str().map(str::to_owned);
    }
    assert_eq!(titles, ["two", "five", "four", "three", "one"]);
}

const COUNTED: &str = "query($id: ID!) { community(id: $id) { memberCount members(first: 1) { totalCount } posts(first: 2) { totalCount edges { node { title commentCount comments(first: 1) { totalCount edges { node { body } } } } } } } }";

#[tokio::test]
async fn lists_count_their_whole_length_beside_the_page_for_the_same_statements_whatever_its_size() {
    let app = spawn_app().await;
    let ada = app.register("ada").await;
    let bob = app.register("bob").await;
    let c = create_community(&app, &ada, "rustaceans", "PUBLIC").await;
    join(&app, &bob, &c).await;
    let quiet = post(&app, &ada, &c, "Quiet").await["data"]["createPost"]["id"].as_str().unwrap().to_owned();
    let busy = post(&app, &ada, &c, "Busy").await["data"]["createPost"]["id"].as_str().unwrap().to_owned();
    let first =
        comment(&app, &bob, &busy, None, "one").await["data"]["createComment"]["id"].as_str().unwrap().to_owned();
    comment(&app, &ada, &busy, Some(&first), "a reply").await;
    comment(&app, &bob, &busy, None, "three").await;
    assert!(!quiet.is_empty());

    let (body, _) = app.execute(COUNTED, json!({ "id": c }), None).await;
    let community = &body["data"]["community"];
    assert_eq!((community["memberCount"].as_i64(), community["members"]["totalCount"].as_i64()), (Some(2), Some(2)));
    assert_eq!(community["posts"]["totalCount"], 2);
    // Newest first: Busy, with its replies counted; the page shows one comment of three.
    let newest = &community["posts"]["edges"][0]["node"];
    assert_eq!((newest["title"].as_str(), newest["commentCount"].as_i64()), (Some("Busy"), Some(3)), "{body}");
    assert_eq!(newest["comments"]["totalCount"], 3);
    assert_eq!(newest["comments"]["edges"].as_array().map(Vec::len), Some(1));
    let older = &community["posts"]["edges"][1]["node"];
    assert_eq!((older["commentCount"].as_i64(), older["comments"]["totalCount"].as_i64()), (Some(0), Some(0)));

    // Counts cost one statement per list, not per item: three more posts with comments, and
    // a page of them with their counts costs the same statements.
    let page = |n: usize| {
        format!(
            "query($id: ID!) {{ community(id: $id) {{ posts(first: {n}) {{ totalCount edges {{ node {{ title commentCount }} }} }} }} }}"
        )
    };
    let (_, two_posts) = app.execute(&page(2), json!({ "id": c }), None).await;
    for title in ["A", "B", "C"] {
        let p = post(&app, &ada, &c, title).await["data"]["createPost"]["id"].as_str().unwrap().to_owned();
        comment(&app, &bob, &p, None, "hi").await;
    }
    let (body, five_posts) = app.execute(&page(5), json!({ "id": c }), None).await;
    assert_eq!(body["data"]["community"]["posts"]["totalCount"], 5, "{body}");
    assert_eq!(body["data"]["community"]["posts"]["edges"][0]["node"]["commentCount"], 1);
    assert_eq!(five_posts, two_posts, "a page of 5 posts costs what a page of 2 does");
}
