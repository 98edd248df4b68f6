//! Organizations and their members. Only OWNER/ADMIN manage members; people join by accepting
//! an invitation; one OWNER always remains.
//!
//! - `invitation`: inviting people by handle, their answers, withdrawing and listing invitations;
//! - `membership`: role changes, removals, leaving and the member lists.
pub mod invitation;
pub mod membership;

pub use invitation::{Answer, answer, invitations, invite, my_invitations, revoke_invitation};
pub use membership::{change_role, leave, members, memberships_of, remove_member};

use crate::domain::Action;
use entity::{
    organization,
    organization_member::{self, OrgRole},
};
use sea_orm::{ActiveModelTrait, ColumnTrait, ConnectionTrait, EntityTrait, QueryFilter, QuerySelect, Set};
use serde_json::json;
use uuid::Uuid;

use super::{
    NewActivity, UnitOfWork,
    activity::organization_topic,
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

/// Serialises membership changes of one organization (row lock on PostgreSQL; SQLite has a
/// single writer already).
async fn lock(db: &impl ConnectionTrait, organization_id: Uuid) -> AppResult<organization::Model> {
    organization::Entity::find_by_id(organization_id)
        .lock_exclusive()
        .one(db)
        .await?
        .ok_or(AppError::NotFound("organization"))
}

fn role_name(role: Option<OrgRole>) -> serde_json::Value {
    role.map(|r| json!(crate::domain::wire(r))).unwrap_or(serde_json::Value::Null)
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
