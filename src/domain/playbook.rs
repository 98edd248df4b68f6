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
use entity::{
    contract::ContractStatus,
    organization_member::OrgRole,
    outcome::OutcomeStatus,
    playbook,
    task::{self, TaskKind, TaskMode, TaskStatus},
    task_submission::{self, SubmissionStatus},
};
use sea_orm::{
    ActiveEnum, ActiveModelTrait, ColumnTrait, ConnectionTrait, EntityTrait, QueryFilter, QueryOrder, QuerySelect, Set,
    sea_query::Condition,
};
use serde::{Deserialize, Serialize};
use serde_json::json;
use uuid::Uuid;

use super::{
    Action, NewActivity, UnitOfWork, contract,
    contract::Access,
    organization,
    outcome::{self, Criterion},
    task::{TaskInput, ValidDraft, validate_draft, work},
    validate, wire,
};
use crate::{
    auth::Viewer,
    error::{AppError, AppResult},
    state::AppState,
};

/// The skill a planner agent needs.
pub const PLANNING_SKILL: &str = "planning";
/// Most tasks one decomposition creates.
pub const MAX_DRAFTS: usize = 30;

/// A task draft: a playbook step or a line of a proposed plan.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Draft {
    /// Title.
    pub title: String,
    /// Description.
    #[serde(default)]
    pub description: String,
    /// AUTOMATED, JUDGMENT or ANY.
    pub mode: String,
    /// Required skills.
    #[serde(default)]
    pub skills: Vec<String>,
    /// Share of the outcome's amount relative to sibling tasks (1–10000).
    #[serde(default = "one")]
    pub weight: i32,
    /// Due this many days after the tasks are created (0–365).
    #[serde(default)]
    pub due_in_days: Option<i32>,
    /// Keys of the outcome criteria the task carries.
    #[serde(default)]
    pub criteria: Vec<String>,
    /// Failed agent attempts before the task goes to people; 0 never.
    #[serde(default = "two")]
    pub escalate_after: i32,
}

fn one() -> i32 {
    1
}

fn two() -> i32 {
    2
}

/// Validates drafts against an outcome's criteria (or, for a playbook, only the shape of the
/// criterion keys), naming the field at fault as `{field}[i].…`.
pub fn validate_drafts(
    drafts: &[Draft],
    criteria: &[Criterion],
    now: chrono::DateTime<chrono::Utc>,
    field: &str,
) -> AppResult<Vec<ValidDraft>> {
    if drafts.is_empty() || drafts.len() > MAX_DRAFTS {
        return Err(AppError::bad_input(field, format!("give 1 to {MAX_DRAFTS} tasks")));
    }
    drafts.iter().enumerate().map(|(i, d)| validate_one(d, criteria, now, &format!("{field}[{i}]."))).collect()
}

fn validate_one(
    d: &Draft,
    criteria: &[Criterion],
    now: chrono::DateTime<chrono::Utc>,
    at: &str,
) -> AppResult<ValidDraft> {
    let mode = TaskMode::try_from_value(&d.mode.trim().to_uppercase())
        .map_err(|_| AppError::bad_input(&format!("{at}mode"), "must be AUTOMATED, JUDGMENT or ANY"))?;
    let due_at = match d.due_in_days {
        None => None,
        Some(days) if (0..=365).contains(&days) => now.checked_add_signed(chrono::Duration::days(i64::from(days))),
        Some(_) => return Err(AppError::bad_input(&format!("{at}dueInDays"), "must be between 0 and 365")),
    };
    let input = TaskInput {
        title: d.title.clone(),
        description: d.description.clone(),
        skills: d.skills.clone(),
        mode,
        weight: d.weight,
        due_at,
        criteria: d.criteria.clone(),
        escalate_after: d.escalate_after,
    };
    validate_draft(input, criteria, at)
}

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

