//! Sessions end when they end. An access token names its session (the refresh-token family it
//! was issued with); every request and live subscription checks that session here. A revoked
//! session (logout, refresh-token reuse, a password reset or change) is refused at once: the
//! instance that revoked it marks it directly, every other instance hears of it on the event
//! bus (the `sessions` stream, through Redis between instances) and marks it too. A session
//! seen alive is trusted for `LIVE_FOR` without asking the database again; a bus outage (a
//! resync) forgets what was trusted, so a revocation missed during it is found in the database.
use std::{
    collections::HashMap,
    sync::{Arc, Mutex, PoisonError},
};

use chrono::{DateTime, Duration, Utc};
use entity::refresh_token;
use sea_orm::{ColumnTrait, ConnectionTrait, EntityTrait, QueryFilter, QuerySelect};
use uuid::Uuid;

use crate::{
    error::{AppError, AppResult},
    events::{Delivery, Hub},
};

pub use crate::events::SESSIONS_STREAM;

/// How long a session confirmed alive in the database is trusted without asking again (a
/// revocation reaches this instance on the bus long before; this bounds a missed one).
const LIVE_FOR: Duration = Duration::seconds(60);

/// How long a revocation is remembered: past it, every access token of the session has expired.
const REMEMBER_FOR: Duration = Duration::hours(24);

/// What this instance knows about sessions.
#[derive(Default)]
pub struct Sessions {
    /// Revoked sessions, until when they are remembered.
    revoked: Mutex<HashMap<Uuid, DateTime<Utc>>>,
    /// Sessions confirmed alive, and when.
    alive: Mutex<HashMap<Uuid, DateTime<Utc>>>,
}

impl Sessions {
    /// Refuses a revoked session (401 / UNAUTHENTICATED); asks the database about one not
    /// confirmed alive recently.
    pub async fn check(&self, db: &impl ConnectionTrait, session: Uuid, now: DateTime<Utc>) -> AppResult<()> {
        let ended = || AppError::Unauthenticated("this session has ended; sign in again".into());
        if self.revoked.lock().unwrap_or_else(PoisonError::into_inner).contains_key(&session) {
            return Err(ended());
        }
        let fresh = self
            .alive
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .get(&session)
            .is_some_and(|at| now.signed_duration_since(*at) < LIVE_FOR);
        if fresh {
            return Ok(());
        }
        let live = alive_in_db(db, session).await?;
        if live {
            let mut alive = self.alive.lock().unwrap_or_else(PoisonError::into_inner);
            // A bounded map: past a size, the stale confirmations go.
            if alive.len() > 100_000 {
                alive.retain(|_, at| now.signed_duration_since(*at) < LIVE_FOR);
            }
            alive.insert(session, now);
            Ok(())
        } else {
            self.revoke(session, now);
            Err(ended())
        }
    }

    /// Like [`Sessions::check`], always asking the database (live subscriptions re-checking
    /// after a change to the person's access: the revocation may not have reached this
    /// instance's cache yet, but it is committed).
    pub async fn check_now(&self, db: &impl ConnectionTrait, session: Uuid, now: DateTime<Utc>) -> AppResult<()> {
        self.alive.lock().unwrap_or_else(PoisonError::into_inner).remove(&session);
        self.check(db, session, now).await
    }

    /// Marks a session revoked on this instance.
    pub fn revoke(&self, session: Uuid, now: DateTime<Utc>) {
        self.alive.lock().unwrap_or_else(PoisonError::into_inner).remove(&session);
        let mut revoked = self.revoked.lock().unwrap_or_else(PoisonError::into_inner);
        revoked.retain(|_, until| *until > now);
        revoked.insert(session, now.checked_add_signed(REMEMBER_FOR).unwrap_or(DateTime::<Utc>::MAX_UTC));
    }

    /// Forgets which sessions were confirmed alive (after a bus outage: a revocation may have
    /// been missed).
    pub fn distrust(&self) {
        self.alive.lock().unwrap_or_else(PoisonError::into_inner).clear();
    }

    /// Keeps this instance's view current from the bus: every revocation filed under the
    /// `sessions` stream is marked here; a resync forgets what was trusted. Runs until the hub
    /// goes away.
    pub fn follow(self: &Arc<Self>, hub: &Arc<Hub>) -> tokio::task::JoinHandle<()> {
        let mut listener = hub.listen(SESSIONS_STREAM);
        let sessions = self.clone();
        tokio::spawn(async move {
            loop {
                match listener.recv().await {
                    Ok(Delivery::Event { event, .. }) => sessions.revoke(event.subject_id, event.occurred_at),
                    Ok(Delivery::Resync) | Err(crate::events::Missed::Lagged) => sessions.distrust(),
                    Err(crate::events::Missed::Closed) => return,
                }
            }
        })
    }
}

/// Whether a session is alive in the database: it has a token not revoked and none revoked (a
/// revocation revokes every token of the family; a token a refresh added while the revocation
/// ran does not bring the session back).
pub async fn alive_in_db(db: &impl ConnectionTrait, session: Uuid) -> AppResult<bool> {
    let token = |revoked: bool| {
        let query = refresh_token::Entity::find()
            .select_only()
            .column(refresh_token::Column::Id)
            .filter(refresh_token::Column::FamilyId.eq(session));
        if revoked {
            query.filter(refresh_token::Column::RevokedAt.is_not_null())
        } else {
            query.filter(refresh_token::Column::RevokedAt.is_null())
        }
    };
    if token(true).into_tuple::<Uuid>().one(db).await?.is_some() {
        return Ok(false);
    }
    Ok(token(false).into_tuple::<Uuid>().one(db).await?.is_some())
}
