//! The unit of work: one transaction, its activity records, and events published after commit.
use entity::activity;
use futures_util::future::BoxFuture;
use sea_orm::{ActiveModelTrait, DatabaseTransaction, EntityTrait, Set, TransactionTrait};
use uuid::Uuid;

use super::{
    NewActivity,
    delivery::{delivery_streams, inbox_stream, inboxes},
    organization_topic,
};
use crate::{
    auth::Viewer,
    error::AppResult,
    events::{DomainEvent, StreamPos},
    state::AppState,
};

/// What another room adds to every unit of work, inside its transaction, once its events are
/// written (webhook deliveries, notification mails): rows written with the events, so none is
/// lost, and work to run after commit. Registered on the state (`AppState::commit_hooks`), so
/// the unit of work knows none of the rooms that listen.
pub type CommitHook = for<'s> fn(
    &'s AppState,
    &'s DatabaseTransaction,
    &'s [DomainEvent],
) -> BoxFuture<'s, AppResult<Option<AfterCommit>>>;

/// A database transaction that records activities and publishes their events only once it
/// has committed. Dropping it without `commit` rolls everything back and publishes nothing.
///
/// Activities are written at commit, after the heads of every stream they are filed under have
/// been locked in name order (the last locks a unit of work takes; see `domain`'s lock order):
/// ids and positions are therefore handed out in commit order per stream, which is what lets
/// a subscriber resume after any activity id with no gap and no duplicate.
pub struct UnitOfWork<'a> {
    state: &'a AppState,
    txn: DatabaseTransaction,
    actor_user_id: Option<Uuid>,
    actor_profile_id: Option<Uuid>,
    pending: Vec<Pending>,
    after_commit: Vec<AfterCommit>,
}

/// Work that must follow a commit (calling a provider about what the transaction recorded);
/// it must be safe to run again, as whatever recorded it also retries it.
pub type AfterCommit = Box<dyn for<'s> FnOnce(&'s AppState) -> futures_util::future::BoxFuture<'s, ()> + Send + Sync>;

/// An activity waiting for commit, with the actor at the time it was recorded.
struct Pending {
    activity: NewActivity,
    /// Profiles notified besides those the activity names (an event's attendees).
    also_notify: Vec<Uuid>,
    actor_user_id: Option<Uuid>,
    actor_profile_id: Option<Uuid>,
    at: chrono::DateTime<chrono::Utc>,
}

impl<'a> UnitOfWork<'a> {
    /// Begins a transaction on behalf of `viewer`.
    pub async fn begin(state: &'a AppState, viewer: &Viewer) -> AppResult<Self> {
        Ok(Self {
            state,
            txn: state.db.begin().await?,
            actor_user_id: viewer.user_id(),
            actor_profile_id: viewer.profile_id(),
            pending: Vec::new(),
            after_commit: Vec::new(),
        })
    }

    /// Runs `then` once this work has committed (never if it does not).
    pub fn after_commit(&mut self, then: AfterCommit) {
        self.after_commit.push(then);
    }

    /// Sets the actor when the caller becomes known inside the work (register, login).
    pub fn act_as(&mut self, user_id: Uuid, profile_id: Uuid) {
        self.actor_user_id = Some(user_id);
        self.actor_profile_id = Some(profile_id);
    }

    /// The profile on whose behalf the work runs, if any.
    pub fn actor_profile_id(&self) -> Option<Uuid> {
        self.actor_profile_id
    }

    /// Now, by the application's clock (the ledger and every record take their time here).
    pub fn now(&self) -> chrono::DateTime<chrono::Utc> {
        self.state.clock.now()
    }

    /// The open transaction: every read and write of the work goes through it.
    pub fn txn(&self) -> &DatabaseTransaction {
        &self.txn
    }

    /// Records an activity of this work; it is written (and notified) at commit.
    pub async fn record(&mut self, activity: NewActivity) -> AppResult<()> {
        self.record_notifying(activity, Vec::new()).await
    }

    /// Records an activity that also reaches these profiles' inboxes (the actor's excepted).
    pub async fn record_notifying(&mut self, activity: NewActivity, also_notify: Vec<Uuid>) -> AppResult<()> {
        self.pending.push(Pending {
            activity,
            also_notify,
            actor_user_id: self.actor_user_id,
            actor_profile_id: self.actor_profile_id,
            at: self.state.clock.now(),
        });
        Ok(())
    }

    /// Writes the activities, their stream positions and notifications, commits, then
    /// publishes the events in order.
    pub async fn commit(self) -> AppResult<()> {
        let Self { state, txn, pending, mut after_commit, .. } = self;
        let events = write_outbox(&txn, pending).await?;
        if !events.is_empty() {
            for hook in state.commit_hooks {
                after_commit.extend(hook(state, &txn, &events).await?);
            }
        }
        txn.commit().await?;
        if !events.is_empty() {
            state.bus.publish(events);
        }
        for then in after_commit {
            then(state).await;
        }
        Ok(())
    }
}

