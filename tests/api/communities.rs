//! Communities: joining public and private ones, roles, bans, and who sees inside.
use serde_json::{Value, json};

use crate::helpers::{TestApp, TestUser, error_code, spawn_app};

pub async fn create_community(app: &TestApp, owner: &TestUser, slug: &str, visibility: &str) -> String {
    let body = app
        .gql(
            "mutation($i: CreateCommunityInput!) { createCommunity(input: $i) { id myRole } }",
            json!({ "i": { "slug": slug, "name": slug, "visibility": visibility } }),
            Some(&owner.access_token),
        )
        .await;
    assert_eq!(body["data"]["createCommunity"]["myRole"], "OWNER", "{body}");
    body["data"]["createCommunity"]["id"].as_str().unwrap().to_owned()
}

pub async fn join(app: &TestApp, user: &TestUser, community: &str) -> Value {
    app.gql(
        "mutation($i: JoinCommunityInput!) { joinCommunity(input: $i) { membership { role } joinRequest { id status } } }",
        json!({ "i": { "communityId": community, "message": "hi" } }),
        Some(&user.access_token),
    )
    .await
}

pub async fn ban(app: &TestApp, moderator: &TestUser, community: &str, target: &TestUser) -> Value {
    app.gql(
        "mutation($i: BanInput!) { banMember(input: $i) }",
        json!({ "i": { "communityId": community, "profileId": target.profile_id, "reason": "spam" } }),
        Some(&moderator.access_token),
    )
    .await
}

async fn set_role(app: &TestApp, actor: &TestUser, community: &str, target: &TestUser, role: &str) -> Value {
    app.gql(
        "mutation($i: SetCommunityRoleInput!) { setCommunityRole(input: $i) { role } }",
        json!({ "i": { "communityId": community, "profileId": target.profile_id, "role": role } }),
        Some(&actor.access_token),
    )
    .await
}

#[tokio::test]
async fn joining_a_public_community_is_immediate() {
    let app = spawn_app().await;
    let ada = app.register("ada").await;
    let bob = app.register("bob").await;
    let c = create_community(&app, &ada, "rustaceans", "PUBLIC").await;
    let body = join(&app, &bob, &c).await;
    assert_eq!(body["data"]["joinCommunity"]["membership"]["role"], "MEMBER", "{body}");
    crate::helpers::assert_ok(&body);
    assert!(body["data"]["joinCommunity"]["joinRequest"].is_null());
    assert_eq!(error_code(&join(&app, &bob, &c).await), "CONFLICT", "joining twice");
    let body = app
        .gql(
            "query($id: ID!) { community(id: $id) { memberCount myRole } }",
            json!({ "id": c }),
            Some(&bob.access_token),
        )
        .await;
    assert_eq!(body["data"]["community"], json!({ "memberCount": 2, "myRole": "MEMBER" }));
}

#[tokio::test]
async fn a_private_community_needs_approval_and_hides_its_insides() {
    let app = spawn_app().await;
    let ada = app.register("ada").await;
    let bob = app.register("bob").await;
    let eve = app.register("eve").await;
    let c = create_community(&app, &ada, "secret-club", "PRIVATE").await;
    app.gql(
        "mutation($i: CreatePostInput!) { createPost(input: $i) { id } }",
        json!({ "i": { "communityId": c, "title": "Members only", "body": "hush" } }),
        Some(&ada.access_token),
    )
    .await;

    let body = join(&app, &bob, &c).await;
    let request = body["data"]["joinCommunity"]["joinRequest"].clone();
    assert_eq!(request["status"], "PENDING", "{body}");
    assert_eq!(error_code(&join(&app, &bob, &c).await), "CONFLICT", "one pending request at a time");

    // Outsiders see the name but not the posts or members.
    let inside = "query($id: ID!) { community(id: $id) { name posts { edges { node { title } } } } }";
    let body = app.gql(inside, json!({ "id": c }), Some(&eve.access_token)).await;
    assert_eq!(error_code(&body), "FORBIDDEN", "{body}");
    let body = app
        .gql("query($id: ID!) { community(id: $id) { members { edges { node { role } } } } }", json!({ "id": c }), None)
        .await;
    assert_eq!(error_code(&body), "FORBIDDEN");
    let post_id =
        app.gql(&inside.replace("title", "id"), json!({ "id": c }), Some(&ada.access_token)).await["data"]["community"]
            ["posts"]["edges"][0]["node"]["id"]
            .clone();
    let body = app
        .gql("query($id: ID!) { post(id: $id) { title body } }", json!({ "id": post_id }), Some(&eve.access_token))
        .await;
    assert_eq!(error_code(&body), "FORBIDDEN", "a private post is not readable by id either: {body}");
    // Only moderators see and decide requests.
    let body = app
        .gql(
            "query($id: ID!) { community(id: $id) { joinRequests { id } } }",
            json!({ "id": c }),
            Some(&eve.access_token),
        )
        .await;
    assert_eq!(error_code(&body), "FORBIDDEN");
    let approve = "mutation($i: JoinRequestIdInput!) { approveJoinRequest(input: $i) { status } }";
    let body = app.gql(approve, json!({ "i": { "requestId": request["id"] } }), Some(&eve.access_token)).await;
    assert_eq!(error_code(&body), "FORBIDDEN");

    let body = app.gql(approve, json!({ "i": { "requestId": request["id"] } }), Some(&ada.access_token)).await;
    assert_eq!(body["data"]["approveJoinRequest"]["status"], "APPROVED", "{body}");
    let body = app.gql(inside, json!({ "id": c }), Some(&bob.access_token)).await;
    assert_eq!(body["data"]["community"]["posts"]["edges"][0]["node"]["title"], "Members only", "{body}");
    // And the private community does not show up in an outsider's list.
    let body = app.gql("{ communities { edges { node { slug } } } }", json!({}), Some(&eve.access_token)).await;
    assert_eq!(body["data"]["communities"]["edges"], json!([]));
}

