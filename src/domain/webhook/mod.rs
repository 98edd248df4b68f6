//! Outgoing webhooks, per the Standard Webhooks spec: an organization's owners and admins
//! register endpoints (an http(s) URL and the event types it wants); the activity of the
//! organization's contracts (contracts, outcomes, tasks, and payouts earned under them) is
//! delivered to every enabled endpoint that wants its type, signed with the endpoint's secret.
//!
//! Event types are the activity feed's action names (`contract.created`, `task.assigned`, …):
//! one catalogue, [`event_types`]. Deliveries are written in the transaction that records the
//! activity ([`queue::queue_for_activities`]), so an event is delivered only if it happened
//! and is never lost across restarts; they leave after commit and are retried by the sweep
//! ([`delivery`]). The signing secret is stored as given to the client (it must sign), and shown
//! only at creation. Authority comes from the caller's role now: an admin demoted loses it at
//! once.
pub mod delivery;
pub mod guard;
pub mod queue;
pub mod sign;

use entity::{organization_member::OrgRole, webhook_attempt, webhook_delivery, webhook_endpoint};
use sea_orm::{
    ActiveModelTrait, ColumnTrait, ConnectionTrait, EntityTrait, IntoActiveModel, PaginatorTrait, QueryFilter, Set,
    sea_query::Query,
};
use uuid::Uuid;

pub use delivery::{send, send_due};
pub use queue::{commit_hook, queue_for_activities, replay};

use super::{
    Action, UnitOfWork, organization,
    page::{Cursor, Direction, Page, PageRequest, keyset},
    validate,
};
use crate::{
    auth::Viewer,
    config::AppEnv,
    error::{AppError, AppResult},
    state::AppState,
};

/// The families of actions an endpoint may subscribe to: the work of an organization's
/// contracts and the money it pays.
const FAMILIES: [&str; 4] = ["contract.", "outcome.", "task.", "payout."];

/// Endpoints one organization may have (each event is delivered to each of them).
pub const MAX_ENDPOINTS: u64 = 20;

/// Longest endpoint URL, in characters.
const MAX_URL_CHARS: usize = 2_000;

/// Whether endpoints may subscribe to `action`.
pub fn is_event_type(action: Action) -> bool {
    FAMILIES.iter().any(|family| action.as_str().starts_with(family))
}

/// Every event type an endpoint may subscribe to, in catalogue order.
pub fn event_types() -> Vec<&'static str> {
    Action::ALL.iter().copied().filter(|a| is_event_type(*a)).map(Action::as_str).collect()
}

/// The event types an endpoint receives.
pub fn subscriptions(endpoint: &webhook_endpoint::Model) -> Vec<&str> {
    endpoint.event_types.split_whitespace().collect()
}

/// Whether `endpoint` receives events of type `action`.
pub(crate) fn subscribed(endpoint: &webhook_endpoint::Model, action: &str) -> bool {
    endpoint.event_types.split_whitespace().any(|t| t == action)
}

/// Checks a list of event types (BAD_USER_INPUT on `eventTypes` naming the first unknown one);
/// returns them sorted, without repeats.
fn parse_event_types(raw: &[String]) -> AppResult<Vec<&'static str>> {
    validate::at_most(raw.len(), 100, "eventTypes")?;
    let mut types = Vec::with_capacity(raw.len());
    for name in raw {
        let name = name.trim();
        match Action::parse(name).filter(|a| is_event_type(*a)) {
            Some(action) => types.push(action.as_str()),
            None => {
                return Err(AppError::bad_input(
                    "eventTypes",
                    format!("`{name}` is not an event type (webhookEventTypes lists them)"),
                ));
            }
        }
    }
    types.sort_unstable();
    types.dedup();
    if types.is_empty() {
        return Err(AppError::bad_input("eventTypes", "give at least one event type"));
    }
    Ok(types)
}

/// Checks an endpoint URL: http or https with a host (BAD_USER_INPUT on `url`).
fn parse_url(raw: &str) -> AppResult<reqwest::Url> {
    let text = validate::text(raw, "url", 1, MAX_URL_CHARS, false)?;
    let bad = || AppError::bad_input("url", "must be an http or https URL with a host");
    let url = reqwest::Url::parse(&text).map_err(|_| bad())?;
    if !matches!(url.scheme(), "http" | "https") || url.host_str().is_none_or(str::is_empty) {
        return Err(bad());
    }
    Ok(url)
}

/// Requires that the caller is, now, an owner or admin of the organization (and, with an
/// organization's API key, that it is this organization's); returns the caller's profile.
pub(crate) async fn require_admin(
    db: &impl ConnectionTrait,
    viewer: &Viewer,
    organization_id: Uuid,
) -> AppResult<Uuid> {
    let (_, me) = viewer.require_user()?;
    viewer.require_acting_in(Some(organization_id))?;
    admin_role(organization::role_of(db, organization_id, me).await?)?;
    Ok(me)
}

