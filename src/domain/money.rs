//! Money: integer minor units with checked arithmetic, and exact splits. Every share of an
//! amount (a task's value, a release across assignees) comes from `split`, so the parts
//! always add up to the whole.
use entity::task::{self, TaskStatus};

use crate::error::{AppError, AppResult};

/// The largest amount the platform carries, in minor units (10^12: ten billion in a
/// two-decimal currency). Every amount is well inside JavaScript's safe integers.
pub const MAX_CENTS: i64 = 1_000_000_000_000;

/// Currencies without minor units; three-decimal ones. Every other ISO 4217 code has two.
const ZERO_DECIMAL: &[&str] =
    &["BIF", "CLP", "DJF", "GNF", "ISK", "JPY", "KMF", "KRW", "PYG", "RWF", "UGX", "VND", "VUV", "XAF", "XOF", "XPF"];
const THREE_DECIMAL: &[&str] = &["BHD", "IQD", "JOD", "KWD", "LYD", "OMR", "TND"];

/// Digits after the decimal point of a currency's minor unit (JPY 0, EUR 2, KWD 3).
pub fn exponent(currency: &str) -> u32 {
    if ZERO_DECIMAL.contains(&currency) {
        0
    } else if THREE_DECIMAL.contains(&currency) {
        3
    } else {
        2
    }
}

/// An amount of one currency in its minor units: never negative, never above `MAX_CENTS`.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Money {
    cents: i64,
    currency: String,
}

/// The one parser of every amount a client gives (budgets, rates, outcome and proposal
/// amounts, funding, withdrawals, splits): 1..=`MAX_CENTS` minor units, or `BAD_USER_INPUT`
/// naming `field`.
pub fn amount(cents: i64, field: &str) -> AppResult<i64> {
    if (1..=MAX_CENTS).contains(&cents) {
        Ok(cents)
    } else {
        Err(AppError::bad_input(field, format!("must be between 1 and {MAX_CENTS} minor units")))
    }
}

impl Money {
    /// An amount a client gives: 1..=`MAX_CENTS` minor units (`BAD_USER_INPUT` on `field`).
    pub fn positive(cents: i64, currency: &str, field: &str) -> AppResult<Self> {
        Self::of(amount(cents, field)?, currency, field)
    }

    /// An amount 0..=`MAX_CENTS` minor units (`BAD_USER_INPUT` on `field`).
    pub fn of(cents: i64, currency: &str, field: &str) -> AppResult<Self> {
        if !(0..=MAX_CENTS).contains(&cents) {
            return Err(AppError::bad_input(field, format!("must be between 0 and {MAX_CENTS} minor units")));
        }
        Ok(Self { cents, currency: currency.to_owned() })
    }

    /// Minor units.
    pub fn cents(&self) -> i64 {
        self.cents
    }

    /// ISO 4217 code.
    pub fn currency(&self) -> &str {
        &self.currency
    }

    /// The sum, refused across currencies or past `MAX_CENTS` (`BAD_USER_INPUT` on `field`).
    pub fn checked_add(&self, other: &Self, field: &str) -> AppResult<Self> {
        self.same_currency(other, field)?;
        let cents = self.cents.checked_add(other.cents).ok_or_else(|| too_large(field))?;
        Self::of(cents, &self.currency, field)
    }

    /// The difference, refused across currencies or below zero (`BAD_USER_INPUT` on `field`).
    pub fn checked_sub(&self, other: &Self, field: &str) -> AppResult<Self> {
        self.same_currency(other, field)?;
        let cents = self.cents.checked_sub(other.cents).ok_or_else(|| too_large(field))?;
        Self::of(cents, &self.currency, field)
    }

    fn same_currency(&self, other: &Self, field: &str) -> AppResult<()> {
        if self.currency == other.currency {
            Ok(())
        } else {
            Err(AppError::bad_input(field, format!("{} and {} do not mix", self.currency, other.currency)))
        }
    }
}

fn too_large(field: &str) -> AppError {
    AppError::bad_input(field, "the amounts add up to more than can be represented")
}

/// The platform fee of `amount` at `bps` basis points, rounded half up (never more than the amount).
pub fn fee(amount: i64, bps: u32) -> i64 {
    let exact = i128::from(amount).saturating_mul(i128::from(bps));
    let rounded = exact.saturating_add(5_000).checked_div(10_000).unwrap_or(0);
    i64::try_from(rounded).unwrap_or(amount).clamp(0, amount.max(0))
}

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
#[allow(clippy::arithmetic_side_effects)]
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
    fn a_fee_rounds_half_up_and_the_rest_splits_exactly() {
        // 3 assignees of 100 cents with a 2.5% fee: the fee is 3, each payee's share pays its part.
        let shares = split(100, &[1, 1, 1]);
        let fee_total = fee(100, 250);
        let fees = split(fee_total, &shares);
        let nets: Vec<i64> = shares.iter().zip(&fees).map(|(s, f)| s - f).collect();
        assert_eq!(
            (shares, fee_total, fees.clone(), nets.clone()),
            (vec![34, 33, 33], 3, vec![1, 1, 1], vec![33, 32, 32])
        );
        assert_eq!(nets.iter().sum::<i64>() + fees.iter().sum::<i64>(), 100);
        assert_eq!(fee(1, 250), 0);
        assert_eq!(fee(20, 250), 1, "0.5 rounds up");
        assert_eq!(fee(MAX_CENTS, 10_000), MAX_CENTS);
    }

    #[test]
    fn money_is_bounded_and_never_mixes_currencies() {
        assert_eq!(exponent("JPY"), 0);
        assert_eq!(exponent("EUR"), 2);
        assert_eq!(exponent("KWD"), 3);
        let err = Money::positive(0, "EUR", "amountCents").err();
        assert_eq!(err.as_ref().and_then(|e| e.field()), Some("amountCents"));
        assert!(Money::positive(MAX_CENTS + 1, "EUR", "amountCents").is_err());
        let a = Money::positive(MAX_CENTS, "EUR", "a").ok();
        let b = Money::positive(1, "EUR", "b").ok();
        let yen = Money::positive(1, "JPY", "c").ok();
        if let (Some(a), Some(b), Some(yen)) = (a, b, yen) {
            assert!(a.checked_add(&b, "x").is_err(), "past the bound");
            assert!(b.checked_add(&yen, "x").is_err(), "currencies do not mix");
            assert!(b.checked_sub(&a, "x").is_err(), "never below zero");
            assert_eq!(a.checked_sub(&b, "x").ok().map(|m| m.cents()), Some(MAX_CENTS - 1));
        } else {
            panic!("valid amounts were refused");
        }
    }

    #[test]
    fn sums_that_overflow_are_refused_with_the_field() {
        assert_eq!(checked_sum([1, 2, 3], "amountCents").ok(), Some(6));
        let err = checked_sum([1_000, i64::MAX], "amountCents").err();
        assert_eq!(err.as_ref().and_then(|e| e.field()), Some("amountCents"));
    }
}
