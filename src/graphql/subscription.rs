//! Live updates over WebSocket. Every stream checks what its subscriber may see.
use async_graphql::{Context, ID, Json, SimpleObject, Subscription};
use chrono::{DateTime, Utc};
use futures_util::{Stream, StreamExt};
use tokio_stream_compat::broadcast_stream;

use super::{GqlError, GqlResult, state, types::parse_id, viewer};
use crate::{
    domain::{self, Action, activity::organization_topic},
    error::AppError,
    events::DomainEvent,
};

/// A committed change, as subscribers see it.
#[derive(SimpleObject, Clone)]
pub struct ActivityEvent {
    /// Ordered id of the activity record.
    pub id: ID,
    /// What happened, e.g. `organization.member_added`.
    pub action: String,
    /// Kind of the changed thing.
    pub subject_type: String,
    /// Id of the changed thing.
    pub subject_id: ID,
    /// Profile that acted.
    pub actor_profile_id: Option<ID>,
    /// State after the change.
    pub after: Option<Json<serde_json::Value>>,
    /// When it happened.
    pub occurred_at: DateTime<Utc>,
}

impl From<DomainEvent> for ActivityEvent {
    fn from(e: DomainEvent) -> Self {
        Self {
            id: ID(e.id.to_string()),
            action: e.action,
            subject_type: e.subject_type,
            subject_id: ID(e.subject_id.to_string()),
            actor_profile_id: e.actor_profile_id.map(|p| ID(p.to_string())),
            after: e.after.map(Json),
            occurred_at: e.occurred_at,
        }
    }
}

impl From<entity::activity::Model> for ActivityEvent {
    fn from(a: entity::activity::Model) -> Self {
        Self {
            id: ID(a.id.to_string()),
            action: a.action,
            subject_type: a.subject_type,
            subject_id: ID(a.subject_id.to_string()),
            actor_profile_id: a.actor_profile_id.map(|p| ID(p.to_string())),
            after: a.after.map(Json),
            occurred_at: a.created_at,
        }
    }
}

/// Subscriptions about organizations.
#[derive(Default)]
pub struct OrganizationSubscription;

#[Subscription]
impl OrganizationSubscription {
    /// Changes to an organization and its members, for its members. The stream ends when
    /// the subscriber is removed from the organization.
    async fn organization_activity(
        &self,
        ctx: &Context<'_>,
        organization_id: ID,
    ) -> async_graphql::Result<impl Stream<Item = ActivityEvent> + use<>> {
        Ok(Self::activity_stream(ctx, organization_id).await?)
    }
}

impl OrganizationSubscription {
    async fn activity_stream(
        ctx: &Context<'_>,
        organization_id: ID,
    ) -> GqlResult<impl Stream<Item = ActivityEvent> + use<>> {
        let state = state(ctx)?;
        let org = parse_id(&organization_id, "organizationId")?;
        let me = viewer(ctx).require_any()?;
        if domain::organization::role_of(&state.db, org, me).await?.is_none() {
            return Err(AppError::forbidden("only members follow an organization's activity").into());
        }
        let topic = organization_topic(org);
        let me_str = me;
        let events = broadcast_stream(state.bus.subscribe())
            .filter(move |e| std::future::ready(e.topic == topic))
            .take_while(move |e| {
                let removed = Action::OrganizationMemberRemoved.is(&e.action) && e.subject_id == me_str;
                std::future::ready(!removed)
            })
            .map(ActivityEvent::from);
        Ok(events)
    }
}

/// Subscriptions about communities.
#[derive(Default)]
pub struct CommunitySubscription;

