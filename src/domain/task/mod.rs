//! Tasks: routing candidates (the scoring itself is in `routing`), offers and claims
//! (`work`), submissions and review (`review`), metric checks (`checks`) and the background
//! sweep of lapsed offers and overdue work (`sweep`).
pub mod checks;
pub mod review;
pub mod routing;
pub mod sweep;
pub mod work;

use std::collections::HashMap;

use entity::{
    contract as contract_db, organization_member, outcome,
    profile::{self, Availability, ProfileKind},
    profile_skill,
    task::{self, TaskMode, TaskStatus},
    task_assignment, task_skill,
};
use sea_orm::{
    ColumnTrait, ConnectionTrait, EntityTrait, QueryFilter, QueryOrder, QuerySelect,
    sea_query::{Expr, ExprTrait, Func, Query},
};
use uuid::Uuid;

use self::routing::{CandidateFacts, Score};
use super::{
    contract,
    page::{Cursor, Page, PageRequest, after_desc},
    profile as profiles,
};
use crate::{
    auth::{AgentScope, Viewer},
    error::{AppError, AppResult},
};

/// How many candidates a ranking shows.
pub const MAX_CANDIDATES: usize = 10;
/// How many profiles are considered before scoring.
const POOL: u64 = 200;

/// A ranked candidate for a task.
#[derive(Clone, Debug)]
pub struct Candidate {
    /// The profile.
    pub profile: profile::Model,
    /// Its score and the parts.
    pub score: Score,
    /// Tasks currently offered to or held by it.
    pub open_tasks: u64,
}

/// Ranks candidates for a task (the contract's client side only), best first.
pub async fn candidates(db: &impl ConnectionTrait, viewer: &Viewer, task_id: Uuid) -> AppResult<Vec<Candidate>> {
    let task = task::Entity::find_by_id(task_id).one(db).await?.ok_or(AppError::NotFound("task"))?;
    let (contract, access) = contract::visible(db, viewer, task.contract_id).await?;
    if !matches!(access, contract::Access::Client { .. }) {
        return Err(AppError::forbidden("only the client sees a task's candidates"));
    }
    let tried = tried(db, task.id).await?;
    rank(db, &task, &contract, &tried).await
}

/// Profiles that held or were offered a task before (routing offers it to someone new).
pub(crate) async fn tried(db: &impl ConnectionTrait, task_id: Uuid) -> AppResult<Vec<Uuid>> {
    Ok(task_assignment::Entity::find()
        .select_only()
        .column(task_assignment::Column::ProfileId)
        .filter(task_assignment::Column::TaskId.eq(task_id))
        .filter(task_assignment::Column::EndedAt.is_not_null())
        .distinct()
        .into_tuple()
        .all(db)
        .await?)
}

