//! Escalation: an AUTOMATED or ANY task whose agent work keeps failing (its checks fail, or
//! the client rejects it) goes to people. Each agent attempt counts at most once; when the
//! count reaches the task's `escalate_after` (0 never escalates), the attempt is sent back,
//! the assignment ends ("escalated"), the task becomes JUDGMENT and is routed to a person.
//! The task keeps its mode before escalation and when it happened; `task.escalated` in the
//! activity says why.
use entity::{
    contract::{self as contract_db, ContractStatus},
    task::{self, TaskMode},
};
use sea_orm::{ActiveModelTrait, IntoActiveModel, Set};
use serde_json::json;

use super::work;
use crate::{
    domain::{Action, UnitOfWork, wire},
    error::AppResult,
    state::AppState,
};

/// Whether `failures` agent failures escalate this task now.
pub fn due(task: &task::Model, failures: i32) -> bool {
    task.mode != TaskMode::Judgment && task.escalate_after > 0 && failures >= task.escalate_after
}

/// The feedback an escalated attempt gets.
pub fn feedback(why: &str) -> String {
    format!("escalated to people: {why}")
}

/// Escalates a locked task whose latest attempt is settled (REJECTED): releases it, makes it
/// JUDGMENT, records why and routes it to people when the contract is ACTIVE.
pub(crate) async fn escalate(
    work: &mut UnitOfWork<'_>,
    state: &AppState,
    task: task::Model,
    contract: &contract_db::Model,
    reason: &str,
) -> AppResult<task::Model> {
    let from = task.mode;
    let failures = task.agent_failures;
    let task = work::release(work, state, task, "escalated").await?;
    let now = state.clock.now();
    let mut active = task.into_active_model();
    active.mode = Set(TaskMode::Judgment);
    active.escalated_at = Set(Some(now));
    active.escalated_from = Set(Some(from));
    active.updated_at = Set(now);
    let task = active.update(work.txn()).await?;
    work.record(work::activity(
        Action::TaskEscalated,
        &task,
        json!({ "reason": reason, "agentFailures": failures, "from": wire(from), "to": "JUDGMENT" }),
    ))
    .await?;
    if contract.status == ContractStatus::Active {
        return work::route_locked(work, state, task, contract).await;
    }
    Ok(task)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn task(mode: TaskMode, escalate_after: i32) -> task::Model {
        let now = chrono::Utc::now();
        task::Model {
            id: uuid::Uuid::new_v4(),
            contract_id: uuid::Uuid::new_v4(),
            outcome_id: uuid::Uuid::new_v4(),
            title: "t".into(),
            description: String::new(),
            mode,
            weight: 1,
            due_at: None,
            status: entity::task::TaskStatus::Assigned,
            assignee_profile_id: None,
            created_at: now,
            updated_at: now,
            offer_expires_at: None,
            assigned_at: None,
            rejection_count: 0,
            submitted_at: None,
            accepted_at: None,
            criteria: None,
            kind: entity::task::TaskKind::Work,
            escalate_after,
            agent_failures: 0,
            escalated_at: None,
            escalated_from: None,
        }
    }

    #[test]
    fn agent_work_escalates_at_the_tasks_own_threshold_and_never_when_judged_by_people() {
        assert!(!due(&task(TaskMode::Automated, 2), 1));
        assert!(due(&task(TaskMode::Automated, 2), 2));
        assert!(due(&task(TaskMode::Any, 1), 1));
        assert!(!due(&task(TaskMode::Automated, 0), 9), "0 never escalates");
        assert!(!due(&task(TaskMode::Judgment, 2), 5), "people's work is already with people");
    }
}
