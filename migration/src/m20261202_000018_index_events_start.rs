//! Upcoming-events lists (`events`, `myEvents`) run in (starts_at, id) order across all
//! communities: an index in that order lets them read the first page instead of sorting every
//! event that has not ended.
use sea_orm_migration::prelude::*;

#[derive(DeriveMigrationName)]
pub struct Migration;

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, m: &SchemaManager) -> Result<(), DbErr> {
        m.create_index(
            Index::create()
                .name("ix_events_starts_at")
                .table(Alias::new("events"))
                .col(Alias::new("starts_at"))
                .col(Alias::new("id"))
                .to_owned(),
        )
        .await
    }

    async fn down(&self, m: &SchemaManager) -> Result<(), DbErr> {
        m.drop_index(Index::drop().name("ix_events_starts_at").table(Alias::new("events")).to_owned()).await
    }
}
