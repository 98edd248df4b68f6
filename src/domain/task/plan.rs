//! A task's plan of sub-tasks: the drafts that a playbook's steps or a PLAN task's deliverable
//! list, validated into the tasks to create.
use entity::task::TaskMode;
use sea_orm::ActiveEnum;
use serde::{Deserialize, Serialize};

use super::{TaskInput, ValidDraft, validate_draft};
use crate::{
    domain::outcome::Criterion,
    error::{AppError, AppResult},
};

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
