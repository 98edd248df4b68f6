//! The unit of work: one transaction, its activity records, and events published after commit.
use entity::activity;
use sea_orm::{ActiveModelTrait, DatabaseTransaction, Set, TransactionTrait};
use serde_json::Value as Json;
use uuid::Uuid;

use crate::{auth::Viewer, error::AppResult, events::DomainEvent, state::AppState};

/// An activity to record: who did what to which subject, with before/after snapshots.
pub struct NewActivity {
    /// Topic the event is published on, e.g. `organization:<uuid>`.
    pub topic: String,
    /// What happened, e.g. `organization.member_added`.
    pub action: &'static str,
    /// Kind of the changed thing.
    pub subject_type: &'static str,
    /// Id of the changed thing.
    pub subject_id: Uuid,
    /// State before, when it existed.
    pub before: Option<Json>,
    /// State after, when it exists.
    pub after: Option<Json>,
}

/// A database transaction that records activities and publishes their events only once it
/// has committed. Dropping it without `commit` rolls everything back and publishes nothing.
pub struct UnitOfWork<'a> {
    state: &'a AppState,
    txn: DatabaseTransaction,
    actor_user_id: Option<Uuid>,
    actor_profile_id: Option<Uuid>,
    events: Vec<DomainEvent>,
}

impl<'a> UnitOfWork<'a> {
    /// Begins a transaction on behalf of `viewer`.
    pub async fn begin(state: &'a AppState, viewer: &Viewer) -> AppResult<Self> {
        Ok(Self {
            state,
            txn: state.db.begin().await?,
            actor_user_id: viewer.user_id(),
            actor_profile_id: viewer.profile_id(),
            events: Vec::new(),
        })
    }

    /// Sets the actor when the caller becomes known inside the work (register, login).
    pub fn act_as(&mut self, user_id: Uuid, profile_id: Uuid) {
        self.actor_user_id = Some(user_id);
        self.actor_profile_id = Some(profile_id);
    }

    /// The open transaction: every read and write of the work goes through it.
    pub fn txn(&self) -> &DatabaseTransaction {
        &self.txn
    }

    /// Writes an activity record in this transaction and queues its event.
    pub async fn record(&mut self, activity: NewActivity) -> AppResult<()> {
        let now = self.state.clock.now();
        let row = activity::ActiveModel {
            topic: Set(activity.topic),
            actor_user_id: Set(self.actor_user_id),
            actor_profile_id: Set(self.actor_profile_id),
            action: Set(activity.action.to_owned()),
            subject_type: Set(activity.subject_type.to_owned()),
            subject_id: Set(activity.subject_id),
            before: Set(activity.before),
            after: Set(activity.after),
            created_at: Set(now),
            ..Default::default()
        }
        .insert(&self.txn)
        .await?;
        self.events.push(DomainEvent {
            id: row.id,
            topic: row.topic,
            action: row.action,
            subject_type: row.subject_type,
            subject_id: row.subject_id,
            actor_profile_id: row.actor_profile_id,
            after: row.after,
            occurred_at: row.created_at,
        });
        Ok(())
    }

    /// Commits, then publishes the recorded events in order.
    pub async fn commit(self) -> AppResult<()> {
        self.txn.commit().await?;
        if !self.events.is_empty() {
            self.state.bus.publish(self.events);
        }
        Ok(())
    }
}

/// Topic of everything about one user account (sessions, agents).
pub fn user_topic(user_id: Uuid) -> String {
    format!("user:{user_id}")
}

/// Topic of a profile's public changes.
pub fn profile_topic(profile_id: Uuid) -> String {
    format!("profile:{profile_id}")
}

/// Topic of an organization and its members.
pub fn organization_topic(organization_id: Uuid) -> String {
    format!("organization:{organization_id}")
}
