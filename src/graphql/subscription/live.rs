//! Running subscriptions cheaply: async-graphql executes a subscription once to validate it,
//! check its arguments and access and start its follower, and then lets go of it. What stays
//! per subscriber is the follower (listener, gate, position); each event is rendered once per
//! group of subscribers with the same document and variables, and its JSON shared by all of
//! them. Payloads depend only on the event, never on the viewer (visibility is the gate's
//! business, decided per subscriber before rendering).
use std::{
    collections::{HashMap, VecDeque},
    sync::{
        Arc, Mutex, PoisonError, Weak,
        atomic::{AtomicU64, Ordering},
    },
};

use async_graphql::{Pos, Request, Response, ServerError, Value, Variables};
use futures_util::{
    Stream, StreamExt,
    stream::{self, BoxStream},
};
use tokio::sync::OnceCell;

use super::super::{AppSchema, error::to_graphql_error, to_server_error};
use crate::{
    error::{AppError, AppResult},
    events::DomainEvent,
};

/// Renders kept per group: subscribers of one group take events in the same order, so the few
/// latest are all that the slowest of them still asks for (older ones are rendered again).
const RECENT: usize = 16;

/// A follower's events, as the resolver that started it hands them over.
pub(crate) type Events = BoxStream<'static, AppResult<Arc<DomainEvent>>>;

/// Request data of the run that starts a subscription: its resolver leaves the follower here
/// instead of returning a stream async-graphql would keep running.
#[derive(Clone, Default)]
pub(crate) struct Capture(Arc<Mutex<Option<Captured>>>);

/// What a started subscription left behind.
pub(crate) struct Captured {
    events: Events,
    /// The root field's response key (its alias or name), the path of an error that ends it.
    field: String,
    pos: Pos,
}

impl Capture {
    /// Keeps the follower of the subscription's root field.
    pub(crate) fn put(&self, events: Events, field: String, pos: Pos) -> AppResult<()> {
        let mut slot = self.0.lock().unwrap_or_else(PoisonError::into_inner);
        if slot.is_some() {
            return Err(AppError::bad_input("query", "a subscription selects exactly one root field"));
        }
        *slot = Some(Captured { events, field, pos });
        Ok(())
    }

    fn take(&self) -> Option<Captured> {
        self.0.lock().unwrap_or_else(PoisonError::into_inner).take()
    }
}

/// Request data of a run that renders one event: the resolver answers with it alone.
pub(crate) struct Render(pub(crate) Arc<DomainEvent>);

/// What a live subscription sends.
#[derive(Clone, Debug)]
pub enum LiveItem {
    /// A `next` payload, serialized once for every subscriber of the group.
    Next(Arc<str>),
    /// The subscription failed or ended with these errors (access lost, credentials expired).
    Failed(Vec<ServerError>),
}

/// Identical subscriptions: the same document, operation and variables render alike.
#[derive(Clone, PartialEq, Eq, Hash)]
struct GroupKey {
    query: String,
    operation_name: Option<String>,
    variables: String,
}

type Groups = Mutex<HashMap<Arc<GroupKey>, Weak<Group>>>;

/// Starts subscriptions and renders their events once per group, for one process.
pub struct LiveSubscriptions {
    schema: AppSchema,
    groups: Arc<Groups>,
    renders: Arc<AtomicU64>,
}

impl LiveSubscriptions {
    /// Live subscriptions executed on `schema`.
    pub fn new(schema: AppSchema) -> Self {
        Self { schema, groups: Arc::default(), renders: Arc::default() }
    }

    /// Events rendered so far (once per event and group, however many subscribers it has).
    pub fn renders(&self) -> u64 {
        self.renders.load(Ordering::Relaxed)
    }

    /// Groups with at least one subscriber.
    pub fn group_count(&self) -> usize {
        let groups = self.groups.lock().unwrap_or_else(PoisonError::into_inner);
        groups.values().filter(|g| g.strong_count() > 0).count()
    }

