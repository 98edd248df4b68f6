//! Per-request DataLoaders: a page of N items costs one statement per relation, not N.
//!
//! Batches form in waves, not in time windows. A request runs inside [`drive`], which polls
//! it until nothing in it can move without outside input (a database answer); only then are
//! the batches collected so far started. Every sibling of a list asks for its keys in the same
//! wave, so a page costs the same statements whatever its size or the machine's speed, and no
//! request waits a timer. Within a request a key is queried at most once: asked again, it is
//! answered by the batch that has (or will have) it.
use std::{
    collections::HashMap,
    future::Future,
    pin::pin,
    sync::{
        Arc, Mutex, PoisonError,
        atomic::{AtomicBool, Ordering},
    },
    task::{Poll, Wake, Waker},
};

use entity::{
    community, community_member::CommunityRole, contract, event_rsvp, gig, organization, outcome, profile,
    profile_skill, task, task_assignment, task_submission,
};
use futures_util::{
    future::{BoxFuture, FutureExt, Shared},
    task::AtomicWaker,
};
use tokio::sync::oneshot;
use uuid::Uuid;

use crate::{auth::Viewer, domain, error::AppError, state::AppState};

type Loaded<V> = Result<Arc<HashMap<Uuid, V>>, Arc<AppError>>;
type Batch<V> = Shared<BoxFuture<'static, Loaded<V>>>;
/// The keys of a collecting batch; `None` once its query took them.
type Keys = Arc<Mutex<Option<Vec<Uuid>>>>;
/// A domain query by many keys, given the state and the viewer's profile id.
type BatchQuery<V> = fn(AppState, Option<Uuid>, Vec<Uuid>) -> BoxFuture<'static, Result<HashMap<Uuid, V>, AppError>>;

/// The gates of a request's collecting batches: each opens when the request is quiescent.
#[derive(Default)]
pub struct Waves {
    gates: Mutex<Vec<oneshot::Sender<()>>>,
}

impl Waves {
    fn gate(&self) -> oneshot::Receiver<()> {
        let (open, gate) = oneshot::channel();
        self.gates.lock().unwrap_or_else(PoisonError::into_inner).push(open);
        gate
    }

    /// Whether a batch waits for its gate.
    fn collecting(&self) -> bool {
        !self.gates.lock().unwrap_or_else(PoisonError::into_inner).is_empty()
    }

    /// Opens every gate; whether there was one.
    fn open(&self) -> bool {
        let gates = std::mem::take(&mut *self.gates.lock().unwrap_or_else(PoisonError::into_inner));
        let any = !gates.is_empty();
        for gate in gates {
            let _ = gate.send(());
        }
        any
    }
}

/// Remembers that the request was woken, and passes the wake on to the task that runs it.
#[derive(Default)]
struct Woken {
    flag: AtomicBool,
    outer: AtomicWaker,
}

impl Wake for Woken {
    fn wake(self: Arc<Self>) {
        self.wake_by_ref();
    }

    fn wake_by_ref(self: &Arc<Self>) {
        self.flag.store(true, Ordering::SeqCst);
        self.outer.wake();
    }
}

/// Polls in a row before the driver yields to the runtime (a request that keeps waking itself).
const POLLS_PER_TURN: usize = 32;

/// Runs `request`, starting its collecting batches whenever it cannot move otherwise: it was
/// polled, nothing woke it meanwhile, and nothing did during one more turn of the scheduler
/// either (tokio defers some wakes, such as a yield or a spent budget, until the poll is over).
pub async fn drive<F: Future>(waves: Arc<Waves>, request: F) -> F::Output {
    let woken = Arc::new(Woken::default());
    let waker = Waker::from(woken.clone());
    let mut request = pin!(request);
    let mut turn: Option<BoxFuture<'static, ()>> = None;
    std::future::poll_fn(move |cx| {
        woken.outer.register(cx.waker());
        let mut inner = std::task::Context::from_waker(&waker);
        for _ in 0..POLLS_PER_TURN {
            if let Some(waiting) = turn.as_mut() {
                if waiting.as_mut().poll(cx).is_pending() {
                    return Poll::Pending;
                }
                turn = None;
                if !woken.flag.load(Ordering::SeqCst) && !waves.open() {
                    return Poll::Pending;
                }
            }
            woken.flag.store(false, Ordering::SeqCst);
            if let Poll::Ready(output) = request.as_mut().poll(&mut inner) {
                return Poll::Ready(output);
            }
            // Woken while polled: something is ready, so the wave is not complete yet.
            if !woken.flag.load(Ordering::SeqCst) {
                if !waves.collecting() {
                    return Poll::Pending;
                }
                turn = Some(tokio::task::yield_now().boxed());
            }
        }
        cx.waker().wake_by_ref();
        Poll::Pending
    })
    .await
}

