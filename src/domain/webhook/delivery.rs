//! Sending deliveries, after commit and by the sweep ([`send_due`]). A sender claims a delivery
//! by moving its next attempt past a lease, so two instances never send it at once. Each attempt
//! POSTs the stored body with `webhook-id` (the delivery's, the same on every attempt and
//! replay), `webhook-timestamp` (now, by the application's clock) and `webhook-signature`, and
//! is recorded (status, duration, error) in `webhook_attempts`.
//!
//! A 2xx answer delivers. Anything else is retried after 30 s, doubling to at most 6 h, until a
//! day has passed since the round began (14 attempts); then the delivery is FAILED. An endpoint
//! that has had no successful attempt for a day (since its first failure) is disabled when one
//! of its deliveries is given up: its pending deliveries fail with it and its organization's
//! owners are mailed. A replay (`queue::replay`) starts a new round.
use std::time::Instant;

use chrono::{DateTime, Duration, Utc};
use entity::{
    organization_member::OrgRole,
    profile, user, webhook_attempt,
    webhook_delivery::{self, DeliveryStatus},
    webhook_endpoint,
};
use futures_util::{StreamExt, stream};
use sea_orm::{
    ColumnTrait, ConnectionTrait, EntityTrait, QueryFilter, QueryOrder, QuerySelect, Set,
    sea_query::{Expr, ExprTrait, Query},
};
use uuid::Uuid;

use super::{guard, sign};
use crate::{
    auth::Viewer,
    config::AppEnv,
    domain::{UnitOfWork, mail},
    error::AppResult,
    state::AppState,
};

/// How long a sender holds a claimed delivery before another may try it (well above the
/// request timeout).
const LEASE: Duration = Duration::minutes(1);

/// How long one attempt may take.
const TIMEOUT: std::time::Duration = std::time::Duration::from_secs(5);

/// How long a round of attempts lasts before the delivery is given up; also how long an
/// endpoint may fail without a success before it is disabled.
pub const RETRY_WINDOW: Duration = Duration::hours(24);

/// The first pause after a failed attempt (doubling after each further one).
const FIRST_PAUSE: Duration = Duration::seconds(30);

/// The longest pause between attempts.
const LONGEST_PAUSE: Duration = Duration::hours(6);

/// Deliveries the sweep attempts at once.
const PARALLEL: usize = 8;

/// `at` plus `pause` (the end of time rather than an overflow).
fn later(at: DateTime<Utc>, pause: Duration) -> DateTime<Utc> {
    at.checked_add_signed(pause).unwrap_or(DateTime::<Utc>::MAX_UTC)
}

/// The pause after attempt `attempts` of a round failed: 30 s doubling, at most 6 h.
fn backoff(attempts: i32) -> Duration {
    let doublings = u32::try_from(attempts.saturating_sub(1).clamp(0, 16)).unwrap_or(0);
    let seconds = FIRST_PAUSE.num_seconds().saturating_mul(2i64.saturating_pow(doublings));
    Duration::seconds(seconds).min(LONGEST_PAUSE)
}

/// What one attempt came to.
struct Attempt {
    /// When it was made (its `webhook-timestamp`).
    at: DateTime<Utc>,
    /// The HTTP status answered, if any.
    status: Option<u16>,
    /// How long it took.
    duration_ms: i32,
    /// What went wrong, if anything did.
    error: Option<String>,
}

impl Attempt {
    /// Whether the endpoint took the delivery (2xx).
    fn succeeded(&self) -> bool {
        self.status.is_some_and(|s| (200..300).contains(&s))
    }
}

/// Sends one delivery if it is due and nobody else holds it; returns whether it was delivered
/// now.
pub async fn send(state: &AppState, id: Uuid) -> AppResult<bool> {
    use webhook_delivery::Column;
    let now = state.clock.now();
    let claimed = webhook_delivery::Entity::update_many()
        .col_expr(Column::NextAttemptAt, Expr::value(later(now, LEASE)))
        .col_expr(Column::Attempts, Expr::col(Column::Attempts).add(1))
        .filter(Column::Id.eq(id))
        .filter(Column::Status.eq(DeliveryStatus::Pending))
        .filter(Column::NextAttemptAt.lte(now))
        .exec(&state.db)
        .await?;
    if claimed.rows_affected == 0 {
        return Ok(false);
    }
    let found =
        webhook_delivery::Entity::find_by_id(id).find_also_related(webhook_endpoint::Entity).one(&state.db).await?;
    let Some((delivery, Some(endpoint))) = found else { return Ok(false) };
    if !endpoint.enabled {
        webhook_delivery::Entity::update_many()
            .col_expr(Column::Status, Expr::value(DeliveryStatus::Failed))
            .col_expr(Column::LastError, Expr::value(Some("the endpoint is disabled".to_owned())))
            .filter(Column::Id.eq(id))
            .filter(Column::Status.eq(DeliveryStatus::Pending))
            .exec(&state.db)
            .await?;
        return Ok(false);
    }
    let made = attempt(state, &endpoint, &delivery).await;
    record(state, &delivery, &endpoint, made).await
}

