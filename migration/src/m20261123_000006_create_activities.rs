use sea_orm_migration::{prelude::*, schema::*};

#[derive(DeriveMigrationName)]
pub struct Migration;

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, m: &SchemaManager) -> Result<(), DbErr> {
        m.create_table(
            Table::create()
                .table(Activities::Table)
                .col(big_pk_auto(Activities::Id))
                .col(string_len(Activities::Topic, 100))
                .col(uuid_null(Activities::ActorUserId))
                .col(uuid_null(Activities::ActorProfileId))
                .col(string_len(Activities::Action, 64))
                .col(string_len(Activities::SubjectType, 32))
                .col(uuid(Activities::SubjectId))
                .col(json_null(Activities::Before))
                .col(json_null(Activities::After))
                .col(timestamp_with_time_zone(Activities::CreatedAt))
                .to_owned(),
        )
        .await?;
        m.create_index(
            Index::create()
                .name("ix_activities_topic_id")
                .table(Activities::Table)
                .col(Activities::Topic)
                .col(Activities::Id)
                .to_owned(),
        )
        .await
    }

    async fn down(&self, m: &SchemaManager) -> Result<(), DbErr> {
        m.drop_table(Table::drop().table(Activities::Table).to_owned()).await
    }
}

#[derive(DeriveIden)]
enum Activities {
    Table,
    Id,
    Topic,
    ActorUserId,
    ActorProfileId,
    Action,
    SubjectType,
    SubjectId,
    Before,
    After,
    CreatedAt,
}
