//! Reading events.
use crate::graphql::types::common::List;
use async_graphql::{Context, ID, Object};

use crate::{
    domain::{self, page::PageRequest},
    graphql::{
        GqlResult, state,
        types::{common::connection, event::Event, parse_id},
        viewer,
    },
};

/// Event queries.
#[derive(Default)]
pub struct EventQuery;

#[Object]
impl EventQuery {
    /// Upcoming events you may see, soonest first; with `search`, those whose title,
    /// description or venue hold every word (case-insensitive, at most 10 words).
    #[graphql(complexity = "crate::graphql::page_cost(first, child_complexity)")]
    async fn events(
        &self,
        ctx: &Context<'_>,
        community_id: Option<ID>,
        search: Option<String>,
        first: Option<i32>,
        after: Option<String>,
    ) -> GqlResult<List<Event>> {
        let state = state(ctx)?;
        let page = PageRequest::new(first, after.as_deref(), &state.config.limits)?;
        let community = community_id.map(|c| parse_id(&c, "communityId")).transpose()?;
        let page =
            domain::event::list(&state.db, viewer(ctx), community, search.as_deref(), state.clock.now(), page).await?;
        Ok(connection(page, Event))
    }

    /// Events you host or have an RSVP to (going or waitlisted): UPCOMING (default) soonest
    /// first, or PAST latest first.
    #[graphql(complexity = "crate::graphql::page_cost(first, child_complexity)")]
    async fn my_events(
        &self,
        ctx: &Context<'_>,
        when: Option<EventTime>,
        first: Option<i32>,
        after: Option<String>,
    ) -> GqlResult<List<Event>> {
        let state = state(ctx)?;
        let page = PageRequest::new(first, after.as_deref(), &state.config.limits)?;
        let when = match when.unwrap_or(EventTime::Upcoming) {
            EventTime::Upcoming => domain::event::When::Upcoming,
            EventTime::Past => domain::event::When::Past,
        };
        let page = domain::event::mine(&state.db, viewer(ctx), state.clock.now(), when, page).await?;
        Ok(connection(page, Event))
    }

    /// An event you may see.
    async fn event(&self, ctx: &Context<'_>, id: ID) -> GqlResult<Event> {
        Ok(Event(domain::event::visible(&state(ctx)?.db, viewer(ctx), parse_id(&id, "id")?).await?))
    }
}

/// Which of your events `myEvents` lists.
#[derive(async_graphql::Enum, Clone, Copy, PartialEq, Eq)]
pub enum EventTime {
    /// Not over yet, soonest first.
    Upcoming,
    /// Over, latest first.
    Past,
}