/// Makes one attempt: checks the destination (production), signs, POSTs, times it.
async fn attempt(state: &AppState, endpoint: &webhook_endpoint::Model, delivery: &webhook_delivery::Model) -> Attempt {
    let at = state.clock.now();
    let started = Instant::now();
    let production = state.config.app_env == AppEnv::Production;
    let answer = post(production, endpoint, delivery, at.timestamp()).await;
    let duration_ms = i32::try_from(started.elapsed().as_millis()).unwrap_or(i32::MAX);
    match answer {
        Ok(status) if (200..300).contains(&status) => Attempt { at, status: Some(status), duration_ms, error: None },
        Ok(status) => {
            Attempt { at, status: Some(status), duration_ms, error: Some(format!("the endpoint answered {status}")) }
        }
        Err(error) => Attempt { at, status: None, duration_ms, error: Some(error) },
    }
}

/// POSTs the delivery signed at `timestamp`; the HTTP status, or why there was none.
async fn post(
    production: bool,
    endpoint: &webhook_endpoint::Model,
    delivery: &webhook_delivery::Model,
    timestamp: i64,
) -> Result<u16, String> {
    let url = reqwest::Url::parse(&endpoint.url).map_err(|_| "the endpoint URL does not parse".to_owned())?;
    if production {
        guard::check_destination(&url).await.map_err(|refused| refused.to_string())?;
    }
    let signature = sign::signature(&endpoint.secret, &delivery.message_id, timestamp, &delivery.payload)
        .map_err(|e| e.to_string())?;
    let response = client(production)?
        .post(url)
        .header("content-type", "application/json")
        .header("webhook-id", delivery.message_id.as_str())
        .header("webhook-timestamp", timestamp.to_string())
        .header("webhook-signature", signature)
        .body(delivery.payload.clone())
        .send()
        .await
        .map_err(|e| {
            tracing::debug!(delivery = %delivery.id, error = ?e, "a webhook attempt got no answer");
            if e.is_timeout() {
                format!("no answer within {} s", TIMEOUT.as_secs())
            } else if e.is_connect() {
                "could not connect to the endpoint".to_owned()
            } else {
                "the request failed".to_owned()
            }
        })?;
    Ok(response.status().as_u16())
}

/// The HTTP client of webhook attempts: 5 s timeout, no redirects followed, no proxy, no idle
/// connections kept, and in production a resolver that refuses non-public addresses. One per
/// process and kind.
fn client(production: bool) -> Result<reqwest::Client, String> {
    static STRICT: std::sync::OnceLock<Result<reqwest::Client, String>> = std::sync::OnceLock::new();
    static OPEN: std::sync::OnceLock<Result<reqwest::Client, String>> = std::sync::OnceLock::new();
    let cell = if production { &STRICT } else { &OPEN };
    cell.get_or_init(|| {
        let mut builder = reqwest::Client::builder()
            .timeout(TIMEOUT)
            .redirect(reqwest::redirect::Policy::none())
            .no_proxy()
            // A connection per attempt: nothing outlives the runtime that opened it.
            .pool_max_idle_per_host(0)
            .user_agent("Semasocial-Webhooks/1");
        if production {
            builder = builder.dns_resolver(std::sync::Arc::new(guard::PublicOnly));
        }
        builder.build().map_err(|e| format!("building the webhook HTTP client: {e}"))
    })
    .clone()
}

