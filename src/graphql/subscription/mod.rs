//! Live updates over WebSocket. Each subscription follows one stream of the outbox
//! (`events::follow`): it takes an optional `after` (the `id` of the last message received)
//! and first replays what was missed, then continues live with no gap and no duplicate.
//! What a subscriber sees is decided per subscriber by its gate (`gates.rs`); access is
//! checked again whenever it may have changed, and a stream that lost it ends with an error
//! carrying a code. Over WebSocket a subscription is run once to start it and its events are
//! rendered once per group of identical subscriptions (`live.rs`).
mod gates;
mod live;

pub use live::{LiveItem, LiveSubscriptions};

use std::sync::Arc;

use async_graphql::{Context, ID, Subscription};
use futures_util::{
    StreamExt,
    stream::{self, BoxStream},
};

use super::{
    GqlError, GqlResult, state,
    types::{activity::ActivityEvent, parse_id},
    viewer,
};
use crate::{
    auth::{AgentScope, SessionExpiry},
    domain::{
        self,
        activity::{access_stream, organization_topic, worker_stream},
    },
    error::AppError,
    events::{
        DomainEvent,
        follow::{Follow, Gate, follow},
    },
};

/// The activity id a subscription resumes after.
fn resume_point(after: Option<&ID>) -> GqlResult<Option<i64>> {
    after
        .map(|id| {
            id.parse::<i64>()
                .ok()
                .filter(|n| *n >= 0)
                .ok_or_else(|| AppError::bad_input("after", "is not an event id").into())
        })
        .transpose()
}

/// What a subscription resolver returns.
type Live<T> = BoxStream<'static, async_graphql::Result<T>>;

/// When the run renders one event for a group of subscribers, the resolver answers with it and
/// nothing else runs (arguments and access were checked when each subscriber started).
fn rendered<T: Send + 'static>(ctx: &Context<'_>, map: fn(&DomainEvent) -> T) -> Option<Live<T>> {
    let live::Render(event) = ctx.data_opt::<live::Render>()?;
    Some(stream::once(std::future::ready(Ok(map(event)))).boxed())
}

/// Follows `stream` for the viewer of `ctx`: replay after `after`, then live, through `gate`.
/// A run that starts a live subscription leaves the follower in its `Capture`; any other run
/// (an in-process `execute_stream`) gets the mapped stream.
async fn subscribe_to<T: Send + 'static, G: Gate>(
    ctx: &Context<'_>,
    stream: String,
    after: Option<&ID>,
    gate: G,
    map: fn(&DomainEvent) -> T,
) -> GqlResult<Live<T>> {
    let state = state(ctx)?;
    let viewer = viewer(ctx);
    let expires_in =
        ctx.data_opt::<SessionExpiry>().map(|SessionExpiry(at)| (*at - state.clock.now()).to_std().unwrap_or_default());
    let spec =
        Follow { stream, after: resume_point(after)?, access: viewer.profile_id().map(access_stream), expires_in };
    let events = follow(state.db.clone(), state.bus.hub(), spec, gate).await.map_err(GqlError::from)?;
    if let Some(capture) = ctx.data_opt::<live::Capture>() {
        let field = ctx.item.node.response_key().node.to_string();
        capture.put(events.boxed(), field, ctx.item.pos)?;
        return Ok(stream::empty().boxed());
    }
    Ok(events
        .map(move |item: Result<Arc<DomainEvent>, AppError>| match item {
            Ok(event) => Ok(map(&event)),
            Err(err) => Err(GqlError::from(err).into()),
        })
        .boxed())
}

/// Subscriptions about organizations.
#[derive(Default)]
pub struct OrganizationSubscription;

#[Subscription]
impl OrganizationSubscription {
    /// Changes to an organization and its members, for its members; its owners and admins
    /// also receive the activity of the organization's contracts. The stream ends (FORBIDDEN)
    /// when the subscriber stops being a member.
    async fn organization_activity(
        &self,
        ctx: &Context<'_>,
        organization_id: ID,
        after: Option<ID>,
    ) -> async_graphql::Result<Live<ActivityEvent>> {
        if let Some(event) = rendered(ctx, |e| ActivityEvent::from(e)) {
            return Ok(event);
        }
        let state = state(ctx)?;
        let org = parse_id(&organization_id, "organizationId")?;
        let gate = gates::OrganizationGate::open(state, viewer(ctx), org).await.map_err(GqlError::from)?;
        Ok(subscribe_to(ctx, organization_topic(org), after.as_ref(), gate, |e| ActivityEvent::from(e)).await?)
    }
}

