//! Per-request DataLoaders: a page of N items costs one statement per relation, not N.
//!
//! Each loader is a domain query by many keys. Within a request a key is queried at most once:
//! a key asked for again while its batch is still in flight waits for that batch instead of
//! starting another (async-graphql's cache only knows finished batches), so the statements a
//! page costs do not depend on which batch happens to finish first.
use std::{
    collections::HashMap,
    future::Future,
    sync::{Arc, Mutex},
    time::Duration,
};

use async_graphql::dataloader::{DataLoader, HashMapCache, Loader};
use entity::{
    community, community_member::CommunityRole, contract, event_rsvp, gig, organization, outcome, profile,
    profile_skill, task, task_assignment, task_submission,
};
use futures_util::future::{BoxFuture, FutureExt, Shared};
use uuid::Uuid;

use crate::{auth::Viewer, domain, error::AppError, state::AppState, telemetry};

type Loaded<V> = Result<Arc<HashMap<Uuid, V>>, Arc<AppError>>;
/// A domain query by many keys, given the state and the viewer's profile id.
type BatchQuery<V> = fn(AppState, Option<Uuid>, Vec<Uuid>) -> BoxFuture<'static, Result<HashMap<Uuid, V>, AppError>>;

/// A batch query by keys, with in-flight batches shared by key.
pub struct Batched<V: Clone + Send + Sync + 'static> {
    state: AppState,
    viewer: Option<Uuid>,
    query: BatchQuery<V>,
    in_flight: Mutex<HashMap<Uuid, Shared<BoxFuture<'static, Loaded<V>>>>>,
}

impl<V: Clone + Send + Sync + 'static> Loader<Uuid> for Batched<V> {
    type Value = V;
    type Error = Arc<AppError>;

    async fn load(&self, keys: &[Uuid]) -> Result<HashMap<Uuid, V>, Self::Error> {
        let (fresh, waiting) = {
            let mut in_flight = self.in_flight.lock().map_err(|_| Arc::new(poisoned()))?;
            let fresh: Vec<Uuid> = keys.iter().copied().filter(|k| !in_flight.contains_key(k)).collect();
            let batch = (!fresh.is_empty()).then(|| {
                let query = (self.query)(self.state.clone(), self.viewer, fresh.clone());
                let batch: BoxFuture<'static, Loaded<V>> =
                    async move { query.await.map(Arc::new).map_err(Arc::new) }.boxed();
                batch.shared()
            });
            if let Some(batch) = &batch {
                for key in &fresh {
                    in_flight.insert(*key, batch.clone());
                }
            }
            let mut waiting: Vec<Shared<BoxFuture<'static, Loaded<V>>>> = Vec::new();
            for key in keys.iter().filter(|k| !fresh.contains(k)) {
                if let Some(other) = in_flight.get(key)
                    && !waiting.iter().any(|w| w.ptr_eq(other))
                {
                    waiting.push(other.clone());
                }
            }
            (batch, waiting)
        };
        let mut found = HashMap::with_capacity(keys.len());
        for batch in fresh.into_iter().chain(waiting) {
            let rows = batch.await?;
            found.extend(keys.iter().filter_map(|k| rows.get(k).map(|v| (*k, v.clone()))));
        }
        Ok(found)
    }
}

fn poisoned() -> AppError {
    AppError::Internal(anyhow::anyhow!("a loader's in-flight map was poisoned"))
}

/// A loader that also caches within its request, so lists can prime it (`feed_many`).
pub type Cached<V> = DataLoader<Batched<V>, HashMapCache>;

/// Declares the loaders of a request: each field is a domain query by many keys; `viewer`
/// queries also receive the viewer's profile id (and find nothing without one).
macro_rules! loaders {
    ($($(#[doc = $doc:literal])* $field:ident: $value:ty = $kind:ident $query:path;)*) => {
        /// The loaders of one request.
        pub struct Loaders {
            $($(#[doc = $doc])* pub $field: Cached<$value>,)*
        }

        impl Loaders {
            /// Fresh loaders (and caches) for one request of `viewer`.
            pub fn new(state: &AppState, viewer: &Viewer) -> Self {
                let me = viewer.profile_id();
                let window = state.config.limits.loader_batch_window;
                Self {
                    $($field: loader(state, me, window, |state, me, keys| {
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
    /// Skills by profile id.
    skills: Vec<profile_skill::Model> = plain domain::profile::skills_of;
    /// Person profiles by user id.
    people_by_user: profile::Model = plain domain::profile::by_user_ids;
    /// Organizations by id.
    organizations: organization::Model = plain domain::organization::by_ids;
    /// Communities by id.
    communities: community::Model = plain domain::community::by_ids;
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

/// A loader collecting keys for `window` (config `limits.loader_batch_window`) before it
/// queries. Its batches run in the request's statement count (`telemetry::StatementCount`).
fn loader<V: Clone + Send + Sync + 'static>(
    state: &AppState,
    viewer: Option<Uuid>,
    window: Duration,
    query: BatchQuery<V>,
) -> Cached<V> {
    let batched = Batched { state: state.clone(), viewer, query, in_flight: Mutex::new(HashMap::new()) };
    let counter = telemetry::StatementCount::current();
    DataLoader::with_cache(batched, move |task| spawn_counted(counter.clone(), task), HashMapCache::default())
        .delay(window)
}

fn spawn_counted<F>(counter: Option<telemetry::StatementCount>, task: F)
where
    F: Future<Output = ()> + Send + 'static,
{
    match counter {
        Some(counter) => {
            tokio::spawn(counter.scope(task));
        }
        None => {
            tokio::spawn(task);
        }
    }
}
