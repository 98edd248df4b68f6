//! The pure rules of community roles.
use entity::community_member::CommunityRole;

use crate::error::{AppError, AppResult};

/// Moderators and owners moderate.
pub fn moderates(role: Option<CommunityRole>) -> bool {
    matches!(role, Some(CommunityRole::Owner | CommunityRole::Moderator))
}

/// Requires a moderating role.
pub fn require_moderator(role: Option<CommunityRole>) -> AppResult<()> {
    if moderates(role) { Ok(()) } else { Err(AppError::forbidden("only moderators can do this")) }
}

/// Only owners change roles that matter: granting or removing OWNER or MODERATOR (a
/// moderator demoting a peer could then ban it).
pub fn may_set_role(actor: Option<CommunityRole>, current: CommunityRole, new: CommunityRole) -> AppResult<()> {
    require_moderator(actor)?;
    let touches_owner = current == CommunityRole::Owner || new == CommunityRole::Owner;
    if touches_owner && actor != Some(CommunityRole::Owner) {
        return Err(AppError::forbidden("only owners grant or remove the owner role"));
    }
    let touches_moderator = current == CommunityRole::Moderator || new == CommunityRole::Moderator;
    if touches_moderator && actor != Some(CommunityRole::Owner) {
        return Err(AppError::forbidden("only owners grant or remove the moderator role"));
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn moderators_change_member_roles_but_only_owners_touch_owners() {
        use CommunityRole::*;
        assert!(may_set_role(Some(Moderator), Member, Moderator).is_err(), "only owners make moderators");
        assert!(may_set_role(Some(Moderator), Moderator, Member).is_err(), "nor demote a peer");
        assert!(may_set_role(Some(Owner), Moderator, Member).is_ok());
        assert!(may_set_role(Some(Moderator), Member, Owner).is_err());
        assert!(may_set_role(Some(Moderator), Owner, Member).is_err());
        assert!(may_set_role(Some(Owner), Member, Owner).is_ok());
        assert!(may_set_role(Some(Member), Member, Moderator).is_err());
        assert!(may_set_role(None, Member, Moderator).is_err());
    }
}
