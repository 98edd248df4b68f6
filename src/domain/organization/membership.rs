//! Membership: role changes, removals and leaving (never the last owner), the member list
//! and the organizations a profile belongs to.
use entity::{
    organization,
    organization_member::{self, OrgRole},
};
use sea_orm::{
    ActiveModelTrait, ColumnTrait, ConnectionTrait, EntityTrait, IntoActiveModel, PaginatorTrait, QueryFilter, Set,
};
use serde_json::json;
use uuid::Uuid;

use super::{lock, role_name, role_of, rules};
use crate::{
    auth::Viewer,
    domain::{
        Action, NewActivity, UnitOfWork,
        activity::organization_topic,
        page::{Cursor, Direction, Page, PageRequest, keyset},
    },
    error::{AppError, AppResult},
    state::AppState,
};

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

async fn owner_count(db: &impl ConnectionTrait, organization_id: Uuid) -> AppResult<u64> {
    Ok(organization_member::Entity::find()
        .filter(organization_member::Column::OrganizationId.eq(organization_id))
        .filter(organization_member::Column::Role.eq(OrgRole::Owner))
        .count(db)
        .await?)
}

pub(super) fn member_activity(
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
