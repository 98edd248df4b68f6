//! Dashboards: a contract's or an organization's progress, and a worker's own desk.
//! Each is a fixed number of statements, whatever the number of contracts or tasks.
use std::collections::{BTreeMap, HashMap};

use entity::{
    activity,
    contract::{self, ContractStatus},
    organization_member::OrgRole,
    outcome::{self, OutcomeStatus},
    profile::{self, ProfileKind},
    task::{self, TaskStatus},
    task_submission::{self, SubmissionStatus},
};
use sea_orm::sea_query::{Expr, Func, Query};
use sea_orm::{ColumnTrait, Condition, ConnectionTrait, EntityTrait, QueryFilter, QueryOrder, QuerySelect};
use uuid::Uuid;

use super::contract::{Access, topic};
use crate::{
    auth::{AgentScope, Viewer},
    domain::{
        money, organization,
        page::{Page, PageRequest},
        wire,
    },
    error::{AppError, AppResult},
};

/// Money figures of one currency.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct BudgetLine {
    /// ISO currency.
    pub currency: String,
    /// Sum of the budgets.
    pub budget_cents: i64,
    /// Sum of outcome amounts (promised to outcomes).
    pub committed_cents: i64,
    /// Sum of accepted outcome amounts.
    pub accepted_cents: i64,
    /// Budget not yet committed to an outcome.
    pub remaining_cents: i64,
    /// Paid into escrow (the ledger).
    pub funded_cents: i64,
    /// Released from escrow to workers and fees (the ledger).
    pub released_cents: i64,
    /// Refunded to the client (the ledger).
    pub refunded_cents: i64,
    /// What escrow holds now (the ledger).
    pub escrow_cents: i64,
}

/// Progress across one or more contracts.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct WorkSummary {
    /// Contracts counted.
    pub contracts_by_status: Vec<(ContractStatus, u64)>,
    /// Outcomes in all.
    pub outcomes_total: u64,
    /// Outcomes the client accepted.
    pub outcomes_accepted: u64,
    /// Tasks per status (every status, zeros included).
    pub tasks_by_status: Vec<(TaskStatus, u64)>,
    /// Accepted tasks done by agents.
    pub accepted_by_agents: u64,
    /// Accepted tasks done by people.
    pub accepted_by_people: u64,
    /// Share (0–1) of the value of accepted tasks done by agents; `None` before any acceptance.
    pub agent_share: Option<f64>,
    /// Share (0–1) of accepted tasks submitted by their due date; `None` before any acceptance.
    pub on_time_rate: Option<f64>,
    /// Money per currency.
    pub budget: Vec<BudgetLine>,
}

const TASK_STATUSES: [TaskStatus; 7] = [
    TaskStatus::Open,
    TaskStatus::Offered,
    TaskStatus::Assigned,
    TaskStatus::Submitted,
    TaskStatus::Accepted,
    TaskStatus::Rejected,
    TaskStatus::Cancelled,
];

/// A contract's dashboard, for a viewer whose `access` was established when the contract was
/// read (client side only).
pub async fn for_contract(db: &impl ConnectionTrait, access: Access, contract_id: Uuid) -> AppResult<WorkSummary> {
    require_client_side(access)?;
    summarize(db, Condition::all().add(contract::Column::Id.eq(contract_id))).await
}

/// An organization's dashboard across its contracts (its members only).
pub async fn for_organization(db: &impl ConnectionTrait, viewer: &Viewer, org: Uuid) -> AppResult<WorkSummary> {
    let (_, me) = viewer.require_user()?;
    viewer.require_acting_in(Some(org))?;
    match organization::role_of(db, org, me).await? {
        Some(OrgRole::Owner | OrgRole::Admin | OrgRole::Member) => {}
        None => return Err(AppError::NotFound("organization")),
    }
    summarize(db, Condition::all().add(contract::Column::OrganizationId.eq(org))).await
}