/// A request's loader of one relation: keys asked for in one wave share one query, and what
/// was found is kept for the rest of the request.
pub struct Cached<V: Clone + Send + Sync + 'static> {
    state: AppState,
    viewer: Option<Uuid>,
    query: BatchQuery<V>,
    waves: Arc<Waves>,
    slot: Mutex<Slot<V>>,
}

struct Slot<V: Clone + Send + Sync + 'static> {
    /// Every key asked for, with the batch that answers it.
    batches: HashMap<Uuid, Batch<V>>,
    /// The batch still collecting keys (its keys are taken when its gate opens).
    collecting: Option<(Keys, Batch<V>)>,
}

impl<V: Clone + Send + Sync + 'static> Cached<V> {
    fn new(state: &AppState, viewer: Option<Uuid>, waves: &Arc<Waves>, query: BatchQuery<V>) -> Self {
        let slot = Slot { batches: HashMap::new(), collecting: None };
        Self { state: state.clone(), viewer, query, waves: waves.clone(), slot: Mutex::new(slot) }
    }

    /// The value of one key, if it exists.
    pub async fn load_one(&self, key: Uuid) -> Result<Option<V>, Arc<AppError>> {
        Ok(self.load_many([key]).await?.remove(&key))
    }

    /// The values of the keys that exist.
    pub async fn load_many(&self, keys: impl IntoIterator<Item = Uuid>) -> Result<HashMap<Uuid, V>, Arc<AppError>> {
        let mut found = HashMap::new();
        let mut asked = Vec::new();
        let mut waiting: Vec<Batch<V>> = Vec::new();
        {
            let mut slot = self.slot.lock().unwrap_or_else(PoisonError::into_inner);
            for key in keys {
                let batch = match slot.batches.get(&key) {
                    Some(batch) => batch.clone(),
                    None => {
                        let batch = self.collect(&mut slot, key);
                        slot.batches.insert(key, batch.clone());
                        batch
                    }
                };
                asked.push(key);
                if !waiting.iter().any(|w| w.ptr_eq(&batch)) {
                    waiting.push(batch);
                }
            }
        }
        for batch in waiting {
            let rows = batch.await?;
            found.extend(asked.iter().filter_map(|k| rows.get(k).map(|v| (*k, v.clone()))));
        }
        Ok(found)
    }

    /// Keeps values a list loaded with its own statement (a look-ahead join): asked for later
    /// in the request, they cost nothing.
    pub fn prime(&self, values: HashMap<Uuid, V>) {
        if values.is_empty() {
            return;
        }
        let keys: Vec<Uuid> = values.keys().copied().collect();
        let ready: Batch<V> = futures_util::future::ready(Ok(Arc::new(values))).boxed().shared();
        let mut slot = self.slot.lock().unwrap_or_else(PoisonError::into_inner);
        for key in keys {
            slot.batches.entry(key).or_insert_with(|| ready.clone());
        }
    }

    /// Adds `key` to the collecting batch, or starts collecting a new one.
    fn collect(&self, slot: &mut Slot<V>, key: Uuid) -> Batch<V> {
        if let Some((keys, batch)) = &slot.collecting
            && let Some(keys) = keys.lock().unwrap_or_else(PoisonError::into_inner).as_mut()
        {
            keys.push(key);
            return batch.clone();
        }
        let keys: Keys = Arc::new(Mutex::new(Some(vec![key])));
        let gate = self.waves.gate();
        let (state, viewer, query, taken) = (self.state.clone(), self.viewer, self.query, keys.clone());
        let batch = async move {
            // A dropped gate (the request is gone) only means nobody waits for the answer.
            let _ = gate.await;
            let keys = taken.lock().unwrap_or_else(PoisonError::into_inner).take().unwrap_or_default();
            query(state, viewer, keys).await.map(Arc::new).map_err(Arc::new)
        }
        .boxed()
        .shared();
        slot.collecting = Some((keys, batch.clone()));
        batch
    }
}