#[tokio::test]
async fn a_rejected_request_does_not_make_a_member() {
    let app = spawn_app().await;
    let ada = app.register("ada").await;
    let bob = app.register("bob").await;
    let c = create_community(&app, &ada, "secret-club", "PRIVATE").await;
    let request = join(&app, &bob, &c).await["data"]["joinCommunity"]["joinRequest"]["id"].clone();
    let body = app
        .gql(
            "mutation($i: JoinRequestIdInput!) { rejectJoinRequest(input: $i) { status } }",
            json!({ "i": { "requestId": request } }),
            Some(&ada.access_token),
        )
        .await;
    assert_eq!(body["data"]["rejectJoinRequest"]["status"], "REJECTED");
    let body =
        app.gql("query($id: ID!) { community(id: $id) { myRole } }", json!({ "id": c }), Some(&bob.access_token)).await;
    crate::helpers::assert_ok(&body);
    assert!(body["data"]["community"]["myRole"].is_null());
}

#[tokio::test]
async fn banned_people_cannot_rejoin_until_unbanned() {
    let app = spawn_app().await;
    let ada = app.register("ada").await;
    let bob = app.register("bob").await;
    let c = create_community(&app, &ada, "rustaceans", "PUBLIC").await;
    join(&app, &bob, &c).await;
    assert_eq!(ban(&app, &bob, &c, &ada).await["errors"][0]["extensions"]["code"], "FORBIDDEN", "members do not ban");
    assert_eq!(ban(&app, &ada, &c, &bob).await["data"]["banMember"], true);
    assert_eq!(error_code(&join(&app, &bob, &c).await), "FORBIDDEN");
    let body = app
        .gql(
            "mutation($i: BanInput!) { unbanMember(input: $i) }",
            json!({ "i": { "communityId": c, "profileId": bob.profile_id } }),
            Some(&ada.access_token),
        )
        .await;
    assert_eq!(body["data"]["unbanMember"], true);
    assert_eq!(join(&app, &bob, &c).await["data"]["joinCommunity"]["membership"]["role"], "MEMBER");
}