/// Subscriptions about communities.
#[derive(Default)]
pub struct CommunitySubscription;

#[Subscription]
impl CommunitySubscription {
    /// Changes in a community you may read: posts, comments, members, events and RSVP counts
    /// (`event.rsvp*` actions carry `goingCount` and `capacity`). The stream ends (FORBIDDEN)
    /// when you may no longer read it: banned, or no longer a member of a private community.
    async fn community_activity(
        &self,
        ctx: &Context<'_>,
        community_id: ID,
        after: Option<ID>,
    ) -> async_graphql::Result<Live<ActivityEvent>> {
        if let Some(event) = rendered(ctx, |e| ActivityEvent::from(e)) {
            return Ok(event);
        }
        let state = state(ctx)?;
        let id = parse_id(&community_id, "communityId")?;
        let gate = gates::CommunityGate::open(state, viewer(ctx), id).await.map_err(GqlError::from)?;
        Ok(subscribe_to(ctx, domain::community::topic(id), after.as_ref(), gate, |e| ActivityEvent::from(e)).await?)
    }
}

/// Subscriptions about contracts and task work.
#[derive(Default)]
pub struct ContractSubscription;

#[Subscription]
impl ContractSubscription {
    /// Changes to a contract you are on. The client side receives everything; a worker only
    /// the changes to its own tasks. The stream ends (FORBIDDEN) when you lose access.
    async fn contract_activity(
        &self,
        ctx: &Context<'_>,
        contract_id: ID,
        after: Option<ID>,
    ) -> async_graphql::Result<Live<ActivityEvent>> {
        if let Some(event) = rendered(ctx, |e| ActivityEvent::from(e)) {
            return Ok(event);
        }
        let state = state(ctx)?;
        let id = parse_id(&contract_id, "contractId")?;
        let gate = gates::ContractGate::open(state, viewer(ctx), id).await.map_err(GqlError::from)?;
        Ok(subscribe_to(ctx, domain::contract::topic(id), after.as_ref(), gate, |e| ActivityEvent::from(e)).await?)
    }

    /// Changes to tasks offered to you, held by you or just taken from you, across contracts
    /// (agents need `tasks:read`).
    async fn my_task_updates(
        &self,
        ctx: &Context<'_>,
        after: Option<ID>,
    ) -> async_graphql::Result<Live<ActivityEvent>> {
        if let Some(event) = rendered(ctx, |e| ActivityEvent::from(e)) {
            return Ok(event);
        }
        let state = state(ctx)?;
        let me = viewer(ctx).require_profile(AgentScope::TasksRead).map_err(GqlError::from)?;
        let gate = gates::PersonalGate::open(state, viewer(ctx));
        Ok(subscribe_to(ctx, worker_stream(me), after.as_ref(), gate, |e| ActivityEvent::from(e)).await?)
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
    async fn payout_updated(&self, ctx: &Context<'_>, after: Option<ID>) -> async_graphql::Result<Live<ActivityEvent>> {
        if let Some(event) = rendered(ctx, |e| ActivityEvent::from(e)) {
            return Ok(event);
        }
        let state = state(ctx)?;
        let (_, me) = viewer(ctx).require_user().map_err(GqlError::from)?;
        let gate = gates::PersonalGate::open(state, viewer(ctx));
        Ok(subscribe_to(ctx, domain::ledger::payout::topic(me), after.as_ref(), gate, |e| ActivityEvent::from(e))
            .await?)
    }
}

/// Subscriptions about my inbox.
#[derive(Default)]
pub struct NotificationSubscription;

#[Subscription]
impl NotificationSubscription {
    /// What reaches my inbox, as it happens (unread). Resume with `after` like every
    /// subscription; the inbox itself is `notifications`.
    async fn notifications(
        &self,
        ctx: &Context<'_>,
        after: Option<ID>,
    ) -> async_graphql::Result<Live<super::types::notification::Notification>> {
        if let Some(event) = rendered(ctx, super::types::notification::Notification::unread) {
            return Ok(event);
        }
        let state = state(ctx)?;
        let (user, _) = viewer(ctx).require_user().map_err(GqlError::from)?;
        let gate = gates::PersonalGate::open(state, viewer(ctx));
        let stream = domain::activity::inbox_stream(user);
        Ok(subscribe_to(ctx, stream, after.as_ref(), gate, super::types::notification::Notification::unread).await?)
    }
}
