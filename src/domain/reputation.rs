//! Reputation from outcomes: accepted tasks, the share of them delivered on time, rejected
//! submissions and review ratings, each smoothed by a prior so that a profile nobody has
//! judged yet starts neutral (2.5 of 5) and a few results move it only so far.
//!
//! `score = 5 × (0.4 × reviews + 0.3 × acceptance + 0.3 × on-time)`, where, with one
//! imagined good and one imagined bad result in each part (a Beta(1, 1) prior):
//! acceptance = (accepted + 1) / (accepted + rejected + 2), on-time = (on time + 1) /
//! (accepted + 2), reviews = (Σ (rating − 1) / 4 + 1) / (reviews + 2).
//!
//! The score is stored on the profile (routing reads it) and recomputed whenever a task of
//! the profile is accepted, rejected or reviewed; the parts are read in grouped statements.
use std::collections::HashMap;

use entity::{
    profile, review,
    task::{self, TaskStatus},
    task_submission::{self, SubmissionStatus},
};
use sea_orm::{
    ColumnTrait, ConnectionTrait, EntityTrait, Iterable, QueryFilter, QuerySelect,
    sea_query::{Expr, ExprTrait, Func, Order, Query, WindowStatement},
};
use uuid::Uuid;

use crate::error::AppResult;

/// Weights of the review, acceptance and on-time parts; they sum to 1.
pub const WEIGHTS: (f64, f64, f64) = (0.4, 0.3, 0.3);

/// What a profile's reputation is made of.
#[derive(Clone, Copy, Debug, Default, PartialEq)]
pub struct Parts {
    /// Tasks it delivered that were accepted.
    pub accepted: u64,
    /// Of those, submitted by their due date (or with none).
    pub on_time: u64,
    /// Its submissions the client rejected.
    pub rejected: u64,
    /// Reviews received.
    pub reviews: u64,
    /// Sum of their ratings (1–5 each).
    pub rating_sum: u64,
}

impl Parts {
    /// The score, 0–5, rounded to two decimals.
    pub fn score(&self) -> f64 {
        let (wr, wa, wo) = WEIGHTS;
        let n = |v: u64| v as f64;
        let acceptance = (n(self.accepted) + 1.0) / (n(self.accepted) + n(self.rejected) + 2.0);
        let on_time = (n(self.on_time) + 1.0) / (n(self.accepted) + 2.0);
        let reviews = ((n(self.rating_sum) - n(self.reviews)) / 4.0 + 1.0) / (n(self.reviews) + 2.0);
        let score = 5.0 * (wr * reviews + wa * acceptance + wo * on_time);
        (score.clamp(0.0, 5.0) * 100.0).round() / 100.0
    }

    /// Share of accepted tasks delivered on time; `None` before the first.
    pub fn on_time_rate(&self) -> Option<f64> {
        (self.accepted > 0).then(|| self.on_time as f64 / self.accepted as f64)
    }

    /// Average rating; `None` without reviews.
    pub fn review_average(&self) -> Option<f64> {
        (self.reviews > 0).then(|| self.rating_sum as f64 / self.reviews as f64)
    }
}

/// The parts of many profiles' reputations in three statements (profiles with no history
/// are absent).
pub async fn parts_of(db: &impl ConnectionTrait, ids: &[Uuid]) -> AppResult<HashMap<Uuid, Parts>> {
    let mut parts: HashMap<Uuid, Parts> = HashMap::new();
    if ids.is_empty() {
        return Ok(parts);
    }
    // Accepted tasks: one row per task, only the two times compared (in Rust, so that the
    // comparison does not depend on how a backend stores timestamps).
    type At = Option<chrono::DateTime<chrono::Utc>>;
    let accepted: Vec<(Option<Uuid>, At, At)> = task::Entity::find()
        .select_only()
        .columns([task::Column::AssigneeProfileId, task::Column::DueAt, task::Column::SubmittedAt])
        .filter(task::Column::AssigneeProfileId.is_in(ids.iter().copied()))
        .filter(task::Column::Status.eq(TaskStatus::Accepted))
        .into_tuple()
        .all(db)
        .await?;
    for (who, due, submitted) in accepted {
        let Some(who) = who else { continue };
        let p = parts.entry(who).or_default();
        p.accepted = p.accepted.saturating_add(1);
        if due.is_none_or(|due| submitted.is_none_or(|s| s <= due)) {
            p.on_time = p.on_time.saturating_add(1);
        }
    }
    let rejected: Vec<(Uuid, i64)> = task_submission::Entity::find()
        .select_only()
        .column(task_submission::Column::ProfileId)
        .column_as(Expr::expr(Func::count(Expr::col(task_submission::Column::Id))), "n")
        .filter(task_submission::Column::ProfileId.is_in(ids.iter().copied()))
        .filter(task_submission::Column::Status.eq(SubmissionStatus::Rejected))
        .group_by(task_submission::Column::ProfileId)
        .into_tuple()
        .all(db)
        .await?;
    for (who, n) in rejected {
        parts.entry(who).or_default().rejected = u64::try_from(n).unwrap_or(0);
    }
    let reviews: Vec<(Uuid, i64, Option<i64>)> = review::Entity::find()
        .select_only()
        .column(review::Column::SubjectProfileId)
        .column_as(Expr::expr(Func::count(Expr::col(review::Column::Id))), "n")
        .column_as(Expr::expr(Func::sum(Expr::col(review::Column::Rating))), "s")
        .filter(review::Column::SubjectProfileId.is_in(ids.iter().copied()))
        .group_by(review::Column::SubjectProfileId)
        .into_tuple()
        .all(db)
        .await?;
    for (who, n, sum) in reviews {
        let p = parts.entry(who).or_default();
        p.reviews = u64::try_from(n).unwrap_or(0);
        p.rating_sum = u64::try_from(sum.unwrap_or(0)).unwrap_or(0);
    }
    Ok(parts)
}

