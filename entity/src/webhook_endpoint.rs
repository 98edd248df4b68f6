//! An organization's webhook endpoint: where the events of its contracts are POSTed, signed per
//! the Standard Webhooks spec with the endpoint's secret.
use sea_orm::entity::prelude::*;

/// An endpoint row. Its `secret` signs every delivery: never log a whole row.
#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "webhook_endpoints")]
pub struct Model {
    #[sea_orm(primary_key, auto_increment = false)]
    pub id: Uuid,
    /// The organization whose events it receives.
    pub organization_id: Uuid,
    /// The http(s) URL deliveries are POSTed to.
    pub url: String,
    /// The event types (activity action names) it receives, space-separated.
    pub event_types: String,
    /// `whsec_` + base64 of the signing key, kept to sign (shown to the client once).
    pub secret: String,
    /// Whether new events are delivered to it.
    pub enabled: bool,
    /// When it was disabled, if it is.
    pub disabled_at: Option<DateTimeUtc>,
    /// Why it was disabled, if it is.
    pub disabled_reason: Option<String>,
    /// Since when every attempt to reach it has failed (null once one succeeds).
    pub failing_since: Option<DateTimeUtc>,
    /// The owner or admin who created it.
    pub created_by_profile_id: Uuid,
    pub created_at: DateTimeUtc,
    pub updated_at: DateTimeUtc,
}

/// Relations of an endpoint.
#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {
    /// The organization.
    #[sea_orm(
        belongs_to = "super::organization::Entity",
        from = "Column::OrganizationId",
        to = "super::organization::Column::Id"
    )]
    Organization,
}

impl Related<super::organization::Entity> for Entity {
    fn to() -> RelationDef {
        Relation::Organization.def()
    }
}

impl ActiveModelBehavior for ActiveModel {}