/// Refuses a role that does not manage webhooks.
fn admin_role(role: Option<OrgRole>) -> AppResult<()> {
    match role {
        Some(OrgRole::Owner | OrgRole::Admin) => Ok(()),
        Some(_) => Err(AppError::forbidden("only owners and admins manage the organization's webhooks")),
        None => Err(AppError::forbidden("only members of the organization can manage its webhooks")),
    }
}

/// An endpoint the caller manages (owner or admin of its organization, now).
pub(crate) async fn managed_endpoint(
    db: &impl ConnectionTrait,
    viewer: &Viewer,
    endpoint_id: Uuid,
) -> AppResult<webhook_endpoint::Model> {
    viewer.require_user()?;
    let endpoint = webhook_endpoint::Entity::find_by_id(endpoint_id)
        .one(db)
        .await?
        .ok_or(AppError::NotFound("webhook endpoint"))?;
    require_admin(db, viewer, endpoint.organization_id).await?;
    Ok(endpoint)
}

/// Input of `createWebhookEndpoint`.
pub struct NewEndpoint {
    /// The organization whose events it receives.
    pub organization_id: Uuid,
    /// Where deliveries are POSTed.
    pub url: String,
    /// The event types it receives.
    pub event_types: Vec<String>,
}

/// Registers an endpoint (owners and admins); returns it with its secret, which is shown only
/// now. In production the URL must resolve to public addresses only.
pub async fn create(
    state: &AppState,
    viewer: &Viewer,
    input: NewEndpoint,
) -> AppResult<(webhook_endpoint::Model, String)> {
    viewer.require_user()?;
    let organization_id = input.organization_id;
    let event_types = parse_event_types(&input.event_types)?;
    let url = parse_url(&input.url)?;
    let me = require_admin(&state.db, viewer, organization_id).await?;
    if state.config.app_env == AppEnv::Production {
        guard::check_destination(&url).await.map_err(|refused| AppError::bad_input("url", refused.to_string()))?;
    }
    let secret = sign::new_secret();
    let now = state.clock.now();
    let mut work = UnitOfWork::begin(state, viewer).await?;
    // The role is held to commit: once a demotion returns, no endpoint it allowed can appear.
    admin_role(organization::role_held(work.txn(), organization_id, me).await?)?;
    let existing = webhook_endpoint::Entity::find()
        .filter(webhook_endpoint::Column::OrganizationId.eq(organization_id))
        .count(work.txn())
        .await?;
    if existing >= MAX_ENDPOINTS {
        return Err(AppError::conflict(format!("an organization has at most {MAX_ENDPOINTS} webhook endpoints")));
    }
    let endpoint = webhook_endpoint::ActiveModel {
        id: Set(Uuid::new_v4()),
        organization_id: Set(organization_id),
        url: Set(url.to_string()),
        event_types: Set(event_types.join(" ")),
        secret: Set(secret.clone()),
        enabled: Set(true),
        disabled_at: Set(None),
        disabled_reason: Set(None),
        failing_since: Set(None),
        created_by_profile_id: Set(me),
        created_at: Set(now),
        updated_at: Set(now),
    }
    .insert(work.txn())
    .await?;
    work.record(endpoint_activity(Action::WebhookEndpointCreated, &endpoint)).await?;
    work.commit().await?;
    Ok((endpoint, secret))
}

/// Deletes an endpoint with its deliveries and their attempts (owners and admins): nothing more
/// is sent to it, retries included.
pub async fn delete(state: &AppState, viewer: &Viewer, endpoint_id: Uuid) -> AppResult<()> {
    let endpoint = managed_endpoint(&state.db, viewer, endpoint_id).await?;
    let (_, me) = viewer.require_user()?;
    let mut work = UnitOfWork::begin(state, viewer).await?;
    admin_role(organization::role_held(work.txn(), endpoint.organization_id, me).await?)?;
    let deliveries = Query::select()
        .column(webhook_delivery::Column::Id)
        .from(webhook_delivery::Entity)
        .and_where(webhook_delivery::Column::EndpointId.eq(endpoint_id))
        .to_owned();
    webhook_attempt::Entity::delete_many()
        .filter(webhook_attempt::Column::DeliveryId.in_subquery(deliveries))
        .exec(work.txn())
        .await?;
    webhook_delivery::Entity::delete_many()
        .filter(webhook_delivery::Column::EndpointId.eq(endpoint_id))
        .exec(work.txn())
        .await?;
    webhook_endpoint::Entity::delete_by_id(endpoint_id).exec(work.txn()).await?;
    work.record(endpoint_activity(Action::WebhookEndpointDeleted, &endpoint)).await?;
    work.commit().await
}

