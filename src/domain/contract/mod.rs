//! Outcome contracts: a client (a person or an organization) pays for outcomes; each outcome
//! is split into tasks. Routing, review and money come on top of this model.
pub mod dashboard;
pub mod machine;

use std::collections::HashMap;

use entity::{
    contract::{self, ContractStatus},
    gig,
    organization_member::{self, OrgRole},
    outcome::{self, OutcomeStatus},
    proposal,
    task::{self, TaskMode, TaskStatus},
    task_skill,
};
use sea_orm::{
    ActiveModelTrait, ColumnTrait, Condition, ConnectionTrait, EntityTrait, IntoActiveModel, PaginatorTrait,
    QueryFilter, QueryOrder, QuerySelect, Set,
    sea_query::{Expr, Query},
};
use serde::{Deserialize, Serialize};
use serde_json::json;
use uuid::Uuid;

use super::{
    NewActivity, UnitOfWork, organization,
    page::{Cursor, Page, PageRequest, after_desc},
    task::work as task_work,
    validate,
};
use crate::{
    auth::Viewer,
    error::{AppError, AppResult},
    state::AppState,
};

/// Topic of a contract's activity.
pub fn topic(contract_id: Uuid) -> String {
    format!("contract:{contract_id}")
}

/// What the viewer may see of a contract.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Access {
    /// The client side: the creator or a member of the client organization. Sees everything.
    Client {
        /// Whether the viewer may change the contract (creator, or organization OWNER/ADMIN).
        manages: bool,
    },
    /// Someone assigned to one of its tasks: sees only those tasks.
    Assignee(Uuid),
}

/// A measurable acceptance criterion: a description and, optionally, a metric check.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Criterion {
    /// What must be true.
    pub description: String,
    /// Metric name the submission reports.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub metric: Option<String>,
    /// `>=`, `<=`, `>`, `<` or `==`.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub comparator: Option<String>,
    /// Target value.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub target: Option<f64>,
}

/// Input of `createContract`.
pub struct ContractInput {
    /// Client organization (caller must be OWNER/ADMIN); `None` contracts as yourself.
    pub organization_id: Option<Uuid>,
    /// Title.
    pub title: String,
    /// Description.
    pub description: String,
    /// ISO currency.
    pub currency: String,
    /// Budget in minor units.
    pub budget_cents: i64,
}

/// Creates a DRAFT contract.
pub async fn create(state: &AppState, viewer: &Viewer, input: ContractInput) -> AppResult<contract::Model> {
    let (_, me) = viewer.require_user()?;
    let title = validate::text(&input.title, "title", 1, 200, false)?;
    let description = validate::text(&input.description, "description", 0, 20_000, true)?;
    let currency = validate::currency(&input.currency, "currency")?;
    if input.budget_cents <= 0 {
        return Err(AppError::bad_input("budgetCents", "must be positive"));
    }
    let mut work = UnitOfWork::begin(state, viewer).await?;
    if let Some(org) = input.organization_id {
        organization::by_id(work.txn(), org)
            .await?
            .ok_or_else(|| AppError::bad_input("organizationId", "no such organization"))?;
        if !matches!(organization::role_of(work.txn(), org, me).await?, Some(OrgRole::Owner | OrgRole::Admin)) {
            return Err(AppError::forbidden("only owners and admins contract for an organization"));
        }
    }
    let now = state.clock.now();
    let contract = contract::ActiveModel {
        id: Set(Uuid::new_v4()),
        client_profile_id: Set(me),
        organization_id: Set(input.organization_id),
        gig_id: Set(None),
        title: Set(title),
        description: Set(description),
        currency: Set(currency),
        budget_cents: Set(input.budget_cents),
        status: Set(ContractStatus::Draft),
        created_at: Set(now),
        updated_at: Set(now),
    }
    .insert(work.txn())
    .await?;
    work.record(contract_activity("contract.created", &contract, None)).await?;
    work.commit().await?;
    Ok(contract)
}

