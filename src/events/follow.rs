//! A subscription's view of one stream: replay from the outbox, then live, with no gap and no
//! duplicate; access re-checked when it may have changed.
//!
//! Positions on a stream are dense, so the follower knows what it has seen: a delivery at
//! `seq <= last` is a duplicate (skipped), `seq == last + 1` is next, and anything further, a
//! lag or a bus resync makes it re-read the stream from the database first. Writers hold the
//! stream's head row until commit, so whatever a later position reveals is already committed.
use std::sync::Arc;

use async_trait::async_trait;
use futures_util::Stream;
use sea_orm::{ColumnTrait, DatabaseConnection, EntityTrait, QueryFilter, QueryOrder, QuerySelect};
use std::collections::VecDeque;

use super::{Delivery, DomainEvent, Hub, Listener, Missed};
use crate::error::{AppError, AppResult};

/// Rows read per replay query.
const REPLAY_PAGE: u64 = 200;

/// What an event on the followed stream means for the subscriber's access.
pub enum Verdict {
    /// Nothing changed.
    Keep,
    /// Access may have changed: ask [`Gate::check`] before delivering anything more.
    Recheck,
    /// Access is gone: end the stream with this error.
    End(AppError),
}

/// Who may see what on a followed stream, decided per subscriber.
#[async_trait]
pub trait Gate: Send + Sync + 'static {
    /// Whether the subscriber may see this event.
    fn visible(&self, event: &DomainEvent) -> bool;
    /// What this event means for the subscriber's access (checked before it is delivered).
    fn on_event(&self, _event: &DomainEvent) -> Verdict {
        Verdict::Keep
    }
    /// Whether the subscriber may still follow, from the database.
    async fn check(&self) -> AppResult<()>;
}

/// What to follow.
pub struct Follow {
    /// The stream, e.g. `community:<uuid>`.
    pub stream: String,
    /// Replay what came after this activity id first; without it, only what comes next.
    pub after: Option<i64>,
    /// The subscriber's access stream (`access:<profile>`): any event there re-checks access.
    pub access: Option<String>,
    /// When the subscriber's credentials expire: the stream ends then.
    pub expires_in: Option<std::time::Duration>,
}

/// Starts following. The start position is read first, then the follower listens, then it
/// reads what was committed in between: once the hub counts the listener, every later event
/// reaches the subscriber.
pub async fn follow<G: Gate>(
    db: DatabaseConnection,
    hub: &Arc<Hub>,
    spec: Follow,
    gate: G,
) -> AppResult<impl Stream<Item = AppResult<Arc<DomainEvent>>> + Send + 'static + use<G>> {
    let last = match spec.after {
        Some(after) => position_at(&db, &spec.stream, after).await?,
        None => head(&db, &spec.stream).await?,
    };
    let mut state = Box::new(Follower {
        db,
        live: hub.listen(&spec.stream),
        access: spec.access.as_deref().map(|s| hub.listen(s)),
        last,
        pending: VecDeque::new(),
        behind: false,
        gate: Box::new(gate),
        deadline: spec.expires_in.map(|d| tokio::time::Instant::now() + d),
        done: false,
    });
    state.refill().await?;
    Ok(futures_util::stream::unfold(state, |mut state| async move {
        let item = state.next().await?;
        Some((item, state))
    }))
}

/// Why a follower woke up.
enum Wake {
    Expired,
    Access(Result<Delivery, Missed>),
    Live(Result<Delivery, Missed>),
}

struct Follower {
    db: DatabaseConnection,
    live: Listener,
    access: Option<Listener>,
    last: i64,
    pending: VecDeque<Arc<DomainEvent>>,
    /// The last outbox page read was full: more follows before live resumes.
    behind: bool,
    gate: Box<dyn Gate>,
    deadline: Option<tokio::time::Instant>,
    done: bool,
}

impl Follower {
    /// The next event to deliver, an error that ends the stream, or the end.
    async fn next(&mut self) -> Option<AppResult<Arc<DomainEvent>>> {
        if self.done {
            return None;
        }
        let result = self.advance().await;
        if result.is_err() {
            self.done = true;
        }
        Some(result)
    }

