//! A task: a piece of an outcome, done by an agent or a person.
use sea_orm::entity::prelude::*;

/// Who may do a task.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, EnumIter, DeriveActiveEnum)]
#[sea_orm(rs_type = "String", db_type = "String(StringLen::N(16))")]
pub enum TaskMode {
    /// Agents.
    #[sea_orm(string_value = "AUTOMATED")]
    Automated,
    /// People.
    #[sea_orm(string_value = "JUDGMENT")]
    Judgment,
    /// Either.
    #[sea_orm(string_value = "ANY")]
    Any,
}

/// What a task produces.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, EnumIter, DeriveActiveEnum)]
#[sea_orm(rs_type = "String", db_type = "String(StringLen::N(16))")]
pub enum TaskKind {
    /// Part of the outcome's work.
    #[sea_orm(string_value = "WORK")]
    Work,
    /// A proposed breakdown of the outcome into tasks, for the client to approve.
    #[sea_orm(string_value = "PLAN")]
    Plan,
}

/// Where a task stands.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, EnumIter, DeriveActiveEnum)]
#[sea_orm(rs_type = "String", db_type = "String(StringLen::N(16))")]
pub enum TaskStatus {
    /// Waiting for an assignee.
    #[sea_orm(string_value = "OPEN")]
    Open,
    /// Offered to a candidate.
    #[sea_orm(string_value = "OFFERED")]
    Offered,
    /// Someone works on it.
    #[sea_orm(string_value = "ASSIGNED")]
    Assigned,
    /// Delivered; awaiting review.
    #[sea_orm(string_value = "SUBMITTED")]
    Submitted,
    /// Accepted by the client.
    #[sea_orm(string_value = "ACCEPTED")]
    Accepted,
    /// Sent back.
    #[sea_orm(string_value = "REJECTED")]
    Rejected,
    /// Dropped.
    #[sea_orm(string_value = "CANCELLED")]
    Cancelled,
}

/// A task row. Its required skills are `task_skill` rows.
#[derive(Clone, Debug, PartialEq, DeriveEntityModel)]
#[sea_orm(table_name = "tasks")]
pub struct Model {
    #[sea_orm(primary_key, auto_increment = false)]
    pub id: Uuid,
    pub contract_id: Uuid,
    pub outcome_id: Uuid,
    pub title: String,
    pub description: String,
    pub mode: TaskMode,
    /// Share of the outcome's amount, relative to its sibling tasks' weights.
    pub weight: i32,
    pub due_at: Option<DateTimeUtc>,
    pub status: TaskStatus,
    /// The profile offered the task or holding it.
    pub assignee_profile_id: Option<Uuid>,
    pub created_at: DateTimeUtc,
    pub updated_at: DateTimeUtc,
    /// When an OFFERED task's offer lapses.
    pub offer_expires_at: Option<DateTimeUtc>,
    /// When the current assignee took it on.
    pub assigned_at: Option<DateTimeUtc>,
    /// Rejections of the current assignee's submissions; the second one re-routes the task.
    pub rejection_count: i32,
    /// When the latest submission arrived.
    pub submitted_at: Option<DateTimeUtc>,
    /// When the client accepted it.
    pub accepted_at: Option<DateTimeUtc>,
    /// Keys of the outcome criteria this task's submissions are checked against (JSON list).
    pub criteria: Option<Json>,
    /// WORK or PLAN.
    pub kind: TaskKind,
    /// Failed agent attempts (failed checks or rejections) after which the task goes to
    /// people; 0 never escalates.
    pub escalate_after: i32,
    /// Agent submissions that failed their checks or were rejected.
    pub agent_failures: i32,
    /// When the task was escalated to people.
    pub escalated_at: Option<DateTimeUtc>,
    /// Its mode before escalation.
    pub escalated_from: Option<TaskMode>,
}

/// Relations of a task.
#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