/// Ranks eligible profiles for a task, best first, leaving out the client and `exclude`.
pub(crate) async fn rank(
    db: &impl ConnectionTrait,
    task: &task::Model,
    contract: &contract_db::Model,
    exclude: &[Uuid],
) -> AppResult<Vec<Candidate>> {
    let outcome = outcome::Entity::find_by_id(task.outcome_id).one(db).await?.ok_or(AppError::NotFound("outcome"))?;
    let weights: Vec<i32> = task::Entity::find()
        .select_only()
        .column(task::Column::Weight)
        .filter(task::Column::OutcomeId.eq(outcome.id))
        .filter(task::Column::Status.ne(TaskStatus::Cancelled))
        .into_tuple()
        .all(db)
        .await?;
    let share = routing::share_cents(outcome.amount_cents, task.weight, weights.iter().map(|w| i64::from(*w)).sum());
    let required: Vec<String> = serde_json::from_value(task.skills.clone()).unwrap_or_default();

    let mut pool = profile::Entity::find()
        .filter(profile::Column::Availability.ne(Availability::Unavailable))
        .filter(profile::Column::Id.ne(contract.client_profile_id));
    if !exclude.is_empty() {
        pool = pool.filter(profile::Column::Id.is_not_in(exclude.iter().copied()));
    }
    if let Some(org) = contract.organization_id {
        // The client side does not work its own contract.
        pool = pool.filter(
            profile::Column::Id.not_in_subquery(
                Query::select()
                    .column(organization_member::Column::ProfileId)
                    .from(organization_member::Entity)
                    .and_where(organization_member::Column::OrganizationId.eq(org))
                    .to_owned(),
            ),
        );
    }
    pool = match task.mode {
        TaskMode::Automated => pool.filter(profile::Column::Kind.eq(ProfileKind::Agent)),
        TaskMode::Judgment => pool.filter(profile::Column::Kind.eq(ProfileKind::Human)),
        TaskMode::Any => pool,
    };
    if !required.is_empty() {
        pool = pool.filter(
            profile::Column::Id.in_subquery(
                Query::select()
                    .column(profile_skill::Column::ProfileId)
                    .from(profile_skill::Entity)
                    .and_where(profile_skill::Column::Skill.is_in(required.clone()))
                    .to_owned(),
            ),
        );
    }
    let pool = pool.order_by_desc(profile::Column::Reputation).limit(POOL).all(db).await?;
    let ids: Vec<Uuid> = pool.iter().map(|p| p.id).collect();
    let skills = profiles::skills_of(db, &ids).await?;
    let loads = open_loads(db, &ids).await?;
    let mut ranked: Vec<Candidate> = pool
        .into_iter()
        .filter_map(|p| {
            let open_tasks = loads.get(&p.id).copied().unwrap_or(0);
            let facts = CandidateFacts {
                kind: p.kind,
                skills: skills
                    .get(&p.id)
                    .map(|s| s.iter().map(|s| (s.skill.clone(), s.level)).collect())
                    .unwrap_or_default(),
                reputation: p.reputation,
                open_tasks,
                rate_cents: p.rate_cents.filter(|_| p.rate_currency.as_deref() == Some(contract.currency.as_str())),
            };
            routing::score(task.mode, &required, share, &facts).map(|score| Candidate { profile: p, score, open_tasks })
        })
        .collect();
    ranked
        .sort_by(|a, b| b.score.total.total_cmp(&a.score.total).then_with(|| a.profile.handle.cmp(&b.profile.handle)));
    ranked.truncate(MAX_CANDIDATES);
    Ok(ranked)
}

/// Statuses that count as a profile's open load.
pub const OPEN_LOAD: [TaskStatus; 3] = [TaskStatus::Offered, TaskStatus::Assigned, TaskStatus::Rejected];

/// Offered, assigned and in-rework tasks per profile, in one statement.
async fn open_loads(db: &impl ConnectionTrait, ids: &[Uuid]) -> AppResult<HashMap<Uuid, u64>> {
    let rows: Vec<(Option<Uuid>, i64)> = task::Entity::find()
        .select_only()
        .column(task::Column::AssigneeProfileId)
        .column_as(Expr::expr(Func::count(Expr::col(task::Column::Id))), "n")
        .filter(task::Column::AssigneeProfileId.is_in(ids.iter().copied()))
        .filter(task::Column::Status.is_in(OPEN_LOAD))
        .group_by(task::Column::AssigneeProfileId)
        .into_tuple()
        .all(db)
        .await?;
    Ok(rows.into_iter().filter_map(|(id, n)| id.map(|id| (id, u64::try_from(n).unwrap_or(0)))).collect())
}

/// Tasks offered to or held by the viewer, newest first; `statuses` narrows them (default:
/// OFFERED, ASSIGNED, REJECTED and SUBMITTED). Agents need the `tasks:read` scope.
pub async fn mine(
    db: &impl ConnectionTrait,
    viewer: &Viewer,
    statuses: Option<Vec<TaskStatus>>,
    page: PageRequest,
) -> AppResult<Page<task::Model>> {
    let me = viewer.require_profile(AgentScope::TasksRead)?;
    let statuses = statuses.filter(|s| !s.is_empty()).unwrap_or_else(|| {
        vec![TaskStatus::Offered, TaskStatus::Assigned, TaskStatus::Rejected, TaskStatus::Submitted]
    });
    let query = task::Entity::find()
        .filter(task::Column::AssigneeProfileId.eq(me))
        .filter(task::Column::Status.is_in(statuses));
    newest_first(db, query, page).await
}