#[tokio::test]
async fn roles_follow_the_rules_and_one_owner_stays() {
    let app = spawn_app().await;
    let ada = app.register("ada").await;
    let bob = app.register("bob").await;
    let cat = app.register("cat").await;
    let c = create_community(&app, &ada, "rustaceans", "PUBLIC").await;
    join(&app, &bob, &c).await;
    join(&app, &cat, &c).await;
    assert_eq!(error_code(&set_role(&app, &cat, &c, &bob, "MODERATOR").await), "FORBIDDEN");
    assert_eq!(set_role(&app, &ada, &c, &bob, "MODERATOR").await["data"]["setCommunityRole"]["role"], "MODERATOR");
    assert_eq!(
        error_code(&set_role(&app, &bob, &c, &cat, "MODERATOR").await),
        "FORBIDDEN",
        "only owners make moderators"
    );
    assert_eq!(set_role(&app, &ada, &c, &cat, "MODERATOR").await["data"]["setCommunityRole"]["role"], "MODERATOR");
    // A moderator can neither demote a peer nor, therefore, ban it.
    assert_eq!(
        error_code(&set_role(&app, &bob, &c, &cat, "MEMBER").await),
        "FORBIDDEN",
        "only owners demote moderators"
    );
    assert_eq!(error_code(&ban(&app, &bob, &c, &cat).await), "FORBIDDEN");
    assert_eq!(app.count("community_bans").await, 0);
    assert_eq!(
        error_code(&set_role(&app, &bob, &c, &ada, "MEMBER").await),
        "FORBIDDEN",
        "moderators never touch owners"
    );
    assert_eq!(error_code(&set_role(&app, &ada, &c, &ada, "MEMBER").await), "CONFLICT", "the last owner stays");
    let body = app
        .gql(
            "mutation($i: CommunityIdInput!) { leaveCommunity(input: $i) }",
            json!({ "i": { "communityId": c } }),
            Some(&ada.access_token),
        )
        .await;
    assert_eq!(error_code(&body), "CONFLICT");
    let body = app
        .gql(
            "mutation($i: CommunityIdInput!) { leaveCommunity(input: $i) }",
            json!({ "i": { "communityId": c } }),
            Some(&cat.access_token),
        )
        .await;
    assert_eq!(body["data"]["leaveCommunity"], true);
}

const MODERATION: &str = "query($id: ID!) { community(id: $id) { moderationLog(first: 10) { edges { node { action subjectId actorProfileId } } } bans(first: 10) { edges { node { id reason profile { handle } bannedBy { handle } } } } } }";

#[tokio::test]
async fn moderators_read_the_moderation_log_and_the_ban_list_and_members_do_not() {
    let app = spawn_app().await;
    let ada = app.register("ada").await;
    let bob = app.register("bob").await;
    let carol = app.register("carol").await;
    let c = create_community(&app, &ada, "rustaceans", "PUBLIC").await;
    join(&app, &bob, &c).await;
    join(&app, &carol, &c).await;
    let post = app
        .gql(
            "mutation($i: CreatePostInput!) { createPost(input: $i) { id } }",
            json!({ "i": { "communityId": c, "title": "Buy now", "body": "spam" } }),
            Some(&carol.access_token),
        )
        .await["data"]["createPost"]["id"]
        .as_str()
        .unwrap()
        .to_owned();
    let removed = app
        .gql(
            "mutation($i: RemoveInput!) { removePost(input: $i) { removed } }",
            json!({ "i": { "id": post, "reason": "spam" } }),
            Some(&ada.access_token),
        )
        .await;
    assert_eq!(removed["data"]["removePost"]["removed"], true, "{removed}");
    assert!(ban(&app, &ada, &c, &carol).await.get("errors").is_none());

    let body = app.gql(MODERATION, json!({ "id": c }), Some(&ada.access_token)).await;
    let log = &body["data"]["community"]["moderationLog"]["edges"];
    // Newest first; joins and posts are not moderation.
    assert_eq!(
        *log,
        json!([
            { "node": { "action": "community.member_banned", "subjectId": carol.profile_id, "actorProfileId": ada.profile_id } },
            { "node": { "action": "post.removed", "subjectId": post, "actorProfileId": ada.profile_id } },
        ]),
        "{body}"
    );
    let bans = &body["data"]["community"]["bans"]["edges"];
    assert_eq!(bans.as_array().map(Vec::len), Some(1), "{body}");
    assert_eq!(bans[0]["node"]["profile"]["handle"], "carol");
    assert_eq!(bans[0]["node"]["bannedBy"]["handle"], "ada");
    assert_eq!(bans[0]["node"]["reason"], "spam");
    assert_eq!(bans[0]["node"]["id"], format!("CommunityBan:{c}:{}", carol.profile_id));

    // A member and an anonymous caller learn nothing of it.
    for (token, code) in [(Some(bob.access_token.as_str()), "FORBIDDEN"), (None, "UNAUTHENTICATED")] {
        let body = app.gql(MODERATION, json!({ "id": c }), token).await;
        assert_eq!(error_code(&body), code, "{body}");
        assert!(body["data"]["community"]["bans"].is_null() && body["data"]["community"]["moderationLog"].is_null());
    }
}
