//! Tasks: creation and reading (here), routing candidates (the scoring itself is in
//! `routing`), offers and claims (`work`), the assignment history (`assignment`), what a
//! contract's status change does to its work (`lifecycle`), submissions and review (`review`),
//! metric checks (`checks`) and the background sweep of lapsed offers and overdue work (`sweep`).
pub mod assign;
pub mod assignment;
pub mod escalation;
pub mod lifecycle;
pub mod provenance;
pub mod review;
pub mod routing;
pub mod sweep;
pub mod work;

use std::collections::HashMap;

use entity::{
    contract::{self as contract_db, ContractStatus},
    organization_member,
    outcome::{self, OutcomeStatus},
    profile::{self, Availability, ProfileKind},
    profile_skill,
    task::{self, TaskMode, TaskStatus},
    task_assignment, task_skill,
};
use sea_orm::{
    ActiveModelTrait, ColumnTrait, ConnectionTrait, EntityTrait, QueryFilter, QueryOrder, QuerySelect, Set,
    sea_query::{Expr, ExprTrait, Func, Query},
};
use serde_json::json;
use uuid::Uuid;

use self::routing::{CandidateFacts, Score};
use super::{
    Action, UnitOfWork, contract,
    contract::Access,
    money,
    page::{Cursor, Direction, Page, PageRequest, keyset},
    profile as profiles, validate,
};
use crate::{
    auth::{AgentScope, Viewer},
    error::{AppError, AppResult},
    state::AppState,
};

/// Input of `addTask`.
pub struct TaskInput {
    /// Title.
    pub title: String,
    /// Description.
    pub description: String,
    /// Required skills.
    pub skills: Vec<String>,
    /// AUTOMATED, JUDGMENT or ANY.
    pub mode: TaskMode,
    /// Share of the outcome's amount relative to sibling tasks (1–10000).
    pub weight: i32,
    /// Due date.
    pub due_at: Option<chrono::DateTime<chrono::Utc>>,
    /// Keys of the outcome criteria the task carries.
    pub criteria: Vec<String>,
    /// Failed agent attempts before the task goes to people; 0 never.
    pub escalate_after: i32,
}

/// Validates the fields every new task shares (from `addTask`, a playbook or an approved
/// plan); `field` prefixes the fields at fault (`""` or `tasks[2].`).
pub(crate) fn validate_draft(
    input: TaskInput,
    criteria: &[super::outcome::Criterion],
    field: &str,
) -> AppResult<ValidDraft> {
    let f = |name: &str| format!("{field}{name}");
    let title = validate::text(&input.title, &f("title"), 1, 200, false)?;
    let description = validate::text(&input.description, &f("description"), 0, 20_000, true)?;
    if !(1..=10_000).contains(&input.weight) {
        return Err(AppError::bad_input(&f("weight"), "must be between 1 and 10000"));
    }
    if !(0..=10).contains(&input.escalate_after) {
        return Err(AppError::bad_input(&f("escalateAfter"), "must be between 0 (never) and 10"));
    }
    validate::at_most(input.skills.len(), 20, &f("skills"))?;
    let mut skills = Vec::new();
    for (i, s) in input.skills.iter().enumerate() {
        let skill = validate::skill_name(s, &f(&format!("skills[{i}]")))?;
        if !skills.contains(&skill) {
            skills.push(skill);
        }
    }
    let keys = super::outcome::validate_task_keys(criteria, &input.criteria, &f("criteria"))?;
    Ok(ValidDraft {
        title,
        description,
        skills,
        mode: input.mode,
        weight: input.weight,
        due_at: input.due_at,
        criteria: keys,
        escalate_after: input.escalate_after,
    })
}

/// A validated task draft.
#[derive(Clone, Debug)]
pub struct ValidDraft {
    pub title: String,
    pub description: String,
    pub skills: Vec<String>,
    pub mode: TaskMode,
    pub weight: i32,
    pub due_at: Option<chrono::DateTime<chrono::Utc>>,
    pub criteria: Vec<String>,
    pub escalate_after: i32,
}

impl ValidDraft {
    /// The task to insert for this draft.
    pub(crate) fn into_new(
        self,
        contract_id: Uuid,
        outcome_id: Uuid,
        kind: task::TaskKind,
        now: chrono::DateTime<chrono::Utc>,
    ) -> NewTask {
        NewTask {
            contract_id,
            outcome_id,
            title: self.title,
            description: self.description,
            skills: self.skills,
            mode: self.mode,
            weight: self.weight,
            due_at: self.due_at,
            criteria: self.criteria,
            kind,
            escalate_after: self.escalate_after,
            now,
        }
    }
}