/// The platform's own playbooks (global), with fixed ids.
fn platform_playbooks() -> Vec<(Uuid, &'static str, &'static str, Vec<Draft>)> {
    let step = |title: &str, mode: &str, skill: &str, weight: i32, days: i32| Draft {
        title: title.into(),
        description: String::new(),
        mode: mode.into(),
        skills: vec![skill.into()],
        weight,
        due_in_days: Some(days),
        criteria: Vec::new(),
        escalate_after: 2,
    };
    vec![
        (
            Uuid::from_u128(0x5e4a_50c1_0000_4000_8000_0000_0000_0001),
            "Data pipeline",
            "Collect and clean data with agents, check it automatically, have a person sign it off.",
            vec![
                step("Collect and clean the data", "AUTOMATED", "data collection", 3, 7),
                step("Validate the results", "AUTOMATED", "testing", 1, 9),
                step("Review and sign off", "JUDGMENT", "review", 1, 12),
            ],
        ),
        (
            Uuid::from_u128(0x5e4a_50c1_0000_4000_8000_0000_0000_0002),
            "Research report",
            "Sources gathered by agents, a draft by anyone, a review by an expert.",
            vec![
                step("Gather sources", "AUTOMATED", "research", 2, 5),
                step("Draft the report", "ANY", "writing", 3, 10),
                step("Expert review", "JUDGMENT", "review", 2, 14),
            ],
        ),
    ]
}