/// Five statements: contracts, outcomes, tasks, assignee kinds, ledger totals.
async fn summarize(db: &impl ConnectionTrait, scope: Condition) -> AppResult<WorkSummary> {
    let contracts = contract::Entity::find().filter(scope.clone()).all(db).await?;
    let in_scope =
        || Query::select().column(contract::Column::Id).from(contract::Entity).cond_where(scope.clone()).to_owned();
    let outcomes = outcome::Entity::find().filter(outcome::Column::ContractId.in_subquery(in_scope())).all(db).await?;
    let tasks = task::Entity::find().filter(task::Column::ContractId.in_subquery(in_scope())).all(db).await?;
    let assignees: Vec<Uuid> = tasks.iter().filter_map(|t| t.assignee_profile_id).collect();
    let kinds: HashMap<Uuid, ProfileKind> = if assignees.is_empty() {
        HashMap::new()
    } else {
        profile::Entity::find()
            .select_only()
            .column(profile::Column::Id)
            .column(profile::Column::Kind)
            .filter(profile::Column::Id.is_in(assignees))
            .into_tuple()
            .all(db)
            .await?
            .into_iter()
            .collect()
    };
    let mut summary = compute(&contracts, &outcomes, &tasks, &kinds);
    let ids: Vec<Uuid> = contracts.iter().map(|c| c.id).collect();
    let totals = crate::domain::ledger::reading::contract_totals(db, &ids).await?;
    for c in &contracts {
        let (Some(t), Some(line)) = (totals.get(&c.id), summary.budget.iter_mut().find(|l| l.currency == c.currency))
        else {
            continue;
        };
        line.funded_cents = line.funded_cents.saturating_add(t.funded);
        line.released_cents = line.released_cents.saturating_add(t.released);
        line.refunded_cents = line.refunded_cents.saturating_add(t.refunded);
        line.escrow_cents = line.escrow_cents.saturating_add(t.remaining);
    }
    Ok(summary)
}

/// The arithmetic of a summary, apart from the database.
fn compute(
    contracts: &[contract::Model],
    outcomes: &[outcome::Model],
    tasks: &[task::Model],
    kinds: &HashMap<Uuid, ProfileKind>,
) -> WorkSummary {
    let mut summary = WorkSummary::default();
    let mut by_contract_status: BTreeMap<String, (ContractStatus, u64)> = BTreeMap::new();
    let mut budget: BTreeMap<String, BudgetLine> = BTreeMap::new();
    let currency_of: HashMap<Uuid, &str> = contracts.iter().map(|c| (c.id, c.currency.as_str())).collect();
    for c in contracts {
        let count = &mut by_contract_status.entry(wire(c.status)).or_insert((c.status, 0)).1;
        *count = count.saturating_add(1);
        let line = budget
            .entry(c.currency.clone())
            .or_insert_with(|| BudgetLine { currency: c.currency.clone(), ..Default::default() });
        line.budget_cents = line.budget_cents.saturating_add(c.budget_cents);
    }
    summary.contracts_by_status = by_contract_status.into_values().collect();
    let mut outcome_amounts: HashMap<Uuid, i64> = HashMap::new();
    for o in outcomes {
        summary.outcomes_total = summary.outcomes_total.saturating_add(1);
        outcome_amounts.insert(o.id, o.amount_cents);
        let Some(line) = currency_of.get(&o.contract_id).and_then(|cur| budget.get_mut(*cur)) else { continue };
        line.committed_cents = line.committed_cents.saturating_add(o.amount_cents);
        if o.status == OutcomeStatus::Accepted {
            summary.outcomes_accepted = summary.outcomes_accepted.saturating_add(1);
            line.accepted_cents = line.accepted_cents.saturating_add(o.amount_cents);
        }
    }
    for line in budget.values_mut() {
        line.remaining_cents = line.budget_cents.saturating_sub(line.committed_cents);
    }
    summary.budget = budget.into_values().collect();

    let values = task_values(&outcome_amounts, tasks);
    let (mut agent_value, mut all_value, mut on_time) = (0i64, 0i64, 0u64);
    for t in tasks {
        if t.status != TaskStatus::Accepted {
            continue;
        }
        let value = values.get(&t.id).copied().unwrap_or(0);
        all_value = all_value.saturating_add(value);
        let by_agent = t.assignee_profile_id.and_then(|p| kinds.get(&p)) == Some(&ProfileKind::Agent);
        if by_agent {
            summary.accepted_by_agents = summary.accepted_by_agents.saturating_add(1);
            agent_value = agent_value.saturating_add(value);
        } else {
            summary.accepted_by_people = summary.accepted_by_people.saturating_add(1);
        }
        if match (t.due_at, t.submitted_at) {
            (None, _) => true,
            (Some(due), Some(at)) => at <= due,
            (Some(_), None) => false,
        } {
            on_time = on_time.saturating_add(1);
        }
    }
    let accepted = summary.accepted_by_agents.saturating_add(summary.accepted_by_people);
    summary.tasks_by_status =
        TASK_STATUSES.iter().map(|s| (*s, tasks.iter().filter(|t| t.status == *s).count() as u64)).collect();
    summary.agent_share = if all_value > 0 {
        Some(agent_value as f64 / all_value as f64)
    } else if accepted > 0 {
        Some(summary.accepted_by_agents as f64 / accepted as f64)
    } else {
        None
    };
    summary.on_time_rate = (accepted > 0).then(|| on_time as f64 / accepted as f64);
    summary
}

