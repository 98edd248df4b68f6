//! Reading webhook deliveries and the event types endpoints may receive.
use async_graphql::{Context, ID, Object};

use crate::{
    domain::{self, page::PageRequest},
    graphql::{
        GqlResult, state,
        types::{
            common::{List, connection},
            parse_id,
            webhook::WebhookDelivery,
        },
        viewer,
    },
};

/// Webhook queries.
#[derive(Default)]
pub struct WebhookQuery;

#[Object]
impl WebhookQuery {
    /// A webhook endpoint's deliveries, newest first (owners and admins of its organization).
    #[graphql(complexity = "crate::graphql::page_cost(first, child_complexity)")]
    async fn webhook_deliveries(
        &self,
        ctx: &Context<'_>,
        endpoint_id: ID,
        first: Option<i32>,
        after: Option<String>,
    ) -> GqlResult<List<WebhookDelivery>> {
        let state = state(ctx)?;
        let endpoint_id = parse_id(&endpoint_id, "endpointId")?;
        let page = PageRequest::new(first, after.as_deref(), &state.config.limits)?;
        let page = domain::webhook::deliveries(&state.db, viewer(ctx), endpoint_id, page).await?;
        Ok(connection(page, WebhookDelivery))
    }

    /// The event types a webhook endpoint may receive: the activity actions of contracts,
    /// outcomes, tasks and payouts.
    async fn webhook_event_types(&self) -> Vec<String> {
        domain::webhook::event_types().into_iter().map(str::to_owned).collect()
    }
}