/// Makes sure the platform's playbooks exist (at startup; several instances may race, the
/// fixed ids make the insert idempotent).
pub async fn ensure_platform_playbooks(db: &impl ConnectionTrait, now: chrono::DateTime<chrono::Utc>) -> AppResult<()> {
    for (id, name, description, steps) in platform_playbooks() {
        let row = playbook::ActiveModel {
            id: Set(id),
            organization_id: Set(None),
            name: Set(name.into()),
            description: Set(description.into()),
            steps: Set(json!(steps)),
            created_by: Set(None),
            created_at: Set(now),
        };
        let inserted = playbook::Entity::insert(row)
            .on_conflict(sea_orm::sea_query::OnConflict::column(playbook::Column::Id).do_nothing().to_owned())
            .exec_without_returning(db)
            .await;
        match inserted {
            Ok(_) | Err(sea_orm::DbErr::RecordNotInserted) => {}
            Err(e) => return Err(e.into()),
        }
    }
    Ok(())
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

/// `decomposeOutcome`: creates an outcome's tasks from a playbook (client managers; the
/// platform's playbooks or the contract organization's), on an outcome with no tasks yet.
pub async fn decompose(
    state: &AppState,
    viewer: &Viewer,
    outcome_id: Uuid,
    playbook_id: Uuid,
) -> AppResult<Decomposition> {
    viewer.require_user()?;
    let mut work = UnitOfWork::begin(state, viewer).await?;
    let outcome::Managed { contract, outcome, tasks, access } = outcome::managed(&work, viewer, outcome_id).await?;
    require_open_for_work(&outcome)?;
    // A playbook splits an outcome that has no work yet: a second request (a retry, a double
    // click, two admins at once) finds the first one's tasks and is refused.
    if tasks.iter().any(|t| t.kind == TaskKind::Work && t.status != TaskStatus::Cancelled) {
        return Err(AppError::conflict(
            "this outcome already has tasks; add more with addTask, or cancel them to decompose it again",
        ));
    }
    let book = playbook::Entity::find_by_id(playbook_id).one(work.txn()).await?;
    let book = book
        .filter(|b| b.organization_id.is_none() || b.organization_id == contract.organization_id)
        .ok_or_else(|| AppError::bad_input("playbookId", "no such playbook for this contract"))?;
    let now = state.clock.now();
    let drafts =
        validate_drafts(&steps_of(&book)?, &outcome::criteria_of(&outcome)?, now, "steps").map_err(|e| match e {
            AppError::BadInput { field, message } => {
                AppError::bad_input("playbookId", format!("the playbook does not fit this outcome: {field}: {message}"))
            }
            other => other,
        })?;
    let tasks = create_tasks(&mut work, state, &contract, &outcome, drafts).await?;
    work.record(decomposed(&outcome, json!({ "playbookId": book.id, "playbook": book.name, "tasks": tasks.len() })))
        .await?;
    let tasks = route_if_active(&mut work, state, &contract, tasks).await?;
    let outcome = reload(&work, outcome.id).await?;
    work.commit().await?;
    Ok(Decomposition { outcome, tasks, plan_task: None, access })
}

/// `planOutcome`: adds a PLAN task to an outcome, routed to an agent with the planning skill.
/// It is work like any other: `weight` sets the planner's share of the outcome's amount.
pub async fn plan(
    state: &AppState,
    viewer: &Viewer,
    outcome_id: Uuid,
    instructions: &str,
    weight: i32,
) -> AppResult<(task::Model, Access)> {
    viewer.require_user()?;
    let instructions = validate::text(instructions, "instructions", 0, 20_000, true)?;
    if !(1..=10_000).contains(&weight) {
        return Err(AppError::bad_input("weight", "must be between 1 and 10000"));
    }
    let mut work = UnitOfWork::begin(state, viewer).await?;
    let outcome::Managed { contract, outcome, tasks, access } = outcome::managed(&work, viewer, outcome_id).await?;
    require_open_for_work(&outcome)?;
    if tasks
        .iter()
        .any(|t| t.kind == TaskKind::Plan && !matches!(t.status, TaskStatus::Accepted | TaskStatus::Cancelled))
    {
        return Err(AppError::conflict("this outcome already has a plan in the works"));
    }
    let now = state.clock.now();
    let draft = ValidDraft {
        title: format!("Plan: {}", outcome.title),
        description: instructions,
        skills: vec![PLANNING_SKILL.to_owned()],
        mode: TaskMode::Automated,
        weight,
        due_at: None,
        criteria: Vec::new(),
        escalate_after: 0,
    };
    let task = super::task::insert(work.txn(), draft.into_new(contract.id, outcome.id, TaskKind::Plan, now)).await?;
    work.record(work::activity(Action::TaskAdded, &task, json!({ "kind": "PLAN" }))).await?;
    let task = route_if_active(&mut work, state, &contract, vec![task]).await?.into_iter().next();
    let task = task.ok_or(AppError::NotFound("task"))?;
    work.commit().await?;
    Ok((task, access))
}

/// `approvePlan`: the client turns a submitted plan (or its edited version) into tasks; the
/// PLAN task is accepted.
pub async fn approve(
    state: &AppState,
    viewer: &Viewer,
    task_id: Uuid,
    edited: Option<Vec<Draft>>,
) -> AppResult<Decomposition> {
    viewer.require_user()?;
    let mut work = UnitOfWork::begin(state, viewer).await?;
    let found = task::Entity::find_by_id(task_id).one(work.txn()).await?.ok_or(AppError::NotFound("task"))?;
    let outcome::Managed { contract, outcome, tasks, access } =
        outcome::managed(&work, viewer, found.outcome_id).await.map_err(|e| match e {
            AppError::NotFound(_) => AppError::NotFound("task"),
            other => other,
        })?;
    let plan_task = tasks.into_iter().find(|t| t.id == task_id).ok_or(AppError::NotFound("task"))?;
    if plan_task.kind != TaskKind::Plan {
        return Err(AppError::bad_input("taskId", "not a PLAN task; accept work with acceptTask"));
    }
    if plan_task.status != TaskStatus::Submitted {
        return Err(AppError::conflict(format!(
            "the plan is {}; only a SUBMITTED plan is approved",
            wire(plan_task.status)
        )));
    }
    require_open_for_work(&outcome)?;
    let (drafts, field) = match edited {
        Some(drafts) => (drafts, "tasks"),
        None => {
            let latest = task_submission::Entity::find()
                .filter(task_submission::Column::TaskId.eq(plan_task.id))
                .filter(task_submission::Column::Status.eq(SubmissionStatus::Pending))
                .order_by_desc(task_submission::Column::CreatedAt)
                .one(work.txn())
                .await?
                .and_then(|s| s.plan)
                .ok_or_else(|| AppError::conflict("the plan's submission holds no plan"))?;
            (super::decode(&latest, "submitted plan")?, "plan")
        }
    };
    let now = state.clock.now();
    let valid = validate_drafts(&drafts, &outcome::criteria_of(&outcome)?, now, field)?;
    let created = create_tasks(&mut work, state, &contract, &outcome, valid).await?;
    work.record(decomposed(
        &outcome,
        json!({ "planTaskId": plan_task.id, "edited": field == "tasks", "tasks": created.len() }),
    ))
    .await?;
    let plan_task = super::task::review::accept_locked(&mut work, state, plan_task).await?;
    let created = route_if_active(&mut work, state, &contract, created).await?;
    let outcome = reload(&work, outcome.id).await?;
    work.commit().await?;
    Ok(Decomposition { outcome, tasks: created, plan_task: Some(plan_task), access })
}

/// What a decomposition made: the tasks, on their outcome as it now stands.
pub struct Decomposition {
    /// The outcome.
    pub outcome: entity::outcome::Model,
    /// The tasks created (routed when the contract is ACTIVE).
    pub tasks: Vec<task::Model>,
    /// The PLAN task the tasks came from, accepted.
    pub plan_task: Option<task::Model>,
    /// What the viewer sees of the contract's work.
    pub access: Access,
}

async fn reload(work: &UnitOfWork<'_>, outcome_id: Uuid) -> AppResult<entity::outcome::Model> {
    entity::outcome::Entity::find_by_id(outcome_id).one(work.txn()).await?.ok_or(AppError::NotFound("outcome"))
}

fn require_open_for_work(outcome: &entity::outcome::Model) -> AppResult<()> {
    if matches!(outcome.status, OutcomeStatus::Submitted | OutcomeStatus::Accepted) {
        return Err(AppError::conflict(format!(
            "a {} outcome takes no new tasks; reject it first to add work",
            wire(outcome.status)
        )));
    }
    Ok(())
}

async fn create_tasks(
    work: &mut UnitOfWork<'_>,
    state: &AppState,
    contract: &entity::contract::Model,
    outcome: &entity::outcome::Model,
    drafts: Vec<ValidDraft>,
) -> AppResult<Vec<task::Model>> {
    let now = state.clock.now();
    let mut created = Vec::with_capacity(drafts.len());
    for d in drafts {
        let t = super::task::insert(work.txn(), d.into_new(contract.id, outcome.id, TaskKind::Work, now)).await?;
        work.record(work::activity(Action::TaskAdded, &t, json!({}))).await?;
        created.push(t);
    }
    Ok(created)
}

async fn route_if_active(
    work: &mut UnitOfWork<'_>,
    state: &AppState,
    contract: &entity::contract::Model,
    tasks: Vec<task::Model>,
) -> AppResult<Vec<task::Model>> {
    if contract.status == ContractStatus::Active {
        work::route_jointly(work, state, tasks, contract).await
    } else {
        Ok(tasks)
    }
}

fn decomposed(o: &entity::outcome::Model, extra: serde_json::Value) -> NewActivity {
    let mut after = json!({ "title": o.title, "status": wire(o.status) });
    if let (Some(a), serde_json::Value::Object(extra)) = (after.as_object_mut(), extra) {
        a.extend(extra);
    }
    NewActivity {
        topic: contract::topic(o.contract_id),
        action: Action::OutcomeDecomposed,
        subject_type: "outcome",
        subject_id: o.id,
        before: None,
        after: Some(after),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn draft(title: &str, mode: &str) -> Draft {
        Draft {
            title: title.into(),
            description: String::new(),
            mode: mode.into(),
            skills: vec!["sql".into()],
            weight: 1,
            due_in_days: Some(3),
            criteria: vec!["coverage".into()],
            escalate_after: 2,
        }
    }

    fn criteria() -> Vec<Criterion> {
        vec![Criterion {
            key: "coverage".into(),
            description: "c".into(),
            metric: Some("coverage_pct".into()),
            comparator: Some(">=".into()),
            target: Some(80.0),
        }]
    }

    #[test]
    fn the_platforms_playbooks_are_valid_drafts() {
        for (_, name, _, steps) in platform_playbooks() {
            assert!(validate_drafts(&steps, &[], chrono::Utc::now(), "steps").is_ok(), "{name}");
        }
    }

    #[test]
    fn drafts_are_validated_with_the_field_at_fault() {
        let now = chrono::Utc::now();
        let field = |drafts: Vec<Draft>| {
            validate_drafts(&drafts, &criteria(), now, "plan").err().and_then(|e| e.field().map(str::to_owned))
        };
        assert_eq!(field(vec![draft("a", "automated"), draft("b", "JUDGMENT")]), None);
        assert_eq!(field(vec![]), Some("plan".into()));
        assert_eq!(field(vec![draft("a", "ANY"), draft("b", "ROBOT")]), Some("plan[1].mode".into()));
        assert_eq!(field(vec![Draft { weight: 0, ..draft("a", "ANY") }]), Some("plan[0].weight".into()));
        assert_eq!(
            field(vec![Draft { due_in_days: Some(400), ..draft("a", "ANY") }]),
            Some("plan[0].dueInDays".into())
        );
        assert_eq!(
            field(vec![Draft { criteria: vec!["speed".into()], ..draft("a", "ANY") }]),
            Some("plan[0].criteria[0]".into())
        );
        assert_eq!(
            field(vec![Draft { skills: vec!["".into()], ..draft("a", "ANY") }]),
            Some("plan[0].skills[0]".into())
        );
        let valid = validate_drafts(&[draft("a", "automated")], &criteria(), now, "plan").unwrap_or_default();
        assert_eq!(valid[0].mode, TaskMode::Automated);
        assert_eq!(valid[0].due_at, now.checked_add_signed(chrono::Duration::days(3)));
    }
}
