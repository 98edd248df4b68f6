//! One event on its way to one webhook endpoint: written in the transaction that recorded the
//! event, sent after commit, retried with backoff until the endpoint answers 2xx or a day has
//! passed. Its `message_id` (the `webhook-id` header) never changes, replays included.
use sea_orm::entity::prelude::*;

/// Where a delivery stands.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, EnumIter, DeriveActiveEnum)]
#[sea_orm(rs_type = "String", db_type = "String(StringLen::N(16))")]
pub enum DeliveryStatus {
    /// Waiting for its next attempt (or being attempted).
    #[sea_orm(string_value = "PENDING")]
    Pending,
    /// The endpoint answered 2xx.
    #[sea_orm(string_value = "DELIVERED")]
    Delivered,
    /// Given up: a day of failed attempts, or its endpoint was disabled.
    #[sea_orm(string_value = "FAILED")]
    Failed,
}

/// A delivery row.
#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "webhook_deliveries")]
pub struct Model {
    #[sea_orm(primary_key, auto_increment = false)]
    pub id: Uuid,
    pub endpoint_id: Uuid,
    /// The activity it carries.
    pub activity_id: i64,
    /// The event type, e.g. `contract.created`.
    pub event_type: String,
    /// The `webhook-id` header: `msg_<uuid>`, the same on every attempt.
    #[sea_orm(unique)]
    pub message_id: String,
    /// The exact JSON body sent (and signed) on every attempt.
    pub payload: String,
    pub status: DeliveryStatus,
    /// Attempts in the current round (a replay starts a new one; `webhook_attempts` keeps all).
    pub attempts: i32,
    /// When the current round began (queued or replayed): retries stop a day later.
    pub round_started_at: DateTimeUtc,
    /// When it may be tried (again); a sender claims it by moving this past a lease.
    pub next_attempt_at: DateTimeUtc,
    pub last_attempt_at: Option<DateTimeUtc>,
    /// The HTTP status of the last answer (none when there was no answer).
    pub last_status_code: Option<i32>,
    pub last_duration_ms: Option<i32>,
    pub last_error: Option<String>,
    pub delivered_at: Option<DateTimeUtc>,
    pub created_at: DateTimeUtc,
}

/// Relations of a delivery.
#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {
    /// The endpoint it goes to.
    #[sea_orm(
        belongs_to = "super::webhook_endpoint::Entity",
        from = "Column::EndpointId",
        to = "super::webhook_endpoint::Column::Id"
    )]
    Endpoint,
}

impl Related<super::webhook_endpoint::Entity> for Entity {
    fn to() -> RelationDef {
        Relation::Endpoint.def()
    }
}

impl ActiveModelBehavior for ActiveModel {}
