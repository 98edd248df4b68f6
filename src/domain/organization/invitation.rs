//! Invitations: owners and admins invite people by handle, the invitee accepts or declines,
//! a pending invitation can be withdrawn; the pending ones are listed.
use entity::{
    organization_invitation::{self, InvitationStatus},
    organization_member::{self, OrgRole},
    profile::ProfileKind,
};
use sea_orm::{ActiveModelTrait, ColumnTrait, ConnectionTrait, EntityTrait, IntoActiveModel, QueryFilter, Set};
use serde_json::json;
use uuid::Uuid;

use super::{lock, membership::member_activity, role_name, role_of, rules};
use crate::{
    auth::Viewer,
    domain::{
        Action, NewActivity, UnitOfWork,
        activity::organization_topic,
        page::{Cursor, Direction, Page, PageRequest, keyset},
        profile,
    },
    error::{AppError, AppResult},
    state::AppState,
};

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