/// Adds a task to an outcome (client managers only); on an ACTIVE contract it is routed at
/// once. An outcome awaiting or past the client's acceptance takes no new work.
pub async fn add(
    state: &AppState,
    viewer: &Viewer,
    outcome_id: Uuid,
    input: TaskInput,
) -> AppResult<(task::Model, Access)> {
    let mut work = UnitOfWork::begin(state, viewer).await?;
    let found = outcome::Entity::find_by_id(outcome_id).one(work.txn()).await?.ok_or(AppError::NotFound("outcome"))?;
    // Lock order: the contract, then the outcome (acceptance takes them in the same order).
    let contract = contract::lock(work.txn(), found.contract_id).await?;
    let outcome = super::outcome::lock(work.txn(), outcome_id).await?;
    let access = contract::require_manager(work.txn(), viewer, &contract).await.map_err(|e| match e {
        AppError::NotFound(_) => AppError::NotFound("outcome"),
        other => other,
    })?;
    if matches!(outcome.status, OutcomeStatus::Submitted | OutcomeStatus::Accepted) {
        return Err(AppError::conflict(format!(
            "a {} outcome takes no new tasks; reject it first to add work",
            super::wire(outcome.status)
        )));
    }
    let draft = validate_draft(input, &super::outcome::criteria_of(&outcome)?, "")?;
    let now = state.clock.now();
    let mut task = insert(work.txn(), draft.into_new(contract.id, outcome.id, task::TaskKind::Work, now)).await?;
    work.record(work::activity(Action::TaskAdded, &task, json!({}))).await?;
    if contract.status == ContractStatus::Active {
        // Work already runs: the new task is routed at once.
        task = work::route_locked(&mut work, state, task, &contract).await?;
    }
    work.commit().await?;
    Ok((task, access))
}

/// A task to insert.
pub(crate) struct NewTask {
    pub contract_id: Uuid,
    pub outcome_id: Uuid,
    pub title: String,
    pub description: String,
    pub skills: Vec<String>,
    pub mode: TaskMode,
    pub weight: i32,
    pub due_at: Option<chrono::DateTime<chrono::Utc>>,
    pub criteria: Vec<String>,
    pub kind: task::TaskKind,
    pub escalate_after: i32,
    pub now: chrono::DateTime<chrono::Utc>,
}

/// Inserts an OPEN task and its required skills.
pub(crate) async fn insert(db: &impl ConnectionTrait, t: NewTask) -> AppResult<task::Model> {
    let task = task::ActiveModel {
        id: Set(Uuid::new_v4()),
        contract_id: Set(t.contract_id),
        outcome_id: Set(t.outcome_id),
        title: Set(t.title),
        description: Set(t.description),
        mode: Set(t.mode),
        weight: Set(t.weight),
        due_at: Set(t.due_at),
        status: Set(TaskStatus::Open),
        assignee_profile_id: Set(None),
        created_at: Set(t.now),
        updated_at: Set(t.now),
        offer_expires_at: Set(None),
        assigned_at: Set(None),
        rejection_count: Set(0),
        submitted_at: Set(None),
        accepted_at: Set(None),
        criteria: Set(Some(json!(t.criteria))),
        kind: Set(t.kind),
        escalate_after: Set(t.escalate_after),
        agent_failures: Set(0),
        escalated_at: Set(None),
        escalated_from: Set(None),
    }
    .insert(db)
    .await?;
    if !t.skills.is_empty() {
        task_skill::Entity::insert_many(
            t.skills.iter().map(|skill| task_skill::ActiveModel { task_id: Set(task.id), skill: Set(skill.clone()) }),
        )
        .exec(db)
        .await?;
    }
    Ok(task)
}

/// Tasks of many outcomes in one statement, oldest first (for loaders).
pub async fn of_outcomes(
    db: &impl ConnectionTrait,
    outcome_ids: &[Uuid],
) -> AppResult<HashMap<Uuid, Vec<task::Model>>> {
    crate::domain::children_of::<task::Entity, _>(
        db,
        task::Column::OutcomeId,
        outcome_ids,
        &[(task::Column::CreatedAt, sea_orm::Order::Asc), (task::Column::Id, sea_orm::Order::Asc)],
        |r| r.outcome_id,
        |r| r,
    )
    .await
}