/// Applies a client's action to a contract along its machine (client managers only).
/// Activation routes every OPEN task; cancellation cancels unfinished work.
pub async fn transition(
    state: &AppState,
    viewer: &Viewer,
    id: Uuid,
    action: machine::ContractAction,
) -> AppResult<contract::Model> {
    let mut work = UnitOfWork::begin(state, viewer).await?;
    let before = lock(work.txn(), id).await?;
    require_manager(work.txn(), viewer, &before).await?;
    let to = action.apply(before.status)?;
    if to == ContractStatus::Completed {
        let open = outcome::Entity::find()
            .filter(outcome::Column::ContractId.eq(id))
            .filter(outcome::Column::Status.ne(OutcomeStatus::Accepted))
            .count(work.txn())
            .await?;
        if open > 0 {
            return Err(AppError::conflict(format!(
                "{open} outcome(s) are not ACCEPTED yet; the contract cannot complete"
            )));
        }
    }
    let mut active = before.clone().into_active_model();
    active.status = Set(to);
    active.updated_at = Set(state.clock.now());
    let after = active.update(work.txn()).await?;
    work.record(contract_activity("contract.status_changed", &after, Some(before.status))).await?;
    match to {
        // Funded: every OPEN task is routed now.
        ContractStatus::Active if before.status == ContractStatus::Open => {
            task_work::route_open_tasks(&mut work, state, &after).await?;
        }
        ContractStatus::Cancelled => task_work::cancel_unfinished(work.txn(), after.id, state.clock.now()).await?,
        _ => {}
    }
    work.commit().await?;
    Ok(after)
}

/// Input of `addOutcome`.
pub struct OutcomeInput {
    /// Title.
    pub title: String,
    /// Acceptance criteria.
    pub criteria: Vec<Criterion>,
    /// Amount in minor units.
    pub amount_cents: i64,
    /// Due date.
    pub due_at: Option<chrono::DateTime<chrono::Utc>>,
}

/// Adds an outcome; the outcomes' amounts never exceed the budget.
pub async fn add_outcome(
    state: &AppState,
    viewer: &Viewer,
    contract_id: Uuid,
    input: OutcomeInput,
) -> AppResult<outcome::Model> {
    let title = validate::text(&input.title, "title", 1, 200, false)?;
    if input.amount_cents <= 0 {
        return Err(AppError::bad_input("amountCents", "must be positive"));
    }
    let criteria = validate_criteria(input.criteria)?;
    let mut work = UnitOfWork::begin(state, viewer).await?;
    // The row lock makes the budget check safe against concurrent additions.
    let contract = lock(work.txn(), contract_id).await?;
    require_manager(work.txn(), viewer, &contract).await?;
    if matches!(contract.status, ContractStatus::Completed | ContractStatus::Cancelled) {
        return Err(AppError::conflict(format!(
            "a {} contract takes no new outcomes",
            machine::contract_name(contract.status)
        )));
    }
    let committed = committed_cents(work.txn(), contract_id).await?;
    if committed + input.amount_cents > contract.budget_cents {
        return Err(AppError::bad_input(
            "amountCents",
            format!("outcomes would total {} of a {} budget", committed + input.amount_cents, contract.budget_cents),
        ));
    }
    let now = state.clock.now();
    let outcome =
        insert_outcome(work.txn(), contract_id, title, criteria, input.amount_cents, input.due_at, now).await?;
    work.record(outcome_activity("outcome.added", &outcome)).await?;
    work.commit().await?;
    Ok(outcome)
}

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
}

