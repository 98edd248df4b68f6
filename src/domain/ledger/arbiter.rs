//! Arbiters: existing accounts that may decide disputes they are not a party to. The role is
//! granted by configuration (`ARBITER_HANDLES`, checked at start: a handle nobody holds is a
//! startup error, so registering it later grants nothing) or by an operator command
//! (`semasocial arbiter grant HANDLE`). Either way it is bound to the profile, not the handle.
use entity::arbiter;
use sea_orm::{ColumnTrait, ConnectionTrait, EntityTrait, QueryFilter, Set, sea_query::OnConflict};
use uuid::Uuid;

use crate::{
    domain::profile,
    error::{AppError, AppResult},
};

/// Granted by `ARBITER_HANDLES`.
const FROM_CONFIG: &str = "config";
/// Granted by `semasocial arbiter grant`.
const GRANTED: &str = "granted";

/// Whether a profile holds the arbiter role.
pub async fn is_arbiter(db: &impl ConnectionTrait, profile_id: Uuid) -> AppResult<bool> {
    Ok(arbiter::Entity::find_by_id(profile_id).one(db).await?.is_some())
}

/// Makes the configured handles the configured arbiters (at start): each must name an existing
/// profile (an error naming the first that does not), and arbiters configured before but no
/// longer listed lose the role. Arbiters granted by command are left alone.
pub async fn sync_configured(
    db: &impl ConnectionTrait,
    handles: &[String],
    now: chrono::DateTime<chrono::Utc>,
) -> AppResult<()> {
    let mut ids = Vec::with_capacity(handles.len());
    for handle in handles {
        let found = profile::by_handle(db, handle).await?.ok_or_else(|| {
            AppError::bad_input(
                "ARBITER_HANDLES",
                format!("no account has the handle \"{handle}\"; arbiters must exist before they are configured"),
            )
        })?;
        ids.push(found.id);
    }
    arbiter::Entity::delete_many()
        .filter(arbiter::Column::Source.eq(FROM_CONFIG))
        .filter(arbiter::Column::ProfileId.is_not_in(ids.iter().copied()))
        .exec(db)
        .await?;
    for id in ids {
        insert(db, id, FROM_CONFIG, now).await?;
    }
    Ok(())
}

/// Grants the role to the profile with `handle` (an operator command); returns its id.
pub async fn grant(db: &impl ConnectionTrait, handle: &str, now: chrono::DateTime<chrono::Utc>) -> AppResult<Uuid> {
    let found = profile::by_handle(db, handle).await?.ok_or(AppError::NotFound("profile"))?;
    insert(db, found.id, GRANTED, now).await?;
    Ok(found.id)
}

/// Takes the role from the profile with `handle`; whether it had it.
pub async fn revoke(db: &impl ConnectionTrait, handle: &str) -> AppResult<bool> {
    let found = profile::by_handle(db, handle).await?.ok_or(AppError::NotFound("profile"))?;
    let removed = arbiter::Entity::delete_by_id(found.id).exec(db).await?;
    Ok(removed.rows_affected > 0)
}

async fn insert(
    db: &impl ConnectionTrait,
    id: Uuid,
    source: &str,
    now: chrono::DateTime<chrono::Utc>,
) -> AppResult<()> {
    arbiter::Entity::insert(arbiter::ActiveModel {
        profile_id: Set(id),
        source: Set(source.to_owned()),
        granted_at: Set(now),
    })
    .on_conflict(OnConflict::column(arbiter::Column::ProfileId).do_nothing().to_owned())
    .exec_without_returning(db)
    .await?;
    Ok(())
}
