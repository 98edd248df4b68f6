//! Organizations: roles, who manages members, the last owner.
use serde_json::{Value, json};

use crate::helpers::{TestApp, TestUser, error_code, error_field, spawn_app};

const CREATE: &str = "mutation($i: CreateOrganizationInput!) { createOrganization(input: $i) { id slug name myRole } }";
const INVITE: &str = "mutation($i: InviteOrganizationMemberInput!) { inviteOrganizationMember(input: $i) { id role status invitee { handle } invitedBy { handle } organization { slug } } }";
const ACCEPT: &str = "mutation($i: InvitationIdInput!) { acceptOrganizationInvitation(input: $i) { role profile { handle } organization { slug } } }";
const DECLINE: &str =
    "mutation($i: InvitationIdInput!) { declineOrganizationInvitation(input: $i) { status decidedAt } }";
const REVOKE: &str = "mutation($i: InvitationIdInput!) { revokeOrganizationInvitation(input: $i) { status } }";
const PENDING: &str =
    "query($id: ID!) { organization(id: $id) { invitations { edges { node { invitee { handle } role } } } } }";
const MINE: &str =
    "{ myOrganizationInvitations { edges { node { id role organization { slug } invitedBy { handle } } } } }";
const CHANGE: &str = "mutation($i: ChangeMemberRoleInput!) { changeMemberRole(input: $i) { role } }";
const REMOVE: &str = "mutation($i: RemoveMemberInput!) { removeMember(input: $i) }";
const LEAVE: &str = "mutation($i: LeaveOrganizationInput!) { leaveOrganization(input: $i) }";
const MEMBERS: &str =
    "query($id: ID!) { organization(id: $id) { members { edges { node { role profile { handle } } } } } }";

pub async fn create_org(app: &TestApp, owner: &TestUser, slug: &str) -> String {
    app.an_organization(owner, slug).await
}

pub async fn invite(app: &TestApp, actor: &TestUser, org: &str, handle: &str, role: &str) -> Value {
    app.gql(
        INVITE,
        json!({ "i": { "organizationId": org, "handle": handle, "role": role } }),
        Some(&actor.access_token),
    )
    .await
}

/// `actor` invites `handle`, who accepts at once: the accept answer, or the refused invitation.
pub async fn add(app: &TestApp, actor: &TestUser, org: &str, handle: &str, role: &str) -> Value {
    let invited = invite(app, actor, org, handle, role).await;
    let Some(id) = invited["data"]["inviteOrganizationMember"]["id"].as_str() else { return invited };
    let invitee = semasocial::domain::profile::by_handle(&app.state.db, handle).await.unwrap().unwrap();
    let viewer = semasocial::auth::Viewer::User {
        user_id: invitee.user_id.unwrap(),
        profile_id: invitee.id,
        session_id: None,
        key: None,
    };
    app.execute_as(ACCEPT, json!({ "i": { "invitationId": id } }), viewer).await
}

