//! Gigs and proposals: lifecycle, visibility, search, and statement counts.
use chrono::Duration;
use serde_json::{Value, json};

use crate::{
    communities::{create_community, join},
    helpers::{TestApp, TestUser, error_code, error_field, spawn_app},
    organizations::{add, create_org},
};

pub async fn create_gig(app: &TestApp, owner: &TestUser, extra: Value) -> String {
    let mut input = json!({
        "title": "Build a data pipeline", "description": "Analysing sales data with Rust",
        "skills": ["rust", "sql"], "budget": { "amountCents": 50_000, "currency": "EUR" }
    });
    if let (Some(obj), Some(extra)) = (input.as_object_mut(), extra.as_object()) {
        for (k, v) in extra {
            obj.insert(k.clone(), v.clone());
        }
    }
    let body = app
        .gql(
            "mutation($i: CreateGigInput!) { createGig(input: $i) { id status } }",
            json!({ "i": input }),
            Some(&owner.access_token),
        )
        .await;
    assert_eq!(body["data"]["createGig"]["status"], "DRAFT", "{body}");
    body["data"]["createGig"]["id"].as_str().unwrap().to_owned()
}

pub async fn publish(app: &TestApp, owner: &TestUser, gig: &str) -> Value {
    app.gql(
        "mutation($i: GigIdInput!) { publishGig(input: $i) { status } }",
        json!({ "i": { "gigId": gig } }),
        Some(&owner.access_token),
    )
    .await
}

pub async fn propose(app: &TestApp, user: &TestUser, gig: &str) -> Value {
    app.gql(
        "mutation($i: SubmitProposalInput!) { submitProposal(input: $i) { id status amount { amountCents currency } } }",
        json!({ "i": { "gigId": gig, "coverNote": "I can do it", "amountCents": 45_000, "etaDays": 10 } }),
        Some(&user.access_token),
    )
    .await
}

fn proposal_id(body: &Value) -> String {
    body["data"]["submitProposal"]["id"].as_str().unwrap_or_else(|| panic!("{body}")).to_owned()
}

const GIG: &str = "query($id: ID!) { gig(id: $id) { title status skills budget { amountCents } owner { handle } } }";
const GIGS: &str = "query($f: GigFilter, $s: GigSort, $first: Int, $after: String) { gigs(filter: $f, sort: $s, first: $first, after: $after) { edges { node { title budget { amountCents } } } pageInfo { hasNextPage endCursor } } }";

fn titles(body: &Value) -> Vec<String> {
    body["data"]["gigs"]["edges"]
        .as_array()
        .unwrap_or_else(|| panic!("{body}"))
        .iter()
        .map(|e| e["node"]["title"].as_str().unwrap().to_owned())
        .collect()
}

#[tokio::test]
async fn a_draft_is_private_until_published() {
    let app = spawn_app().await;
    let ada = app.register("ada").await;
    let bob = app.register("bob").await;
    let gig = create_gig(&app, &ada, json!({})).await;
    assert_eq!(error_code(&app.gql(GIG, json!({ "id": gig }), Some(&bob.access_token)).await), "NOT_FOUND");
    assert!(titles(&app.gql(GIGS, json!({}), Some(&bob.access_token)).await).is_empty());
    assert_eq!(titles(&app.gql(GIGS, json!({ "f": { "status": "DRAFT" } }), Some(&ada.access_token)).await).len(), 1);
    assert!(titles(&app.gql(GIGS, json!({ "f": { "status": "DRAFT" } }), Some(&bob.access_token)).await).is_empty());

    assert_eq!(error_code(&publish(&app, &bob, &gig).await), "FORBIDDEN");
    assert_eq!(publish(&app, &ada, &gig).await["data"]["publishGig"]["status"], "OPEN");
    let body = app.gql(GIG, json!({ "id": gig }), None).await;
    assert_eq!(body["data"]["gig"]["skills"], json!(["rust", "sql"]), "{body}");
    assert_eq!(body["data"]["gig"]["owner"]["handle"], "ada");
    let err = publish(&app, &ada, &gig).await;
    assert_eq!(error_code(&err), "CONFLICT");
    assert!(err["errors"][0]["message"].as_str().unwrap().contains("OPEN"), "{err}");
}

