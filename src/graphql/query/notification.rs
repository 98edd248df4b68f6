//! My inbox.
use crate::graphql::types::common::List;
use async_graphql::{Context, Object};

use crate::{
    domain::{notification, page::PageRequest},
    graphql::{
        GqlResult, state,
        types::{common::connection, notification::Notification},
        viewer,
    },
};

/// Queries about my notifications.
#[derive(Default)]
pub struct NotificationQuery;

#[Object]
impl NotificationQuery {
    /// My notifications, newest first; `unreadOnly` leaves out what I marked read.
    #[graphql(complexity = "crate::graphql::page_cost(first, child_complexity)")]
    async fn notifications(
        &self,
        ctx: &Context<'_>,
        first: Option<i32>,
        after: Option<String>,
        unread_only: Option<bool>,
    ) -> GqlResult<List<Notification>> {
        let state = state(ctx)?;
        let page = PageRequest::new(first, after.as_deref(), &state.config.limits)?;
        let page = notification::list(&state.db, viewer(ctx), unread_only.unwrap_or(false), page).await?;
        Ok(connection(page, |(n, a)| Notification::stored(n, a)))
    }

    /// How many of my notifications are unread.
    async fn unread_notification_count(&self, ctx: &Context<'_>) -> GqlResult<u64> {
        Ok(notification::unread_count(&state(ctx)?.db, viewer(ctx)).await?)
    }
}
