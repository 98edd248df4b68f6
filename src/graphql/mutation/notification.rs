//! Read state of my notifications.
use async_graphql::{Context, ID, InputObject, Object, SimpleObject};

use crate::{
    domain::{
        notification::{self, MarkRead},
        notification_mail,
    },
    error::AppError,
    graphql::{
        GqlResult, state,
        types::notification::{NotificationMailKind, NotificationMailMode, NotificationMailPreference},
        viewer,
    },
};

/// Input of `setNotificationMailPreference`.
#[derive(InputObject)]
pub struct SetNotificationMailPreferenceInput {
    /// The kind of notification.
    pub kind: NotificationMailKind,
    /// How it should reach you.
    pub mode: NotificationMailMode,
}

/// Input of `unsubscribeFromMail`.
#[derive(InputObject)]
pub struct UnsubscribeFromMailInput {
    /// The token of the link in a notification mail.
    pub token: String,
}

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

    /// Chooses how one kind of notification reaches your verified address: IMMEDIATE (the
    /// default), DAILY_DIGEST or OFF. Returns every choice.
    async fn set_notification_mail_preference(
        &self,
        ctx: &Context<'_>,
        input: SetNotificationMailPreferenceInput,
    ) -> GqlResult<Vec<NotificationMailPreference>> {
        let choices =
            notification_mail::set_preference(state(ctx)?, viewer(ctx), input.kind.into(), input.mode.into()).await?;
        Ok(NotificationMailPreference::all(choices))
    }

    /// Stops one kind of notification mail with the token of the link every such mail carries
    /// (no sign-in needed: the token is signed). Returns the kind now OFF; a token that does not
    /// verify is BAD_USER_INPUT on `token`.
    async fn unsubscribe_from_mail(
        &self,
        ctx: &Context<'_>,
        input: UnsubscribeFromMailInput,
    ) -> GqlResult<NotificationMailKind> {
        Ok(notification_mail::unsubscribe(state(ctx)?, &input.token).await?.into())
    }
}
