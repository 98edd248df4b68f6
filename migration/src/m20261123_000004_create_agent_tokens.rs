use sea_orm_migration::{prelude::*, schema::*};

use super::m20261123_000002_create_profiles::Profiles;

#[derive(DeriveMigrationName)]
pub struct Migration;

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, m: &SchemaManager) -> Result<(), DbErr> {
        m.create_table(
            Table::create()
                .table(AgentTokens::Table)
                .col(pk_uuid(AgentTokens::Id))
                .col(uuid(AgentTokens::AgentProfileId))
                .col(string_len(AgentTokens::Name, 100))
                .col(string_len(AgentTokens::Scopes, 200))
                .col(string_len(AgentTokens::TokenHash, 64))
                .col(timestamp_with_time_zone(AgentTokens::CreatedAt))
                .col(timestamp_with_time_zone_null(AgentTokens::LastUsedAt))
                .col(timestamp_with_time_zone_null(AgentTokens::RevokedAt))
                .foreign_key(
                    ForeignKey::create()
                        .name("fk_agent_tokens_agent")
                        .from(AgentTokens::Table, AgentTokens::AgentProfileId)
                        .to(Profiles::Table, Profiles::Id)
                        .on_delete(ForeignKeyAction::Cascade),
                )
                .to_owned(),
        )
        .await?;
        m.create_index(
            Index::create()
                .name("ux_agent_tokens_hash")
                .table(AgentTokens::Table)
                .col(AgentTokens::TokenHash)
                .unique()
                .to_owned(),
        )
        .await?;
        m.create_index(
            Index::create()
                .name("ix_agent_tokens_agent")
                .table(AgentTokens::Table)
                .col(AgentTokens::AgentProfileId)
                .to_owned(),
        )
        .await
    }

    async fn down(&self, m: &SchemaManager) -> Result<(), DbErr> {
        m.drop_table(Table::drop().table(AgentTokens::Table).to_owned()).await
    }
}

#[derive(DeriveIden)]
enum AgentTokens {
    Table,
    Id,
    AgentProfileId,
    Name,
    Scopes,
    TokenHash,
    CreatedAt,
    LastUsedAt,
    RevokedAt,
}