/// OPEN tasks of ACTIVE contracts the viewer may claim: the mode fits its kind, it holds every
/// required skill, it is not on the client side and never held or declined the task.
pub async fn claimable(db: &impl ConnectionTrait, viewer: &Viewer, page: PageRequest) -> AppResult<Page<task::Model>> {
    let me = viewer.require_profile(AgentScope::TasksRead)?;
    let kind = profile::Entity::find_by_id(me).one(db).await?.ok_or(AppError::NotFound("profile"))?.kind;
    let modes = match kind {
        ProfileKind::Agent => [TaskMode::Automated, TaskMode::Any],
        ProfileKind::Human => [TaskMode::Judgment, TaskMode::Any],
    };
    let mut contracts = Query::select()
        .column(contract_db::Column::Id)
        .from(contract_db::Entity)
        .and_where(contract_db::Column::Status.eq(contract_db::ContractStatus::Active))
        .and_where(contract_db::Column::ClientProfileId.ne(me))
        .to_owned();
    if matches!(viewer, Viewer::User { .. }) {
        contracts.and_where(
            Expr::col(contract_db::Column::OrganizationId).is_null().or(contract_db::Column::OrganizationId
                .not_in_subquery(
                    Query::select()
                        .column(organization_member::Column::OrganizationId)
                        .from(organization_member::Entity)
                        .and_where(organization_member::Column::ProfileId.eq(me))
                        .to_owned(),
                )),
        );
    }
    // A task is out of reach when it requires a skill the viewer lacks.
    let lacking = Query::select()
        .column(task_skill::Column::TaskId)
        .from(task_skill::Entity)
        .and_where(
            task_skill::Column::Skill.not_in_subquery(
                Query::select()
                    .column(profile_skill::Column::Skill)
                    .from(profile_skill::Entity)
                    .and_where(profile_skill::Column::ProfileId.eq(me))
                    .to_owned(),
            ),
        )
        .to_owned();
    let held_before = Query::select()
        .column(task_assignment::Column::TaskId)
        .from(task_assignment::Entity)
        .and_where(task_assignment::Column::ProfileId.eq(me))
        .to_owned();
    let query = task::Entity::find()
        .filter(task::Column::Status.eq(TaskStatus::Open))
        .filter(task::Column::Mode.is_in(modes))
        .filter(task::Column::ContractId.in_subquery(contracts))
        .filter(task::Column::Id.not_in_subquery(lacking))
        .filter(task::Column::Id.not_in_subquery(held_before));
    newest_first(db, query, page).await
}

/// A task the viewer may see: the client side sees every task, others only tasks offered to
/// or held by them; NOT_FOUND otherwise.
pub async fn visible(
    db: &impl ConnectionTrait,
    viewer: &Viewer,
    id: Uuid,
) -> AppResult<(task::Model, contract::Access)> {
    viewer.require_profile(AgentScope::TasksRead)?;
    let task = task::Entity::find_by_id(id).one(db).await?.ok_or(AppError::NotFound("task"))?;
    let (_, access) = contract::visible(db, viewer, task.contract_id).await.map_err(|_| AppError::NotFound("task"))?;
    match access {
        contract::Access::Assignee(me) if task.assignee_profile_id != Some(me) => Err(AppError::NotFound("task")),
        _ => Ok((task, access)),
    }
}

async fn newest_first(
    db: &impl ConnectionTrait,
    mut query: sea_orm::Select<task::Entity>,
    page: PageRequest,
) -> AppResult<Page<task::Model>> {
    if let Some(after) = page.after {
        query = query.filter(after_desc(None, Expr::col(task::Column::CreatedAt), Expr::col(task::Column::Id), &after));
    }
    let rows = query
        .order_by_desc(task::Column::CreatedAt)
        .order_by_desc(task::Column::Id)
        .limit(page.first + 1)
        .all(db)
        .await?;
    Ok(Page::from_rows(rows, &page, |t| Cursor { key: 0, at: t.created_at, id: t.id }))
}
