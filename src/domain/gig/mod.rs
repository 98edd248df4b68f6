//! Gigs: the DRAFT → OPEN → FILLED / CLOSED / CANCELLED machine, who manages and who may see a
//! gig, and reads by id (here). Creating, editing and moving a gig is in `posting`, the search in
//! `search`, proposals in `proposal`; each builds on this module, which calls none of them.
pub mod posting;
pub mod proposal;
pub mod search;

use std::collections::HashMap;

use entity::{
    gig::{self, GigStatus, GigVisibility},
    gig_skill,
    organization_member::OrgRole,
};
use sea_orm::{ColumnTrait, ConnectionTrait, EntityTrait, QueryFilter, QuerySelect};
use uuid::Uuid;

pub use self::search::{GigFilter, GigSort, search, search_terms, search_with_owners};

use super::{community, organization};
use crate::{
    auth::Viewer,
    error::{AppError, AppResult},
};

/// Topic of a gig's changes.
pub fn topic(gig_id: Uuid) -> String {
    format!("gig:{gig_id}")
}

/// What can happen to a gig.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum GigAction {
    /// DRAFT → OPEN.
    Publish,
    /// OPEN → FILLED (a proposal was accepted).
    Fill,
    /// OPEN → CLOSED.
    Close,
    /// DRAFT or OPEN → CANCELLED.
    Cancel,
}

/// The gig state machine: the next status, or CONFLICT naming both states.
pub fn transition(from: GigStatus, action: GigAction) -> AppResult<GigStatus> {
    use GigStatus::*;
    let to = match (from, action) {
        (Draft, GigAction::Publish) => Open,
        (Open, GigAction::Fill) => Filled,
        (Open, GigAction::Close) => Closed,
        (Draft | Open, GigAction::Cancel) => Cancelled,
        _ => {
            let target = match action {
                GigAction::Publish => Open,
                GigAction::Fill => Filled,
                GigAction::Close => Closed,
                GigAction::Cancel => Cancelled,
            };
            return Err(AppError::conflict(format!(
                "a gig cannot go from {} to {}",
                crate::domain::wire(from),
                crate::domain::wire(target)
            )));
        }
    };
    Ok(to)
}

/// Whether the viewer manages the gig: the owner of a personal gig, or a current OWNER/ADMIN
/// of the gig's organization (whoever posted it keeps nothing once demoted or removed).
pub async fn can_manage(db: &impl ConnectionTrait, viewer: &Viewer, gig: &gig::Model) -> AppResult<bool> {
    let Viewer::User { profile_id, .. } = viewer else { return Ok(false) };
    match gig.organization_id {
        Some(org) => {
            Ok(matches!(organization::role_of(db, org, *profile_id).await?, Some(OrgRole::Owner | OrgRole::Admin)))
        }
        None => Ok(gig.owner_profile_id == *profile_id),
    }
}

/// Requires the viewer to manage the gig, holding an organization role that authorizes it
/// until the caller's transaction ends (a concurrent demotion waits for the change).
pub async fn require_manager(db: &impl ConnectionTrait, viewer: &Viewer, gig: &gig::Model) -> AppResult<()> {
    let (_, me) = viewer.require_user()?;
    let manages = match gig.organization_id {
        Some(org) => matches!(organization::role_held(db, org, me).await?, Some(OrgRole::Owner | OrgRole::Admin)),
        None => gig.owner_profile_id == me,
    };
    if manages { Ok(()) } else { Err(AppError::forbidden("only the gig's owner manages it")) }
}

/// Whether the viewer may see the gig at all.
pub async fn can_view(db: &impl ConnectionTrait, viewer: &Viewer, gig: &gig::Model) -> AppResult<bool> {
    if can_manage(db, viewer, gig).await? {
        return Ok(true);
    }
    if gig.status == GigStatus::Draft {
        return Ok(false);
    }
    match (gig.visibility, gig.community_id, viewer.profile_id()) {
        (GigVisibility::Public, _, _) => Ok(true),
        (GigVisibility::Community, Some(c), Some(me)) => Ok(community::role_of(db, c, me).await?.is_some()),
        _ => Ok(false),
    }
}

/// A gig the viewer may see; NOT_FOUND otherwise (its existence stays private).
pub async fn visible(db: &impl ConnectionTrait, viewer: &Viewer, id: Uuid) -> AppResult<gig::Model> {
    let gig = gig::Entity::find_by_id(id).one(db).await?.ok_or(AppError::NotFound("gig"))?;
    if can_view(db, viewer, &gig).await? { Ok(gig) } else { Err(AppError::NotFound("gig")) }
}

/// Gigs by id in one statement (for loaders; callers check visibility).
pub async fn by_ids(db: &impl ConnectionTrait, ids: &[Uuid]) -> AppResult<HashMap<Uuid, gig::Model>> {
    let rows = gig::Entity::find().filter(gig::Column::Id.is_in(ids.iter().copied())).all(db).await?;
    Ok(rows.into_iter().map(|g| (g.id, g)).collect())
}

/// Skills of many gigs in one statement (for loaders).
pub async fn skills_of(db: &impl ConnectionTrait, ids: &[Uuid]) -> AppResult<HashMap<Uuid, Vec<String>>> {
    crate::domain::children_of::<gig_skill::Entity, _>(
        db,
        gig_skill::Column::GigId,
        ids,
        &[(gig_skill::Column::Skill, sea_orm::Order::Asc)],
        |r| r.gig_id,
        |r| r.skill,
    )
    .await
}

async fn lock(db: &impl ConnectionTrait, id: Uuid) -> AppResult<gig::Model> {
    gig::Entity::find_by_id(id).lock_exclusive().one(db).await?.ok_or(AppError::NotFound("gig"))
}

/// Locks a gig row for the rest of the transaction (proposal acceptance).
pub(super) async fn lock_gig(db: &impl ConnectionTrait, id: Uuid) -> AppResult<gig::Model> {
    lock(db, id).await
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_gig_machine_allows_only_its_transitions() {
        use GigStatus::*;
        assert_eq!(transition(Draft, GigAction::Publish).ok(), Some(Open));
        assert_eq!(transition(Open, GigAction::Fill).ok(), Some(Filled));
        assert_eq!(transition(Open, GigAction::Close).ok(), Some(Closed));
        assert_eq!(transition(Draft, GigAction::Cancel).ok(), Some(Cancelled));
        let err = transition(Filled, GigAction::Close).err().map(|e| e.to_string()).unwrap_or_default();
        assert!(err.contains("FILLED") && err.contains("CLOSED"), "{err}");
        assert!(transition(Draft, GigAction::Fill).is_err());
        assert!(transition(Cancelled, GigAction::Publish).is_err());
    }
}