/// Records an attempt on the delivery it claimed (nothing when the claim was lost: the lease
/// ran out, the delivery was replayed or its endpoint deleted) and the endpoint's health;
/// disables the endpoint when it has failed for a day. Returns whether it was delivered.
async fn record(
    state: &AppState,
    delivery: &webhook_delivery::Model,
    endpoint: &webhook_endpoint::Model,
    attempt: Attempt,
) -> AppResult<bool> {
    use webhook_delivery::Column;
    let now = state.clock.now();
    let succeeded = attempt.succeeded();
    let gave_up = !succeeded && now.signed_duration_since(delivery.round_started_at) >= RETRY_WINDOW;
    let status = match (succeeded, gave_up) {
        (true, _) => DeliveryStatus::Delivered,
        (false, true) => DeliveryStatus::Failed,
        (false, false) => DeliveryStatus::Pending,
    };
    let next = if status == DeliveryStatus::Pending { later(now, backoff(delivery.attempts)) } else { now };
    let mut work = UnitOfWork::begin(state, &Viewer::Anonymous).await?;
    let updated = webhook_delivery::Entity::update_many()
        .col_expr(Column::Status, Expr::value(status))
        .col_expr(Column::NextAttemptAt, Expr::value(next))
        .col_expr(Column::LastAttemptAt, Expr::value(Some(attempt.at)))
        .col_expr(Column::LastStatusCode, Expr::value(attempt.status.map(i32::from)))
        .col_expr(Column::LastDurationMs, Expr::value(Some(attempt.duration_ms)))
        .col_expr(Column::LastError, Expr::value(attempt.error.clone()))
        .col_expr(Column::DeliveredAt, Expr::value(succeeded.then_some(now)))
        .filter(Column::Id.eq(delivery.id))
        .filter(Column::Status.eq(DeliveryStatus::Pending))
        .filter(Column::Attempts.eq(delivery.attempts))
        .exec(work.txn())
        .await?;
    if updated.rows_affected == 0 {
        tracing::debug!(delivery = %delivery.id, "a webhook attempt's claim was lost; its outcome is not recorded");
        return Ok(false);
    }
    webhook_attempt::Entity::insert(webhook_attempt::ActiveModel {
        delivery_id: Set(delivery.id),
        attempted_at: Set(attempt.at),
        status_code: Set(attempt.status.map(i32::from)),
        duration_ms: Set(attempt.duration_ms),
        succeeded: Set(succeeded),
        error: Set(attempt.error),
        ..Default::default()
    })
    .exec(work.txn())
    .await?;
    health(&work, endpoint, succeeded, attempt.at).await?;
    if gave_up {
        disable_if_failing(&mut work, endpoint, now).await?;
    }
    work.commit().await?;
    Ok(succeeded)
}

/// Keeps the endpoint's `failing_since`: cleared by a success, set by the first failure after.
async fn health(
    work: &UnitOfWork<'_>,
    endpoint: &webhook_endpoint::Model,
    succeeded: bool,
    at: DateTime<Utc>,
) -> AppResult<()> {
    use webhook_endpoint::Column;
    let update = webhook_endpoint::Entity::update_many().filter(Column::Id.eq(endpoint.id));
    let update = if succeeded {
        update
            .col_expr(Column::FailingSince, Expr::value(Option::<DateTime<Utc>>::None))
            .filter(Column::FailingSince.is_not_null())
    } else {
        update.col_expr(Column::FailingSince, Expr::value(Some(at))).filter(Column::FailingSince.is_null())
    };
    update.exec(work.txn()).await?;
    Ok(())
}

/// Disables the endpoint when no attempt has succeeded for a day; its pending deliveries fail
/// and its organization's owners are mailed.
async fn disable_if_failing(
    work: &mut UnitOfWork<'_>,
    endpoint: &webhook_endpoint::Model,
    now: DateTime<Utc>,
) -> AppResult<()> {
    use webhook_endpoint::Column;
    let since = now.checked_sub_signed(RETRY_WINDOW).unwrap_or(DateTime::<Utc>::MIN_UTC);
    let reason = "every delivery failed for 24 hours".to_owned();
    let disabled = webhook_endpoint::Entity::update_many()
        .col_expr(Column::Enabled, Expr::value(false))
        .col_expr(Column::DisabledAt, Expr::value(Some(now)))
        .col_expr(Column::DisabledReason, Expr::value(Some(reason.clone())))
        .col_expr(Column::UpdatedAt, Expr::value(now))
        .filter(Column::Id.eq(endpoint.id))
        .filter(Column::Enabled.eq(true))
        .filter(Column::FailingSince.lte(since))
        .exec(work.txn())
        .await?;
    if disabled.rows_affected == 0 {
        return Ok(());
    }
    let organization_id = endpoint.organization_id;
    tracing::warn!(endpoint = %endpoint.id, organization = %organization_id, "a failing webhook endpoint was disabled");
    webhook_delivery::Entity::update_many()
        .col_expr(webhook_delivery::Column::Status, Expr::value(DeliveryStatus::Failed))
        .col_expr(
            webhook_delivery::Column::LastError,
            Expr::value(Some(format!("the endpoint was disabled: {reason}"))),
        )
        .filter(webhook_delivery::Column::EndpointId.eq(endpoint.id))
        .filter(webhook_delivery::Column::Status.eq(DeliveryStatus::Pending))
        .exec(work.txn())
        .await?;
    let mut off = endpoint.clone();
    off.enabled = false;
    work.record(super::endpoint_activity(crate::domain::Action::WebhookEndpointDisabled, &off)).await?;
    let organization = crate::domain::organization::by_id(work.txn(), endpoint.organization_id).await?;
    let name = organization.map_or_else(|| "your organization".to_owned(), |o| o.name);
    for to in owner_emails(work.txn(), endpoint.organization_id).await? {
        let body = format!(
            "Every delivery to the webhook endpoint {url} of {name} has failed for 24 hours, so it was \
             disabled: events from now until it is enabled again are not queued for it.\n\nOnce the \
             receiver answers again, enable the endpoint (enableWebhookEndpoint) and replay the \
             deliveries that failed (replayWebhookDelivery).\n",
            url = endpoint.url,
        );
        let notice = mail::Mail { to, kind: "webhook_disabled", subject: "Webhook endpoint disabled".to_owned(), body };
        mail::queue(work, notice).await?;
    }
    Ok(())
}

