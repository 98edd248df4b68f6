//! Organizations and their members. Only OWNER/ADMIN manage members; people join by accepting
//! an invitation; one OWNER always remains.
use crate::domain::Action;
use entity::{
    organization,
    organization_invitation::{self, InvitationStatus},
    organization_member::{self, OrgRole},
    profile::ProfileKind,
};
use sea_orm::{
    ActiveModelTrait, ColumnTrait, ConnectionTrait, EntityTrait, IntoActiveModel, PaginatorTrait, QueryFilter,
    QuerySelect, Set,
};
use serde_json::json;
use uuid::Uuid;

use super::{
    NewActivity, UnitOfWork,
    activity::organization_topic,
    page::{Cursor, Direction, Page, PageRequest, keyset},
    profile,
    validate::{self, Slug},
};
use crate::{
    auth::Viewer,
    error::{AppError, AppResult},
    state::AppState,
};

/// Who may do what with memberships: the pure rules, tested on their own.
pub mod rules {
    use super::{AppError, AppResult, OrgRole};

    /// Whether a role manages members at all.
    pub fn manages_members(role: OrgRole) -> bool {
        matches!(role, OrgRole::Owner | OrgRole::Admin)
    }

    /// Checks that `actor` may give `target` (currently `current`, `None` if not a member)
    /// the role `new` (`None` to remove it). Admins never touch owners or make owners.
    pub fn may_change(actor: Option<OrgRole>, current: Option<OrgRole>, new: Option<OrgRole>) -> AppResult<()> {
        let actor = actor.ok_or_else(|| AppError::forbidden("only members of the organization can manage it"))?;
        if !manages_members(actor) {
            return Err(AppError::forbidden("only owners and admins manage members"));
        }
        let touches_owner = current == Some(OrgRole::Owner) || new == Some(OrgRole::Owner);
        if touches_owner && actor != OrgRole::Owner {
            return Err(AppError::forbidden("only owners grant or remove the owner role"));
        }
        Ok(())
    }

    /// Checks that a change leaves at least one owner.
    pub fn keeps_an_owner(owners: u64, current: Option<OrgRole>, new: Option<OrgRole>) -> AppResult<()> {
        if current == Some(OrgRole::Owner) && new != Some(OrgRole::Owner) && owners <= 1 {
            return Err(AppError::conflict("an organization must keep at least one owner"));
        }
        Ok(())
    }
}

/// Input of `createOrganization`.
pub struct CreateOrganizationInput {
    /// Unique URL name.
    pub slug: String,
    /// Display name.
    pub name: String,
    /// Optional description.
    pub description: Option<String>,
}

/// Creates an organization; the caller becomes its OWNER.
pub async fn create(
    state: &AppState,
    viewer: &Viewer,
    input: CreateOrganizationInput,
) -> AppResult<organization::Model> {
    let (_, profile_id) = viewer.require_user()?;
    let slug = Slug::parse(&input.slug, "slug")?;
    let name = validate::text(&input.name, "name", 1, 100, false)?;
    let description = validate::optional_text(input.description.as_deref(), "description", 5000, true)?;
    if by_slug(&state.db, slug.as_str()).await?.is_some() {
        return Err(AppError::bad_input("slug", "is already taken"));
    }
    let now = state.clock.now();
    let mut work = UnitOfWork::begin(state, viewer).await?;
    let org = organization::ActiveModel {
        id: Set(Uuid::new_v4()),
        slug: Set(slug.as_str().to_owned()),
        name: Set(name),
        description: Set(description),
        created_at: Set(now),
        updated_at: Set(now),
    }
    .insert(work.txn())
    .await?;
    organization_member::ActiveModel {
        organization_id: Set(org.id),
        profile_id: Set(profile_id),
        role: Set(OrgRole::Owner),
        created_at: Set(now),
    }
    .insert(work.txn())
    .await?;
    work.record(NewActivity {
        topic: organization_topic(org.id),
        action: Action::OrganizationCreated,
        subject_type: "organization",
        subject_id: org.id,
        before: None,
        after: Some(json!({ "slug": org.slug, "name": org.name, "owner": profile_id })),
    })
    .await?;
    work.commit().await?;
    Ok(org)
}

/// An organization by id.
pub async fn by_id(db: &impl ConnectionTrait, id: Uuid) -> AppResult<Option<organization::Model>> {
    Ok(organization::Entity::find_by_id(id).one(db).await?)
}

