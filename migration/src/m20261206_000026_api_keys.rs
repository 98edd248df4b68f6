//! API keys: long-lived credentials a person (or an organization's admin, for the
//! organization) makes for their own systems. Stored as a SHA-256 hash; scoped; revocable;
//! optionally bound to one organization and expiring.
use sea_orm_migration::{prelude::*, schema::*};

use crate::{ForeignKeySpec, fk, index};

#[derive(DeriveMigrationName)]
pub struct Migration;

const REFERENCES: [ForeignKeySpec; 2] =
    [("api_keys", "user_id", "users"), ("api_keys", "organization_id", "organizations")];

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, m: &SchemaManager) -> Result<(), DbErr> {
        let mut table = Table::create()
            .table(ApiKeys::Table)
            .col(pk_uuid(ApiKeys::Id))
            .col(uuid(ApiKeys::UserId))
            .col(uuid_null(ApiKeys::OrganizationId))
            .col(string_len(ApiKeys::Name, 100))
            .col(string_len(ApiKeys::Scopes, 400))
            .col(string_len(ApiKeys::Prefix, 16))
            .col(string_len(ApiKeys::TokenHash, 64))
            .col(timestamp_with_time_zone(ApiKeys::CreatedAt))
            .col(timestamp_with_time_zone_null(ApiKeys::LastUsedAt))
            .col(timestamp_with_time_zone_null(ApiKeys::ExpiresAt))
            .col(timestamp_with_time_zone_null(ApiKeys::RevokedAt))
            .to_owned();
        for spec in &REFERENCES {
            table.foreign_key(&mut fk(spec));
        }
        m.create_table(table).await?;
        for spec in &REFERENCES {
            m.create_index(index(spec)).await?;
        }
        m.create_index(
            Index::create()
                .name("ux_api_keys_token_hash")
                .table(ApiKeys::Table)
                .col(ApiKeys::TokenHash)
                .unique()
                .to_owned(),
        )
        .await
    }

    async fn down(&self, m: &SchemaManager) -> Result<(), DbErr> {
        m.drop_table(Table::drop().table(ApiKeys::Table).to_owned()).await
    }
}

#[derive(DeriveIden)]
enum ApiKeys {
    Table,
    Id,
    UserId,
    OrganizationId,
    Name,
    Scopes,
    Prefix,
    TokenHash,
    CreatedAt,
    LastUsedAt,
    ExpiresAt,
    RevokedAt,
}