    /// Starts a subscription (`request` carries the viewer and its limits' data). The stream
    /// first runs the subscription once — validation, arguments, access, the follower's start —
    /// and yields `Failed` if that refuses it; then one item per visible event.
    pub fn start(&self, request: Request) -> impl Stream<Item = LiveItem> + Send + 'static + use<> {
        let key = GroupKey {
            query: request.query.clone(),
            operation_name: request.operation_name.clone(),
            variables: serde_json::to_string(&request.variables).unwrap_or_default(),
        };
        let variables = request.variables.clone();
        let (schema, groups, renders) = (self.schema.clone(), self.groups.clone(), self.renders.clone());
        let setup = Box::pin(async move {
            // Joined first: once the follower listens, its group exists.
            let group = Group::join(&groups, key, variables, schema.clone(), renders);
            let capture = Capture::default();
            let mut run = schema.execute_stream(request.data(capture.clone()));
            let mut errors = Vec::new();
            while let Some(response) = run.next().await {
                errors.extend(response.errors);
            }
            drop(run);
            match capture.take() {
                Some(captured) if errors.is_empty() => follow(captured, group).boxed(),
                _ => {
                    if errors.is_empty() {
                        errors.push(to_server_error(&AppError::Internal(anyhow::anyhow!(
                            "a subscription started no stream"
                        ))));
                    }
                    stream::iter([LiveItem::Failed(errors)]).boxed()
                }
            }
        });
        stream::once(setup).flatten()
    }
}

/// One item per event of a started subscription, rendered by its group.
fn follow(captured: Captured, group: Arc<Group>) -> impl Stream<Item = LiveItem> + Send + 'static {
    let Captured { events, field, pos } = captured;
    let failure = Arc::new((field, pos));
    events.then(move |item| {
        let (group, failure) = (group.clone(), failure.clone());
        // Boxed: an idle subscriber keeps no room for a render in progress.
        Box::pin(async move {
            match item {
                Ok(event) => group.render(event).await,
                Err(err) => {
                    let (field, pos) = &*failure;
                    LiveItem::Failed(vec![
                        to_graphql_error(&err)
                            .into_server_error(*pos)
                            .with_path(vec![async_graphql::PathSegment::Field(field.clone())]),
                    ])
                }
            }
        })
    })
}

/// Subscribers with the same document and variables, and their latest renders.
struct Group {
    key: Arc<GroupKey>,
    variables: Variables,
    schema: AppSchema,
    groups: Weak<Groups>,
    renders: Arc<AtomicU64>,
    recent: Mutex<VecDeque<(i64, Arc<OnceCell<LiveItem>>)>>,
}

impl Group {
    /// The live group for `key`, made when it has none.
    fn join(
        groups: &Arc<Groups>,
        key: GroupKey,
        variables: Variables,
        schema: AppSchema,
        renders: Arc<AtomicU64>,
    ) -> Arc<Self> {
        let mut map = groups.lock().unwrap_or_else(PoisonError::into_inner);
        if let Some(group) = map.get(&key).and_then(Weak::upgrade) {
            return group;
        }
        let key = Arc::new(key);
        let group = Arc::new(Self {
            key: key.clone(),
            variables,
            schema,
            groups: Arc::downgrade(groups),
            renders,
            recent: Mutex::new(VecDeque::with_capacity(RECENT)),
        });
        map.insert(key, Arc::downgrade(&group));
        group
    }

    /// The event as this group's subscribers see it, rendered by the first that asks.
    async fn render(&self, event: Arc<DomainEvent>) -> LiveItem {
        let cell = {
            let mut recent = self.recent.lock().unwrap_or_else(PoisonError::into_inner);
            match recent.iter().find(|(id, _)| *id == event.id) {
                Some((_, cell)) => cell.clone(),
                None => {
                    if recent.len() == RECENT {
                        recent.pop_front();
                    }
                    let cell = Arc::new(OnceCell::new());
                    recent.push_back((event.id, cell.clone()));
                    cell
                }
            }
        };
        cell.get_or_init(|| self.execute(event)).await.clone()
    }

    /// Runs the subscription's document over one event.
    async fn execute(&self, event: Arc<DomainEvent>) -> LiveItem {
        self.renders.fetch_add(1, Ordering::Relaxed);
        let request = Request::new(self.key.query.clone()).variables(self.variables.clone()).data(Render(event));
        let request = match &self.key.operation_name {
            Some(name) => request.operation_name(name.clone()),
            None => request,
        };
        let response = self.schema.execute_stream(request).next().await.unwrap_or_else(|| Response::new(Value::Null));
        if response.data == Value::Null && !response.errors.is_empty() {
            return LiveItem::Failed(response.errors);
        }
        match serde_json::to_string(&response) {
            Ok(json) => LiveItem::Next(json.into()),
            Err(err) => LiveItem::Failed(vec![to_server_error(&AppError::Internal(err.into()))]),
        }
    }
}

impl Drop for Group {
    fn drop(&mut self) {
        if let Some(groups) = self.groups.upgrade() {
            let mut map = groups.lock().unwrap_or_else(PoisonError::into_inner);
            // A newer group may already hold the key: remove only a dead entry.
            if map.get(&self.key).is_some_and(|g| g.strong_count() == 0) {
                map.remove(&self.key);
            }
        }
    }
}
