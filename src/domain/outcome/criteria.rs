//! Acceptance criteria: validated on an outcome, scoped to the tasks that carry them or to the
//! outcome itself, ticked by the client (checkboxes) and checked when the outcome is submitted
//! (metrics).
use entity::outcome;
use sea_orm::{
    ActiveModelTrait, ColumnTrait, ConnectionTrait, EntityTrait, IntoActiveModel, QueryFilter, QueryOrder, Set,
};
use serde::{Deserialize, Serialize};
use serde_json::json;
use uuid::Uuid;

use super::checks;
pub use super::checks::Criterion;
use crate::{
    domain::validate,
    error::{AppError, AppResult},
};

/// The stored criteria of an outcome, each with its key (criteria stored before keys existed
/// get `c1`, `c2`…); a row that does not decode is an internal error.
pub fn criteria_of(outcome: &outcome::Model) -> AppResult<Vec<Criterion>> {
    let mut criteria: Vec<Criterion> = crate::domain::decode(&outcome.criteria, "outcome criteria")?;
    for (i, c) in criteria.iter_mut().enumerate() {
        if c.key.is_empty() {
            c.key = default_key(i);
        }
    }
    Ok(criteria)
}

fn default_key(i: usize) -> String {
    format!("c{}", i.saturating_add(1))
}

/// The criterion keys a task carries; `None` for a task stored before tasks named their
/// criteria (it carries them all).
pub fn task_keys(task: &entity::task::Model) -> AppResult<Option<Vec<String>>> {
    task.criteria.as_ref().map(|v| crate::domain::decode(v, "task criteria")).transpose()
}

/// The criteria a task's submissions are held against.
pub fn of_task(all: &[Criterion], task: &entity::task::Model) -> AppResult<Vec<Criterion>> {
    Ok(match task_keys(task)? {
        None => all.to_vec(),
        Some(keys) => all.iter().filter(|c| keys.contains(&c.key)).cloned().collect(),
    })
}

/// The criteria of an outcome no live (not cancelled) task carries: judged at outcome review.
pub fn outcome_level(all: &[Criterion], tasks: &[entity::task::Model]) -> AppResult<Vec<Criterion>> {
    let mut carried: Vec<String> = Vec::new();
    for t in tasks.iter().filter(|t| t.status != entity::task::TaskStatus::Cancelled) {
        match task_keys(t)? {
            None => return Ok(Vec::new()),
            Some(keys) => carried.extend(keys),
        }
    }
    Ok(all.iter().filter(|c| !carried.contains(&c.key)).cloned().collect())
}

/// Validates the criterion keys a task names against its outcome's criteria (field
/// `criteria[i]`), without repeats.
pub fn validate_task_keys(all: &[Criterion], keys: &[String], field: &str) -> AppResult<Vec<String>> {
    validate::at_most(keys.len(), 20, field)?;
    let mut out: Vec<String> = Vec::with_capacity(keys.len());
    for (i, k) in keys.iter().enumerate() {
        let k = k.trim();
        if !all.iter().any(|c| c.key == k) {
            let known: Vec<&str> = all.iter().map(|c| c.key.as_str()).collect();
            return Err(AppError::bad_input(
                &format!("{field}[{i}]"),
                format!("the outcome has no criterion {k:?} (it has {})", known.join(", ")),
            ));
        }
        if !out.iter().any(|o| o == k) {
            out.push(k.to_owned());
        }
    }
    Ok(out)
}

/// A ticked checkbox criterion: who ticked it and when.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Tick {
    /// The criterion's key.
    pub key: String,
    /// The client-side profile that ticked it.
    pub profile_id: Uuid,
    /// When.
    pub at: chrono::DateTime<chrono::Utc>,
}

/// The ticks of an outcome's checkbox criteria.
pub fn ticks_of(outcome: &outcome::Model) -> AppResult<Vec<Tick>> {
    outcome.ticks.as_ref().map_or(Ok(Vec::new()), |v| crate::domain::decode(v, "outcome ticks"))
}

/// The outcome-level metric checks made when the outcome was submitted.
pub fn checks_of(outcome: &outcome::Model) -> AppResult<Vec<checks::Check>> {
    outcome.checks.as_ref().map_or(Ok(Vec::new()), |v| crate::domain::decode(v, "outcome checks"))
}

/// The checkbox criteria of an outcome still unticked (acceptance waits for them).
pub fn unticked(outcome: &outcome::Model, tasks: &[entity::task::Model]) -> AppResult<Vec<String>> {
    let ticks = ticks_of(outcome)?;
    Ok(outcome_level(&criteria_of(outcome)?, tasks)?
        .into_iter()
        .filter(|c| c.metric.is_none() && !ticks.iter().any(|t| t.key == c.key))
        .map(|c| c.key)
        .collect())
}

/// Checks the outcome-level metric criteria from the metrics of the tasks' accepted
/// submissions (the latest value of a metric wins) and stores the checks on the outcome.
pub(crate) async fn check_at_submission(
    db: &impl ConnectionTrait,
    outcome: outcome::Model,
    tasks: &[entity::task::Model],
) -> AppResult<outcome::Model> {
    use entity::task_submission::{self, SubmissionStatus};
    let level: Vec<Criterion> =
        outcome_level(&criteria_of(&outcome)?, tasks)?.into_iter().filter(|c| c.metric.is_some()).collect();
    if level.is_empty() {
        return Ok(outcome);
    }
    let accepted = task_submission::Entity::find()
        .filter(task_submission::Column::TaskId.is_in(tasks.iter().map(|t| t.id)))
        .filter(task_submission::Column::Status.eq(SubmissionStatus::Accepted))
        .order_by_asc(task_submission::Column::CreatedAt)
        .all(db)
        .await?;
    let mut metrics: Vec<checks::Metric> = Vec::new();
    for s in accepted {
        let reported: Vec<checks::Metric> = crate::domain::decode(&s.metrics, "submission metrics")?;
        for m in reported {
            metrics.retain(|x| x.name != m.name);
            metrics.push(m);
        }
    }
    let checks = checks::check(&level, &metrics);
    let mut active = outcome.into_active_model();
    active.checks = Set(Some(json!(checks)));
    Ok(active.update(db).await?)
}

pub(super) fn validate_criteria(criteria: Vec<Criterion>) -> AppResult<Vec<Criterion>> {
    if criteria.is_empty() || criteria.len() > 20 {
        return Err(AppError::bad_input("criteria", "give 1 to 20 acceptance criteria"));
    }
    let criteria: Vec<Criterion> = criteria
        .into_iter()
        .enumerate()
        .map(|(i, c)| {
            let key = if c.key.trim().is_empty() { default_key(i) } else { c.key.trim().to_owned() };
            if key.len() > 40
                || !key.bytes().all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'_' || b == b'-')
            {
                return Err(AppError::bad_input(&format!("criteria[{i}].key"), "use 1 to 40 of a-z, 0-9, _ and -"));
            }
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
            Ok(Criterion { key, description, metric, comparator: c.comparator, target: c.target })
        })
        .collect::<AppResult<_>>()?;
    for (i, c) in criteria.iter().enumerate() {
        if criteria[..i].iter().any(|d| d.key == c.key) {
            return Err(AppError::bad_input(&format!("criteria[{i}].key"), format!("{:?} is used twice", c.key)));
        }
    }
    Ok(criteria)
}
