//! Queueing deliveries: one row per event and endpoint, written in the transaction that
//! recorded the event ([`queue_for_activities`]) so an event is delivered only if it happened and
//! is never lost across restarts; and replays, which queue a delivery again with the same
//! `webhook-id`. Queued deliveries leave after commit, in the background (`send_after_commit`).
use std::collections::HashMap;

use chrono::{DateTime, SecondsFormat, Utc};
use entity::{
    contract,
    webhook_delivery::{self, DeliveryStatus},
    webhook_endpoint,
};
use futures_util::future::FutureExt;
use sea_orm::{ColumnTrait, ConnectionTrait, EntityTrait, QueryFilter, QuerySelect, Set, sea_query::Expr};
use serde_json::{Value, json};
use uuid::Uuid;

use super::{delivery::send, managed_endpoint, subscribed};
use crate::{
    auth::Viewer,
    domain::{Action, UnitOfWork, activity::AfterCommit},
    error::{AppError, AppResult},
    events::DomainEvent,
    state::AppState,
};

/// Rows per multi-row insert (16 parameters a row, below SQLite's 999).
const INSERT_CHUNK: usize = 50;

/// The unit of work's hook (`activity::CommitHook`): deliveries of its events, in its
/// transaction.
pub fn commit_hook<'s>(
    _state: &'s AppState,
    txn: &'s sea_orm::DatabaseTransaction,
    events: &'s [DomainEvent],
) -> futures_util::future::BoxFuture<'s, AppResult<Option<AfterCommit>>> {
    Box::pin(queue_for_activities(txn, events))
}

/// Writes, in the transaction of `events` (the activities just written by the unit of work),
/// one delivery per event and enabled endpoint of the event's organization that wants its type;
/// returns the work that sends them once the transaction has committed (none when there are
/// none). An event's organization is its contract's (a payout's contract for payouts). No
/// statement at all when no event is of a type endpoints receive.
pub async fn queue_for_activities(db: &impl ConnectionTrait, events: &[DomainEvent]) -> AppResult<Option<AfterCommit>> {
    let wanted: Vec<&DomainEvent> =
        events.iter().filter(|e| Action::parse(&e.action).is_some_and(super::is_event_type)).collect();
    if wanted.is_empty() {
        return Ok(None);
    }
    let organization_of = organizations(db, &wanted).await?;
    if organization_of.is_empty() {
        return Ok(None);
    }
    let mut organizations: Vec<Uuid> = organization_of.values().copied().collect();
    organizations.sort_unstable();
    organizations.dedup();
    let endpoints = webhook_endpoint::Entity::find()
        .filter(webhook_endpoint::Column::OrganizationId.is_in(organizations))
        .filter(webhook_endpoint::Column::Enabled.eq(true))
        .all(db)
        .await?;
    let (mut ids, mut rows) = (Vec::new(), Vec::new());
    for event in wanted {
        let Some(organization) = organization_of.get(&event.id).copied() else { continue };
        let targets: Vec<&webhook_endpoint::Model> =
            endpoints.iter().filter(|p| p.organization_id == organization && subscribed(p, &event.action)).collect();
        if targets.is_empty() {
            continue;
        }
        let body = payload(event, organization)?;
        for endpoint in targets {
            let id = Uuid::new_v4();
            ids.push(id);
            rows.push(new_delivery(id, endpoint.id, event, &body));
        }
    }
    if rows.is_empty() {
        return Ok(None);
    }
    let mut rows = rows.into_iter().peekable();
    while rows.peek().is_some() {
        webhook_delivery::Entity::insert_many(rows.by_ref().take(INSERT_CHUNK)).exec(db).await?;
    }
    // A few leave right after commit; more are left to the sweep (due now), so one change
    // never floods the pool or the receivers.
    if ids.len() > SEND_AT_ONCE {
        return Ok(None);
    }
    Ok(Some(send_after_commit(ids)))
}

/// Deliveries one commit sends right after it at most (more are left to the sweep).
const SEND_AT_ONCE: usize = 20;

/// The organization of each event (by activity id): the organization stream a contract's
/// activity is filed under, or the organization of the contract a payout names (one query, none
/// without payouts).
async fn organizations(db: &impl ConnectionTrait, events: &[&DomainEvent]) -> AppResult<HashMap<i64, Uuid>> {
    let mut found = HashMap::new();
    let mut named: Vec<(i64, Uuid)> = Vec::new();
    for event in events {
        let filed = event.streams.iter().find_map(|s| s.stream.strip_prefix("organization:")?.parse::<Uuid>().ok());
        match filed {
            Some(organization) => {
                found.insert(event.id, organization);
            }
            None => {
                let contract = event.after.as_ref().and_then(|a| a["contractId"].as_str()?.parse::<Uuid>().ok());
                named.extend(contract.map(|c| (event.id, c)));
            }
        }
    }
    if named.is_empty() {
        return Ok(found);
    }
    let mut contracts: Vec<Uuid> = named.iter().map(|(_, c)| *c).collect();
    contracts.sort_unstable();
    contracts.dedup();
    let rows: Vec<(Uuid, Option<Uuid>)> = contract::Entity::find()
        .select_only()
        .columns([contract::Column::Id, contract::Column::OrganizationId])
        .filter(contract::Column::Id.is_in(contracts))
        .into_tuple()
        .all(db)
        .await?;
    let owners: HashMap<Uuid, Uuid> = rows.into_iter().filter_map(|(c, o)| o.map(|o| (c, o))).collect();
    for (event, contract) in named {
        if let Some(organization) = owners.get(&contract) {
            found.insert(event, *organization);
        }
    }
    Ok(found)
}