/// Each task's exact share of its outcome's amount (`money::task_shares` per outcome).
fn task_values(outcome_amounts: &HashMap<Uuid, i64>, tasks: &[task::Model]) -> HashMap<Uuid, i64> {
    let by_outcome = crate::domain::group(tasks.to_vec(), |t| t.outcome_id, |t| t);
    by_outcome
        .iter()
        .flat_map(|(outcome, siblings)| {
            money::task_shares(outcome_amounts.get(outcome).copied().unwrap_or(0), siblings)
        })
        .collect()
}

fn require_client_side(access: Access) -> AppResult<()> {
    match access {
        Access::Client { .. } => Ok(()),
        Access::Assignee(_) => Err(AppError::forbidden("only the client side sees a contract's dashboard")),
    }
}

/// A contract's activity feed, newest first (client side only; `access` as for `for_contract`).
pub async fn activity_feed(
    db: &impl ConnectionTrait,
    access: Access,
    contract_id: Uuid,
    page: PageRequest,
) -> AppResult<Page<activity::Model>> {
    require_client_side(access)?;
    let query = activity::Entity::find().filter(activity::Column::Topic.eq(topic(contract_id)));
    crate::domain::activity::newest_first(db, query, &page).await
}

/// A worker's desk: what is offered to it, what it holds, how its work fares.
#[derive(Clone, Debug, PartialEq)]
pub struct WorkDesk {
    /// How the worker sees the tasks on its desk: as their assignee.
    pub access: Access,
    /// Tasks ASSIGNED, in rework or SUBMITTED.
    pub active_tasks: Vec<task::Model>,
    /// Offers awaiting an answer.
    pub offers: Vec<task::Model>,
    /// Accepted over reviewed submissions; `None` before any review.
    pub acceptance_rate: Option<f64>,
    /// Net amounts released for my work, by currency (the ledger's EARNING payouts).
    pub earnings: Vec<(String, i64)>,
    /// Current reputation.
    pub reputation: f64,
}

/// The viewer's desk (agents need `tasks:read`). At most 50 active tasks and 50 offers.
pub async fn work_desk(db: &impl ConnectionTrait, viewer: &Viewer) -> AppResult<WorkDesk> {
    let me = viewer.require_profile(AgentScope::TasksRead)?;
    let reputation = profile::Entity::find_by_id(me).one(db).await?.map(|p| p.reputation).unwrap_or(0.0);
    // Open work only (bounded); history is counted, not loaded.
    let open = task::Entity::find()
        .filter(task::Column::AssigneeProfileId.eq(me))
        .filter(task::Column::Status.is_in([
            TaskStatus::Offered,
            TaskStatus::Assigned,
            TaskStatus::Rejected,
            TaskStatus::Submitted,
        ]))
        .order_by_asc(task::Column::DueAt)
        .order_by_desc(task::Column::CreatedAt)
        .limit(200)
        .all(db)
        .await?;
    let verdicts: Vec<(SubmissionStatus, i64)> = task_submission::Entity::find()
        .select_only()
        .column(task_submission::Column::Status)
        .column_as(Expr::expr(Func::count(Expr::col(task_submission::Column::Id))), "n")
        .filter(task_submission::Column::ProfileId.eq(me))
        .filter(task_submission::Column::Status.ne(SubmissionStatus::Pending))
        .group_by(task_submission::Column::Status)
        .into_tuple()
        .all(db)
        .await?;
    let reviewed: i64 = verdicts.iter().map(|(_, n)| n).sum();
    let accepted = verdicts.iter().find(|(s, _)| *s == SubmissionStatus::Accepted).map_or(0, |(_, n)| *n);
    let acceptance_rate = (reviewed > 0).then(|| accepted as f64 / reviewed as f64);
    // Earnings come from the ledger: net amounts released for my work (an agent: its work).
    let earnings = crate::domain::ledger::reading::earned_per_currency(db, viewer).await?;
    let (mut active_tasks, mut offers) = (Vec::new(), Vec::new());
    for t in open {
        match t.status {
            TaskStatus::Offered if offers.len() < 50 => offers.push(t),
            TaskStatus::Assigned | TaskStatus::Rejected | TaskStatus::Submitted if active_tasks.len() < 50 => {
                active_tasks.push(t)
            }
            _ => {}
        }
    }
    Ok(WorkDesk { access: Access::Assignee(me), active_tasks, offers, acceptance_rate, earnings, reputation })
}