#[Subscription]
impl CommunitySubscription {
    /// Changes in a community you may read: posts, comments, members, events and RSVP counts
    /// (`event.rsvp*` actions carry `goingCount` and `capacity`).
    async fn community_activity(
        &self,
        ctx: &Context<'_>,
        community_id: ID,
    ) -> async_graphql::Result<impl Stream<Item = ActivityEvent> + use<>> {
        let state = state(ctx)?;
        let id = parse_id(&community_id, "communityId")?;
        domain::community::require_read(&state.db, viewer(ctx), id).await.map_err(GqlError::from)?;
        let topic = domain::community::topic(id);
        let me = viewer(ctx).profile_id();
        let events = tokio_stream_compat::broadcast_stream(state.bus.subscribe())
            .filter(move |e| std::future::ready(e.topic == topic))
            // A member who leaves or is banned stops receiving the community's activity.
            .take_while(move |e| {
                let gone = matches!(
                    Action::parse(&e.action),
                    Some(Action::CommunityMemberLeft | Action::CommunityMemberBanned)
                ) && Some(e.subject_id) == me;
                std::future::ready(!gone)
            })
            .map(ActivityEvent::from);
        Ok(events)
    }
}

/// Subscriptions about contracts and task work.
#[derive(Default)]
pub struct ContractSubscription;

#[Subscription]
impl ContractSubscription {
    /// Changes to a contract you are on. The client side receives everything; a worker only
    /// the changes to its own tasks.
    async fn contract_activity(
        &self,
        ctx: &Context<'_>,
        contract_id: ID,
    ) -> async_graphql::Result<impl Stream<Item = ActivityEvent> + use<>> {
        let state = state(ctx)?;
        let id = parse_id(&contract_id, "contractId")?;
        let (_, access) = domain::contract::visible(&state.db, viewer(ctx), id).await.map_err(GqlError::from)?;
        let topic = domain::contract::topic(id);
        let events = tokio_stream_compat::broadcast_stream(state.bus.subscribe())
            .filter(move |e| {
                let visible = e.topic == topic
                    && match access {
                        domain::contract::Access::Client { .. } => true,
                        domain::contract::Access::Assignee(me) => domain::task::work::concerns(e, me),
                    };
                std::future::ready(visible)
            })
            .map(ActivityEvent::from);
        Ok(events)
    }

    /// Changes to tasks offered to you, held by you or just taken from you, across contracts
    /// (agents need `tasks:read`).
    async fn my_task_updates(
        &self,
        ctx: &Context<'_>,
    ) -> async_graphql::Result<impl Stream<Item = ActivityEvent> + use<>> {
        let state = state(ctx)?;
        let me = viewer(ctx).require_profile(crate::auth::AgentScope::TasksRead).map_err(GqlError::from)?;
        let events = tokio_stream_compat::broadcast_stream(state.bus.subscribe())
            .filter(move |e| {
                std::future::ready(e.topic.starts_with("contract:") && domain::task::work::concerns(e, me))
            })
            .map(ActivityEvent::from);
        Ok(events)
    }
}

/// Subscriptions about money.
#[derive(Default)]
pub struct MoneySubscription;

#[Subscription]
impl MoneySubscription {
    /// Changes to my payouts: earnings released to me (`payout.pending`), holds passed
    /// (`payout.available`), withdrawals (`payout.processing`, `payout.paid`, `payout.failed`).
    /// People only; an agent's earnings go to its operator.
    async fn payout_updated(
        &self,
        ctx: &Context<'_>,
    ) -> async_graphql::Result<impl Stream<Item = ActivityEvent> + use<>> {
        let state = state(ctx)?;
        let (_, me) = viewer(ctx).require_user().map_err(GqlError::from)?;
        let topic = domain::ledger::payout::topic(me);
        let events = tokio_stream_compat::broadcast_stream(state.bus.subscribe())
            .filter(move |e| std::future::ready(e.topic == topic))
            .map(ActivityEvent::from);
        Ok(events)
    }
}

/// Turns a broadcast receiver into a stream, skipping over lag gaps (logged).
mod tokio_stream_compat {
    use futures_util::Stream;
    use tokio::sync::broadcast::{Receiver, error::RecvError};

    use crate::events::DomainEvent;

    pub fn broadcast_stream(receiver: Receiver<DomainEvent>) -> impl Stream<Item = DomainEvent> {
        futures_util::stream::unfold(receiver, |mut rx| async move {
            loop {
                match rx.recv().await {
                    Ok(event) => return Some((event, rx)),
                    Err(RecvError::Lagged(n)) => tracing::warn!(skipped = n, "subscriber lagged behind the event bus"),
                    Err(RecvError::Closed) => return None,
                }
            }
        })
    }
}