/// The body of an event: `{"type", "timestamp", "data"}`, `data` being the activity's
/// after-snapshot with its ids.
fn payload(event: &DomainEvent, organization: Uuid) -> AppResult<String> {
    let mut data = match &event.after {
        Some(Value::Object(after)) => after.clone(),
        _ => serde_json::Map::new(),
    };
    for (key, value) in [
        ("activityId", json!(event.id)),
        ("subjectType", json!(event.subject_type)),
        ("subjectId", json!(event.subject_id)),
        ("actorProfileId", json!(event.actor_profile_id)),
        ("organizationId", json!(organization)),
    ] {
        data.entry(key).or_insert(value);
    }
    if let Some(contract) = event.topic.strip_prefix("contract:") {
        data.entry("contractId").or_insert(json!(contract));
    }
    let body = json!({
        "type": event.action,
        "timestamp": event.occurred_at.to_rfc3339_opts(SecondsFormat::Micros, true),
        "data": Value::Object(data),
    });
    serde_json::to_string(&body).map_err(|e| AppError::Internal(anyhow::anyhow!("encoding a webhook body: {e}")))
}

/// A new delivery `id` of `event` to an endpoint, due at once.
fn new_delivery(id: Uuid, endpoint_id: Uuid, event: &DomainEvent, body: &str) -> webhook_delivery::ActiveModel {
    webhook_delivery::ActiveModel {
        id: Set(id),
        endpoint_id: Set(endpoint_id),
        activity_id: Set(event.id),
        event_type: Set(event.action.clone()),
        message_id: Set(format!("msg_{}", id.simple())),
        payload: Set(body.to_owned()),
        status: Set(DeliveryStatus::Pending),
        attempts: Set(0),
        round_started_at: Set(event.occurred_at),
        next_attempt_at: Set(event.occurred_at),
        last_attempt_at: Set(None),
        last_status_code: Set(None),
        last_duration_ms: Set(None),
        last_error: Set(None),
        delivered_at: Set(None),
        created_at: Set(event.occurred_at),
    }
}

/// Sends these deliveries in the background once the work that queued them has committed (the
/// request does not wait for receivers; the sweep retries what fails).
fn send_after_commit(ids: Vec<Uuid>) -> AfterCommit {
    Box::new(move |state| {
        for id in ids {
            let state = state.clone();
            tokio::spawn(async move {
                if let Err(error) = send(&state, id).await {
                    tracing::warn!(delivery = %id, %error, "sending a webhook failed; the sweep retries");
                }
            });
        }
        async {}.boxed()
    })
}

/// Queues a delivered or failed delivery again (owners and admins of its endpoint's
/// organization): a new round of attempts, the same `webhook-id` and body. The endpoint must be
/// enabled; a delivery still pending is refused (it is already queued).
pub async fn replay(state: &AppState, viewer: &Viewer, delivery_id: Uuid) -> AppResult<webhook_delivery::Model> {
    use webhook_delivery::Column;
    viewer.require_user()?;
    let delivery = webhook_delivery::Entity::find_by_id(delivery_id)
        .one(&state.db)
        .await?
        .ok_or(AppError::NotFound("webhook delivery"))?;
    let endpoint = managed_endpoint(&state.db, viewer, delivery.endpoint_id).await?;
    if !endpoint.enabled {
        return Err(AppError::conflict("the endpoint is disabled; enable it before replaying its deliveries"));
    }
    if delivery.status == DeliveryStatus::Pending {
        return Err(AppError::conflict("this delivery is already queued"));
    }
    let now = state.clock.now();
    let mut work = UnitOfWork::begin(state, viewer).await?;
    let requeued = webhook_delivery::Entity::update_many()
        .col_expr(Column::Status, Expr::value(DeliveryStatus::Pending))
        .col_expr(Column::Attempts, Expr::value(0))
        .col_expr(Column::RoundStartedAt, Expr::value(now))
        .col_expr(Column::NextAttemptAt, Expr::value(now))
        .col_expr(Column::DeliveredAt, Expr::value(Option::<DateTime<Utc>>::None))
        .filter(Column::Id.eq(delivery_id))
        .filter(Column::Status.eq(delivery.status))
        .exec(work.txn())
        .await?;
    if requeued.rows_affected == 0 {
        return Err(AppError::conflict("this delivery changed meanwhile; try again"));
    }
    work.after_commit(send_after_commit(vec![delivery_id]));
    work.commit().await?;
    Ok(webhook_delivery::Model {
        status: DeliveryStatus::Pending,
        attempts: 0,
        round_started_at: now,
        next_attempt_at: now,
        delivered_at: None,
        ..delivery
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_body_is_the_event_type_its_time_and_the_snapshot_with_ids() -> AppResult<()> {
        let contract = Uuid::new_v4();
        let organization = Uuid::new_v4();
        let event = DomainEvent {
            id: 7,
            topic: format!("contract:{contract}"),
            streams: Vec::new(),
            action: "contract.created".into(),
            subject_type: "contract".into(),
            subject_id: contract,
            actor_profile_id: None,
            after: Some(json!({ "title": "Analytics", "status": "DRAFT" })),
            occurred_at: DateTime::from_timestamp(1_700_000_000, 0).unwrap(),
        };
        let body: Value = serde_json::from_str(&payload(&event, organization)?).unwrap();
        assert_eq!(body["type"], "contract.created");
        assert_eq!(body["timestamp"], "2023-11-14T22:13:20.000000Z");
        assert_eq!(body["data"]["title"], "Analytics");
        assert_eq!(body["data"]["activityId"], 7);
        assert_eq!(body["data"]["subjectId"], json!(contract));
        assert_eq!(body["data"]["contractId"], json!(contract.to_string()));
        assert_eq!(body["data"]["organizationId"], json!(organization));
        Ok(())
    }
}
