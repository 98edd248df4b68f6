//! Outgoing webhooks: an organization's endpoints (URL, event types, signing secret, health),
//! the deliveries written in the transaction that recorded each event (retried until the
//! endpoint answers 2xx or a day has passed), and every attempt made.
use sea_orm_migration::{prelude::*, schema::*};

use crate::{ForeignKeySpec, fk, index};

#[derive(DeriveMigrationName)]
pub struct Migration;

const ENDPOINT_ORGANIZATION: ForeignKeySpec = ("webhook_endpoints", "organization_id", "organizations");
const ENDPOINT_CREATOR: ForeignKeySpec = ("webhook_endpoints", "created_by_profile_id", "profiles");
const DELIVERY_ENDPOINT: ForeignKeySpec = ("webhook_deliveries", "endpoint_id", "webhook_endpoints");
const DELIVERY_ACTIVITY: ForeignKeySpec = ("webhook_deliveries", "activity_id", "activities");
const ATTEMPT_DELIVERY: ForeignKeySpec = ("webhook_attempts", "delivery_id", "webhook_deliveries");

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, m: &SchemaManager) -> Result<(), DbErr> {
        let mut endpoints = Table::create()
            .table(WebhookEndpoints::Table)
            .col(pk_uuid(WebhookEndpoints::Id))
            .col(uuid(WebhookEndpoints::OrganizationId))
            .col(string_len(WebhookEndpoints::Url, 2000))
            .col(text(WebhookEndpoints::EventTypes))
            .col(string_len(WebhookEndpoints::Secret, 64))
            .col(boolean(WebhookEndpoints::Enabled))
            .col(timestamp_with_time_zone_null(WebhookEndpoints::DisabledAt))
            .col(text_null(WebhookEndpoints::DisabledReason))
            .col(timestamp_with_time_zone_null(WebhookEndpoints::FailingSince))
            .col(uuid(WebhookEndpoints::CreatedByProfileId))
            .col(timestamp_with_time_zone(WebhookEndpoints::CreatedAt))
            .col(timestamp_with_time_zone(WebhookEndpoints::UpdatedAt))
            .to_owned();
        endpoints.foreign_key(&mut fk(&ENDPOINT_ORGANIZATION));
        endpoints.foreign_key(&mut fk(&ENDPOINT_CREATOR));
        m.create_table(endpoints).await?;
        m.create_index(index(&ENDPOINT_ORGANIZATION)).await?;
        m.create_index(index(&ENDPOINT_CREATOR)).await?;

        let mut deliveries = Table::create()
            .table(WebhookDeliveries::Table)
            .col(pk_uuid(WebhookDeliveries::Id))
            .col(uuid(WebhookDeliveries::EndpointId))
            .col(big_integer(WebhookDeliveries::ActivityId))
            .col(string_len(WebhookDeliveries::EventType, 64))
            .col(string_len_uniq(WebhookDeliveries::MessageId, 64))
            .col(text(WebhookDeliveries::Payload))
            .col(string_len(WebhookDeliveries::Status, 16))
            .col(integer(WebhookDeliveries::Attempts))
            .col(timestamp_with_time_zone(WebhookDeliveries::RoundStartedAt))
            .col(timestamp_with_time_zone(WebhookDeliveries::NextAttemptAt))
            .col(timestamp_with_time_zone_null(WebhookDeliveries::LastAttemptAt))
            .col(integer_null(WebhookDeliveries::LastStatusCode))
            .col(integer_null(WebhookDeliveries::LastDurationMs))
            .col(text_null(WebhookDeliveries::LastError))
            .col(timestamp_with_time_zone_null(WebhookDeliveries::DeliveredAt))
            .col(timestamp_with_time_zone(WebhookDeliveries::CreatedAt))
            .to_owned();
        deliveries.foreign_key(&mut fk(&DELIVERY_ENDPOINT));
        deliveries.foreign_key(&mut fk(&DELIVERY_ACTIVITY));
        m.create_table(deliveries).await?;
        // An endpoint's deliveries, newest first (the list and the endpoint's key lookups).
        m.create_index(
            Index::create()
                .name("ix_webhook_deliveries_endpoint_created")
                .table(WebhookDeliveries::Table)
                .col(WebhookDeliveries::EndpointId)
                .col(WebhookDeliveries::CreatedAt)
                .col(WebhookDeliveries::Id)
                .to_owned(),
        )
        .await?;
        m.create_index(index(&DELIVERY_ACTIVITY)).await?;
        // What the sweep sends: pending, due first.
        m.create_index(
            Index::create()
                .name("ix_webhook_deliveries_due")
                .table(WebhookDeliveries::Table)
                .col(WebhookDeliveries::Status)
                .col(WebhookDeliveries::NextAttemptAt)
                .to_owned(),
        )
        .await?;

        let mut attempts = Table::create()
            .table(WebhookAttempts::Table)
            .col(big_pk_auto(WebhookAttempts::Id))
            .col(uuid(WebhookAttempts::DeliveryId))
            .col(timestamp_with_time_zone(WebhookAttempts::AttemptedAt))
            .col(integer_null(WebhookAttempts::StatusCode))
            .col(integer(WebhookAttempts::DurationMs))
            .col(boolean(WebhookAttempts::Succeeded))
            .col(text_null(WebhookAttempts::Error))
            .to_owned();
        attempts.foreign_key(&mut fk(&ATTEMPT_DELIVERY));
        m.create_table(attempts).await?;
        m.create_index(index(&ATTEMPT_DELIVERY)).await
    }

    async fn down(&self, m: &SchemaManager) -> Result<(), DbErr> {
        m.drop_table(Table::drop().table(WebhookAttempts::Table).to_owned()).await?;
        m.drop_table(Table::drop().table(WebhookDeliveries::Table).to_owned()).await?;
        m.drop_table(Table::drop().table(WebhookEndpoints::Table).to_owned()).await
    }
}

#[derive(DeriveIden)]
enum WebhookEndpoints {
    Table,
    Id,
    OrganizationId,
    Url,
    EventTypes,
    Secret,
    Enabled,
    DisabledAt,
    DisabledReason,
    FailingSince,
    CreatedByProfileId,
    CreatedAt,
    UpdatedAt,
}

#[derive(DeriveIden)]
enum WebhookDeliveries {
    Table,
    Id,
    EndpointId,
    ActivityId,
    EventType,
    MessageId,
    Payload,
    Status,
    Attempts,
    RoundStartedAt,
    NextAttemptAt,
    LastAttemptAt,
    LastStatusCode,
    LastDurationMs,
    LastError,
    DeliveredAt,
    CreatedAt,
}

#[derive(DeriveIden)]
enum WebhookAttempts {
    Table,
    Id,
    DeliveryId,
    AttemptedAt,
    StatusCode,
    DurationMs,
    Succeeded,
    Error,
}