#[tokio::test]
async fn invalid_gigs_name_the_field() {
    let app = spawn_app().await;
    let ada = app.register("ada").await;
    let cases = [
        (json!({ "budget": { "amountCents": 0, "currency": "EUR" } }), "budget.amountCents"),
        (json!({ "budget": { "amountCents": 100, "currency": "euros" } }), "budget.currency"),
        (json!({ "remote": false }), "location"),
        (json!({ "visibility": "COMMUNITY" }), "visibility"),
        (json!({ "title": "" }), "title"),
        (json!({ "deadline": "2000-01-01T00:00:00Z" }), "deadline"),
    ];
    for (extra, field) in cases {
        let mut input =
            json!({ "title": "t", "description": "d", "budget": { "amountCents": 100, "currency": "EUR" } });
        for (k, v) in extra.as_object().unwrap() {
            input[k] = v.clone();
        }
        let body = app
            .gql(
                "mutation($i: CreateGigInput!) { createGig(input: $i) { id } }",
                json!({ "i": input }),
                Some(&ada.access_token),
            )
            .await;
        assert_eq!((error_code(&body), error_field(&body)), ("BAD_USER_INPUT", field), "{body}");
    }
    assert_eq!(app.count("gigs").await, 0);
}

#[tokio::test]
async fn proposals_follow_the_rules() {
    let app = spawn_app().await;
    let ada = app.register("ada").await;
    let bob = app.register("bob").await;
    let gig = create_gig(&app, &ada, json!({})).await;
    assert_eq!(error_code(&propose(&app, &bob, &gig).await), "NOT_FOUND", "drafts are invisible");
    publish(&app, &ada, &gig).await;

    assert_eq!(error_code(&propose(&app, &ada, &gig).await), "FORBIDDEN", "not on your own gig");
    let first = propose(&app, &bob, &gig).await;
    assert_eq!(first["data"]["submitProposal"]["amount"], json!({ "amountCents": 45_000, "currency": "EUR" }));
    assert_eq!(error_code(&propose(&app, &bob, &gig).await), "CONFLICT", "one active proposal per gig");

    // Withdrawing frees the slot.
    let withdraw = "mutation($i: ProposalIdInput!) { withdrawProposal(input: $i) { status } }";
    let id = proposal_id(&first);
    assert_eq!(
        error_code(&app.gql(withdraw, json!({ "i": { "proposalId": id } }), Some(&ada.access_token)).await),
        "FORBIDDEN"
    );
    assert_eq!(
        app.gql(withdraw, json!({ "i": { "proposalId": id } }), Some(&bob.access_token)).await["data"]["withdrawProposal"]
            ["status"],
        "WITHDRAWN"
    );
    proposal_id(&propose(&app, &bob, &gig).await);

    // A closed gig takes no proposals.
    let cat = app.register("cat").await;
    app.gql(
        "mutation($i: GigIdInput!) { closeGig(input: $i) { status } }",
        json!({ "i": { "gigId": gig } }),
        Some(&ada.access_token),
    )
    .await;
    assert_eq!(error_code(&propose(&app, &cat, &gig).await), "CONFLICT");
    // Closing declined the waiting proposal.
    let mine = app
        .gql("{ myProposals { edges { node { status declineReason } } } }", json!({}), Some(&bob.access_token))
        .await;
    assert_eq!(mine["data"]["myProposals"]["edges"][0]["node"]["status"], "DECLINED", "{mine}");
}

