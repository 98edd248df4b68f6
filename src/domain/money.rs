//! Money: integer minor units with checked arithmetic, and exact splits. Every share of an
//! amount (a task's value, a release across assignees) comes from `split`, so the parts
//! always add up to the whole.
use entity::task::{self, TaskStatus};

use crate::error::{AppError, AppResult};

/// Adds amounts, refusing a total that does not fit (`BAD_USER_INPUT` on `field`).
pub fn checked_sum(amounts: impl IntoIterator<Item = i64>, field: &str) -> AppResult<i64> {
    amounts
        .into_iter()
        .try_fold(0i64, i64::checked_add)
        .ok_or_else(|| AppError::bad_input(field, "the amounts add up to more than can be represented"))
}

/// Splits `amount` (≥ 0) across `weights` (each ≥ 0) exactly: each part is its floor share,
/// and the cents left over go one each to the parts with the largest remainders, earlier parts
/// first on a tie. The parts always sum to `amount` (all zero when every weight is zero).
pub fn split(amount: i64, weights: &[i64]) -> Vec<i64> {
    let total: i128 = weights.iter().map(|w| i128::from((*w).max(0))).sum();
    if total == 0 || amount <= 0 {
        return vec![0; weights.len()];
    }
    let amount = i128::from(amount);
    let mut parts: Vec<i128> = Vec::with_capacity(weights.len());
    let mut remainders: Vec<(i128, usize)> = Vec::with_capacity(weights.len());
    for (i, w) in weights.iter().enumerate() {
        let exact = amount.saturating_mul(i128::from((*w).max(0)));
        parts.push(exact.checked_div(total).unwrap_or(0));
        remainders.push((exact.checked_rem(total).unwrap_or(0), i));
    }
    let given: i128 = parts.iter().sum();
    let left = amount.saturating_sub(given);
    // Largest remainder first; on a tie the earlier part.
    remainders.sort_by(|a, b| b.0.cmp(&a.0).then(a.1.cmp(&b.1)));
    for (_, i) in remainders.into_iter().take(usize::try_from(left).unwrap_or(0)) {
        if let Some(part) = parts.get_mut(i) {
            *part = part.saturating_add(1);
        }
    }
    // Each part is at most `amount`, which came from an i64.
    parts.into_iter().map(|p| i64::try_from(p).unwrap_or(i64::MAX)).collect()
}

/// Whether a task still takes part in its outcome's amount (cancelled work is worth nothing).
pub fn is_live(task: &task::Model) -> bool {
    task.status != TaskStatus::Cancelled
}

/// The tasks' exact parts of their outcome's amount: weights over the live tasks in creation
/// order (cancelled tasks get nothing). Returns `(task id, cents)` for every task given.
pub fn task_shares(outcome_amount: i64, tasks: &[task::Model]) -> Vec<(uuid::Uuid, i64)> {
    let mut ordered: Vec<&task::Model> = tasks.iter().collect();
    ordered.sort_by(|a, b| a.created_at.cmp(&b.created_at).then(a.id.cmp(&b.id)));
    let weights: Vec<i64> = ordered.iter().map(|t| if is_live(t) { i64::from(t.weight) } else { 0 }).collect();
    ordered.iter().map(|t| t.id).zip(split(outcome_amount, &weights)).collect()
}

/// One task's exact part of its outcome's amount, given the outcome's tasks (the task among
/// them): what the work is worth.
pub fn task_share(outcome_amount: i64, task: &task::Model, siblings: &[task::Model]) -> i64 {
    let mut all: Vec<task::Model> = siblings.to_vec();
    if !all.iter().any(|t| t.id == task.id) {
        all.push(task.clone());
    }
    task_shares(outcome_amount, &all).into_iter().find(|(id, _)| *id == task.id).map_or(0, |(_, cents)| cents)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn splits_are_exact_and_the_largest_remainders_get_the_cents() {
        assert_eq!(split(40_000, &[2, 1]), vec![26_667, 13_333]);
        assert_eq!(split(100, &[1, 1, 1]), vec![34, 33, 33], "a tie goes to the earlier part");
        assert_eq!(split(100_000, &[1, 3]), vec![25_000, 75_000]);
        assert_eq!(split(5, &[0, 0]), vec![0, 0]);
        assert_eq!(split(7, &[0, 1]), vec![0, 7]);
        assert_eq!(split(i64::MAX, &[1, 1]).iter().map(|p| i128::from(*p)).sum::<i128>(), i128::from(i64::MAX));
    }

    #[test]
    fn every_split_adds_up_to_the_whole() {
        for amount in [0, 1, 7, 99, 1_000, 123_457] {
            for weights in [vec![1], vec![3, 3, 3], vec![1, 2, 3, 4], vec![10_000, 1], vec![5, 0, 5]] {
                let parts = split(amount, &weights);
                assert_eq!(parts.iter().sum::<i64>(), amount, "{amount} over {weights:?}: {parts:?}");
                assert!(parts.iter().all(|p| *p >= 0));
            }
        }
    }

    #[test]
    fn sums_that_overflow_are_refused_with_the_field() {
        assert_eq!(checked_sum([1, 2, 3], "amountCents").ok(), Some(6));
        let err = checked_sum([1_000, i64::MAX], "amountCents").err();
        assert_eq!(err.as_ref().and_then(|e| e.field()), Some("amountCents"));
    }
}
