//! The contracts of the benchmark data set: made through the domain's own operations (create,
//! outcomes, tasks, funding, activation and routing, offers, submissions, reviews, acceptance
//! and release), so every ledger transaction, payout and activity record is a real one. Their
//! shape follows from each contract's number; ids are the domain's own (random).
use entity::{
    profile::{self, ProfileKind},
    task::{TaskMode, TaskStatus},
};
use futures_util::{StreamExt, TryStreamExt};
use uuid::Uuid;

use super::scale;
use crate::{
    auth::{AgentScope, Viewer},
    domain::{
        contract::{self, ContractInput, machine::ContractAction},
        ledger::funding::{self, FundInput},
        outcome::{self, Criterion, OutcomeInput, checks::Metric},
        task::{
            self, TaskInput, lifecycle,
            review::{self, Deliverable},
            work,
        },
    },
    error::AppError,
    state::AppState,
};

/// Contracts seeded at once (each is a chain of transactions; PostgreSQL takes several).
const CONCURRENCY: usize = 4;

/// Seeds `count` contracts of the scale data's organizations.
pub async fn seed(state: &AppState, counts: scale::Counts) -> anyhow::Result<()> {
    futures_util::stream::iter(0..counts.contracts)
        .map(|i| seed_one(state, counts, i))
        .buffer_unordered(CONCURRENCY)
        .try_collect::<()>()
        .await
        .map_err(|e| anyhow::anyhow!("seeding contracts: {e}"))
}

/// Contract `i`: two outcomes of an automated and a judgment task each, funded and active.
/// Two of three contracts get their first outcome delivered, accepted and paid; one of those
/// three also has its second outcome's work submitted, waiting for review.
async fn seed_one(state: &AppState, counts: scale::Counts, i: usize) -> Result<(), AppError> {
    let org = i % counts.organizations;
    let client = scale::org_owner(counts, org);
    let now = state.clock.now();
    let (c, _) = contract::create(
        state,
        &client,
        ContractInput {
            organization_id: Some(scale::organization_id(org)),
            title: format!("Contract {i}"),
            description: "Outcomes for the benchmark data set.".into(),
            currency: "EUR".into(),
            budget_cents: 100_000,
        },
    )
    .await?;
    let mut outcomes = Vec::new();
    for k in 0..2_usize {
        let week = i64::try_from(k).unwrap_or(0) * 7;
        let (o, _) = outcome::add(
            state,
            &client,
            c.id,
            OutcomeInput {
                title: format!("Outcome {k} of contract {i}"),
                criteria: vec![Criterion {
                    key: String::new(),
                    description: "Coverage at least 80%".into(),
                    metric: Some("coverage_pct".into()),
                    comparator: Some(">=".into()),
                    target: Some(80.0),
                }],
                amount_cents: 40_000,
                due_at: Some(now + chrono::Duration::days(14 + week)),
            },
        )
        .await?;
        // Skills someone outside the client has, so that routing finds a candidate.
        let skills = [scale::agent_skill(counts, i * 2 + k), scale::outsider_skill(counts, org, i * 2 + k)];
        for (mode, skill) in [TaskMode::Automated, TaskMode::Judgment].into_iter().zip(skills) {
            let input = TaskInput {
                title: format!("{mode:?} task of outcome {k} of contract {i}"),
                description: String::new(),
                skills: vec![skill.to_owned()],
                mode,
                weight: 1,
                due_at: Some(now + chrono::Duration::days(10 + week)),
                // The agent's work reports coverage; the person's is judged on acceptance.
                criteria: if mode == TaskMode::Automated { vec!["c1".into()] } else { Vec::new() },
                escalate_after: 2,
            };
            task::add(state, &client, o.id, input).await?;
        }
        outcomes.push(o);
    }
    let fund = FundInput {
        contract_id: c.id,
        amount_cents: 100_000,
        idempotency_key: format!("scale-fund-{i}"),
        payment_method_id: None,
    };
    funding::fund_contract(state, &client, fund).await?;
    for action in [ContractAction::Open, ContractAction::Activate] {
        lifecycle::change_contract_status(state, &client, c.id, action, None).await?;
    }
    let delivered = match i % 3 {
        0 => 2,
        1 => 1,
        _ => 0,
    };
    for (k, o) in outcomes.iter().enumerate().take(delivered) {
        if !deliver(state, o.id).await? {
            continue;
        }
        if k == 0 {
            for t in task::of_outcomes(&state.db, &[o.id]).await?.remove(&o.id).unwrap_or_default() {
                review::accept(state, &client, t.id).await?;
            }
            crate::domain::outcome::acceptance::accept(state, &client, o.id, &format!("scale-accept-{i}")).await?;
        }
    }
    Ok(())
}

/// Has the outcome's assignees take their offers and submit; false when a task found nobody.
async fn deliver(state: &AppState, outcome_id: Uuid) -> Result<bool, AppError> {
    let tasks = task::of_outcomes(&state.db, &[outcome_id]).await?.remove(&outcome_id).unwrap_or_default();
    let assignees: Vec<Uuid> = tasks.iter().filter_map(|t| t.assignee_profile_id).collect();
    if assignees.len() < tasks.len() {
        return Ok(false);
    }
    let profiles = crate::domain::profile::by_ids(&state.db, &assignees).await?;
    for t in tasks {
        let Some(worker) = t.assignee_profile_id.and_then(|p| profiles.get(&p)).and_then(viewer_of) else {
            return Ok(false);
        };
        if t.status == TaskStatus::Offered {
            work::accept_offer(state, &worker, t.id).await?;
        }
        let deliverable = Deliverable {
            text: Some(format!("Delivered: {}", t.title)),
            url: None,
            metrics: vec![Metric { name: "coverage_pct".into(), value: 90.0 }],
            provenance: Some(crate::domain::task::provenance::Provenance {
                model: "seed-model-1".into(),
                tool: "seed".into(),
                tool_version: "1.0.0".into(),
                run_id: format!("seed-{}", t.id),
                input_digest: format!("sha256:{}", "0".repeat(64)),
                output_digest: format!("sha256:{}", "1".repeat(64)),
                cost_cents: 0,
                cost_currency: None,
            }),
            plan: None,
        };
        review::submit(state, &worker, t.id, deliverable).await?;
    }
    Ok(true)
}

/// Who acts for a profile: its person's account, or the agent with every scope.
fn viewer_of(p: &profile::Model) -> Option<Viewer> {
    match p.kind {
        ProfileKind::Human => {
            p.user_id.map(|user_id| Viewer::User { user_id, profile_id: p.id, session_id: None, key: None })
        }
        ProfileKind::Agent => p.operator_user_id.map(|operator_user_id| Viewer::Agent {
            agent_id: p.id,
            operator_user_id,
            token_id: Uuid::nil(),
            scopes: AgentScope::ALL.to_vec(),
        }),
    }
}