/// An organization by slug.
pub async fn by_slug(db: &impl ConnectionTrait, slug: &str) -> AppResult<Option<organization::Model>> {
    Ok(organization::Entity::find().filter(organization::Column::Slug.eq(slug.trim().to_lowercase())).one(db).await?)
}

/// The role of a profile in an organization, if a member.
pub async fn role_of(db: &impl ConnectionTrait, organization_id: Uuid, profile_id: Uuid) -> AppResult<Option<OrgRole>> {
    Ok(organization_member::Entity::find_by_id((organization_id, profile_id)).one(db).await?.map(|m| m.role))
}

/// Like `role_of`, holding the membership row (`FOR SHARE`) to the end of the transaction: a
/// role change waits for the money move that relied on the role, and once it returns no move
/// authorized by the old role can still commit.
pub async fn role_held(
    db: &impl ConnectionTrait,
    organization_id: Uuid,
    profile_id: Uuid,
) -> AppResult<Option<OrgRole>> {
    Ok(organization_member::Entity::find_by_id((organization_id, profile_id))
        .lock_shared()
        .one(db)
        .await?
        .map(|m| m.role))
}

/// Invites a person by handle with a role (owners and admins; only owners invite owners). The
/// person becomes a member only by accepting; one pending invitation per person at a time.
pub async fn invite(
    state: &AppState,
    viewer: &Viewer,
    organization_id: Uuid,
    handle: &str,
    role: OrgRole,
) -> AppResult<organization_invitation::Model> {
    let (_, actor) = viewer.require_user()?;
    viewer.require_acting_in(Some(organization_id))?;
    let mut work = UnitOfWork::begin(state, viewer).await?;
    lock(work.txn(), organization_id).await?;
    rules::may_change(role_of(work.txn(), organization_id, actor).await?, None, Some(role))?;
    let target = profile::by_handle(work.txn(), handle)
        .await?
        .ok_or_else(|| AppError::bad_input("handle", "no profile has this handle"))?;
    if target.kind != ProfileKind::Human {
        return Err(AppError::bad_input("handle", "agents cannot be organization members"));
    }
    if role_of(work.txn(), organization_id, target.id).await?.is_some() {
        return Err(AppError::conflict("this person is already a member"));
    }
    if pending_invitation(work.txn(), organization_id, target.id).await?.is_some() {
        return Err(AppError::conflict("this person already has a pending invitation"));
    }
    let invitation = organization_invitation::ActiveModel {
        id: Set(Uuid::new_v4()),
        organization_id: Set(organization_id),
        profile_id: Set(target.id),
        role: Set(role),
        invited_by: Set(actor),
        status: Set(InvitationStatus::Pending),
        created_at: Set(state.clock.now()),
        decided_by: Set(None),
        decided_at: Set(None),
    }
    .insert(work.txn())
    .await?;
    work.record(invitation_activity(Action::OrganizationInvitationSent, &invitation)).await?;
    work.commit().await?;
    Ok(invitation)
}

/// What the invitee answers.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Answer {
    /// Join with the invited role.
    Accept,
    /// Do not join.
    Decline,
}

/// The invitee accepts (becoming a member with the invited role) or declines a pending
/// invitation. Another person's invitation is not found.
pub async fn answer(
    state: &AppState,
    viewer: &Viewer,
    invitation_id: Uuid,
    answer: Answer,
) -> AppResult<(organization_invitation::Model, Option<organization_member::Model>)> {
    let (_, me) = viewer.require_user()?;
    let mut work = UnitOfWork::begin(state, viewer).await?;
    let found = invitation(work.txn(), invitation_id).await?.filter(|i| i.profile_id == me);
    let organization_id = found.ok_or(AppError::NotFound("invitation"))?.organization_id;
    lock(work.txn(), organization_id).await?;
    // Read again under the organization's lock: a revoke or a second answer may have won.
    let invitation = invitation(work.txn(), invitation_id).await?.ok_or(AppError::NotFound("invitation"))?;
    require_pending(&invitation)?;
    let now = state.clock.now();
    let mut member = None;
    let status = match answer {
        Answer::Accept => {
            if role_of(work.txn(), organization_id, me).await?.is_some() {
                return Err(AppError::conflict("you are already a member"));
            }
            let joined = organization_member::ActiveModel {
                organization_id: Set(organization_id),
                profile_id: Set(me),
                role: Set(invitation.role),
                created_at: Set(now),
            }
            .insert(work.txn())
            .await?;
            member = Some(joined);
            InvitationStatus::Accepted
        }
        Answer::Decline => InvitationStatus::Declined,
    };
    let invitation = decide(&mut work, invitation, status, me, now).await?;
    if let Some(m) = &member {
        work.record(member_activity(Action::OrganizationMemberAdded, m, None, Some(m.role))).await?;
    }
    work.commit().await?;
    Ok((invitation, member))
}

