//! Editing and finding profiles; who sees an email.
use chrono::Duration;
use serde_json::{Value, json};

use crate::helpers::{error_code, error_field, spawn_app};

const UPDATE: &str = "mutation($i: UpdateProfileInput!) { updateMyProfile(input: $i) { headline bio location timezone availability rate { amountCents currency } displayName } }";
const SKILLS: &str = "mutation($i: SetSkillsInput!) { setMySkills(input: $i) { handle skills { skill level } } }";
const PROFILES: &str = "query($f: ProfileFilter, $first: Int, $after: String) { profiles(filter: $f, first: $first, after: $after) { edges { cursor node { handle kind } } pageInfo { hasNextPage endCursor } } }";

fn handles(body: &Value) -> Vec<String> {
    body["data"]["profiles"]["edges"]
        .as_array()
        .unwrap_or_else(|| panic!("no edges: {body}"))
        .iter()
        .map(|e| e["node"]["handle"].as_str().unwrap().to_owned())
        .collect()
}

#[tokio::test]
async fn updating_my_profile_sets_and_clears_fields() {
    let app = spawn_app().await;
    let ada = app.register("ada").await;
    let vars = json!({ "i": {
        "headline": "Analytical engines", "bio": "Line one\nLine two", "location": "London",
        "timezone": "Europe/London", "availability": "LIMITED", "rate": { "amountCents": 12000, "currency": "gbp" }
    }});
    let body = app.gql(UPDATE, vars, Some(&ada.access_token)).await;
    let p = &body["data"]["updateMyProfile"];
    assert_eq!(p["headline"], "Analytical engines", "{body}");
    assert_eq!(p["bio"], "Line one\nLine two");
    assert_eq!(p["availability"], "LIMITED");
    assert_eq!(p["rate"], json!({ "amountCents": 12000, "currency": "GBP" }));

    // Omitted fields stay; null clears.
    let body =
        app.gql(UPDATE, json!({ "i": { "headline": null, "displayName": "Ada King" } }), Some(&ada.access_token)).await;
    let p = &body["data"]["updateMyProfile"];
    assert!(p["headline"].is_null());
    assert_eq!(p["location"], "London");
    assert_eq!(p["displayName"], "Ada King");
    assert_eq!(app.count("activities").await, 2 + 2, "registration, token, two updates");
}

#[tokio::test]
async fn invalid_profile_fields_are_named_and_nothing_changes() {
    let app = spawn_app().await;
    let ada = app.register("ada").await;
    for (input, field) in [
        (json!({ "timezone": "not a zone" }), "timezone"),
        (json!({ "timezone": "Europe/Atlantis" }), "timezone"),
        (json!({ "rate": { "amountCents": -1, "currency": "EUR" } }), "rate.amountCents"),
        (json!({ "rate": { "amountCents": 100, "currency": "EURO" } }), "rate.currency"),
        (json!({ "displayName": "" }), "displayName"),
        (json!({ "headline": "x".repeat(201) }), "headline"),
    ] {
        let body = app.gql(UPDATE, json!({ "i": input }), Some(&ada.access_token)).await;
        assert_eq!(error_code(&body), "BAD_USER_INPUT", "{body}");
        assert_eq!(error_field(&body), field, "{body}");
    }
    let body =
        app.gql("{ me { profile { timezone rate { amountCents } } } }", json!({}), Some(&ada.access_token)).await;
    crate::helpers::assert_ok(&body);
    assert!(body["data"]["me"]["profile"]["timezone"].is_null());
    assert!(body["data"]["me"]["profile"]["rate"].is_null());
}

#[tokio::test]
async fn updating_a_profile_needs_a_login() {
    let app = spawn_app().await;
    let body = app.gql(UPDATE, json!({ "i": { "headline": "x" } }), None).await;
    assert_eq!(error_code(&body), "UNAUTHENTICATED");
}