async fn answer(app: &TestApp, query: &str, who: &TestUser, invitation: &str) -> Value {
    app.gql(query, json!({ "i": { "invitationId": invitation } }), Some(&who.access_token)).await
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
async fn the_creator_owns_the_organization_and_invited_people_join_by_accepting() {
    let app = spawn_app().await;
    let ada = app.register("ada").await;
    app.register("bob").await;
    let org = create_org(&app, &ada, "acme").await;
    let body = add(&app, &ada, &org, "bob", "ADMIN").await;
    assert_eq!(body["data"]["acceptOrganizationInvitation"]["role"], "ADMIN", "{body}");
    assert_eq!(body["data"]["acceptOrganizationInvitation"]["organization"]["slug"], "acme");
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

    assert_eq!(
        add(&app, &bob, &org, "carol", "MEMBER").await["data"]["acceptOrganizationInvitation"]["role"],
        "MEMBER"
    );
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
async fn inviting_members_twice_agents_or_strangers_is_refused() {
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

#[tokio::test]
async fn an_invitation_is_answered_by_its_invitee_alone_and_only_once() {
    let app = spawn_app().await;
    let ada = app.register("ada").await;
    let bob = app.register("bob").await;
    let eve = app.register("eve").await;
    let org = create_org(&app, &ada, "acme").await;

    let body = invite(&app, &ada, &org, "bob", "ADMIN").await;
    let sent = &body["data"]["inviteOrganizationMember"];
    assert_eq!(
        (sent["status"].as_str(), sent["role"].as_str(), sent["invitee"]["handle"].as_str()),
        (Some("PENDING"), Some("ADMIN"), Some("bob")),
        "{body}"
    );
    assert_eq!(sent["invitedBy"]["handle"], "ada");
    let id = sent["id"].as_str().unwrap().to_owned();
    // Invited is not a member yet; the invitee hears of it and sees it among theirs.
    assert_eq!(members(&app, &ada, &org).await, [("ada".into(), "OWNER".into())]);
    assert_eq!(app.inbox(&bob).await, ["organization.invitation_sent"]);
    let mine = app.gql(MINE, json!({}), Some(&bob.access_token)).await;
    assert_eq!(mine["data"]["myOrganizationInvitations"]["edges"][0]["node"]["organization"]["slug"], "acme", "{mine}");
    let pending = app.gql(PENDING, json!({ "id": org }), Some(&ada.access_token)).await;
    assert_eq!(pending["data"]["organization"]["invitations"]["edges"][0]["node"]["invitee"]["handle"], "bob");
    // One pending invitation per person.
    assert_eq!(error_code(&invite(&app, &ada, &org, "bob", "MEMBER").await), "CONFLICT");

    // Someone else cannot take bob's place, nor see that the invitation exists.
    let stolen = answer(&app, ACCEPT, &eve, &id).await;
    assert_eq!(error_code(&stolen), "NOT_FOUND", "{stolen}");
    assert_eq!(error_code(&answer(&app, DECLINE, &eve, &id).await), "NOT_FOUND");
    let theirs = app.gql(MINE, json!({}), Some(&eve.access_token)).await;
    assert_eq!(theirs["data"]["myOrganizationInvitations"]["edges"], json!([]));
    assert_eq!(members(&app, &ada, &org).await.len(), 1);

    let joined = answer(&app, ACCEPT, &bob, &id).await;
    assert_eq!(joined["data"]["acceptOrganizationInvitation"]["role"], "ADMIN", "{joined}");
    assert_eq!(members(&app, &ada, &org).await, [("ada".into(), "OWNER".into()), ("bob".into(), "ADMIN".into())]);
    assert_eq!(app.inbox(&ada).await, ["organization.invitation_accepted"]);
    // Answered once: a second accept or a decline is a conflict and changes nothing.
    assert_eq!(error_code(&answer(&app, ACCEPT, &bob, &id).await), "CONFLICT");
    assert_eq!(error_code(&answer(&app, DECLINE, &bob, &id).await), "CONFLICT");
    assert_eq!(members(&app, &ada, &org).await.len(), 2);
    let left = app.gql(MINE, json!({}), Some(&bob.access_token)).await;
    assert_eq!(left["data"]["myOrganizationInvitations"]["edges"], json!([]));
    assert_eq!(error_code(&app.gql(MINE, json!({}), None).await), "UNAUTHENTICATED");
}

#[tokio::test]
async fn declined_and_revoked_invitations_make_nobody_a_member() {
    let app = spawn_app().await;
    let ada = app.register("ada").await;
    let bob = app.register("bob").await;
    let carol = app.register("carol").await;
    let eve = app.register("eve").await;
    let org = create_org(&app, &ada, "acme").await;
    add(&app, &ada, &org, "bob", "ADMIN").await;

    let first = invite(&app, &ada, &org, "carol", "MEMBER").await;
    let first = first["data"]["inviteOrganizationMember"]["id"].as_str().unwrap().to_owned();
    let declined = answer(&app, DECLINE, &carol, &first).await;
    assert_eq!(declined["data"]["declineOrganizationInvitation"]["status"], "DECLINED", "{declined}");
    assert!(declined["data"]["declineOrganizationInvitation"]["decidedAt"].is_string());
    assert_eq!(error_code(&answer(&app, ACCEPT, &carol, &first).await), "CONFLICT");
    assert!(app.inbox(&ada).await.contains(&"organization.invitation_declined".to_owned()));

    // A new invitation after a decline; an owner's one only owners may withdraw.
    let second = invite(&app, &ada, &org, "carol", "OWNER").await;
    let second = second["data"]["inviteOrganizationMember"]["id"].as_str().unwrap().to_owned();
    assert_eq!(error_code(&answer(&app, REVOKE, &bob, &second).await), "FORBIDDEN", "an admin withdrew an owner's");
    assert_eq!(error_code(&answer(&app, REVOKE, &eve, &second).await), "NOT_FOUND", "an outsider saw it");
    assert_eq!(error_code(&answer(&app, REVOKE, &carol, &second).await), "NOT_FOUND", "the invitee revoked it");
    let revoked = answer(&app, REVOKE, &ada, &second).await;
    assert_eq!(revoked["data"]["revokeOrganizationInvitation"]["status"], "REVOKED", "{revoked}");
    assert_eq!(error_code(&answer(&app, ACCEPT, &carol, &second).await), "CONFLICT");
    assert_eq!(
        app.inbox(&carol).await,
        ["organization.invitation_revoked", "organization.invitation_sent", "organization.invitation_sent"]
    );
    assert_eq!(members(&app, &ada, &org).await.len(), 2);

    // Members below admin neither invite nor see the pending list; admins cannot invite owners.
    add(&app, &ada, &org, "eve", "MEMBER").await;
    assert_eq!(error_code(&invite(&app, &eve, &org, "carol", "MEMBER").await), "FORBIDDEN");
    assert_eq!(error_code(&app.gql(PENDING, json!({ "id": org }), Some(&eve.access_token)).await), "FORBIDDEN");
    assert_eq!(error_code(&invite(&app, &bob, &org, "carol", "OWNER").await), "FORBIDDEN");
    assert_eq!(app.count("organization_invitations").await, 4);
}

#[tokio::test]
#[ignore = "needs PostgreSQL: row locks only matter with concurrent writers"]
async fn concurrent_invitations_of_one_person_leave_one_pending() {
    let app = spawn_app().await;
    let ada = app.register("ada").await;
    let bob = app.register("bob").await;
    app.register("carol").await;
    let org = create_org(&app, &ada, "acme").await;
    add(&app, &ada, &org, "bob", "ADMIN").await;
    let (a, b, c) = tokio::join!(
        invite(&app, &ada, &org, "carol", "MEMBER"),
        invite(&app, &bob, &org, "carol", "ADMIN"),
        invite(&app, &ada, &org, "carol", "ADMIN"),
    );
    let sent = [&a, &b, &c].iter().filter(|r| r["data"]["inviteOrganizationMember"]["id"].is_string()).count();
    let conflicts = [&a, &b, &c].iter().filter(|r| error_code(r) == "CONFLICT").count();
    assert_eq!((sent, conflicts), (1, 2), "{a} {b} {c}");
    assert_eq!(app.count("organization_invitations").await, 2);
}

const AUDIT: &str = "query($id: ID!, $after: String) { organization(id: $id) { activity(first: 2, after: $after) { totalCount edges { node { action } } pageInfo { hasNextPage endCursor } } } }";

#[tokio::test]
async fn owners_and_admins_read_the_audit_log_newest_first_and_members_do_not() {
    let app = spawn_app().await;
    let ada = app.register("ada").await;
    let bob = app.register("bob").await;
    let eve = app.register("eve").await;
    let org = create_org(&app, &ada, "acme").await;
    add(&app, &ada, &org, "bob", "ADMIN").await;
    add(&app, &ada, &org, "eve", "MEMBER").await;
    crate::work::contract(&app, &ada, Some(&org), 10_000).await;

    // Newest first, paged: the organization's contract, then its members' changes.
    let first = app.gql(AUDIT, json!({ "id": org }), Some(&bob.access_token)).await;
    let log = &first["data"]["organization"]["activity"];
    let actions: Vec<&str> =
        log["edges"].as_array().unwrap().iter().map(|e| e["node"]["action"].as_str().unwrap()).collect();
    assert_eq!(actions[0], "contract.created", "{first}");
    assert_eq!(log["pageInfo"]["hasNextPage"], true);
    let total = log["totalCount"].as_i64().unwrap();
    let mut seen = actions.len();
    let mut after = log["pageInfo"]["endCursor"].clone();
    loop {
        let page = app.gql(AUDIT, json!({ "id": org, "after": after }), Some(&ada.access_token)).await;
        let log = &page["data"]["organization"]["activity"];
        seen += log["edges"].as_array().unwrap_or_else(|| panic!("{page}")).len();
        if log["pageInfo"]["hasNextPage"] != true {
            break;
        }
        after = log["pageInfo"]["endCursor"].clone();
    }
    assert_eq!(i64::try_from(seen).unwrap(), total, "every entry once across pages");

    // A member and an outsider are refused; a demoted admin too, by the role now.
    for who in [&eve, &app.register("mallory").await] {
        let refused = app.gql(AUDIT, json!({ "id": org }), Some(&who.access_token)).await;
        assert_eq!(error_code(&refused), "FORBIDDEN", "{refused}");
    }
    let demoted = app
        .gql(
            "mutation($i: ChangeMemberRoleInput!) { changeMemberRole(input: $i) { role } }",
            json!({ "i": { "organizationId": org, "profileId": bob.profile_id, "role": "MEMBER" } }),
            Some(&ada.access_token),
        )
        .await;
    assert_eq!(demoted["data"]["changeMemberRole"]["role"], "MEMBER", "{demoted}");
    let refused = app.gql(AUDIT, json!({ "id": org }), Some(&bob.access_token)).await;
    assert_eq!(error_code(&refused), "FORBIDDEN", "{refused}");

    // A page costs the same statements whatever its size.
    let q = |n: u32| {
        format!(
            "query($id: ID!) {{ organization(id: $id) {{ activity(first: {n}) {{ edges {{ node {{ action }} }} }} }} }}"
        )
    };
    let (_, one) = app.execute(&q(1), json!({ "id": org }), Some(&ada.access_token)).await;
    let (_, many) = app.execute(&q(20), json!({ "id": org }), Some(&ada.access_token)).await;
    assert_eq!(one, many);
}