/// Withdraws a pending invitation (owners and admins; only owners withdraw an owner's).
pub async fn revoke_invitation(
    state: &AppState,
    viewer: &Viewer,
    invitation_id: Uuid,
) -> AppResult<organization_invitation::Model> {
    let (_, actor) = viewer.require_user()?;
    let mut work = UnitOfWork::begin(state, viewer).await?;
    let found = invitation(work.txn(), invitation_id).await?.ok_or(AppError::NotFound("invitation"))?;
    viewer.require_acting_in(Some(found.organization_id))?;
    lock(work.txn(), found.organization_id).await?;
    let actor_role = role_of(work.txn(), found.organization_id, actor).await?;
    if actor_role.is_none() {
        return Err(AppError::NotFound("invitation"));
    }
    let invitation = invitation(work.txn(), invitation_id).await?.ok_or(AppError::NotFound("invitation"))?;
    rules::may_change(actor_role, None, Some(invitation.role))?;
    require_pending(&invitation)?;
    let invitation = decide(&mut work, invitation, InvitationStatus::Revoked, actor, state.clock.now()).await?;
    work.commit().await?;
    Ok(invitation)
}

/// Pending invitations of an organization, oldest first (owners and admins).
pub async fn invitations(
    db: &impl ConnectionTrait,
    viewer: &Viewer,
    organization_id: Uuid,
    page: PageRequest,
) -> AppResult<Page<organization_invitation::Model>> {
    let me = viewer.require_any()?;
    viewer.require_acting_in(Some(organization_id))?;
    match role_of(db, organization_id, me).await? {
        Some(role) if rules::manages_members(role) => {}
        Some(_) => return Err(AppError::forbidden("only owners and admins see invitations")),
        None => return Err(AppError::forbidden("only members of the organization can manage it")),
    }
    let query = organization_invitation::Entity::find()
        .filter(organization_invitation::Column::OrganizationId.eq(organization_id))
        .filter(organization_invitation::Column::Status.eq(InvitationStatus::Pending));
    invitation_page(db, query, page).await
}

/// The viewer's pending invitations, oldest first.
pub async fn my_invitations(
    db: &impl ConnectionTrait,
    viewer: &Viewer,
    page: PageRequest,
) -> AppResult<Page<organization_invitation::Model>> {
    let (_, me) = viewer.require_user()?;
    let query = organization_invitation::Entity::find()
        .filter(organization_invitation::Column::ProfileId.eq(me))
        .filter(organization_invitation::Column::Status.eq(InvitationStatus::Pending));
    invitation_page(db, query, page).await
}

async fn invitation_page(
    db: &impl ConnectionTrait,
    query: sea_orm::Select<organization_invitation::Entity>,
    page: PageRequest,
) -> AppResult<Page<organization_invitation::Model>> {
    keyset(
        db,
        query,
        (organization_invitation::Column::CreatedAt, organization_invitation::Column::Id),
        Direction::Ascending,
        &page,
        |i| Cursor { key: 0, at: i.created_at, id: i.id },
    )
    .await
}

async fn invitation(db: &impl ConnectionTrait, id: Uuid) -> AppResult<Option<organization_invitation::Model>> {
    Ok(organization_invitation::Entity::find_by_id(id).one(db).await?)
}

async fn pending_invitation(
    db: &impl ConnectionTrait,
    organization_id: Uuid,
    profile_id: Uuid,
) -> AppResult<Option<organization_invitation::Model>> {
    Ok(organization_invitation::Entity::find()
        .filter(organization_invitation::Column::OrganizationId.eq(organization_id))
        .filter(organization_invitation::Column::ProfileId.eq(profile_id))
        .filter(organization_invitation::Column::Status.eq(InvitationStatus::Pending))
        .one(db)
        .await?)
}

fn require_pending(invitation: &organization_invitation::Model) -> AppResult<()> {
    if invitation.status != InvitationStatus::Pending {
        return Err(AppError::conflict(format!(
            "the invitation is already {}",
            crate::domain::wire(invitation.status)
        )));
    }
    Ok(())
}

