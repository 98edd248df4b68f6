//! Owners and admins register webhook endpoints, delete or re-enable them, and replay deliveries.
use async_graphql::{Context, ID, InputObject, Object};

use crate::{
    domain::webhook::{self, NewEndpoint},
    graphql::{
        GqlResult, state,
        types::{
            parse_id,
            webhook::{CreatedWebhookEndpoint, WebhookDelivery, WebhookEndpoint},
        },
        viewer,
    },
};

/// Input of `createWebhookEndpoint`.
#[derive(InputObject)]
pub struct CreateWebhookEndpointInput {
    /// The organization whose events it receives.
    pub organization_id: ID,
    /// The http(s) URL deliveries are POSTed to.
    pub url: String,
    /// The event types it receives (see `webhookEventTypes`).
    pub event_types: Vec<String>,
}

/// Input naming a webhook endpoint.
#[derive(InputObject)]
pub struct WebhookEndpointIdInput {
    /// The endpoint.
    pub endpoint_id: ID,
}

/// Input of `replayWebhookDelivery`.
#[derive(InputObject)]
pub struct ReplayWebhookDeliveryInput {
    /// The delivery to send again.
    pub delivery_id: ID,
}

/// Webhook mutations (owners and admins of the organization, by their role now).
#[derive(Default)]
pub struct WebhookMutation;

#[Object]
impl WebhookMutation {
    /// Registers a webhook endpoint for an organization's events; the signing secret is shown
    /// only in this answer.
    async fn create_webhook_endpoint(
        &self,
        ctx: &Context<'_>,
        input: CreateWebhookEndpointInput,
    ) -> GqlResult<CreatedWebhookEndpoint> {
        let organization_id = parse_id(&input.organization_id, "organizationId")?;
        let new = NewEndpoint { organization_id, url: input.url, event_types: input.event_types };
        let (endpoint, secret) = webhook::create(state(ctx)?, viewer(ctx), new).await?;
        Ok(CreatedWebhookEndpoint { endpoint: WebhookEndpoint(endpoint), secret })
    }

    /// Deletes a webhook endpoint and its deliveries: nothing more is sent to it.
    async fn delete_webhook_endpoint(&self, ctx: &Context<'_>, input: WebhookEndpointIdInput) -> GqlResult<bool> {
        let id = parse_id(&input.endpoint_id, "endpointId")?;
        webhook::delete(state(ctx)?, viewer(ctx), id).await?;
        Ok(true)
    }

    /// Enables a webhook endpoint again (after it was disabled for failing).
    async fn enable_webhook_endpoint(
        &self,
        ctx: &Context<'_>,
        input: WebhookEndpointIdInput,
    ) -> GqlResult<WebhookEndpoint> {
        let id = parse_id(&input.endpoint_id, "endpointId")?;
        Ok(WebhookEndpoint(webhook::enable(state(ctx)?, viewer(ctx), id).await?))
    }

    /// Sends a delivered or failed delivery again, with the same `webhook-id`.
    async fn replay_webhook_delivery(
        &self,
        ctx: &Context<'_>,
        input: ReplayWebhookDeliveryInput,
    ) -> GqlResult<WebhookDelivery> {
        let id = parse_id(&input.delivery_id, "deliveryId")?;
        Ok(WebhookDelivery(webhook::replay(state(ctx)?, viewer(ctx), id).await?))
    }
}