#[tokio::test]
async fn skills_are_replaced_validated_and_sorted_by_level() {
    let app = spawn_app().await;
    let ada = app.register("ada").await;
    let body = app
        .gql(
            SKILLS,
            json!({ "i": { "skills": [{ "skill": "SQL", "level": 3 }, { "skill": "Rust", "level": 5 }] } }),
            Some(&ada.access_token),
        )
        .await;
    assert_eq!(
        body["data"]["setMySkills"]["skills"],
        json!([{ "skill": "rust", "level": 5 }, { "skill": "sql", "level": 3 }]),
        "{body}"
    );

    let body = app
        .gql(
            SKILLS,
            json!({ "i": { "skills": [{ "skill": "go", "level": 2 }, { "skill": "Go", "level": 3 }] } }),
            Some(&ada.access_token),
        )
        .await;
    assert_eq!(error_field(&body), "skills[1].skill");
    let body =
        app.gql(SKILLS, json!({ "i": { "skills": [{ "skill": "go", "level": 6 }] } }), Some(&ada.access_token)).await;
    assert_eq!(error_field(&body), "skills[0].level");

    // The failed attempts changed nothing.
    let body =
        app.gql("query($h: String!) { profile(handle: $h) { skills { skill } } }", json!({ "h": "ada" }), None).await;
    assert_eq!(body["data"]["profile"]["skills"], json!([{ "skill": "rust" }, { "skill": "sql" }]));
}

#[tokio::test]
async fn only_the_owner_reads_a_profile_email() {
    let app = spawn_app().await;
    let ada = app.register("ada").await;
    let bob = app.register("bob").await;
    let query = "query($h: String!) { profile(handle: $h) { handle email } }";
    let own = app.gql(query, json!({ "h": "ada" }), Some(&ada.access_token)).await;
    assert_eq!(own["data"]["profile"]["email"], "ada@example.com");
    let other = app.gql(query, json!({ "h": "ada" }), Some(&bob.access_token)).await;
    assert_eq!(other["data"]["profile"]["handle"], "ada");
    crate::helpers::assert_ok(&other);
    assert!(other["data"]["profile"]["email"].is_null(), "{other}");
    let anonymous = app.gql(query, json!({ "h": "ada" }), None).await;
    crate::helpers::assert_ok(&anonymous);
    assert_eq!(anonymous["data"]["profile"]["handle"], "ada");
    assert!(anonymous["data"]["profile"]["email"].is_null());
    // And not through the list either.
    let list = app.gql("{ profiles { edges { node { handle email } } } }", json!({}), Some(&bob.access_token)).await;
    for edge in list["data"]["profiles"]["edges"].as_array().unwrap() {
        let expected = if edge["node"]["handle"] == "bob" { json!("bob@example.com") } else { Value::Null };
        assert_eq!(edge["node"]["email"], expected);
    }
}

#[tokio::test]
async fn unknown_handle_is_null() {
    let app = spawn_app().await;
    let body = app.gql("{ profile(handle: \"nobody\") { handle } }", json!({}), None).await;
    assert!(body["data"]["profile"].is_null());
    assert!(body["errors"].is_null());
}

#[tokio::test]
async fn profiles_filter_by_skills_kind_and_text() {
    let app = spawn_app().await;
    let ada = app.register("ada").await;
    let bob = app.register("bob").await;
    app.register("carol").await;
    for (user, skills) in [
        (&ada, json!([{ "skill": "rust", "level": 5 }, { "skill": "sql", "level": 2 }])),
        (&bob, json!([{ "skill": "rust", "level": 3 }])),
    ] {
        app.gql(SKILLS, json!({ "i": { "skills": skills } }), Some(&user.access_token)).await;
    }
    app.gql(UPDATE, json!({ "i": { "headline": "Loves 100% Compilers" } }), Some(&bob.access_token)).await;
    app.gql(
        "mutation($i: RegisterAgentInput!) { registerAgent(input: $i) { id } }",
        json!({ "i": { "handle": "rusty_bot", "displayName": "Rusty", "capabilities": [{ "skill": "rust", "level": 4 }] } }),
        Some(&ada.access_token),
    )
    .await;

    let mut rust = handles(&app.gql(PROFILES, json!({ "f": { "skills": ["Rust"] } }), None).await);
    rust.sort();
    assert_eq!(rust, ["ada", "bob", "rusty_bot"]);
    assert_eq!(handles(&app.gql(PROFILES, json!({ "f": { "skills": ["rust", "sql"] } }), None).await), ["ada"]);
    assert_eq!(
        handles(&app.gql(PROFILES, json!({ "f": { "skills": ["rust"], "kind": "AGENT" } }), None).await),
        ["rusty_bot"]
    );
    assert_eq!(handles(&app.gql(PROFILES, json!({ "f": { "text": "compilers" } }), None).await), ["bob"]);
    // LIKE wildcards in user text are literal.
    assert_eq!(handles(&app.gql(PROFILES, json!({ "f": { "text": "100%" } }), None).await), ["bob"]);
    assert!(handles(&app.gql(PROFILES, json!({ "f": { "text": "%" } }), None).await).len() == 1);
}

