//! What owners and admins see of their organization's webhook endpoints and deliveries. The
//! signing secret appears once, when the endpoint is created.
use async_graphql::{Context, Enum, ID, Object, SimpleObject};
use chrono::{DateTime, Utc};
use entity::{webhook_delivery as delivery_db, webhook_endpoint as endpoint_db};
use uuid::Uuid;

use super::common::{List, connection};
use crate::{
    domain::{self, page::PageRequest},
    graphql::{GqlResult, state, viewer},
};

/// Where an organization's events are POSTed, signed per the Standard Webhooks spec.
pub struct WebhookEndpoint(pub endpoint_db::Model);

#[Object]
impl WebhookEndpoint {
    /// Endpoint id.
    async fn id(&self) -> ID {
        ID(self.0.id.to_string())
    }
    /// The http(s) URL deliveries are POSTed to.
    async fn url(&self) -> &str {
        &self.0.url
    }
    /// The event types it receives (see `webhookEventTypes`).
    async fn event_types(&self) -> Vec<String> {
        domain::webhook::subscriptions(&self.0).into_iter().map(str::to_owned).collect()
    }
    /// Whether new events are delivered to it (false once it failed for 24 hours).
    async fn enabled(&self) -> bool {
        self.0.enabled
    }
    /// Why it was disabled, when it is.
    async fn disabled_reason(&self) -> Option<&str> {
        self.0.disabled_reason.as_deref()
    }
    /// When it was disabled, when it is.
    async fn disabled_at(&self) -> Option<DateTime<Utc>> {
        self.0.disabled_at
    }
    /// When it was created.
    async fn created_at(&self) -> DateTime<Utc> {
        self.0.created_at
    }
}

/// A new endpoint with its signing secret: `secret` is shown only now.
#[derive(SimpleObject)]
pub struct CreatedWebhookEndpoint {
    /// The endpoint.
    pub endpoint: WebhookEndpoint,
    /// `whsec_` + base64 of the signing key: verify each delivery's `webhook-signature` with it.
    pub secret: String,
}

/// Where a delivery stands.
#[derive(Enum, Copy, Clone, Eq, PartialEq, Debug)]
pub enum WebhookDeliveryStatus {
    /// Waiting for its next attempt.
    Pending,
    /// The endpoint answered 2xx.
    Delivered,
    /// Given up after 24 hours of failed attempts, or its endpoint was disabled.
    Failed,
}

mirror_enum!(WebhookDeliveryStatus, delivery_db::DeliveryStatus, [Pending, Delivered, Failed]);

/// One event on its way to one endpoint, with its last attempt.
pub struct WebhookDelivery(pub delivery_db::Model);

#[Object]
impl WebhookDelivery {
    /// Delivery id (for `replayWebhookDelivery`).
    async fn id(&self) -> ID {
        ID(self.0.id.to_string())
    }
    /// The event type, e.g. `contract.created`.
    async fn event_type(&self) -> &str {
        &self.0.event_type
    }
    /// The `webhook-id` header: the same on every attempt and replay (receivers deduplicate on it).
    async fn webhook_id(&self) -> &str {
        &self.0.message_id
    }
    /// Where it stands.
    async fn status(&self) -> WebhookDeliveryStatus {
        self.0.status.into()
    }
    /// Attempts made in the current round (a replay starts a new one).
    async fn attempts(&self) -> i32 {
        self.0.attempts
    }
    /// The HTTP status of the last answer (null without one: refused, timed out).
    async fn last_status_code(&self) -> Option<i32> {
        self.0.last_status_code
    }
    /// How long the last attempt took, in milliseconds.
    async fn last_duration_ms(&self) -> Option<i32> {
        self.0.last_duration_ms
    }
    /// What went wrong with the last attempt, if anything did.
    async fn last_error(&self) -> Option<&str> {
        self.0.last_error.as_deref()
    }
    /// When the last attempt was made.
    async fn last_attempt_at(&self) -> Option<DateTime<Utc>> {
        self.0.last_attempt_at
    }
    /// When the next attempt is due (null unless PENDING).
    async fn next_retry_at(&self) -> Option<DateTime<Utc>> {
        (self.0.status == delivery_db::DeliveryStatus::Pending).then_some(self.0.next_attempt_at)
    }
    /// When the endpoint took it.
    async fn delivered_at(&self) -> Option<DateTime<Utc>> {
        self.0.delivered_at
    }
    /// When the event happened (and the delivery was queued).
    async fn created_at(&self) -> DateTime<Utc> {
        self.0.created_at
    }
}

/// An organization's endpoints, oldest first (owners and admins): `Organization.webhookEndpoints`.
pub(crate) async fn endpoints_of(
    ctx: &Context<'_>,
    organization_id: Uuid,
    first: Option<i32>,
    after: Option<String>,
) -> GqlResult<List<WebhookEndpoint>> {
    let state = state(ctx)?;
    let page = PageRequest::new(first, after.as_deref(), &state.config.limits)?;
    let page = domain::webhook::endpoints(&state.db, viewer(ctx), organization_id, page).await?;
    Ok(connection(page, WebhookEndpoint))
}