/// The addresses of an organization's owners (one statement).
async fn owner_emails(db: &impl ConnectionTrait, organization_id: Uuid) -> AppResult<Vec<String>> {
    let owners = Query::select()
        .column(entity::organization_member::Column::ProfileId)
        .from(entity::organization_member::Entity)
        .and_where(entity::organization_member::Column::OrganizationId.eq(organization_id))
        .and_where(entity::organization_member::Column::Role.eq(OrgRole::Owner))
        .to_owned();
    let accounts = Query::select()
        .column(profile::Column::UserId)
        .from(profile::Entity)
        .and_where(profile::Column::Id.in_subquery(owners))
        .to_owned();
    Ok(user::Entity::find()
        .select_only()
        .column(user::Column::Email)
        .filter(user::Column::Id.in_subquery(accounts))
        .filter(user::Column::EmailVerifiedAt.is_not_null())
        .into_tuple()
        .all(db)
        .await?)
}

/// The sweep's part: attempts due deliveries (oldest due first, `batch` at most, a few at a
/// time). Returns how many were delivered.
pub async fn send_due(state: &AppState, batch: u64) -> AppResult<usize> {
    use webhook_delivery::Column;
    let ids: Vec<Uuid> = webhook_delivery::Entity::find()
        .select_only()
        .column(Column::Id)
        .filter(Column::Status.eq(DeliveryStatus::Pending))
        .filter(Column::NextAttemptAt.lte(state.clock.now()))
        .order_by_asc(Column::NextAttemptAt)
        .limit(batch)
        .into_tuple()
        .all(&state.db)
        .await?;
    let sent: Vec<(Uuid, AppResult<bool>)> = stream::iter(ids)
        .map(|id| async move { (id, send(state, id).await) })
        .buffer_unordered(PARALLEL)
        .collect()
        .await;
    let mut delivered = 0usize;
    for (id, result) in sent {
        match result {
            Ok(true) => delivered = delivered.saturating_add(1),
            Ok(false) => {}
            Err(error) => tracing::warn!(delivery = %id, %error, "could not send a webhook"),
        }
    }
    Ok(delivered)
}
#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn retries_wait_30_seconds_doubling_up_to_6_hours() {
        let waits: Vec<i64> = (1..=12).map(|a| backoff(a).num_seconds()).collect();
        assert_eq!(waits, vec![30, 60, 120, 240, 480, 960, 1920, 3840, 7680, 15360, 21600, 21600]);
        assert_eq!(backoff(i32::MAX), LONGEST_PAUSE);
        assert_eq!(backoff(0), FIRST_PAUSE);
    }

    #[test]
    fn a_round_of_retries_lasts_at_least_a_day() {
        // The attempts of a delivery that always fails: the first at 0, each after its pause.
        let mut at = Duration::zero();
        let mut attempts = 1;
        while at < RETRY_WINDOW {
            at = at.checked_add(&backoff(attempts)).unwrap();
            attempts = attempts.saturating_add(1);
        }
        assert!(at >= RETRY_WINDOW && at < RETRY_WINDOW.checked_add(&LONGEST_PAUSE).unwrap());
        assert_eq!(attempts, 14, "given up at the 14th attempt, {} h after the first", at.num_hours());
    }
}