    async fn advance(&mut self) -> AppResult<Arc<DomainEvent>> {
        loop {
            if let Some(event) = self.pending.pop_front() {
                return Ok(event);
            }
            // A long replay is read one page at a time, as the subscriber takes it: memory stays
            // bounded whatever `after` asks for (live deliveries meanwhile are re-read too).
            if self.behind {
                Box::pin(self.refill()).await?;
                continue;
            }
            let deadline = self.deadline;
            let expired = async move {
                match deadline {
                    Some(at) => tokio::time::sleep_until(at).await,
                    None => std::future::pending().await,
                }
            };
            let access_listener = self.access.as_mut();
            let access = async move {
                match access_listener {
                    Some(listener) => listener.recv().await,
                    None => std::future::pending().await,
                }
            };
            let wake = tokio::select! {
                () = expired => Wake::Expired,
                change = access => Wake::Access(change),
                delivery = self.live.recv() => Wake::Live(delivery),
            };
            match wake {
                Wake::Expired => {
                    return Err(AppError::Unauthenticated(
                        "the access token expired; subscribe again with a fresh one".into(),
                    ));
                }
                Wake::Access(change) => {
                    if matches!(change, Err(Missed::Closed)) {
                        self.access = None;
                    }
                    self.gate.check().await?;
                }
                Wake::Live(Ok(Delivery::Event { event, seq })) if seq == self.last + 1 => {
                    self.last = seq;
                    Box::pin(self.admit(event)).await?;
                }
                Wake::Live(Ok(Delivery::Event { seq, .. })) if seq <= self.last => {}
                // Boxed, like every database read here: an idle follower keeps no room for it.
                Wake::Live(Ok(_) | Err(Missed::Lagged)) => Box::pin(self.refill()).await?,
                Wake::Live(Err(Missed::Closed)) => {
                    return Err(AppError::Internal(anyhow::anyhow!("the event hub closed")));
                }
            }
        }
    }

    /// Delivers an event at the next position, after what it means for access.
    async fn admit(&mut self, event: Arc<DomainEvent>) -> AppResult<()> {
        match self.gate.on_event(&event) {
            Verdict::Keep => {}
            Verdict::Recheck => self.gate.check().await?,
            Verdict::End(err) => return Err(err),
        }
        if self.gate.visible(&event) {
            self.pending.push_back(event);
        }
        Ok(())
    }

    /// Reads the next page after `last` from the outbox.
    async fn refill(&mut self) -> AppResult<()> {
        let rows = entity::activity_stream::Entity::find()
            .filter(entity::activity_stream::Column::Stream.eq(self.live.stream()))
            .filter(entity::activity_stream::Column::Seq.gt(self.last))
            .order_by_asc(entity::activity_stream::Column::Seq)
            .limit(REPLAY_PAGE)
            .find_also_related(entity::activity::Entity)
            .all(&self.db)
            .await?;
        self.behind = rows.len() as u64 == REPLAY_PAGE;
        for (position, activity) in rows {
            self.last = position.seq;
            if let Some(activity) = activity {
                self.admit(Arc::new(DomainEvent::from_row(activity))).await?;
            }
        }
        Ok(())
    }
}

/// The position of the last activity at or before `activity_id` on a stream (0 if none).
async fn position_at(db: &DatabaseConnection, stream: &str, activity_id: i64) -> AppResult<i64> {
    use entity::activity_stream::{Column, Entity};
    let seq: Option<Option<i64>> = Entity::find()
        .select_only()
        .column_as(Column::Seq.max(), "seq")
        .filter(Column::Stream.eq(stream))
        .filter(Column::ActivityId.lte(activity_id))
        .into_tuple()
        .one(db)
        .await?;
    Ok(seq.flatten().unwrap_or(0))
}

/// The last position handed out on a stream (0 if none yet).
async fn head(db: &DatabaseConnection, stream: &str) -> AppResult<i64> {
    Ok(entity::stream_head::Entity::find_by_id(stream.to_owned()).one(db).await?.map_or(0, |h| h.seq))
}