/// Closes a pending invitation with `status` and records it.
async fn decide(
    work: &mut UnitOfWork<'_>,
    invitation: organization_invitation::Model,
    status: InvitationStatus,
    by: Uuid,
    at: chrono::DateTime<chrono::Utc>,
) -> AppResult<organization_invitation::Model> {
    let mut active = invitation.into_active_model();
    active.status = Set(status);
    active.decided_by = Set(Some(by));
    active.decided_at = Set(Some(at));
    let invitation = active.update(work.txn()).await?;
    let action = match status {
        InvitationStatus::Accepted => Action::OrganizationInvitationAccepted,
        InvitationStatus::Declined => Action::OrganizationInvitationDeclined,
        InvitationStatus::Revoked | InvitationStatus::Pending => Action::OrganizationInvitationRevoked,
    };
    work.record(invitation_activity(action, &invitation)).await?;
    Ok(invitation)
}

fn invitation_activity(action: Action, i: &organization_invitation::Model) -> NewActivity {
    NewActivity {
        topic: organization_topic(i.organization_id),
        action,
        subject_type: "organization_invitation",
        subject_id: i.id,
        before: None,
        after: Some(json!({
            "organizationId": i.organization_id,
            "profileId": i.profile_id,
            "role": role_name(Some(i.role)),
            "invitedBy": i.invited_by,
            "status": crate::domain::wire(i.status),
        })),
    }
}

/// Changes a member's role.
pub async fn change_role(
    state: &AppState,
    viewer: &Viewer,
    organization_id: Uuid,
    profile_id: Uuid,
    role: OrgRole,
) -> AppResult<organization_member::Model> {
    let (_, actor) = viewer.require_user()?;
    viewer.require_acting_in(Some(organization_id))?;
    let mut work = UnitOfWork::begin(state, viewer).await?;
    lock(work.txn(), organization_id).await?;
    let actor_role = role_of(work.txn(), organization_id, actor).await?;
    let member = organization_member::Entity::find_by_id((organization_id, profile_id)).one(work.txn()).await?;
    let Some(member) = member else {
        rules::may_change(actor_role, None, Some(role))?;
        return Err(AppError::NotFound("member"));
    };
    let current = member.role;
    rules::may_change(actor_role, Some(current), Some(role))?;
    rules::keeps_an_owner(owner_count(work.txn(), organization_id).await?, Some(current), Some(role))?;
    if current == role {
        return Ok(member);
    }
    let mut active = member.into_active_model();
    active.role = Set(role);
    let member = active.update(work.txn()).await?;
    work.record(member_activity(Action::OrganizationMemberRoleChanged, &member, Some(current), Some(role))).await?;
    work.commit().await?;
    Ok(member)
}

/// Removes a member (owners/admins; only owners remove owners; never the last owner).
pub async fn remove_member(
    state: &AppState,
    viewer: &Viewer,
    organization_id: Uuid,
    profile_id: Uuid,
) -> AppResult<()> {
    let (_, actor) = viewer.require_user()?;
    viewer.require_acting_in(Some(organization_id))?;
    let mut work = UnitOfWork::begin(state, viewer).await?;
    lock(work.txn(), organization_id).await?;
    let actor_role = role_of(work.txn(), organization_id, actor).await?;
    let member = organization_member::Entity::find_by_id((organization_id, profile_id)).one(work.txn()).await?;
    let Some(member) = member else {
        rules::may_change(actor_role, None, None)?;
        return Err(AppError::NotFound("member"));
    };
    rules::may_change(actor_role, Some(member.role), None)?;
    delete_member(&mut work, member).await?;
    work.commit().await
}

/// Leaves an organization; the last owner cannot leave.
pub async fn leave(state: &AppState, viewer: &Viewer, organization_id: Uuid) -> AppResult<()> {
    let (_, actor) = viewer.require_user()?;
    let mut work = UnitOfWork::begin(state, viewer).await?;
    lock(work.txn(), organization_id).await?;
    let member = organization_member::Entity::find_by_id((organization_id, actor))
        .one(work.txn())
        .await?
        .ok_or_else(|| AppError::conflict("you are not a member of this organization"))?;
    delete_member(&mut work, member).await?;
    work.commit().await
}

async fn delete_member(work: &mut UnitOfWork<'_>, member: organization_member::Model) -> AppResult<()> {
    rules::keeps_an_owner(owner_count(work.txn(), member.organization_id).await?, Some(member.role), None)?;
    organization_member::Entity::delete_by_id((member.organization_id, member.profile_id)).exec(work.txn()).await?;
    work.record(member_activity(Action::OrganizationMemberRemoved, &member, Some(member.role), None)).await
}

