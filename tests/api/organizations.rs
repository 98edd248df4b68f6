//! Organizations: roles, who manages members, the last owner.
use serde_json::{Value, json};

use crate::helpers::{TestApp, TestUser, error_code, error_field, spawn_app};

const CREATE: &str = "mutation($i: CreateOrganizationInput!) { createOrganization(input: $i) { id slug name myRole } }";
const ADD: &str = "mutation($i: AddOrganizationMemberInput!) { addOrganizationMember(input: $i) { role profile { handle } organization { slug } } }";
const CHANGE: &str = "mutation($i: ChangeMemberRoleInput!) { changeMemberRole(input: $i) { role } }";
const REMOVE: &str = "mutation($i: RemoveMemberInput!) { removeMember(input: $i) }";
const LEAVE: &str = "mutation($i: LeaveOrganizationInput!) { leaveOrganization(input: $i) }";
const MEMBERS: &str =
    "query($id: ID!) { organization(id: $id) { members { edges { node { role profile { handle } } } } } }";

pub async fn create_org(app: &TestApp, owner: &TestUser, slug: &str) -> String {
    let body = app.gql(CREATE, json!({ "i": { "slug": slug, "name": "Acme" } }), Some(&owner.access_token)).await;
    assert_eq!(body["data"]["createOrganization"]["myRole"], "OWNER", "{body}");
    body["data"]["createOrganization"]["id"].as_str().unwrap().to_owned()
}

pub async fn add(app: &TestApp, actor: &TestUser, org: &str, handle: &str, role: &str) -> Value {
    app.gql(ADD, json!({ "i": { "organizationId": org, "handle": handle, "role": role } }), Some(&actor.access_token))
        .await
}

async fn change(app: &TestApp, actor: &TestUser, org: &str, target: &TestUser, role: &str) -> Value {
    app.gql(
        CHANGE,
        json!({ "i": { "organizationId": org, "profileId": target.profile_id, "role": role } }),
        Some(&actor.access_token),
    )
    .await
}

async fn members(app: &TestApp, viewer: &TestUser, org: &str) -> Vec<(String, String)> {
    let body = app.gql(MEMBERS, json!({ "id": org }), Some(&viewer.access_token)).await;
    body["data"]["organization"]["members"]["edges"]
        .as_array()
        .unwrap_or_else(|| panic!("{body}"))
        .iter()
        .map(|e| {
            (
                e["node"]["profile"]["handle"].as_str().unwrap().to_owned(),
                e["node"]["role"].as_str().unwrap().to_owned(),
            )
        })
        .collect()
}

#[tokio::test]
async fn the_creator_owns_the_organization_and_adds_members() {
    let app = spawn_app().await;
    let ada = app.register("ada").await;
    app.register("bob").await;
    let org = create_org(&app, &ada, "acme").await;
    let body = add(&app, &ada, &org, "bob", "ADMIN").await;
    assert_eq!(body["data"]["addOrganizationMember"]["role"], "ADMIN", "{body}");
    assert_eq!(body["data"]["addOrganizationMember"]["organization"]["slug"], "acme");
    assert_eq!(members(&app, &ada, &org).await, [("ada".into(), "OWNER".into()), ("bob".into(), "ADMIN".into())]);
    let body = app.gql("{ organization(slug: \"ACME\") { name } }", json!({}), None).await;
    assert_eq!(body["data"]["organization"]["name"], "Acme");
}

#[tokio::test]
async fn slugs_are_validated_and_unique() {
    let app = spawn_app().await;
    let ada = app.register("ada").await;
    create_org(&app, &ada, "acme").await;
    let body = app.gql(CREATE, json!({ "i": { "slug": "acme", "name": "Again" } }), Some(&ada.access_token)).await;
    assert_eq!((error_code(&body), error_field(&body)), ("BAD_USER_INPUT", "slug"));
    let body = app.gql(CREATE, json!({ "i": { "slug": "-bad-", "name": "Bad" } }), Some(&ada.access_token)).await;
    assert_eq!(error_field(&body), "slug");
    assert_eq!(app.count("organizations").await, 1);
}

#[tokio::test]
async fn members_and_outsiders_cannot_manage_members() {
    let app = spawn_app().await;
    let ada = app.register("ada").await;
    let bob = app.register("bob").await;
    let eve = app.register("eve").await;
    let org = create_org(&app, &ada, "acme").await;
    add(&app, &ada, &org, "bob", "MEMBER").await;

    assert_eq!(error_code(&add(&app, &bob, &org, "eve", "MEMBER").await), "FORBIDDEN", "a MEMBER cannot add");
    assert_eq!(error_code(&add(&app, &eve, &org, "eve", "OWNER").await), "FORBIDDEN", "an outsider cannot add");
    assert_eq!(error_code(&change(&app, &eve, &org, &bob, "ADMIN").await), "FORBIDDEN");
    let body = app
        .gql(REMOVE, json!({ "i": { "organizationId": org, "profileId": bob.profile_id } }), Some(&eve.access_token))
        .await;
    assert_eq!(error_code(&body), "FORBIDDEN");
    // An outsider does not see the member list either.
    let body = app.gql(MEMBERS, json!({ "id": org }), Some(&eve.access_token)).await;
    assert_eq!(error_code(&body), "FORBIDDEN");
    let body = app.gql(MEMBERS, json!({ "id": org }), None).await;
    assert_eq!(error_code(&body), "UNAUTHENTICATED");
    assert_eq!(members(&app, &ada, &org).await.len(), 2);
}