#[tokio::test]
async fn the_owner_reviews_and_accepting_fills_the_gig() {
    let app = spawn_app().await;
    let ada = app.register("ada").await;
    let bob = app.register("bob").await;
    let cat = app.register("cat").await;
    let gig = create_gig(&app, &ada, json!({})).await;
    publish(&app, &ada, &gig).await;
    let bobs = proposal_id(&propose(&app, &bob, &gig).await);
    let cats = proposal_id(&propose(&app, &cat, &gig).await);

    // Only managers see the proposals and act on them.
    let list = "query($id: ID!) { gig(id: $id) { proposals { edges { node { author { handle } status } } } } }";
    assert_eq!(error_code(&app.gql(list, json!({ "id": gig }), Some(&cat.access_token)).await), "FORBIDDEN");
    let shortlist = "mutation($i: ProposalIdInput!) { shortlistProposal(input: $i) { status } }";
    assert_eq!(
        error_code(&app.gql(shortlist, json!({ "i": { "proposalId": bobs } }), Some(&cat.access_token)).await),
        "FORBIDDEN"
    );
    assert_eq!(
        app.gql(shortlist, json!({ "i": { "proposalId": bobs } }), Some(&ada.access_token)).await["data"]["shortlistProposal"]
            ["status"],
        "SHORTLISTED"
    );
    let body = app.gql(list, json!({ "id": gig }), Some(&ada.access_token)).await;
    assert_eq!(body["data"]["gig"]["proposals"]["edges"].as_array().map(Vec::len), Some(2));
    // Proposals are private to their author and the managers.
    let one = "query($id: ID!) { proposal(id: $id) { coverNote } }";
    assert_eq!(error_code(&app.gql(one, json!({ "id": bobs }), Some(&cat.access_token)).await), "NOT_FOUND");

    let accept = "mutation($i: ProposalIdInput!) { acceptProposal(input: $i) { proposal { status } gig { status acceptedProposalId } contractId } }";
    assert_eq!(
        error_code(&app.gql(accept, json!({ "i": { "proposalId": bobs } }), Some(&bob.access_token)).await),
        "FORBIDDEN"
    );
    let body = app.gql(accept, json!({ "i": { "proposalId": bobs } }), Some(&ada.access_token)).await;
    assert_eq!(body["data"]["acceptProposal"]["proposal"]["status"], "ACCEPTED", "{body}");
    assert_eq!(body["data"]["acceptProposal"]["gig"], json!({ "status": "FILLED", "acceptedProposalId": bobs }));
    let body = app.gql(one, json!({ "id": cats }), Some(&cat.access_token)).await;
    assert_eq!(body["data"]["proposal"]["coverNote"], "I can do it");
    let status = app
        .gql(
            "query($id: ID!) { proposal(id: $id) { status declineReason } }",
            json!({ "id": cats }),
            Some(&cat.access_token),
        )
        .await;
    assert_eq!(status["data"]["proposal"]["status"], "DECLINED");
    // A filled gig cannot be filled again.
    let again = app.gql(accept, json!({ "i": { "proposalId": cats } }), Some(&ada.access_token)).await;
    assert_eq!(error_code(&again), "CONFLICT");
    assert!(again["errors"][0]["message"].as_str().unwrap().contains("FILLED"), "{again}");
}

#[tokio::test]
async fn community_gigs_are_for_members_only() {
    let app = spawn_app().await;
    let ada = app.register("ada").await;
    let bob = app.register("bob").await;
    let eve = app.register("eve").await;
    let c = create_community(&app, &ada, "rustaceans", "PUBLIC").await;
    join(&app, &bob, &c).await;
    let gig =
        create_gig(&app, &ada, json!({ "communityId": c, "visibility": "COMMUNITY", "title": "Members gig" })).await;
    publish(&app, &ada, &gig).await;
    assert_eq!(error_code(&app.gql(GIG, json!({ "id": gig }), Some(&eve.access_token)).await), "NOT_FOUND");
    assert_eq!(error_code(&app.gql(GIG, json!({ "id": gig }), None).await), "NOT_FOUND");
    assert!(titles(&app.gql(GIGS, json!({}), Some(&eve.access_token)).await).is_empty());
    assert_eq!(error_code(&propose(&app, &eve, &gig).await), "NOT_FOUND");
    assert_eq!(
        titles(&app.gql(GIGS, json!({ "f": { "communityId": c } }), Some(&bob.access_token)).await),
        ["Members gig"]
    );
    assert!(propose(&app, &bob, &gig).await["data"]["submitProposal"].is_object());
}

