//! Who may see and change a contract, and what of its work each side sees.
use std::collections::HashMap;

use entity::{
    contract,
    organization_member::{self, OrgRole},
    profile, task, task_assignment,
};
use sea_orm::{
    ColumnTrait, Condition, ConnectionTrait, EntityTrait, QueryFilter,
    sea_query::{Expr, ExprTrait, Query, SelectStatement},
};
use uuid::Uuid;

use crate::{
    auth::{AgentScope, Viewer},
    domain::organization,
    error::{AppError, AppResult},
};

/// What the viewer may see of a contract.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Access {
    /// The client side: the creator of a personal contract, or a current member of the client
    /// organization. Sees everything.
    Client {
        /// Whether the viewer may change the contract and move its money (the creator of a
        /// personal contract, or a current OWNER/ADMIN of the organization).
        manages: bool,
    },
    /// Someone offered or holding one of its tasks: sees only those tasks.
    Assignee(Uuid),
}

impl Access {
    /// What a client manager decided with: the access every managing command returns.
    pub const MANAGER: Self = Self::Client { manages: true };

    /// Whether this is the client side.
    pub fn is_client(self) -> bool {
        matches!(self, Self::Client { .. })
    }

    /// Whether a task (with its submissions) is visible: every task to the client side, a
    /// worker only the tasks offered to or held by it.
    pub fn sees_task(self, task: &task::Model) -> bool {
        match self {
            Self::Client { .. } => true,
            Self::Assignee(me) => task.assignee_profile_id == Some(me),
        }
    }

    /// Whether an outcome is visible given its tasks: the client side sees every outcome, a
    /// worker the outcomes holding one of its tasks.
    pub fn sees_outcome(self, tasks: &[task::Model]) -> bool {
        self.is_client() || tasks.iter().any(|t| self.sees_task(t))
    }

    /// Whether a row of a task's assignment history is visible: all to the client side, a
    /// worker only its own rows.
    pub fn sees_assignment(self, row: &task_assignment::Model) -> bool {
        match self {
            Self::Client { .. } => true,
            Self::Assignee(me) => row.profile_id == me,
        }
    }
}

/// What the viewer may see of a contract, if anything.
pub async fn access(
    db: &impl ConnectionTrait,
    viewer: &Viewer,
    contract: &contract::Model,
) -> AppResult<Option<Access>> {
    let Some(me) = viewer.profile_id() else { return Ok(None) };
    // An organization's API key sees only that organization's contracts, as its client side.
    if !viewer.acts_in(contract.organization_id) {
        return Ok(None);
    }
    let bound = viewer.key().and_then(|k| k.organization_id).is_some();
    if matches!(viewer, Viewer::User { .. }) {
        // An organization's contract answers to the organization's current roles only: its
        // creator, once removed or demoted, keeps no authority over it (nor its money).
        match contract.organization_id {
            None if contract.client_profile_id == me => return Ok(Some(Access::MANAGER)),
            None => {}
            Some(org) => {
                if let Some(role) = organization::role_of(db, org, me).await? {
                    return Ok(Some(Access::Client { manages: manages(role) }));
                }
            }
        }
    }
    if bound {
        return Ok(None);
    }
    let assigned = task::Entity::find()
        .filter(task::Column::ContractId.eq(contract.id))
        .filter(task::Column::AssigneeProfileId.eq(me))
        .one(db)
        .await?;
    Ok(assigned.map(|_| Access::Assignee(me)))
}

/// Access for a page of contracts the viewer is on (as the query that listed them
/// established), in one statement: its memberships. A contract the viewer is not on the
/// client side of was listed for one of its tasks.
pub async fn access_many(
    db: &impl ConnectionTrait,
    viewer: &Viewer,
    contracts: &[contract::Model],
) -> AppResult<HashMap<Uuid, Access>> {
    let me = viewer.require_any()?;
    let user = matches!(viewer, Viewer::User { .. });
    let roles: HashMap<Uuid, OrgRole> = if user {
        organization::memberships_of(db, me).await?.into_iter().map(|(m, o)| (o.id, m.role)).collect()
    } else {
        HashMap::new()
    };
    Ok(contracts
        .iter()
        .filter(|c| viewer.acts_in(c.organization_id))
        .map(|c| {
            let access = match c.organization_id {
                None if user && c.client_profile_id == me => Access::MANAGER,
                Some(org) => {
                    roles.get(&org).map_or(Access::Assignee(me), |role| Access::Client { manages: manages(*role) })
                }
                None => Access::Assignee(me),
            };
            (c.id, access)
        })
        .collect())
}