#[tokio::test]
async fn admins_manage_members_but_never_owners() {
    let app = spawn_app().await;
    let ada = app.register("ada").await;
    let bob = app.register("bob").await;
    let carol = app.register("carol").await;
    let org = create_org(&app, &ada, "acme").await;
    add(&app, &ada, &org, "bob", "ADMIN").await;

    assert_eq!(add(&app, &bob, &org, "carol", "MEMBER").await["data"]["addOrganizationMember"]["role"], "MEMBER");
    assert_eq!(change(&app, &bob, &org, &carol, "ADMIN").await["data"]["changeMemberRole"]["role"], "ADMIN");
    assert_eq!(error_code(&change(&app, &bob, &org, &carol, "OWNER").await), "FORBIDDEN");
    assert_eq!(error_code(&change(&app, &bob, &org, &ada, "MEMBER").await), "FORBIDDEN");
    let body = app
        .gql(REMOVE, json!({ "i": { "organizationId": org, "profileId": ada.profile_id } }), Some(&bob.access_token))
        .await;
    assert_eq!(error_code(&body), "FORBIDDEN");
    let body = app
        .gql(REMOVE, json!({ "i": { "organizationId": org, "profileId": carol.profile_id } }), Some(&bob.access_token))
        .await;
    assert_eq!(body["data"]["removeMember"], true);
    assert_eq!(members(&app, &ada, &org).await, [("ada".into(), "OWNER".into()), ("bob".into(), "ADMIN".into())]);
}

#[tokio::test]
async fn the_last_owner_cannot_be_demoted_removed_or_leave() {
    let app = spawn_app().await;
    let ada = app.register("ada").await;
    let bob = app.register("bob").await;
    let org = create_org(&app, &ada, "acme").await;

    assert_eq!(error_code(&change(&app, &ada, &org, &ada, "ADMIN").await), "CONFLICT");
    let body = app
        .gql(REMOVE, json!({ "i": { "organizationId": org, "profileId": ada.profile_id } }), Some(&ada.access_token))
        .await;
    assert_eq!(error_code(&body), "CONFLICT");
    let body = app.gql(LEAVE, json!({ "i": { "organizationId": org } }), Some(&ada.access_token)).await;
    assert_eq!(error_code(&body), "CONFLICT");

    // With a second owner the first may go.
    add(&app, &ada, &org, "bob", "OWNER").await;
    let body = app.gql(LEAVE, json!({ "i": { "organizationId": org } }), Some(&ada.access_token)).await;
    assert_eq!(body["data"]["leaveOrganization"], true, "{body}");
    assert_eq!(members(&app, &bob, &org).await, [("bob".into(), "OWNER".into())]);
    assert_eq!(error_code(&change(&app, &bob, &org, &bob, "MEMBER").await), "CONFLICT");
}

#[tokio::test]
async fn adding_twice_or_adding_agents_and_strangers_is_refused() {
    let app = spawn_app().await;
    let ada = app.register("ada").await;
    app.register("bob").await;
    let org = create_org(&app, &ada, "acme").await;
    add(&app, &ada, &org, "bob", "MEMBER").await;
    assert_eq!(error_code(&add(&app, &ada, &org, "bob", "ADMIN").await), "CONFLICT");
    let body = add(&app, &ada, &org, "nobody_here", "MEMBER").await;
    assert_eq!((error_code(&body), error_field(&body)), ("BAD_USER_INPUT", "handle"));
    app.gql(
        "mutation { registerAgent(input: { handle: \"ada_bot\", displayName: \"Bot\" }) { id } }",
        json!({}),
        Some(&ada.access_token),
    )
    .await;
    let body = add(&app, &ada, &org, "ada_bot", "MEMBER").await;
    assert_eq!(error_field(&body), "handle");
    assert_eq!(members(&app, &ada, &org).await.len(), 2);
}

#[tokio::test]
async fn my_organizations_lists_memberships() {
    let app = spawn_app().await;
    let ada = app.register("ada").await;
    let bob = app.register("bob").await;
    let org = create_org(&app, &ada, "acme").await;
    add(&app, &ada, &org, "bob", "MEMBER").await;
    let body = app
        .gql("{ me { organizations { role organization { slug myRole } } } }", json!({}), Some(&bob.access_token))
        .await;
    assert_eq!(
        body["data"]["me"]["organizations"],
        json!([{ "role": "MEMBER", "organization": { "slug": "acme", "myRole": "MEMBER" } }])
    );
}

#[tokio::test]
#[ignore = "needs PostgreSQL: row locks only matter with concurrent writers"]
async fn concurrent_demotions_of_two_owners_leave_one_owner() {
    let app = spawn_app().await;
    let ada = app.register("ada").await;
    let bob = app.register("bob").await;
    let org = create_org(&app, &ada, "acme").await;
    add(&app, &ada, &org, "bob", "OWNER").await;
    for _ in 0..5 {
        // Each owner demotes the other at the same moment; at most one may succeed.
        let (a, b) = tokio::join!(change(&app, &ada, &org, &bob, "MEMBER"), change(&app, &bob, &org, &ada, "MEMBER"));
        let owners: Vec<_> = members(&app, &ada, &org)
            .await
            .into_iter()
            .chain(members(&app, &bob, &org).await)
            .filter(|(_, r)| r == "OWNER")
            .collect();
        assert!(!owners.is_empty(), "no owner left: {a} {b}");
        // Restore two owners for the next round.
        let owner = if owners[0].0 == "ada" { &ada } else { &bob };
        let other = if owners[0].0 == "ada" { &bob } else { &ada };
        change(&app, owner, &org, other, "OWNER").await;
    }
}
