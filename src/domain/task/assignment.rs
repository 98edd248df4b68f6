//! The assignment history of tasks: who was offered or held a task, how that began, when the
//! offer was taken and why it ended. Rows are only ever opened and closed, never deleted.
use std::collections::HashMap;

use entity::task_assignment;
use sea_orm::{
    ActiveModelTrait, ColumnTrait, ConnectionTrait, EntityTrait, QueryFilter, QuerySelect, Set, sea_query::Expr,
};
use uuid::Uuid;

use crate::error::AppResult;

/// Opens an assignment row: `accepted` when the work is taken at once (agents, claims,
/// direct assignment), otherwise an offer awaiting an answer.
pub(crate) async fn start(
    db: &impl ConnectionTrait,
    task_id: Uuid,
    profile_id: Uuid,
    reason: &str,
    now: chrono::DateTime<chrono::Utc>,
    accepted: bool,
) -> AppResult<()> {
    task_assignment::ActiveModel {
        id: Set(Uuid::new_v4()),
        task_id: Set(task_id),
        profile_id: Set(profile_id),
        reason: Set(reason.to_owned()),
        started_at: Set(now),
        ended_at: Set(None),
        end_reason: Set(None),
        accepted_at: Set(accepted.then_some(now)),
    }
    .insert(db)
    .await?;
    Ok(())
}

/// Marks the open offer of a task as taken.
pub(crate) async fn accept(
    db: &impl ConnectionTrait,
    task_id: Uuid,
    now: chrono::DateTime<chrono::Utc>,
) -> AppResult<()> {
    task_assignment::Entity::update_many()
        .col_expr(task_assignment::Column::AcceptedAt, Expr::value(now))
        .filter(task_assignment::Column::TaskId.eq(task_id))
        .filter(task_assignment::Column::EndedAt.is_null())
        .exec(db)
        .await?;
    Ok(())
}

/// Closes the open assignment rows of tasks with `end_reason`.
pub(crate) async fn end(
    db: &impl ConnectionTrait,
    task_ids: &[Uuid],
    now: chrono::DateTime<chrono::Utc>,
    end_reason: &str,
) -> AppResult<()> {
    task_assignment::Entity::update_many()
        .col_expr(task_assignment::Column::EndedAt, Expr::value(now))
        .col_expr(task_assignment::Column::EndReason, Expr::value(end_reason))
        .filter(task_assignment::Column::TaskId.is_in(task_ids.iter().copied()))
        .filter(task_assignment::Column::EndedAt.is_null())
        .exec(db)
        .await?;
    Ok(())
}

/// Profiles that held or were offered a task before (routing offers it to someone new).
pub(crate) async fn tried(db: &impl ConnectionTrait, task_id: Uuid) -> AppResult<Vec<Uuid>> {
    Ok(task_assignment::Entity::find()
        .select_only()
        .column(task_assignment::Column::ProfileId)
        .filter(task_assignment::Column::TaskId.eq(task_id))
        .filter(task_assignment::Column::EndedAt.is_not_null())
        .distinct()
        .into_tuple()
        .all(db)
        .await?)
}

/// Whether `profile` held or was offered a task at any time (the claimable list leaves such
/// tasks out; claiming applies the same rule).
pub(crate) async fn held_before(db: &impl ConnectionTrait, task_id: Uuid, profile: Uuid) -> AppResult<bool> {
    let found = task_assignment::Entity::find()
        .filter(task_assignment::Column::TaskId.eq(task_id))
        .filter(task_assignment::Column::ProfileId.eq(profile))
        .filter(task_assignment::Column::EndedAt.is_not_null())
        .one(db)
        .await?;
    Ok(found.is_some())
}

/// Assignment history of many tasks in one statement, oldest first (for loaders).
pub async fn history_of(
    db: &impl ConnectionTrait,
    task_ids: &[Uuid],
) -> AppResult<HashMap<Uuid, Vec<task_assignment::Model>>> {
    crate::domain::children_of::<task_assignment::Entity, _>(
        db,
        task_assignment::Column::TaskId,
        task_ids,
        &[
            (task_assignment::Column::StartedAt, sea_orm::Order::Asc),
            (task_assignment::Column::Id, sea_orm::Order::Asc),
        ],
        |r| r.task_id,
        |r| r,
    )
    .await
}