#[cfg(test)]
#[allow(clippy::arithmetic_side_effects)]
mod tests {
    use chrono::{Duration, Utc};

    use super::*;

    fn contract_row(budget: i64) -> contract::Model {
        let now = Utc::now();
        contract::Model {
            id: Uuid::new_v4(),
            client_profile_id: Uuid::new_v4(),
            organization_id: None,
            gig_id: None,
            title: "c".into(),
            description: String::new(),
            currency: "EUR".into(),
            budget_cents: budget,
            status: ContractStatus::Active,
            created_at: now,
            updated_at: now,
        }
    }

    fn outcome_row(contract: &contract::Model, amount: i64, status: OutcomeStatus) -> outcome::Model {
        let now = Utc::now();
        outcome::Model {
            id: Uuid::new_v4(),
            contract_id: contract.id,
            title: "o".into(),
            criteria: serde_json::json!([]),
            amount_cents: amount,
            due_at: None,
            status,
            created_at: now,
            updated_at: now,
            feedback: None,
            accepted_at: None,
            checks: None,
            ticks: None,
        }
    }

    fn task_row(
        outcome: &outcome::Model,
        weight: i32,
        status: TaskStatus,
        who: Option<Uuid>,
        late: bool,
    ) -> task::Model {
        let now = Utc::now();
        task::Model {
            id: Uuid::new_v4(),
            contract_id: outcome.contract_id,
            outcome_id: outcome.id,
            title: "t".into(),
            description: String::new(),
            mode: entity::task::TaskMode::Any,
            weight,
            due_at: Some(now),
            status,
            assignee_profile_id: who,
            created_at: now,
            updated_at: now,
            offer_expires_at: None,
            assigned_at: Some(now - Duration::days(1)),
            rejection_count: 0,
            submitted_at: Some(if late { now + Duration::hours(1) } else { now - Duration::hours(1) }),
            accepted_at: None,
            criteria: None,
            kind: entity::task::TaskKind::Work,
            escalate_after: 2,
            agent_failures: 0,
            escalated_at: None,
            escalated_from: None,
        }
    }

    #[test]
    fn a_summary_weighs_agent_work_by_value_and_counts_late_work() {
        let c = contract_row(100_000);
        let done = outcome_row(&c, 60_000, OutcomeStatus::Accepted);
        let open = outcome_row(&c, 30_000, OutcomeStatus::Pending);
        let (agent, person) = (Uuid::new_v4(), Uuid::new_v4());
        let kinds = HashMap::from([(agent, ProfileKind::Agent), (person, ProfileKind::Human)]);
        let tasks = [
            task_row(&done, 3, TaskStatus::Accepted, Some(agent), false),
            task_row(&done, 1, TaskStatus::Accepted, Some(person), true),
            task_row(&done, 4, TaskStatus::Cancelled, None, false),
            task_row(&open, 1, TaskStatus::Offered, Some(person), false),
        ];
        let s = compute(&[c], &[done, open], &tasks, &kinds);
        assert_eq!((s.outcomes_accepted, s.outcomes_total), (1, 2));
        assert_eq!(s.agent_share, Some(0.75), "45 000 of 60 000 by the agent; cancelled weight left out");
        assert_eq!(s.on_time_rate, Some(0.5));
        assert_eq!((s.accepted_by_agents, s.accepted_by_people), (1, 1));
        let line = &s.budget[0];
        assert_eq!(
            (line.budget_cents, line.committed_cents, line.accepted_cents, line.remaining_cents),
            (100_000, 90_000, 60_000, 10_000)
        );
        assert!(s.tasks_by_status.contains(&(TaskStatus::Offered, 1)));
        assert!(s.tasks_by_status.contains(&(TaskStatus::Open, 0)));
    }

    #[test]
    fn an_empty_summary_has_no_rates() {
        let s = compute(&[], &[], &[], &HashMap::new());
        assert_eq!((s.agent_share, s.on_time_rate), (None, None));
        assert!(s.budget.is_empty());
    }
}