/// Members of an organization, oldest first, one keyset page at a time. Members only.
pub async fn members(
    db: &impl ConnectionTrait,
    viewer: &Viewer,
    organization_id: Uuid,
    page: PageRequest,
) -> AppResult<Page<organization_member::Model>> {
    let me = viewer.require_any()?;
    viewer.require_acting_in(Some(organization_id))?;
    if role_of(db, organization_id, me).await?.is_none() {
        return Err(AppError::forbidden("only members see the member list"));
    }
    let query =
        organization_member::Entity::find().filter(organization_member::Column::OrganizationId.eq(organization_id));
    keyset(
        db,
        query,
        (organization_member::Column::CreatedAt, organization_member::Column::ProfileId),
        Direction::Ascending,
        &page,
        |m| Cursor { key: 0, at: m.created_at, id: m.profile_id },
    )
    .await
}

/// Organizations a profile belongs to, with its membership, by name.
pub async fn memberships_of(
    db: &impl ConnectionTrait,
    profile_id: Uuid,
) -> AppResult<Vec<(organization_member::Model, organization::Model)>> {
    let rows = organization_member::Entity::find()
        .filter(organization_member::Column::ProfileId.eq(profile_id))
        .find_also_related(organization::Entity)
        .all(db)
        .await?;
    let mut out: Vec<_> = rows.into_iter().filter_map(|(m, o)| o.map(|o| (m, o))).collect();
    out.sort_by(|a, b| a.1.name.cmp(&b.1.name));
    Ok(out)
}

/// Serialises membership changes of one organization (row lock on PostgreSQL; SQLite has a
/// single writer already).
async fn lock(db: &impl ConnectionTrait, organization_id: Uuid) -> AppResult<organization::Model> {
    organization::Entity::find_by_id(organization_id)
        .lock_exclusive()
        .one(db)
        .await?
        .ok_or(AppError::NotFound("organization"))
}

async fn owner_count(db: &impl ConnectionTrait, organization_id: Uuid) -> AppResult<u64> {
    Ok(organization_member::Entity::find()
        .filter(organization_member::Column::OrganizationId.eq(organization_id))
        .filter(organization_member::Column::Role.eq(OrgRole::Owner))
        .count(db)
        .await?)
}

fn role_name(role: Option<OrgRole>) -> serde_json::Value {
    role.map(|r| json!(crate::domain::wire(r))).unwrap_or(serde_json::Value::Null)
}

fn member_activity(
    action: Action,
    m: &organization_member::Model,
    before: Option<OrgRole>,
    after: Option<OrgRole>,
) -> NewActivity {
    NewActivity {
        topic: organization_topic(m.organization_id),
        action,
        subject_type: "organization_member",
        subject_id: m.profile_id,
        before: before.map(|_| json!({ "role": role_name(before) })),
        after: after.map(|_| json!({ "role": role_name(after) })),
    }
}

/// Organizations by id, in one statement (for loaders).
pub async fn by_ids(
    db: &impl ConnectionTrait,
    ids: &[Uuid],
) -> AppResult<std::collections::HashMap<Uuid, organization::Model>> {
    let rows = organization::Entity::find().filter(organization::Column::Id.is_in(ids.iter().copied())).all(db).await?;
    Ok(rows.into_iter().map(|o| (o.id, o)).collect())
}

#[cfg(test)]
mod tests {
    use super::rules::*;
    use super::*;

    #[test]
    fn only_owners_and_admins_manage_and_only_owners_touch_owners() {
        use OrgRole::*;
        assert!(may_change(Some(Owner), None, Some(Owner)).is_ok());
        assert!(may_change(Some(Admin), None, Some(Member)).is_ok());
        assert!(may_change(Some(Admin), Some(Member), Some(Admin)).is_ok());
        assert!(may_change(Some(Admin), None, Some(Owner)).is_err());
        assert!(may_change(Some(Admin), Some(Owner), None).is_err());
        assert!(may_change(Some(Member), Some(Member), None).is_err());
        assert!(may_change(None, None, Some(Member)).is_err());
    }

    #[test]
    fn the_last_owner_stays() {
        use OrgRole::*;
        assert!(keeps_an_owner(1, Some(Owner), Some(Admin)).is_err());
        assert!(keeps_an_owner(1, Some(Owner), None).is_err());
        assert!(keeps_an_owner(2, Some(Owner), None).is_ok());
        assert!(keeps_an_owner(1, Some(Admin), None).is_ok());
        assert!(keeps_an_owner(1, Some(Owner), Some(Owner)).is_ok());
    }
}