/// Enables an endpoint again (after it was disabled for failing): new events reach it; the
/// deliveries failed meanwhile can be replayed.
pub async fn enable(state: &AppState, viewer: &Viewer, endpoint_id: Uuid) -> AppResult<webhook_endpoint::Model> {
    let endpoint = managed_endpoint(&state.db, viewer, endpoint_id).await?;
    if endpoint.enabled {
        return Ok(endpoint);
    }
    let mut work = UnitOfWork::begin(state, viewer).await?;
    let mut active = endpoint.into_active_model();
    active.enabled = Set(true);
    active.disabled_at = Set(None);
    active.disabled_reason = Set(None);
    active.failing_since = Set(None);
    active.updated_at = Set(state.clock.now());
    let endpoint = active.update(work.txn()).await?;
    work.record(endpoint_activity(Action::WebhookEndpointEnabled, &endpoint)).await?;
    work.commit().await?;
    Ok(endpoint)
}

/// The audit-log entry of a change to an endpoint (filed under its organization; the secret
/// never appears).
pub(crate) fn endpoint_activity(action: Action, endpoint: &webhook_endpoint::Model) -> super::NewActivity {
    super::NewActivity {
        topic: super::activity::organization_topic(endpoint.organization_id),
        action,
        subject_type: "webhook_endpoint",
        subject_id: endpoint.id,
        before: None,
        after: Some(serde_json::json!({
            "url": endpoint.url,
            "eventTypes": endpoint.event_types,
            "enabled": endpoint.enabled,
        })),
    }
}

/// An organization's endpoints, oldest first (owners and admins).
pub async fn endpoints(
    db: &impl ConnectionTrait,
    viewer: &Viewer,
    organization_id: Uuid,
    page: PageRequest,
) -> AppResult<Page<webhook_endpoint::Model>> {
    require_admin(db, viewer, organization_id).await?;
    let query = webhook_endpoint::Entity::find().filter(webhook_endpoint::Column::OrganizationId.eq(organization_id));
    keyset(
        db,
        query,
        (webhook_endpoint::Column::CreatedAt, webhook_endpoint::Column::Id),
        Direction::Ascending,
        &page,
        |e| Cursor { key: 0, at: e.created_at, id: e.id },
    )
    .await
}

/// An endpoint's deliveries, newest first (owners and admins): three statements whatever the
/// page's size.
pub async fn deliveries(
    db: &impl ConnectionTrait,
    viewer: &Viewer,
    endpoint_id: Uuid,
    page: PageRequest,
) -> AppResult<Page<webhook_delivery::Model>> {
    let endpoint = managed_endpoint(db, viewer, endpoint_id).await?;
    let query = webhook_delivery::Entity::find().filter(webhook_delivery::Column::EndpointId.eq(endpoint.id));
    keyset(
        db,
        query,
        (webhook_delivery::Column::CreatedAt, webhook_delivery::Column::Id),
        Direction::Descending,
        &page,
        |d| Cursor { key: 0, at: d.created_at, id: d.id },
    )
    .await
}

#[cfg(test)]
mod tests {
    use super::*;

    fn field_of<T>(r: AppResult<T>) -> Option<String> {
        r.err().and_then(|e| e.field().map(str::to_owned))
    }

    #[test]
    fn event_types_are_the_contract_outcome_task_and_payout_actions() {
        let types = event_types();
        for wanted in ["contract.created", "outcome.accepted", "task.assigned", "payout.paid"] {
            assert!(types.contains(&wanted), "{wanted}");
        }
        assert!(!types.contains(&"organization.member_added"));
        assert!(!types.contains(&"session.ended"));
    }

    #[test]
    fn event_type_lists_are_checked_sorted_and_deduplicated() -> AppResult<()> {
        let given = ["task.assigned", " contract.created", "task.assigned"].map(String::from);
        assert_eq!(parse_event_types(&given)?, vec!["contract.created", "task.assigned"]);
        assert_eq!(field_of(parse_event_types(&["contract.nonsense".into()])), Some("eventTypes".into()));
        assert_eq!(field_of(parse_event_types(&["session.ended".into()])), Some("eventTypes".into()));
        assert_eq!(field_of(parse_event_types(&[])), Some("eventTypes".into()));
        Ok(())
    }

    #[test]
    fn urls_need_http_or_https_and_a_host() -> AppResult<()> {
        assert_eq!(parse_url(" https://hooks.example.com/in?x=1 ")?.as_str(), "https://hooks.example.com/in?x=1");
        assert_eq!(parse_url("http://127.0.0.1:9000/hook")?.as_str(), "http://127.0.0.1:9000/hook");
        for bad in ["", "hooks.example.com/in", "ftp://hooks.example.com/in", "http://", "mailto:a@example.com"] {
            assert_eq!(field_of(parse_url(bad)), Some("url".into()), "{bad}");
        }
        Ok(())
    }
}