/// Writes pending activities with their positions; returns their events.
async fn write_outbox(txn: &DatabaseTransaction, pending: Vec<Pending>) -> AppResult<Vec<DomainEvent>> {
    use std::collections::BTreeMap;
    if pending.is_empty() {
        return Ok(Vec::new());
    }
    let inboxes =
        inboxes(txn, pending.iter().map(|p| (&p.activity, p.also_notify.as_slice(), p.actor_profile_id))).await?;
    let organizations = contract_organizations(txn, &pending).await?;
    let streams: Vec<Vec<String>> = pending
        .iter()
        .zip(&inboxes)
        .map(|(p, users)| {
            let mut streams = delivery_streams(&p.activity);
            // A contract's activity also reaches its organization's admins.
            if let Some(org) = contract_of(&p.activity.topic).and_then(|c| organizations.get(&c)) {
                streams.push(organization_topic(*org));
            }
            streams.extend(users.iter().map(|u| inbox_stream(*u)));
            streams.dedup();
            streams
        })
        .collect();
    // Lock every head in name order and reserve positions: (first free position, count).
    let mut counts: BTreeMap<&str, i64> = BTreeMap::new();
    for stream in streams.iter().flatten() {
        let count = counts.entry(stream.as_str()).or_insert(0);
        *count = count.saturating_add(1);
    }
    let mut next: BTreeMap<&str, i64> = BTreeMap::new();
    for (stream, count) in counts {
        next.insert(stream, reserve(txn, stream, count).await?);
    }
    let mut events = Vec::with_capacity(pending.len());
    let mut positions = Vec::new();
    let mut notifications = Vec::new();
    for ((p, streams), users) in pending.into_iter().zip(&streams).zip(inboxes) {
        let row = activity::ActiveModel {
            topic: Set(p.activity.topic),
            actor_user_id: Set(p.actor_user_id),
            actor_profile_id: Set(p.actor_profile_id),
            action: Set(p.activity.action.as_str().to_owned()),
            subject_type: Set(p.activity.subject_type.to_owned()),
            subject_id: Set(p.activity.subject_id),
            before: Set(p.activity.before),
            after: Set(p.activity.after),
            created_at: Set(p.at),
            ..Default::default()
        }
        .insert(txn)
        .await?;
        let mut event = DomainEvent::from_row(row);
        for stream in streams {
            let Some(seq) = next.get_mut(stream.as_str()) else { continue };
            event.streams.push(StreamPos { stream: stream.clone(), seq: *seq });
            positions.push(entity::activity_stream::ActiveModel {
                stream: Set(stream.clone()),
                seq: Set(*seq),
                activity_id: Set(event.id),
            });
            *seq = seq.saturating_add(1);
        }
        notifications.extend(users.into_iter().map(|user_id| entity::notification::ActiveModel {
            user_id: Set(user_id),
            activity_id: Set(event.id),
            read_at: Set(None),
            created_at: Set(event.occurred_at),
            ..Default::default()
        }));
        events.push(event);
    }
    // In chunks: an event's attendees can be many, and a statement's parameters are bounded.
    let mut positions = positions.into_iter().peekable();
    while positions.peek().is_some() {
        entity::activity_stream::Entity::insert_many(positions.by_ref().take(INSERT_CHUNK)).exec(txn).await?;
    }
    let mut notifications = notifications.into_iter().peekable();
    while notifications.peek().is_some() {
        entity::notification::Entity::insert_many(notifications.by_ref().take(INSERT_CHUNK)).exec(txn).await?;
    }
    Ok(events)
}

/// Rows per multi-row insert of the outbox (4 parameters a row, well below SQLite's bound).
const INSERT_CHUNK: usize = 1_000;

/// The contract a topic is about, if it is a contract's.
fn contract_of(topic: &str) -> Option<Uuid> {
    topic.strip_prefix("contract:").and_then(|id| id.parse().ok())
}

/// The organizations of the contracts the pending activities are about (one query, none when
/// no activity is a contract's).
async fn contract_organizations(
    txn: &DatabaseTransaction,
    pending: &[Pending],
) -> AppResult<std::collections::HashMap<Uuid, Uuid>> {
    use sea_orm::{ColumnTrait, QueryFilter, QuerySelect};
    let mut contracts: Vec<Uuid> = pending.iter().filter_map(|p| contract_of(&p.activity.topic)).collect();
    contracts.sort_unstable();
    contracts.dedup();
    if contracts.is_empty() {
        return Ok(std::collections::HashMap::new());
    }
    let rows: Vec<(Uuid, Option<Uuid>)> = entity::contract::Entity::find()
        .select_only()
        .columns([entity::contract::Column::Id, entity::contract::Column::OrganizationId])
        .filter(entity::contract::Column::Id.is_in(contracts))
        .into_tuple()
        .all(txn)
        .await?;
    Ok(rows.into_iter().filter_map(|(c, org)| org.map(|o| (c, o))).collect())
}

/// Takes a stream's head (locking its row until commit) and reserves `count` positions;
/// returns the first.
async fn reserve(txn: &DatabaseTransaction, stream: &str, count: i64) -> AppResult<i64> {
    use entity::stream_head::{ActiveModel, Column, Entity};
    use sea_orm::sea_query::{Expr, ExprTrait, OnConflict};
    let head = Entity::insert(ActiveModel { stream: Set(stream.to_owned()), seq: Set(count) })
        .on_conflict(
            OnConflict::column(Column::Stream)
                .value(Column::Seq, Expr::col((Entity, Column::Seq)).add(count))
                .to_owned(),
        )
        .exec_with_returning(txn)
        .await?;
    Ok(head.seq.saturating_sub(count).saturating_add(1))
}