/// Required skills of many tasks in one statement, by name (for loaders and checks).
pub async fn skills_of(db: &impl ConnectionTrait, task_ids: &[Uuid]) -> AppResult<HashMap<Uuid, Vec<String>>> {
    crate::domain::children_of::<task_skill::Entity, _>(
        db,
        task_skill::Column::TaskId,
        task_ids,
        &[(task_skill::Column::TaskId, sea_orm::Order::Asc), (task_skill::Column::Skill, sea_orm::Order::Asc)],
        |r| r.task_id,
        |r| r.skill,
    )
    .await
}

/// Required skills of one task.
pub(crate) async fn required_skills(db: &impl ConnectionTrait, task_id: Uuid) -> AppResult<Vec<String>> {
    Ok(skills_of(db, &[task_id]).await?.remove(&task_id).unwrap_or_default())
}

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

/// Tasks offered to or held by the viewer, newest first, seen as their assignee; `statuses`
/// narrows them (default: OFFERED, ASSIGNED, REJECTED and SUBMITTED). Agents need the
/// `tasks:read` scope.
pub async fn mine(
    db: &impl ConnectionTrait,
    viewer: &Viewer,
    statuses: Option<Vec<TaskStatus>>,
    page: PageRequest,
) -> AppResult<(Page<task::Model>, Access)> {
    let me = viewer.require_profile(AgentScope::TasksRead)?;
    validate::at_most(statuses.as_ref().map_or(0, Vec::len), 7, "statuses")?;
    let statuses = statuses.filter(|s| !s.is_empty()).unwrap_or_else(|| {
        vec![TaskStatus::Offered, TaskStatus::Assigned, TaskStatus::Rejected, TaskStatus::Submitted]
    });
    let query = task::Entity::find()
        .filter(task::Column::AssigneeProfileId.eq(me))
        .filter(task::Column::Status.is_in(statuses));
    Ok((newest_first(db, query, page).await?, Access::Assignee(me)))
}

/// OPEN tasks of ACTIVE contracts the viewer may claim: the mode fits its kind, it holds every
/// required skill, it is not on the client side and never held or declined the task. Seen as
/// a would-be assignee.
pub async fn claimable(
    db: &impl ConnectionTrait,
    viewer: &Viewer,
    page: PageRequest,
) -> AppResult<(Page<task::Model>, Access)> {
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
    // The person whose side counts: the viewer, or the person operating the agent.
    let person = match viewer {
        Viewer::Agent { operator_user_id, .. } => profile::Entity::find()
            .filter(profile::Column::UserId.eq(*operator_user_id))
            .filter(profile::Column::Kind.eq(ProfileKind::Human))
            .one(db)
            .await?
            .map(|p| p.id),
        _ => Some(me),
    };
    if let Some(person) = person {
        contracts.and_where(contract_db::Column::ClientProfileId.ne(person));
        contracts.and_where(
            Expr::col(contract_db::Column::OrganizationId).is_null().or(contract_db::Column::OrganizationId
                .not_in_subquery(
                    Query::select()
                        .column(organization_member::Column::OrganizationId)
                        .from(organization_member::Entity)
                        .and_where(organization_member::Column::ProfileId.eq(person))
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
    Ok((newest_first(db, query, page).await?, Access::Assignee(me)))
}

/// A task the viewer may see: the client side sees every task, others only tasks offered to
/// or held by them; NOT_FOUND otherwise.
pub async fn visible(db: &impl ConnectionTrait, viewer: &Viewer, id: Uuid) -> AppResult<(task::Model, Access)> {
    viewer.require_profile(AgentScope::TasksRead)?;
    let task = task::Entity::find_by_id(id).one(db).await?.ok_or(AppError::NotFound("task"))?;
    let (_, access) = contract::visible(db, viewer, task.contract_id).await.map_err(|_| AppError::NotFound("task"))?;
    if access.sees_task(&task) { Ok((task, access)) } else { Err(AppError::NotFound("task")) }
}

async fn newest_first(
    db: &impl ConnectionTrait,
    query: sea_orm::Select<task::Entity>,
    page: PageRequest,
) -> AppResult<Page<task::Model>> {
    keyset(db, query, (task::Column::CreatedAt, task::Column::Id), Direction::Descending, &page, |t| Cursor {
        key: 0,
        at: t.created_at,
        id: t.id,
    })
    .await
}