/// Recomputes and stores the reputation of `ids`; returns the new scores.
pub(crate) async fn recompute(db: &impl ConnectionTrait, ids: &[Uuid]) -> AppResult<HashMap<Uuid, f64>> {
    let parts = parts_of(db, ids).await?;
    let mut scores = HashMap::new();
    for id in ids {
        let score = parts.get(id).copied().unwrap_or_default().score();
        profile::Entity::update_many()
            .col_expr(profile::Column::Reputation, Expr::value(score))
            .filter(profile::Column::Id.eq(*id))
            .exec(db)
            .await?;
        scores.insert(*id, score);
    }
    Ok(scores)
}

/// Most reviews read per profile (newest first).
pub const REVIEWS_SHOWN: i64 = 20;

/// The newest [`REVIEWS_SHOWN`] reviews of each of many profiles, newest first, in one
/// statement (a window over the subjects). Reviews are public: rating, text and date.
pub async fn reviews_of(db: &impl ConnectionTrait, ids: &[Uuid]) -> AppResult<HashMap<Uuid, Vec<review::Model>>> {
    let mut by_subject: HashMap<Uuid, Vec<review::Model>> = HashMap::new();
    if ids.is_empty() {
        return Ok(by_subject);
    }
    let mut newest_first = WindowStatement::partition_by(review::Column::SubjectProfileId);
    newest_first.order_by(review::Column::CreatedAt, Order::Desc).order_by(review::Column::Id, Order::Desc);
    let ranked = Query::select()
        .columns(review::Column::iter())
        .expr_window_as(Expr::cust("ROW_NUMBER()"), newest_first, "place")
        .from(review::Entity)
        .and_where(review::Column::SubjectProfileId.is_in(ids.iter().copied()))
        .to_owned();
    let newest = Query::select()
        .columns(review::Column::iter())
        .from_subquery(ranked, "ranked")
        .and_where(Expr::col("place").lte(REVIEWS_SHOWN))
        .order_by("place", Order::Asc)
        .to_owned();
    let rows = review::Entity::find().from_raw_sql(db.get_database_backend().build(&newest)).all(db).await?;
    for r in rows {
        by_subject.entry(r.subject_profile_id).or_default().push(r);
    }
    Ok(by_subject)
}

/// The score of a profile nobody has judged yet.
pub const NEUTRAL: f64 = 2.5;

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_newcomer_starts_neutral_not_at_zero() {
        assert_eq!(Parts::default().score(), NEUTRAL);
    }

    #[test]
    fn accepted_on_time_work_raises_it_and_rejections_and_lateness_lower_it() {
        let proven = Parts { accepted: 10, on_time: 10, ..Parts::default() };
        let late = Parts { accepted: 10, on_time: 0, ..Parts::default() };
        let rejected = Parts { accepted: 2, on_time: 2, rejected: 8, ..Parts::default() };
        assert!(proven.score() > NEUTRAL, "{}", proven.score());
        assert!(late.score() < proven.score());
        assert!(rejected.score() < proven.score());
        let bad_reviews = Parts { reviews: 5, rating_sum: 5, ..Parts::default() };
        let good_reviews = Parts { reviews: 5, rating_sum: 25, ..Parts::default() };
        assert!(bad_reviews.score() < NEUTRAL && good_reviews.score() > NEUTRAL);
        let best = Parts { accepted: 1_000, on_time: 1_000, rejected: 0, reviews: 1_000, rating_sum: 5_000 };
        assert!(best.score() <= 5.0 && best.score() > 4.9, "{}", best.score());
    }

    #[test]
    fn parts_report_rates_only_once_there_is_history() {
        assert_eq!(Parts::default().on_time_rate(), None);
        assert_eq!(Parts::default().review_average(), None);
        let p = Parts { accepted: 4, on_time: 3, reviews: 2, rating_sum: 9, ..Parts::default() };
        assert_eq!(p.on_time_rate(), Some(0.75));
        assert_eq!(p.review_average(), Some(4.5));
    }
}
