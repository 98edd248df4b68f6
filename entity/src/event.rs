//! An event hosted by a community or a person.
use sea_orm::entity::prelude::*;

/// Where an event stands.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, EnumIter, DeriveActiveEnum)]
#[sea_orm(rs_type = "String", db_type = "String(StringLen::N(16))")]
pub enum EventStatus {
    /// Going ahead.
    #[sea_orm(string_value = "SCHEDULED")]
    Scheduled,
    /// Called off.
    #[sea_orm(string_value = "CANCELLED")]
    Cancelled,
    /// Over.
    #[sea_orm(string_value = "COMPLETED")]
    Completed,
}

/// An event row. `going_count` is kept under the event's row lock.
#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "events")]
pub struct Model {
    #[sea_orm(primary_key, auto_increment = false)]
    pub id: Uuid,
    pub community_id: Option<Uuid>,
    pub host_profile_id: Uuid,
    pub title: String,
    pub description: Option<String>,
    pub starts_at: DateTimeUtc,
    pub ends_at: DateTimeUtc,
    pub timezone: String,
    pub venue: Option<String>,
    pub online_url: Option<String>,
    pub capacity: i32,
    pub going_count: i32,
    /// Last waitlist sequence number handed out.
    pub waitlist_seq: i32,
    pub status: EventStatus,
    pub created_at: DateTimeUtc,
    pub updated_at: DateTimeUtc,
}

/// Relations of an event.
#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