/// Adds a task to an outcome (client managers only).
pub async fn add_task(state: &AppState, viewer: &Viewer, outcome_id: Uuid, input: TaskInput) -> AppResult<task::Model> {
    let title = validate::text(&input.title, "title", 1, 200, false)?;
    let description = validate::text(&input.description, "description", 0, 20_000, true)?;
    if !(1..=10_000).contains(&input.weight) {
        return Err(AppError::bad_input("weight", "must be between 1 and 10000"));
    }
    let mut skills = Vec::new();
    for (i, s) in input.skills.iter().enumerate() {
        let skill = validate::skill_name(s, &format!("skills[{i}]"))?;
        if !skills.contains(&skill) {
            skills.push(skill);
        }
    }
    let mut work = UnitOfWork::begin(state, viewer).await?;
    let outcome =
        outcome::Entity::find_by_id(outcome_id).one(work.txn()).await?.ok_or(AppError::NotFound("outcome"))?;
    let contract = lock(work.txn(), outcome.contract_id).await?;
    require_manager(work.txn(), viewer, &contract).await?;
    if matches!(outcome.status, OutcomeStatus::Accepted) {
        return Err(AppError::conflict("an ACCEPTED outcome takes no new tasks"));
    }
    let now = state.clock.now();
    let mut task = insert_task(
        work.txn(),
        &contract,
        &outcome,
        NewTask { title, description, skills, mode: input.mode, weight: input.weight, due_at: input.due_at, now },
    )
    .await?;
    work.record(task_work::activity("task.added", &task, json!({}))).await?;
    if contract.status == ContractStatus::Active {
        // Work already runs: the new task is routed at once.
        task = task_work::route_locked(&mut work, state, task, &contract).await?;
    }
    work.commit().await?;
    Ok(task)
}

struct NewTask {
    title: String,
    description: String,
    skills: Vec<String>,
    mode: TaskMode,
    weight: i32,
    due_at: Option<chrono::DateTime<chrono::Utc>>,
    now: chrono::DateTime<chrono::Utc>,
}

