//! Tasks: routing candidates (the scoring itself is in `routing`).
pub mod routing;

use std::collections::HashMap;

use entity::{
    outcome,
    profile::{self, Availability, ProfileKind},
    profile_skill,
    task::{self, TaskMode, TaskStatus},
};
use sea_orm::{
    ColumnTrait, ConnectionTrait, EntityTrait, QueryFilter, QueryOrder, QuerySelect,
    sea_query::{Expr, Func, Query},
};
use uuid::Uuid;

use self::routing::{CandidateFacts, Score};
use super::{contract, profile as profiles};
use crate::{
    auth::Viewer,
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

/// Ranks candidates for a task (the contract's client managers only), best first.
pub async fn candidates(db: &impl ConnectionTrait, viewer: &Viewer, task_id: Uuid) -> AppResult<Vec<Candidate>> {
    let task = task::Entity::find_by_id(task_id).one(db).await?.ok_or(AppError::NotFound("task"))?;
    let (contract, access) = contract::visible(db, viewer, task.contract_id).await?;
    if !matches!(access, contract::Access::Client { .. }) {
        return Err(AppError::forbidden("only the client sees a task's candidates"));
    }
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

/// Offered and assigned tasks per profile, in one statement.
async fn open_loads(db: &impl ConnectionTrait, ids: &[Uuid]) -> AppResult<HashMap<Uuid, u64>> {
    let rows: Vec<(Option<Uuid>, i64)> = task::Entity::find()
        .select_only()
        .column(task::Column::AssigneeProfileId)
        .column_as(Expr::expr(Func::count(Expr::col(task::Column::Id))), "n")
        .filter(task::Column::AssigneeProfileId.is_in(ids.iter().copied()))
        .filter(task::Column::Status.is_in([TaskStatus::Offered, TaskStatus::Assigned]))
        .group_by(task::Column::AssigneeProfileId)
        .into_tuple()
        .all(db)
        .await?;
    Ok(rows.into_iter().filter_map(|(id, n)| id.map(|id| (id, n.max(0) as u64))).collect())
}