#[tokio::test]
async fn organization_gigs_are_managed_by_its_admins() {
    let app = spawn_app().await;
    let ada = app.register("ada").await;
    let bob = app.register("bob").await;
    let cat = app.register("cat").await;
    let org = create_org(&app, &ada, "acme").await;
    add(&app, &ada, &org, "bob", "ADMIN").await;
    add(&app, &ada, &org, "cat", "MEMBER").await;
    let body = app
        .gql(
            "mutation($i: CreateGigInput!) { createGig(input: $i) { id } }",
            json!({ "i": { "organizationId": org, "title": "t", "description": "d", "budget": { "amountCents": 100, "currency": "EUR" } } }),
            Some(&cat.access_token),
        )
        .await;
    assert_eq!(error_code(&body), "FORBIDDEN", "members do not post for the organization");
    let gig = create_gig(&app, &ada, json!({ "organizationId": org })).await;
    // Another admin manages it; so an admin cannot propose on it.
    assert_eq!(publish(&app, &bob, &gig).await["data"]["publishGig"]["status"], "OPEN");
    assert_eq!(error_code(&propose(&app, &bob, &gig).await), "FORBIDDEN");
    assert!(propose(&app, &cat, &gig).await["data"]["submitProposal"].is_object());
}

#[tokio::test]
async fn whoever_posted_an_organizations_gig_keeps_nothing_of_it_once_demoted() {
    let app = spawn_app().await;
    let ada = app.register("ada").await;
    let bob = app.register("bob").await;
    let cat = app.register("cat").await;
    let org = create_org(&app, &ada, "acme").await;
    add(&app, &ada, &org, "bob", "ADMIN").await;
    let gig = create_gig(&app, &bob, json!({ "organizationId": org })).await;
    assert_eq!(publish(&app, &bob, &gig).await["data"]["publishGig"]["status"], "OPEN");
    let cats = proposal_id(&propose(&app, &cat, &gig).await);
    let change = "mutation($i: ChangeMemberRoleInput!) { changeMemberRole(input: $i) { role } }";
    let body = app
        .gql(
            change,
            json!({ "i": { "organizationId": org, "profileId": bob.profile_id, "role": "MEMBER" } }),
            Some(&ada.access_token),
        )
        .await;
    assert_eq!(body["data"]["changeMemberRole"]["role"], "MEMBER", "{body}");

    let accept = "mutation($i: ProposalIdInput!) { acceptProposal(input: $i) { proposal { status } } }";
    let refused = app.gql(accept, json!({ "i": { "proposalId": cats } }), Some(&bob.access_token)).await;
    assert_eq!(error_code(&refused), "FORBIDDEN", "the poster, now a member, hires nobody: {refused}");
    let close = app
        .gql(
            "mutation($i: GigIdInput!) { closeGig(input: $i) { status } }",
            json!({ "i": { "gigId": gig } }),
            Some(&bob.access_token),
        )
        .await;
    assert_eq!(error_code(&close), "FORBIDDEN", "{close}");
    assert_eq!(app.gql(GIG, json!({ "id": gig }), None).await["data"]["gig"]["status"], "OPEN");
    assert_eq!(app.count("proposals WHERE status = 'SUBMITTED'").await, 1, "the proposal still waits");
    // The organization's current admins still do.
    let body = app.gql(accept, json!({ "i": { "proposalId": cats } }), Some(&ada.access_token)).await;
    assert_eq!(body["data"]["acceptProposal"]["proposal"]["status"], "ACCEPTED", "{body}");
}