/// Inserts an OPEN task and its matching skill rows.
async fn insert_task(
    db: &impl ConnectionTrait,
    contract: &contract::Model,
    outcome: &outcome::Model,
    t: NewTask,
) -> AppResult<task::Model> {
    let task = task::ActiveModel {
        id: Set(Uuid::new_v4()),
        contract_id: Set(contract.id),
        outcome_id: Set(outcome.id),
        title: Set(t.title),
        description: Set(t.description),
        skills: Set(json!(t.skills)),
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

/// Locks an outcome row for the rest of the transaction.
pub(crate) async fn lock_outcome(db: &impl ConnectionTrait, id: Uuid) -> AppResult<outcome::Model> {
    outcome::Entity::find_by_id(id).lock_exclusive().one(db).await?.ok_or(AppError::NotFound("outcome"))
}

/// Moves a locked outcome along its machine, keeping feedback of a rejection and the time of
/// acceptance, and records the change.
pub(crate) async fn move_outcome(
    work: &mut UnitOfWork<'_>,
    state: &AppState,
    outcome: outcome::Model,
    to: OutcomeStatus,
    feedback: Option<String>,
) -> AppResult<outcome::Model> {
    machine::outcome(outcome.status, to)?;
    let now = state.clock.now();
    let mut active = outcome.into_active_model();
    active.status = Set(to);
    active.updated_at = Set(now);
    if to == OutcomeStatus::Accepted {
        active.accepted_at = Set(Some(now));
    }
    if feedback.is_some() {
        active.feedback = Set(feedback);
    }
    let outcome = active.update(work.txn()).await?;
    let action = match to {
        OutcomeStatus::Pending => "outcome.status_changed",
        OutcomeStatus::InProgress => "outcome.started",
        OutcomeStatus::Submitted => "outcome.submitted",
        OutcomeStatus::Accepted => "outcome.accepted",
        OutcomeStatus::Rejected => "outcome.rejected",
    };
    work.record(outcome_activity(action, &outcome)).await?;
    Ok(outcome)
}

/// Called when a proposal is accepted, inside that transaction: an OPEN contract for the
/// proposal's amount with one outcome and one JUDGMENT task assigned to the proposal's author.
pub async fn create_from_proposal(
    work: &mut UnitOfWork<'_>,
    gig: &gig::Model,
    proposal: &proposal::Model,
) -> AppResult<Option<Uuid>> {
    let now = proposal.updated_at;
    let contract = contract::ActiveModel {
        id: Set(Uuid::new_v4()),
        client_profile_id: Set(gig.owner_profile_id),
        organization_id: Set(gig.organization_id),
        gig_id: Set(Some(gig.id)),
        title: Set(gig.title.clone()),
        description: Set(gig.description.clone()),
        currency: Set(proposal.currency.clone()),
        budget_cents: Set(proposal.amount_cents),
        status: Set(ContractStatus::Open),
        created_at: Set(now),
        updated_at: Set(now),
    }
    .insert(work.txn())
    .await?;
    let criteria = vec![Criterion {
        description: "Delivered as described in the gig and the accepted proposal".into(),
        metric: None,
        comparator: None,
        target: None,
    }];
    let due = gig.deadline.or_else(|| Some(now + chrono::Duration::days(i64::from(proposal.eta_days))));
    let outcome =
        insert_outcome(work.txn(), contract.id, gig.title.clone(), criteria, proposal.amount_cents, due, now).await?;
    let task = task::ActiveModel {
        id: Set(Uuid::new_v4()),
        contract_id: Set(contract.id),
        outcome_id: Set(outcome.id),
        title: Set(gig.title.clone()),
        description: Set(proposal.cover_note.clone()),
        skills: Set(json!([])),
        mode: Set(TaskMode::Judgment),
        weight: Set(1),
        due_at: Set(due),
        status: Set(TaskStatus::Assigned),
        assignee_profile_id: Set(Some(proposal.author_profile_id)),
        created_at: Set(now),
        updated_at: Set(now),
        offer_expires_at: Set(None),
        assigned_at: Set(Some(now)),
        rejection_count: Set(0),
        submitted_at: Set(None),
        accepted_at: Set(None),
    }
    .insert(work.txn())
    .await?;
    task_work::start_assignment(work.txn(), task.id, proposal.author_profile_id, "proposal_accepted", now, true)
        .await?;
    work.record(contract_activity("contract.created", &contract, None)).await?;
    work.record(task_work::activity("task.assigned", &task, json!({ "reason": "proposal_accepted" }))).await?;
    Ok(Some(contract.id))
}

/// What the viewer may see of a contract, if anything.
pub async fn access(
    db: &impl ConnectionTrait,
    viewer: &Viewer,
    contract: &contract::Model,
) -> AppResult<Option<Access>> {
    let Some(me) = viewer.profile_id() else { return Ok(None) };
    if matches!(viewer, Viewer::User { .. }) {
        if contract.client_profile_id == me {
            return Ok(Some(Access::Client { manages: true }));
        }
        if let Some(org) = contract.organization_id
            && let Some(role) = organization::role_of(db, org, me).await?
        {
            return Ok(Some(Access::Client { manages: matches!(role, OrgRole::Owner | OrgRole::Admin) }));
        }
    }
    let assigned = task::Entity::find()
        .filter(task::Column::ContractId.eq(contract.id))
        .filter(task::Column::AssigneeProfileId.eq(me))
        .one(db)
        .await?;
    Ok(assigned.map(|_| Access::Assignee(me)))
}

/// Access for a page of contracts the viewer is on, in one statement (its memberships).
pub async fn access_many(
    db: &impl ConnectionTrait,
    viewer: &Viewer,
    contracts: &[contract::Model],
) -> AppResult<HashMap<Uuid, Access>> {
    let me = viewer.require_any()?;
    let roles: HashMap<Uuid, OrgRole> = if matches!(viewer, Viewer::User { .. }) {
        organization::memberships_of(db, me).await?.into_iter().map(|(m, o)| (o.id, m.role)).collect()
    } else {
        HashMap::new()
    };
    let user = matches!(viewer, Viewer::User { .. });
    Ok(contracts
        .iter()
        .map(|c| {
            let access = if user && c.client_profile_id == me {
                Access::Client { manages: true }
            } else if let Some(role) = c.organization_id.and_then(|o| roles.get(&o)) {
                Access::Client { manages: matches!(role, OrgRole::Owner | OrgRole::Admin) }
            } else {
                Access::Assignee(me)
            };
            (c.id, access)
        })
        .collect())
}

/// A contract the viewer may see, with the kind of access; NOT_FOUND otherwise.
pub async fn visible(db: &impl ConnectionTrait, viewer: &Viewer, id: Uuid) -> AppResult<(contract::Model, Access)> {
    viewer.require_any()?;
    let contract = contract::Entity::find_by_id(id).one(db).await?.ok_or(AppError::NotFound("contract"))?;
    let access = access(db, viewer, &contract).await?.ok_or(AppError::NotFound("contract"))?;
    Ok((contract, access))
}

/// Contracts the viewer is on (as client side or assignee), newest first.
pub async fn mine(db: &impl ConnectionTrait, viewer: &Viewer, page: PageRequest) -> AppResult<Page<contract::Model>> {
    let me = viewer.require_any()?;
    let mut on = Condition::any().add(
        contract::Column::Id.in_subquery(
            Query::select()
                .column(task::Column::ContractId)
                .from(task::Entity)
                .and_where(task::Column::AssigneeProfileId.eq(me))
                .to_owned(),
        ),
    );
    if matches!(viewer, Viewer::User { .. }) {
        on = on.add(contract::Column::ClientProfileId.eq(me)).add(
            contract::Column::OrganizationId.in_subquery(
                Query::select()
                    .column(organization_member::Column::OrganizationId)
                    .from(organization_member::Entity)
                    .and_where(organization_member::Column::ProfileId.eq(me))
                    .to_owned(),
            ),
        );
    }
    let mut query = contract::Entity::find().filter(on);
    if let Some(after) = page.after {
        query = query.filter(after_desc(
            None,
            Expr::col(contract::Column::CreatedAt),
            Expr::col(contract::Column::Id),
            &after,
        ));
    }
    let rows = query
        .order_by_desc(contract::Column::CreatedAt)
        .order_by_desc(contract::Column::Id)
        .limit(page.first + 1)
        .all(db)
        .await?;
    Ok(Page::from_rows(rows, &page, |c| Cursor { key: 0, at: c.created_at, id: c.id }))
}

/// Contracts by id in one statement (for loaders; callers check access).
pub async fn by_ids(db: &impl ConnectionTrait, ids: &[Uuid]) -> AppResult<HashMap<Uuid, contract::Model>> {
    let rows = contract::Entity::find().filter(contract::Column::Id.is_in(ids.iter().copied())).all(db).await?;
    Ok(rows.into_iter().map(|c| (c.id, c)).collect())
}

/// Outcomes by id in one statement (for loaders; callers check access).
pub async fn outcomes_by_ids(db: &impl ConnectionTrait, ids: &[Uuid]) -> AppResult<HashMap<Uuid, outcome::Model>> {
    let rows = outcome::Entity::find().filter(outcome::Column::Id.is_in(ids.iter().copied())).all(db).await?;
    Ok(rows.into_iter().map(|o| (o.id, o)).collect())
}

/// Outcomes of many contracts in one statement, oldest first (for loaders).
pub async fn outcomes_of(
    db: &impl ConnectionTrait,
    contract_ids: &[Uuid],
) -> AppResult<HashMap<Uuid, Vec<outcome::Model>>> {
    let rows = outcome::Entity::find()
        .filter(outcome::Column::ContractId.is_in(contract_ids.iter().copied()))
        .order_by_asc(outcome::Column::CreatedAt)
        .order_by_asc(outcome::Column::Id)
        .all(db)
        .await?;
    Ok(crate::domain::group(rows, |r| r.contract_id, |r| r))
}

/// Tasks of many outcomes in one statement, oldest first (for loaders).
pub async fn tasks_of(db: &impl ConnectionTrait, outcome_ids: &[Uuid]) -> AppResult<HashMap<Uuid, Vec<task::Model>>> {
    let rows = task::Entity::find()
        .filter(task::Column::OutcomeId.is_in(outcome_ids.iter().copied()))
        .order_by_asc(task::Column::CreatedAt)
        .order_by_asc(task::Column::Id)
        .all(db)
        .await?;
    Ok(crate::domain::group(rows, |r| r.outcome_id, |r| r))
}

/// Sum of the outcome amounts of a contract.
pub async fn committed_cents(db: &impl ConnectionTrait, contract_id: Uuid) -> AppResult<i64> {
    let amounts: Vec<i64> = outcome::Entity::find()
        .select_only()
        .column(outcome::Column::AmountCents)
        .filter(outcome::Column::ContractId.eq(contract_id))
        .into_tuple()
        .all(db)
        .await?;
    Ok(amounts.into_iter().sum())
}

/// Parses stored criteria.
pub fn criteria_of(outcome: &outcome::Model) -> Vec<Criterion> {
    serde_json::from_value(outcome.criteria.clone()).unwrap_or_default()
}

/// Refuses anyone but the client's owners and admins.
pub(crate) fn require_manages(access: Access) -> AppResult<()> {
    match access {
        Access::Client { manages: true } => Ok(()),
        _ => Err(AppError::forbidden("only the client's owners and admins change a contract or its work")),
    }
}

async fn require_manager(db: &impl ConnectionTrait, viewer: &Viewer, contract: &contract::Model) -> AppResult<()> {
    viewer.require_user()?;
    require_manages(access(db, viewer, contract).await?.ok_or(AppError::NotFound("contract"))?)
}

async fn lock(db: &impl ConnectionTrait, id: Uuid) -> AppResult<contract::Model> {
    contract::Entity::find_by_id(id).lock_exclusive().one(db).await?.ok_or(AppError::NotFound("contract"))
}

fn validate_criteria(criteria: Vec<Criterion>) -> AppResult<Vec<Criterion>> {
    if criteria.is_empty() || criteria.len() > 20 {
        return Err(AppError::bad_input("criteria", "give 1 to 20 acceptance criteria"));
    }
    criteria
        .into_iter()
        .enumerate()
        .map(|(i, c)| {
            let description = validate::text(&c.description, &format!("criteria[{i}].description"), 1, 1000, true)?;
            let metric = validate::optional_text(c.metric.as_deref(), &format!("criteria[{i}].metric"), 100, false)?;
            let has_check = c.comparator.is_some() || c.target.is_some();
            if has_check && (metric.is_none() || c.comparator.is_none() || c.target.is_none()) {
                return Err(AppError::bad_input(
                    &format!("criteria[{i}]"),
                    "a metric check needs metric, comparator and target",
                ));
            }
            if let Some(cmp) = &c.comparator
                && !matches!(cmp.as_str(), ">=" | "<=" | ">" | "<" | "==")
            {
                return Err(AppError::bad_input(
                    &format!("criteria[{i}].comparator"),
                    "must be one of >=, <=, >, <, ==",
                ));
            }
            if c.target.is_some_and(|t| !t.is_finite()) {
                return Err(AppError::bad_input(&format!("criteria[{i}].target"), "must be a finite number"));
            }
            Ok(Criterion { description, metric, comparator: c.comparator, target: c.target })
        })
        .collect()
}

async fn insert_outcome(
    db: &impl ConnectionTrait,
    contract_id: Uuid,
    title: String,
    criteria: Vec<Criterion>,
    amount_cents: i64,
    due_at: Option<chrono::DateTime<chrono::Utc>>,
    now: chrono::DateTime<chrono::Utc>,
) -> AppResult<outcome::Model> {
    Ok(outcome::ActiveModel {
        id: Set(Uuid::new_v4()),
        contract_id: Set(contract_id),
        title: Set(title),
        criteria: Set(json!(criteria)),
        amount_cents: Set(amount_cents),
        due_at: Set(due_at),
        status: Set(OutcomeStatus::Pending),
        created_at: Set(now),
        updated_at: Set(now),
        feedback: Set(None),
        accepted_at: Set(None),
    }
    .insert(db)
    .await?)
}

fn contract_activity(action: &'static str, c: &contract::Model, from: Option<ContractStatus>) -> NewActivity {
    NewActivity {
        topic: topic(c.id),
        action,
        subject_type: "contract",
        subject_id: c.id,
        before: from.map(|s| json!({ "status": machine::contract_name(s) })),
        after: Some(json!({ "status": machine::contract_name(c.status), "budgetCents": c.budget_cents })),
    }
}

fn outcome_activity(action: &'static str, o: &outcome::Model) -> NewActivity {
    NewActivity {
        topic: topic(o.contract_id),
        action,
        subject_type: "outcome",
        subject_id: o.id,
        before: None,
        after: Some(
            json!({ "title": o.title, "amountCents": o.amount_cents, "status": machine::outcome_name(o.status) }),
        ),
    }
}
