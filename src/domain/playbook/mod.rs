//! Decomposition: how an outcome becomes tasks without the client writing each one.
//!
//! - **Playbooks** are named recipes (task drafts: title, mode, skills, weight, due date
//!   relative to the decomposition, the criteria each task carries), global (the platform's)
//!   or an organization's (written by its owners and admins). `decomposeOutcome` creates an
//!   outcome's tasks from one in a single transaction.
//! - **Planner agents**: `planOutcome` adds a PLAN task routed to an agent with the `planning`
//!   skill; its deliverable is a proposed breakdown (validated like a playbook's steps), which
//!   the client approves as is or edited (`approvePlan`), creating the tasks and accepting
//!   the PLAN task.
//!
//! New tasks on an ACTIVE contract are routed together (`task::work::route_jointly`).
//!
//! Here: the playbooks themselves (`createPlaybook`, the list); `catalogue`: the platform's
//! own; `decomposition`: `decomposeOutcome`, `planOutcome` and `approvePlan`. A draft and its
//! validation are a task's plan (`task::plan`).
pub mod catalogue;
pub mod decomposition;

pub use crate::domain::task::plan::{Draft, MAX_DRAFTS, validate_drafts};
pub use catalogue::ensure_platform_playbooks;
pub use decomposition::{Decomposition, approve, decompose, plan};

use entity::{organization_member::OrgRole, playbook};
use sea_orm::{
    ActiveModelTrait, ColumnTrait, ConnectionTrait, EntityTrait, QueryFilter, QueryOrder, QuerySelect, Set,
    sea_query::Condition,
};
use serde_json::json;
use uuid::Uuid;

use super::{UnitOfWork, organization, outcome::Criterion, validate};
use crate::{
    auth::Viewer,
    error::{AppError, AppResult},
    state::AppState,
};

/// The skill a planner agent needs.
pub const PLANNING_SKILL: &str = "planning";

/// A playbook's steps, as stored.
pub fn steps_of(p: &playbook::Model) -> AppResult<Vec<Draft>> {
    super::decode(&p.steps, "playbook steps")
}

/// Criterion keys a playbook step may name: any well-formed key (they are matched against the
/// outcome when the playbook is used).
fn any_keys(drafts: &[Draft]) -> Vec<Criterion> {
    let mut keys: Vec<String> = drafts.iter().flat_map(|d| d.criteria.iter().map(|k| k.trim().to_owned())).collect();
    keys.sort();
    keys.dedup();
    keys.into_iter()
        .filter(|k| {
            (1..=40).contains(&k.len())
                && k.bytes().all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'_' || b == b'-')
        })
        .map(|key| Criterion { key, description: String::new(), metric: None, comparator: None, target: None })
        .collect()
}

/// Input of `createPlaybook`.
pub struct PlaybookInput {
    /// The organization it belongs to.
    pub organization_id: Uuid,
    /// Name, unique in the organization.
    pub name: String,
    /// What it is for.
    pub description: String,
    /// The tasks it creates.
    pub steps: Vec<Draft>,
}

/// `createPlaybook`: an organization's owners and admins write its playbooks.
pub async fn create(state: &AppState, viewer: &Viewer, input: PlaybookInput) -> AppResult<playbook::Model> {
    let (_, me) = viewer.require_user()?;
    let name = validate::text(&input.name, "name", 1, 120, false)?;
    let description = validate::text(&input.description, "description", 0, 5_000, true)?;
    let now = state.clock.now();
    validate_drafts(&input.steps, &any_keys(&input.steps), now, "steps")?;
    viewer.require_acting_in(Some(input.organization_id))?;
    let work = UnitOfWork::begin(state, viewer).await?;
    match organization::role_of(work.txn(), input.organization_id, me).await? {
        Some(OrgRole::Owner | OrgRole::Admin) => {}
        Some(_) => return Err(AppError::forbidden("only the organization's owners and admins write its playbooks")),
        None => return Err(AppError::NotFound("organization")),
    }
    let taken = playbook::Entity::find()
        .filter(playbook::Column::OrganizationId.eq(input.organization_id))
        .filter(playbook::Column::Name.eq(name.clone()))
        .one(work.txn())
        .await?;
    if taken.is_some() {
        return Err(AppError::bad_input("name", "the organization has a playbook of this name"));
    }
    let steps: Vec<Draft> =
        input.steps.into_iter().map(|d| Draft { mode: d.mode.trim().to_uppercase(), ..d }).collect();
    let created = playbook::ActiveModel {
        id: Set(Uuid::new_v4()),
        organization_id: Set(Some(input.organization_id)),
        name: Set(name),
        description: Set(description),
        steps: Set(json!(steps)),
        created_by: Set(Some(me)),
        created_at: Set(now),
    }
    .insert(work.txn())
    .await?;
    work.commit().await?;
    Ok(created)
}

/// Playbooks the viewer may use: the platform's, and those of `organization_id` when the
/// viewer belongs to it (the organization's first, by name).
pub async fn list(
    db: &impl ConnectionTrait,
    viewer: &Viewer,
    organization_id: Option<Uuid>,
) -> AppResult<Vec<playbook::Model>> {
    let mut visible = Condition::any().add(playbook::Column::OrganizationId.is_null());
    if let Some(org) = organization_id {
        let me = viewer.require_profile(crate::auth::AgentScope::TasksRead)?;
        viewer.require_acting_in(Some(org))?;
        if organization::role_of(db, org, me).await?.is_none() {
            return Err(AppError::NotFound("organization"));
        }
        visible = visible.add(playbook::Column::OrganizationId.eq(org));
    }
    let mut found =
        playbook::Entity::find().filter(visible).order_by_asc(playbook::Column::Name).limit(200).all(db).await?;
    // The organization's own first.
    found.sort_by_key(|p| p.organization_id.is_none());
    Ok(found)
}