#[tokio::test]
async fn gigs_are_found_by_text_skills_and_budget_and_sorted() {
    let app = spawn_app().await;
    let ada = app.register("ada").await;
    for (title, description, skills, budget) in [
        ("Logo design", "Designing a logo for a bakery", json!(["design"]), 30_000),
        ("Rust API", "Build a GraphQL API in Rust", json!(["rust"]), 90_000),
        ("Data cleanup", "Clean sales data; designs welcome", json!(["sql"]), 20_000),
        ("Rust CLI", "A command line tool in Rust", json!(["rust"]), 60_000),
    ] {
        let gig = create_gig(&app, &ada, json!({ "title": title, "description": description, "skills": skills, "budget": { "amountCents": budget, "currency": "EUR" } })).await;
        publish(&app, &ada, &gig).await;
        app.clock.advance(Duration::seconds(1));
    }
    let query = |f: Value, s: &str| app.gql(GIGS, json!({ "f": f, "s": s }), None);
    // Stemmed full-text: "design" finds "Designing" and "designs".
    let mut found = titles(&query(json!({ "text": "design" }), "NEWEST").await);
    found.sort();
    assert_eq!(found, ["Data cleanup", "Logo design"]);
    assert_eq!(titles(&query(json!({ "text": "rust tool" }), "NEWEST").await), ["Rust CLI"]);
    assert_eq!(titles(&query(json!({ "skills": ["rust"] }), "NEWEST").await), ["Rust CLI", "Rust API"]);
    assert_eq!(
        titles(&query(json!({ "minBudget": 25_000, "maxBudget": 70_000, "currency": "EUR" }), "BUDGET").await),
        ["Rust CLI", "Logo design"]
    );
    assert_eq!(
        titles(&query(json!({ "currency": "eur" }), "BUDGET").await),
        ["Rust API", "Rust CLI", "Logo design", "Data cleanup"]
    );
    // Amounts in different currencies are never compared: a yen gig is outside EUR bounds and
    // sorts, and bounds or the budget sort without a currency are refused.
    let yen =
        create_gig(&app, &ada, json!({ "title": "Yen gig", "budget": { "amountCents": 50_000, "currency": "JPY" } }))
            .await;
    publish(&app, &ada, &yen).await;
    assert_eq!(
        titles(&query(json!({ "minBudget": 25_000, "maxBudget": 70_000, "currency": "EUR" }), "BUDGET").await),
        ["Rust CLI", "Logo design"]
    );
    assert_eq!(titles(&query(json!({ "currency": "JPY" }), "BUDGET").await), ["Yen gig"]);
    assert_eq!(error_field(&query(json!({ "minBudget": 25_000 }), "NEWEST").await), "filter.currency");
    assert_eq!(error_field(&query(json!({}), "BUDGET").await), "filter.currency");
    assert_eq!(error_field(&query(json!({ "currency": "EURO" }), "NEWEST").await), "filter.currency");
    // Relevance: a title match outranks a description-only match.
    assert_eq!(titles(&query(json!({ "text": "logo" }), "RELEVANCE").await), ["Logo design"]);
    let ranked = titles(&query(json!({ "text": "design" }), "RELEVANCE").await);
    assert_eq!(ranked.first().map(String::as_str), Some("Logo design"), "{ranked:?}");
    assert_eq!(error_field(&query(json!({}), "RELEVANCE").await), "sort");
    // Search syntax in user text is just words.
    assert!(titles(&query(json!({ "text": "\"rust\" OR NEAR(*" }), "NEWEST").await).len() <= 2);
}

#[tokio::test]
async fn keyset_pages_walk_every_sort_without_gaps() {
    let app = spawn_app().await;
    let ada = app.register("ada").await;
    let mut expected = Vec::new();
    for i in 0..7 {
        // Budgets repeat so ties exercise the cursor's tie-breakers.
        let gig = create_gig(&app, &ada, json!({ "title": format!("Gig {i} rust"), "budget": { "amountCents": 1000 * (i % 3 + 1), "currency": "EUR" } })).await;
        publish(&app, &ada, &gig).await;
        expected.push(format!("Gig {i} rust"));
        app.clock.advance(Duration::seconds(1));
    }
    for sort in ["NEWEST", "BUDGET", "RELEVANCE"] {
        let mut seen = Vec::new();
        let mut after: Option<String> = None;
        loop {
            let body = app
                .gql(
                    GIGS,
                    json!({ "f": { "text": "rust", "currency": "EUR" }, "s": sort, "first": 3, "after": after }),
                    None,
                )
                .await;
            seen.extend(titles(&body));
            let info = &body["data"]["gigs"]["pageInfo"];
            if info["hasNextPage"] == false {
                break;
            }
            after = info["endCursor"].as_str().map(str::to_owned);
        }
        let mut sorted = seen.clone();
        sorted.sort();
        let mut all = expected.clone();
        all.sort();
        assert_eq!(sorted, all, "{sort}: every gig exactly once, got {seen:?}");
    }
}

