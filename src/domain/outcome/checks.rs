//! Metric checks: the metrics a submission reports, held against the outcome's criteria.
//! Pure functions, tested on their own; the criterion itself is defined here, the lowest room of
//! outcomes (`criteria` reads and validates an outcome's criteria on top of it).
use serde::{Deserialize, Serialize};

use crate::error::{AppError, AppResult};

/// A measurable acceptance criterion: a key tasks name it by, a description and, optionally,
/// a metric check.
///
/// Scope: a criterion applies to the tasks that carry its key (their submissions are checked
/// against it, or the client judges it when accepting the task). A criterion no task carries
/// is the outcome's: a metric one is checked when the outcome is submitted, from its tasks'
/// accepted metrics; one without a metric is a checkbox the client ticks before accepting.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Criterion {
    /// Stable key, unique in the outcome (`[a-z0-9_-]`, 1–40); `c1`, `c2`… when not given.
    #[serde(default)]
    pub key: String,
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

/// A metric a submission reports.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Metric {
    /// Name, matched against criteria metric names (case-sensitive).
    pub name: String,
    /// Value.
    pub value: f64,
}

/// The result of one metric criterion.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Check {
    /// The criterion's description.
    pub description: String,
    /// The metric checked.
    pub metric: String,
    /// Comparator.
    pub comparator: String,
    /// Target value.
    pub target: f64,
    /// The reported value; `None` when the submission did not report the metric.
    pub value: Option<f64>,
    /// Whether the value meets the target (a missing value fails).
    pub passed: bool,
}

/// Validates reported metrics: at most 50, names 1–100 characters and unique, values finite.
pub fn validate_metrics(metrics: Vec<Metric>) -> AppResult<Vec<Metric>> {
    if metrics.len() > 50 {
        return Err(AppError::bad_input("deliverable.metrics", "report at most 50 metrics"));
    }
    let mut seen: Vec<Metric> = Vec::with_capacity(metrics.len());
    for (i, m) in metrics.into_iter().enumerate() {
        let name = crate::domain::validate::text(&m.name, &format!("deliverable.metrics[{i}].name"), 1, 100, false)?;
        if !m.value.is_finite() {
            return Err(AppError::bad_input(&format!("deliverable.metrics[{i}].value"), "must be a finite number"));
        }
        if seen.iter().any(|s| s.name == name) {
            return Err(AppError::bad_input(&format!("deliverable.metrics[{i}].name"), "is reported twice"));
        }
        seen.push(Metric { name, value: m.value });
    }
    Ok(seen)
}

/// Whether `value` meets `target` under `comparator` (`>=`, `<=`, `>`, `<`, `==`).
pub fn meets(value: f64, comparator: &str, target: f64) -> bool {
    match comparator {
        ">=" => value >= target,
        "<=" => value <= target,
        ">" => value > target,
        "<" => value < target,
        "==" => (value - target).abs() <= f64::EPSILON * target.abs().max(1.0),
        _ => false,
    }
}

/// Checks every metric criterion against the reported metrics. Criteria without a metric
/// are judged by the client and produce no check.
pub fn check(criteria: &[Criterion], metrics: &[Metric]) -> Vec<Check> {
    criteria
        .iter()
        .filter_map(|c| {
            let (metric, comparator, target) = (c.metric.as_ref()?, c.comparator.as_ref()?, c.target?);
            let value = metrics.iter().find(|m| &m.name == metric).map(|m| m.value);
            Some(Check {
                description: c.description.clone(),
                metric: metric.clone(),
                comparator: comparator.clone(),
                target,
                value,
                passed: value.is_some_and(|v| meets(v, comparator, target)),
            })
        })
        .collect()
}

/// Whether all checks passed; `None` when there were none.
pub fn all_passed(checks: &[Check]) -> Option<bool> {
    (!checks.is_empty()).then(|| checks.iter().all(|c| c.passed))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn criterion(metric: Option<&str>, comparator: &str, target: f64) -> Criterion {
        Criterion {
            key: String::new(),
            description: format!("{metric:?} {comparator} {target}"),
            metric: metric.map(str::to_owned),
            comparator: metric.map(|_| comparator.to_owned()),
            target: metric.map(|_| target),
        }
    }

    fn metric(name: &str, value: f64) -> Metric {
        Metric { name: name.to_owned(), value }
    }

    #[test]
    fn comparators_hold_values_against_targets() {
        assert!(meets(2.0, "<=", 2.0) && !meets(2.01, "<=", 2.0));
        assert!(meets(0.95, ">=", 0.9) && !meets(0.89, ">=", 0.9));
        assert!(meets(3.0, ">", 2.0) && !meets(2.0, ">", 2.0));
        assert!(meets(1.0, "<", 2.0) && !meets(2.0, "<", 2.0));
        assert!(meets(0.1 + 0.2, "==", 0.3) && !meets(0.31, "==", 0.3));
        assert!(!meets(1.0, "~", 1.0));
    }

    #[test]
    fn each_metric_criterion_gets_a_check_and_missing_metrics_fail() {
        let criteria = [
            criterion(Some("p95_seconds"), "<=", 2.0),
            criterion(Some("accuracy"), ">=", 0.9),
            criterion(None, "", 0.0),
            criterion(Some("rows"), ">", 100.0),
        ];
        let checks = check(&criteria, &[metric("p95_seconds", 1.4), metric("accuracy", 0.8), metric("extra", 1.0)]);
        assert_eq!(checks.len(), 3, "criteria without a metric are the client's to judge");
        assert_eq!(checks.iter().map(|c| c.passed).collect::<Vec<_>>(), [true, false, false]);
        assert_eq!(checks[2].value, None);
        assert_eq!(all_passed(&checks), Some(false));
        assert_eq!(all_passed(&check(&criteria[..1], &[metric("p95_seconds", 2.0)])), Some(true));
        assert_eq!(all_passed(&check(&criteria[2..3], &[])), None);
    }

    #[test]
    fn reported_metrics_are_validated_with_the_field_at_fault() {
        let field = |metrics: Vec<Metric>| match validate_metrics(metrics) {
            Err(e) => e.field().unwrap_or_default().to_owned(),
            Ok(_) => String::new(),
        };
        assert_eq!(field(vec![metric("a", 1.0), metric("a", 2.0)]), "deliverable.metrics[1].name");
        assert_eq!(field(vec![metric("a", f64::NAN)]), "deliverable.metrics[0].value");
        assert_eq!(field(vec![metric(" ", 1.0)]), "deliverable.metrics[0].name");
        assert_eq!(field(vec![metric("a", 1.0)]), "");
    }
}
