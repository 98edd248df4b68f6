//! Ranking candidates for a task: the eligible pool, their open loads and community standing,
//! scored by `routing`.
use std::collections::HashMap;

use entity::{
    contract as contract_db, outcome,
    profile::{self, Availability, ProfileKind},
    profile_skill,
    task::{self, TaskMode, TaskStatus},
};
use sea_orm::{
    ColumnTrait, ConnectionTrait, EntityTrait, QueryFilter, QueryOrder, QuerySelect,
    sea_query::{Expr, Func, Query},
};
use uuid::Uuid;

use super::{
    assignment, of_outcomes, required_skills,
    routing::{self, CandidateFacts, Score},
};
use crate::{
    auth::Viewer,
    domain::{contract, money, profile as profiles},
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
pub async fn candidates(
    db: &impl ConnectionTrait,
    viewer: &Viewer,
    task_id: Uuid,
    cap: u64,
) -> AppResult<Vec<Candidate>> {
    let task = task::Entity::find_by_id(task_id).one(db).await?.ok_or(AppError::NotFound("task"))?;
    let (contract, access) = contract::visible(db, viewer, task.contract_id).await?;
    if !access.is_client() {
        return Err(AppError::forbidden("only the client sees a task's candidates"));
    }
    let tried = assignment::tried(db, task.id).await?;
    rank(db, &task, &contract, &Ranking { exclude: &tried, cap, limit: MAX_CANDIDATES }).await
}

/// How a ranking is asked for.
pub(crate) struct Ranking<'a> {
    /// Profiles left out (they held or declined the task before).
    pub exclude: &'a [Uuid],
    /// The load cap: profiles with this many open tasks are passed over.
    pub cap: u64,
    /// How many candidates to return at most.
    pub limit: usize,
}

/// Ranks eligible profiles for a task, best first, leaving out the client side, the
/// excluded and those at the load cap.
pub(crate) async fn rank(
    db: &impl ConnectionTrait,
    task: &task::Model,
    contract: &contract_db::Model,
    ranking: &Ranking<'_>,
) -> AppResult<Vec<Candidate>> {
    let exclude = ranking.exclude;
    let outcome = outcome::Entity::find_by_id(task.outcome_id).one(db).await?.ok_or(AppError::NotFound("outcome"))?;
    let siblings = of_outcomes(db, &[outcome.id]).await?.remove(&outcome.id).unwrap_or_default();
    let share = money::task_share(outcome.amount_cents, task, &siblings);
    let required = required_skills(db, task.id).await?;

    let mut pool = profile::Entity::find()
        .filter(profile::Column::Availability.ne(Availability::Unavailable))
        // The client side and the agents it operates do not work its contract.
        .filter(contract::access::independent_of(contract));
    if !exclude.is_empty() {
        pool = pool.filter(profile::Column::Id.is_not_in(exclude.iter().copied()));
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
    let standing = community_standing(db, &ids, &required).await?;
    let mut ranked: Vec<Candidate> = pool
        .into_iter()
        .filter(|p| loads.get(&p.id).copied().unwrap_or(0) < ranking.cap)
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
                community: standing.get(&p.id).copied().unwrap_or(0.0),
            };
            routing::score(task.mode, &required, share, &facts).map(|score| Candidate { profile: p, score, open_tasks })
        })
        .collect();
    ranked
        .sort_by(|a, b| b.score.total.total_cmp(&a.score.total).then_with(|| a.profile.handle.cmp(&b.profile.handle)));
    ranked.truncate(ranking.limit);
    Ok(ranked)
}

/// Community standing of candidates for the required skills (see `routing::standing`), in
/// three statements: the communities tagged with the skills, the candidates' memberships in
/// them and their (not removed) posts there.
async fn community_standing(
    db: &impl ConnectionTrait,
    ids: &[Uuid],
    required: &[String],
) -> AppResult<HashMap<Uuid, f64>> {
    use entity::{community_member, community_tag, post};
    if ids.is_empty() || required.is_empty() {
        return Ok(HashMap::new());
    }
    let tags: Vec<(Uuid, String)> = community_tag::Entity::find()
        .select_only()
        .columns([community_tag::Column::CommunityId, community_tag::Column::Tag])
        .filter(community_tag::Column::Tag.is_in(required.iter().cloned()))
        .into_tuple()
        .all(db)
        .await?;
    if tags.is_empty() {
        return Ok(HashMap::new());
    }
    let communities: Vec<Uuid> = tags.iter().map(|(c, _)| *c).collect();
    let members: Vec<(Uuid, Uuid)> = community_member::Entity::find()
        .select_only()
        .columns([community_member::Column::ProfileId, community_member::Column::CommunityId])
        .filter(community_member::Column::ProfileId.is_in(ids.iter().copied()))
        .filter(community_member::Column::CommunityId.is_in(communities.iter().copied()))
        .into_tuple()
        .all(db)
        .await?;
    if members.is_empty() {
        return Ok(HashMap::new());
    }
    let posts: Vec<(Uuid, Uuid, i64)> = post::Entity::find()
        .select_only()
        .columns([post::Column::AuthorProfileId, post::Column::CommunityId])
        .column_as(Expr::expr(Func::count(Expr::col(post::Column::Id))), "n")
        .filter(post::Column::AuthorProfileId.is_in(members.iter().map(|(p, _)| *p)))
        .filter(post::Column::CommunityId.is_in(communities.iter().copied()))
        .filter(post::Column::RemovedAt.is_null())
        .group_by(post::Column::AuthorProfileId)
        .group_by(post::Column::CommunityId)
        .into_tuple()
        .all(db)
        .await?;
    let posts: HashMap<(Uuid, Uuid), u64> =
        posts.into_iter().map(|(p, c, n)| ((p, c), u64::try_from(n).unwrap_or(0))).collect();
    let mut out = HashMap::new();
    for id in ids {
        let per_skill: Vec<f64> = required
            .iter()
            .map(|skill| {
                routing::skill_standing(
                    members
                        .iter()
                        .filter(|(p, c)| p == id && tags.iter().any(|(tc, t)| tc == c && t == skill))
                        .map(|(_, c)| posts.get(&(*id, *c)).copied().unwrap_or(0)),
                )
            })
            .collect();
        let s = routing::standing(&per_skill);
        if s > 0.0 {
            out.insert(*id, s);
        }
    }
    Ok(out)
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