#[tokio::test]
async fn profile_pages_follow_cursors_without_gaps_or_repeats() {
    let app = spawn_app().await;
    let mut expected = Vec::new();
    for i in 0..7 {
        let handle = format!("user_{i}");
        app.register(&handle).await;
        expected.push(handle);
        app.clock.advance(Duration::seconds(1));
    }
    expected.reverse(); // newest first

    let mut seen = Vec::new();
    let mut after: Option<String> = None;
    let mut pages = 0;
    loop {
        let body = app.gql(PROFILES, json!({ "first": 3, "after": after }), None).await;
        seen.extend(handles(&body));
        pages += 1;
        let info = &body["data"]["profiles"]["pageInfo"];
        if info["hasNextPage"] == false {
            break;
        }
        after = info["endCursor"].as_str().map(str::to_owned);
    }
    assert_eq!(pages, 3);
    assert_eq!(seen, expected);
}

#[tokio::test]
async fn page_size_is_capped_and_bad_cursors_are_named() {
    let app = spawn_app_with_users(55).await;
    let body = app.gql(PROFILES, json!({ "first": 1000 }), None).await;
    assert_eq!(handles(&body).len(), 50, "capped at the maximum page size");
    assert_eq!(body["data"]["profiles"]["pageInfo"]["hasNextPage"], true);
    let body = app.gql(PROFILES, json!({ "after": "not-a-cursor" }), None).await;
    assert_eq!(error_field(&body), "after");
    let body = app.gql(PROFILES, json!({ "first": -1 }), None).await;
    assert_eq!(error_field(&body), "first");
}

async fn spawn_app_with_users(n: usize) -> crate::helpers::TestApp {
    use sea_orm::{ActiveModelTrait, Set};
    let app = crate::helpers::spawn_app().await;
    // Insert directly: registering 55 users over HTTP would only test registration again.
    let now = app.clock_now();
    for i in 0..n {
        entity::profile::ActiveModel {
            id: Set(uuid::Uuid::new_v4()),
            user_id: Set(None),
            operator_user_id: Set(None),
            handle: Set(format!("bulk_{i}")),
            display_name: Set(format!("Bulk {i}")),
            headline: Set(None),
            bio: Set(None),
            location: Set(None),
            timezone: Set(None),
            rate_cents: Set(None),
            rate_currency: Set(None),
            availability: Set(entity::profile::Availability::Available),
            kind: Set(entity::profile::ProfileKind::Human),
            reputation: Set(0.0),
            created_at: Set(now),
            updated_at: Set(now),
        }
        .insert(&app.state.db)
        .await
        .unwrap();
    }
    app
}

#[tokio::test]
async fn a_page_of_profiles_costs_the_same_statements_whatever_its_size() {
    let app = spawn_app_with_users(50).await;
    let owner = app.register("operator").await;
    // Give every profile skills so the loader has real rows to fetch.
    use sea_orm::{ActiveModelTrait, EntityTrait, Set};
    for p in entity::profile::Entity::find().all(&app.state.db).await.unwrap() {
        entity::profile_skill::ActiveModel { profile_id: Set(p.id), skill: Set("rust".into()), level: Set(3) }
            .insert(&app.state.db)
            .await
            .unwrap();
    }
    app.gql(
        "mutation { registerAgent(input: { handle: \"page_bot\", displayName: \"Bot\" }) { id } }",
        json!({}),
        Some(&owner.access_token),
    )
    .await;
    let query = "query($n: Int) { profiles(first: $n) { edges { node { handle skills { skill level } operator { handle skills { skill } } } } } }";
    let mut costs = Vec::new();
    for n in [5, 50] {
        // The operation's own statements (a mail leaving in the background is not its cost).
        let (body, statements) = app.execute(query, json!({ "n": n }), None).await;
        costs.push(statements);
        assert_eq!(handles(&body).len(), n as usize);
    }
    assert_eq!(costs[0], costs[1], "statements for 5 vs 50 profiles: {costs:?}");
    assert!(costs[0] <= 5, "a page costs a handful of statements: {costs:?}");
}
