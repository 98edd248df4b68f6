//! A person's answer to an event.
use sea_orm::entity::prelude::*;

/// RSVP states.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, EnumIter, DeriveActiveEnum)]
#[sea_orm(rs_type = "String", db_type = "String(StringLen::N(16))")]
pub enum RsvpStatus {
    /// Has a place.
    #[sea_orm(string_value = "GOING")]
    Going,
    /// Waiting for a place.
    #[sea_orm(string_value = "WAITLISTED")]
    Waitlisted,
    /// Gave up the place or the waitlist spot.
    #[sea_orm(string_value = "CANCELLED")]
    Cancelled,
}

/// An RSVP row; one per (event, profile).
#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "event_rsvps")]
pub struct Model {
    #[sea_orm(primary_key, auto_increment = false)]
    pub id: Uuid,
    pub event_id: Uuid,
    pub profile_id: Uuid,
    pub status: RsvpStatus,
    /// Waitlist order (unique per event); `None` unless waitlisted.
    pub waitlist_seq: Option<i32>,
    pub created_at: DateTimeUtc,
    pub updated_at: DateTimeUtc,
}

/// Relations of an RSVP.
#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