/// Whether an organization role manages the organization's contracts (and moves their money).
fn manages(role: OrgRole) -> bool {
    matches!(role, OrgRole::Owner | OrgRole::Admin)
}

/// A contract the viewer may see, with the kind of access; NOT_FOUND otherwise.
pub async fn visible(db: &impl ConnectionTrait, viewer: &Viewer, id: Uuid) -> AppResult<(contract::Model, Access)> {
    // Contracts are work data: an agent token needs `tasks:read`, as for its tasks.
    viewer.require_profile(AgentScope::TasksRead)?;
    let contract = contract::Entity::find_by_id(id).one(db).await?.ok_or(AppError::NotFound("contract"))?;
    let access = access(db, viewer, &contract).await?.ok_or(AppError::NotFound("contract"))?;
    Ok((contract, access))
}

/// Profiles on the client side of a contract: its creator and its organization's members.
pub fn client_side_profiles(contract: &contract::Model) -> SelectStatement {
    let mut side = Condition::any().add(profile::Column::Id.eq(contract.client_profile_id));
    if let Some(org) = contract.organization_id {
        side = side.add(
            profile::Column::Id.in_subquery(
                Query::select()
                    .column(organization_member::Column::ProfileId)
                    .from(organization_member::Entity)
                    .and_where(organization_member::Column::OrganizationId.eq(org))
                    .to_owned(),
            ),
        );
    }
    Query::select().column(profile::Column::Id).from(profile::Entity).cond_where(side).to_owned()
}

/// Accounts of the client side (whose agents must not work the contract either).
pub fn client_side_users(contract: &contract::Model) -> SelectStatement {
    Query::select()
        .column(profile::Column::UserId)
        .from(profile::Entity)
        .and_where(profile::Column::Id.in_subquery(client_side_profiles(contract)))
        .and_where(Expr::col(profile::Column::UserId).is_not_null())
        .to_owned()
}

/// Profiles that may work a contract: not the client side, and not an agent the client side
/// operates (no self-dealing: a client never pays, or reviews, its own agent).
pub fn independent_of(contract: &contract::Model) -> Condition {
    Condition::all().add(profile::Column::Id.not_in_subquery(client_side_profiles(contract))).add(
        Condition::any()
            .add(Expr::col(profile::Column::OperatorUserId).is_null())
            .add(profile::Column::OperatorUserId.not_in_subquery(client_side_users(contract))),
    )
}

/// Whether `worker` is on the client side of a contract or an agent the client side operates.
pub async fn is_client_side(db: &impl ConnectionTrait, contract: &contract::Model, worker: Uuid) -> AppResult<bool> {
    let independent =
        profile::Entity::find().filter(profile::Column::Id.eq(worker)).filter(independent_of(contract)).one(db).await?;
    Ok(independent.is_none())
}

/// Refuses anyone but the client's owners and admins.
fn require_manages(access: Access) -> AppResult<()> {
    match access {
        Access::Client { manages: true } => Ok(()),
        _ => Err(AppError::forbidden("only the client's owners and admins change a contract or its work")),
    }
}

/// The viewer's access to a contract, refused unless the viewer manages it (a signed-in user
/// on the client side with OWNER/ADMIN rights); NOT_FOUND for outsiders.
pub(crate) async fn require_manager(
    db: &impl ConnectionTrait,
    viewer: &Viewer,
    contract: &contract::Model,
) -> AppResult<Access> {
    viewer.require_user()?;
    let access = access(db, viewer, contract).await?.ok_or(AppError::NotFound("contract"))?;
    hold_manager(db, viewer, contract, access).await?;
    Ok(access)
}

/// Refuses anyone but the client's owners and admins (`access` is the viewer's, already read)
/// and holds the role that authorizes the command until it commits: a concurrent demotion
/// waits, then takes effect for every later command.
pub(crate) async fn hold_manager(
    db: &impl ConnectionTrait,
    viewer: &Viewer,
    contract: &contract::Model,
    access: Access,
) -> AppResult<()> {
    let (_, me) = viewer.require_user()?;
    require_manages(access)?;
    if let Some(org) = contract.organization_id
        && !organization::role_held(db, org, me).await?.is_some_and(manages)
    {
        return Err(AppError::forbidden("only the client's owners and admins change a contract or its work"));
    }
    Ok(())
}
