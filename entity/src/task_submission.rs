//! A deliverable submitted for a task, with its metric checks and the client's verdict.
use sea_orm::entity::prelude::*;

/// The client's verdict on a submission.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, EnumIter, DeriveActiveEnum)]
#[sea_orm(rs_type = "String", db_type = "String(StringLen::N(16))")]
pub enum SubmissionStatus {
    /// Awaiting review.
    #[sea_orm(string_value = "PENDING")]
    Pending,
    /// Accepted.
    #[sea_orm(string_value = "ACCEPTED")]
    Accepted,
    /// Rejected with feedback.
    #[sea_orm(string_value = "REJECTED")]
    Rejected,
}

/// A submission row. `metrics` is a JSON list of `{name, value}`; `checks` the result of
/// each metric criterion of the outcome.
#[derive(Clone, Debug, PartialEq, DeriveEntityModel)]
#[sea_orm(table_name = "task_submissions")]
pub struct Model {
    #[sea_orm(primary_key, auto_increment = false)]
    pub id: Uuid,
    pub task_id: Uuid,
    pub profile_id: Uuid,
    pub text: Option<String>,
    pub url: Option<String>,
    pub metrics: Json,
    pub checks: Json,
    /// Whether every metric criterion passed; `None` when the outcome has none.
    pub checks_passed: Option<bool>,
    pub status: SubmissionStatus,
    pub feedback: Option<String>,
    pub created_at: DateTimeUtc,
    pub reviewed_at: Option<DateTimeUtc>,
    /// How agent work was produced: model, tool and version, run, digests, cost (JSON).
    pub provenance: Option<Json>,
    /// A PLAN task's proposed breakdown (JSON list of task drafts).
    pub plan: Option<Json>,
}

/// Relations of a submission.
#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