#[tokio::test]
async fn a_page_of_gigs_costs_the_same_statements_for_5_and_50() {
    let app = crate::helpers::spawn_app().await;
    let ada = app.register("ada").await;
    let org = create_org(&app, &ada, "acme").await;
    let c = create_community(&app, &ada, "rustaceans", "PUBLIC").await;
    for i in 0..50 {
        let extra = if i % 2 == 0 { json!({ "organizationId": org }) } else { json!({ "communityId": c }) };
        let gig = create_gig(&app, &ada, extra).await;
        publish(&app, &ada, &gig).await;
    }
    let query = "query($n: Int) { gigs(first: $n) { edges { node { title skills owner { handle skills { skill } } organization { name } community { name memberCount } } } } }";
    let mut costs = Vec::new();
    for n in [5, 50] {
        let (body, statements) = app.execute(query, json!({ "n": n }), None).await;
        costs.push(statements);
        assert_eq!(titles(&body).len(), n as usize, "{body}");
    }
    assert_eq!(costs[0], costs[1], "statements for 5 vs 50 gigs: {costs:?}");
}

#[tokio::test]
async fn owners_come_joined_into_the_page_for_every_sort_and_page() {
    let app = spawn_app().await;
    let (ada, bob) = (app.register("ada").await, app.register("bob").await);
    for (i, owner) in [&ada, &bob, &ada, &bob, &ada].into_iter().enumerate() {
        let budget = json!({ "budget": { "amountCents": 10_000 * (i + 1), "currency": "EUR" } });
        let gig = create_gig(&app, owner, budget).await;
        publish(&app, owner, &gig).await;
    }
    let bare = "query($s: GigSort, $f: GigFilter, $a: String) { gigs(sort: $s, filter: $f, first: 2, after: $a) { nodes { id } pageInfo { endCursor } } }";
    let with_owner = "query($s: GigSort, $f: GigFilter, $a: String) { gigs(sort: $s, filter: $f, first: 2, after: $a) { nodes { id owner { handle } } pageInfo { endCursor } } }";
    let text = json!({ "text": "pipeline", "currency": "EUR" });
    for (sort, filter) in [("NEWEST", json!(null)), ("BUDGET", json!({ "currency": "EUR" })), ("RELEVANCE", text)] {
        let mut after = Value::Null;
        for page in 0..2 {
            let vars = json!({ "s": sort, "f": filter, "a": after });
            let (plain, plain_cost) = app.execute(bare, vars.clone(), None).await;
            let (joined, joined_cost) = app.execute(with_owner, vars, None).await;
            let nodes = joined["data"]["gigs"]["nodes"].as_array().unwrap_or_else(|| panic!("{sort}: {joined}"));
            let ids: Vec<&Value> = nodes.iter().map(|n| &n["id"]).collect();
            let plain_ids: Vec<&Value> =
                plain["data"]["gigs"]["nodes"].as_array().unwrap().iter().map(|n| &n["id"]).collect();
            assert_eq!(ids, plain_ids, "{sort} page {page}: the same gigs with or without owners");
            assert_eq!(nodes.len(), 2, "{sort} page {page}: {joined}");
            assert!(nodes.iter().all(|n| ["ada", "bob"].contains(&n["owner"]["handle"].as_str().unwrap_or(""))));
            assert_eq!(joined_cost, plain_cost, "{sort} page {page}: owners cost no statement of their own");
            after = joined["data"]["gigs"]["pageInfo"]["endCursor"].clone();
        }
    }
}
