//! Read state of my notifications.
use async_graphql::{Context, ID, InputObject, Object, SimpleObject};

use crate::{
    domain::notification::{self, MarkRead},
    error::AppError,
    graphql::{GqlResult, state, viewer},
};

/// Input of `markNotificationsRead`: exactly one of `ids`, `upTo` or `all`.
#[derive(InputObject)]
pub struct MarkNotificationsReadInput {
    /// These notifications.
    pub ids: Option<Vec<ID>>,
    /// Every notification up to and including this id.
    pub up_to: Option<ID>,
    /// Everything in my inbox.
    pub all: Option<bool>,
}

/// Result of `markNotificationsRead`.
#[derive(SimpleObject)]
pub struct MarkNotificationsReadPayload {
    /// Notifications that were unread and now are read.
    pub marked: u64,
    /// What is still unread.
    pub unread_count: u64,
}

fn notification_id(id: &ID, field: &str) -> Result<i64, AppError> {
    id.parse::<i64>().map_err(|_| AppError::bad_input(field, "is not a notification id"))
}

/// Mutations of my inbox.
#[derive(Default)]
pub struct NotificationMutation;

#[Object]
impl NotificationMutation {
    /// Marks notifications read. Idempotent; ids that are not yours change nothing.
    async fn mark_notifications_read(
        &self,
        ctx: &Context<'_>,
        input: MarkNotificationsReadInput,
    ) -> GqlResult<MarkNotificationsReadPayload> {
        let state = state(ctx)?;
        let which = match (input.ids, input.up_to, input.all) {
            (Some(ids), None, None | Some(false)) => {
                MarkRead::Ids(ids.iter().map(|id| notification_id(id, "ids")).collect::<Result<_, _>>()?)
            }
            (None, Some(up_to), None | Some(false)) => MarkRead::UpTo(notification_id(&up_to, "upTo")?),
            (None, None, Some(true)) => MarkRead::All,
            _ => return Err(AppError::bad_input("input", "give exactly one of ids, upTo or all: true").into()),
        };
        let marked = notification::mark_read(state, viewer(ctx), which).await?;
        let unread_count = notification::unread_count(&state.db, viewer(ctx)).await?;
        Ok(MarkNotificationsReadPayload { marked, unread_count })
    }
}
