//! What list screens need: search over communities and events, and `totalCount` on every
//! connection, counted in one statement only when asked, under the list's own visibility.
use chrono::Duration;
use serde_json::{Value, json};

use crate::{
    communities::create_community,
    gigs::{create_gig, publish},
    helpers::{assert_ok, error_code, error_field, spawn_app},
    rsvps::create_event,
};

fn names(body: &Value, list: &str, field: &str) -> Vec<String> {
    let mut names: Vec<String> = body["data"][list]["edges"]
        .as_array()
        .unwrap_or_else(|| panic!("{body}"))
        .iter()
        .map(|e| e["node"][field].as_str().unwrap().to_owned())
        .collect();
    names.sort();
    names
}

#[tokio::test]
async fn communities_are_searched_by_every_word_among_those_you_may_see() {
    let app = spawn_app().await;
    let ada = app.register("ada").await;
    let eve = app.register("eve").await;
    create_community(&app, &ada, "rust-berlin", "PUBLIC").await;
    create_community(&app, &ada, "rust-paris", "PUBLIC").await;
    create_community(&app, &ada, "rust-secret", "PRIVATE").await;
    create_community(&app, &ada, "go-berlin", "PUBLIC").await;
    let search = "query($s: String) { communities(search: $s) { totalCount edges { node { slug } } } }";

    let body = app.gql(search, json!({ "s": "RUST" }), Some(&eve.access_token)).await;
    assert_eq!(names(&body, "communities", "slug"), ["rust-berlin", "rust-paris"], "a private one stays hidden");
    assert_eq!(body["data"]["communities"]["totalCount"], 2);
    let body = app.gql(search, json!({ "s": "berlin rust" }), Some(&eve.access_token)).await;
    assert_eq!(names(&body, "communities", "slug"), ["rust-berlin"]);
    let body = app.gql(search, json!({ "s": "rust" }), Some(&ada.access_token)).await;
    assert_eq!(body["data"]["communities"]["totalCount"], 3, "members see theirs: {body}");
    // Wildcards are not words: they match nothing by themselves.
    let body = app.gql(search, json!({ "s": "%" }), Some(&eve.access_token)).await;
    assert_eq!(body["data"]["communities"]["totalCount"], 3, "no words: every visible one");
    let body = app.gql(search, json!({ "s": "paris_berlin" }), Some(&eve.access_token)).await;
    assert_eq!(body["data"]["communities"]["totalCount"], 0, "two words, not a pattern: {body}");
    let body = app.gql(search, json!({ "s": "x".repeat(201) }), None).await;
    assert_eq!((error_code(&body), error_field(&body)), ("BAD_USER_INPUT", "search"));
}

#[tokio::test]
async fn events_are_searched_by_title_description_and_venue() {
    let app = spawn_app().await;
    let ada = app.register("ada").await;
    let private = create_community(&app, &ada, "inner", "PRIVATE").await;
    let open = create_event(&app, &ada, 10, None).await;
    let hidden = create_event(&app, &ada, 10, Some(&private)).await;
    let rename = "mutation($i: UpdateEventInput!) { updateEvent(input: $i) { id } }";
    let body = app
        .gql(
            rename,
            json!({ "i": { "eventId": open, "title": "Compiler night", "venue": "Kreuzberg loft" } }),
            Some(&ada.access_token),
        )
        .await;
    assert_ok(&body);
    let body =
        app.gql(rename, json!({ "i": { "eventId": hidden, "title": "Compiler club" } }), Some(&ada.access_token)).await;
    assert_ok(&body);
    let search = "query($s: String) { events(search: $s) { totalCount edges { node { title } } } }";

    let body = app.gql(search, json!({ "s": "compiler" }), None).await;
    assert_eq!(names(&body, "events", "title"), ["Compiler night"], "the private community's stays hidden");
    assert_eq!(body["data"]["events"]["totalCount"], 1);
    let body = app.gql(search, json!({ "s": "kreuzberg pizza" }), None).await;
    assert_eq!(names(&body, "events", "title"), ["Compiler night"], "venue and description count: {body}");
    let body = app.gql(search, json!({ "s": "compiler" }), Some(&ada.access_token)).await;
    assert_eq!(body["data"]["events"]["totalCount"], 2);
}

#[tokio::test]
async fn total_count_is_the_whole_filtered_list_and_costs_one_statement_only_when_asked() {
    let app = spawn_app().await;
    let ada = app.register("ada").await;
    for i in 0..5 {
        let gig = create_gig(&app, &ada, json!({ "title": format!("Rust gig {i}") })).await;
        publish(&app, &ada, &gig).await;
        app.clock.advance(Duration::seconds(1));
    }
    let draft = create_gig(&app, &ada, json!({ "title": "Rust draft" })).await;
    assert!(!draft.is_empty());
    let page = |extra: &str| {
        format!(
            "{{ gigs(first: 2, filter: {{ status: OPEN, text: \"rust\" }}) {{ {extra} edges {{ node {{ id }} }} pageInfo {{ endCursor }} }} }}"
        )
    };
    let (plain, plain_statements) = app.execute(&page(""), json!({}), None).await;
    let (counted, counted_statements) = app.execute(&page("totalCount"), json!({}), None).await;
    assert_eq!(counted["data"]["gigs"]["totalCount"], 5, "{counted}");
    assert_eq!(counted["data"]["gigs"]["edges"], plain["data"]["gigs"]["edges"]);
    assert_eq!(counted_statements, plain_statements + 1, "one COUNT, only when selected");
    // The count is the list's, not what is left after the cursor.
    let cursor = counted["data"]["gigs"]["pageInfo"]["endCursor"].as_str().unwrap().to_owned();
    let next = format!(
        "{{ gigs(first: 2, after: \"{cursor}\", filter: {{ text: \"rust\" }}) {{ totalCount edges {{ node {{ id }} }} }} }}"
    );
    let body = app.gql(&next, json!({}), None).await;
    assert_eq!(body["data"]["gigs"]["totalCount"], 5, "{body}");
    assert_eq!(body["data"]["gigs"]["edges"].as_array().unwrap().len(), 2);
    // Lists of one's own: notifications and contracts count the caller's only.
    let body = app
        .gql("{ notifications { totalCount } myContracts { totalCount } }", json!({}), Some(&ada.access_token))
        .await;
    assert_eq!(
        (body["data"]["notifications"]["totalCount"].as_i64(), body["data"]["myContracts"]["totalCount"].as_i64()),
        (Some(0), Some(0)),
        "{body}"
    );
}