/// Declares the loaders of a request: each field is a domain query by many keys; `viewer`
/// queries also receive the viewer's profile id (and find nothing without one).
macro_rules! loaders {
    ($($(#[doc = $doc:literal])* $field:ident: $value:ty = $kind:ident $query:path;)*) => {
        /// The loaders of one request.
        pub struct Loaders {
            $($(#[doc = $doc])* pub $field: Cached<$value>,)*
        }

        impl Loaders {
            /// Fresh loaders (and caches) for one request of `viewer`, batching in `waves`
            /// (the request must run inside [`drive`] with them).
            pub fn new(state: &AppState, viewer: &Viewer, waves: &Arc<Waves>) -> Self {
                let me = viewer.profile_id();
                Self {
                    $($field: Cached::new(state, me, waves, |state, me, keys| {
                        async move { loaders!(@call $kind $query, state, me, keys) }.boxed()
                    }),)*
                }
            }
        }
    };
    (@call plain $query:path, $state:ident, $me:ident, $keys:ident) => {{
        let _ = $me;
        $query(&$state.db, &$keys).await
    }};
    (@call viewer $query:path, $state:ident, $me:ident, $keys:ident) => {{
        match $me {
            Some(me) => $query(&$state.db, me, &$keys).await,
            None => Ok(HashMap::new()),
        }
    }};
}

loaders! {
    /// Profiles by id.
    profiles: profile::Model = plain domain::profile::by_ids;
    /// Reputation parts by profile id (profiles with no history are absent).
    reputation: domain::reputation::Parts = plain domain::reputation::parts_of;
    /// The newest reviews by subject profile id.
    reviews: Vec<entity::review::Model> = plain domain::reputation::reviews_of;
    /// Skills by profile id.
    skills: Vec<profile_skill::Model> = plain domain::profile::skills_of;
    /// Person profiles by user id.
    people_by_user: profile::Model = plain domain::profile::by_user_ids;
    /// Organizations by id.
    organizations: organization::Model = plain domain::organization::by_ids;
    /// Communities by id.
    communities: community::Model = plain domain::community::by_ids;
    /// Tags by community id.
    community_tags: Vec<String> = plain domain::community::tags_of;
    /// Member counts by community id.
    member_counts: i64 = plain domain::community::member_counts;
    /// Post counts by community id.
    post_counts: i64 = plain domain::conversation::post_counts;
    /// Comment counts by post id.
    comment_counts: i64 = plain domain::conversation::comment_counts;
    /// The viewer's role by community id.
    my_community_roles: CommunityRole = viewer domain::community::roles_of;
    /// Gigs by id.
    gigs: gig::Model = plain domain::gig::by_ids;
    /// Required skills by gig id.
    gig_skills: Vec<String> = plain domain::gig::skills_of;
    /// The viewer's RSVP by event id.
    my_rsvps: event_rsvp::Model = viewer domain::event::rsvps_of;
    /// Waitlist lengths by event id.
    waitlist_counts: i64 = plain domain::event::waitlist_counts;
    /// Contracts by id (callers check access).
    contracts: contract::Model = plain domain::contract::by_ids;
    /// Outcomes by contract id, oldest first.
    outcomes: Vec<outcome::Model> = plain domain::outcome::of_contracts;
    /// Outcomes by id.
    outcome: outcome::Model = plain domain::outcome::by_ids;
    /// Tasks by outcome id, oldest first.
    tasks: Vec<task::Model> = plain domain::task::of_outcomes;
    /// Required skills by task id.
    task_skills: Vec<String> = plain domain::task::skills_of;
    /// Submissions by task id, newest first.
    submissions: Vec<task_submission::Model> = plain domain::task::review::submissions_of;
    /// Assignment history by task id, oldest first.
    history: Vec<task_assignment::Model> = plain domain::task::assignment::history_of;
    /// Disputes by outcome id.
    disputes: entity::dispute::Model = plain domain::ledger::dispute::of_outcomes;
    /// Escrow figures by contract id (callers check access).
    escrow: domain::ledger::reading::ContractTotals = plain domain::ledger::reading::contract_totals;
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn batches_start_only_once_the_request_cannot_move_otherwise() {
        let waves = Arc::new(Waves::default());
        let seen = Mutex::new(Vec::new());
        let log = |what: &'static str| seen.lock().unwrap_or_else(PoisonError::into_inner).push(what);
        let gate = waves.gate();
        drive(waves.clone(), async {
            let batch = async {
                let _ = gate.await;
                log("batch started");
            };
            // A sibling still busy (it wakes itself) when the batch began collecting.
            let sibling = async {
                for _ in 0..100 {
                    tokio::task::yield_now().await;
                }
                log("sibling done");
            };
            futures_util::future::join(batch, sibling).await;
        })
        .await;
        assert_eq!(*seen.lock().unwrap_or_else(PoisonError::into_inner), ["sibling done", "batch started"]);
        assert!(!waves.open(), "every gate was opened");
    }
}
