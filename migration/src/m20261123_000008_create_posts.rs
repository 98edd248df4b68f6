use sea_orm_migration::{prelude::*, schema::*};

use super::m20261123_000007_create_communities::Communities;

#[derive(DeriveMigrationName)]
pub struct Migration;

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, m: &SchemaManager) -> Result<(), DbErr> {
        m.create_table(
            Table::create()
                .table(Posts::Table)
                .col(pk_uuid(Posts::Id))
                .col(uuid(Posts::CommunityId))
                .col(uuid(Posts::AuthorProfileId))
                .col(string_len(Posts::Title, 200))
                .col(text(Posts::Body))
                .col(boolean(Posts::Pinned).default(false))
                .col(timestamp_with_time_zone_null(Posts::RemovedAt))
                .col(text_null(Posts::RemovedReason))
                .col(uuid_null(Posts::RemovedBy))
                .col(timestamp_with_time_zone(Posts::CreatedAt))
                .col(timestamp_with_time_zone(Posts::UpdatedAt))
                .foreign_key(
                    ForeignKey::create()
                        .name("fk_posts_community")
                        .from(Posts::Table, Posts::CommunityId)
                        .to(Communities::Table, Communities::Id)
                        .on_delete(ForeignKeyAction::Cascade),
                )
                .to_owned(),
        )
        .await?;
        m.create_index(
            Index::create()
                .name("ix_posts_community_feed")
                .table(Posts::Table)
                .col(Posts::CommunityId)
                .col(Posts::Pinned)
                .col(Posts::CreatedAt)
                .col(Posts::Id)
                .to_owned(),
        )
        .await?;
        m.create_table(
            Table::create()
                .table(Comments::Table)
                .col(pk_uuid(Comments::Id))
                .col(uuid(Comments::PostId))
                .col(uuid_null(Comments::ParentId))
                .col(uuid(Comments::AuthorProfileId))
                .col(text(Comments::Body))
                .col(timestamp_with_time_zone_null(Comments::RemovedAt))
                .col(text_null(Comments::RemovedReason))
                .col(uuid_null(Comments::RemovedBy))
                .col(timestamp_with_time_zone(Comments::CreatedAt))
                .col(timestamp_with_time_zone(Comments::UpdatedAt))
                .foreign_key(
                    ForeignKey::create()
                        .name("fk_comments_post")
                        .from(Comments::Table, Comments::PostId)
                        .to(Posts::Table, Posts::Id)
                        .on_delete(ForeignKeyAction::Cascade),
                )
                .to_owned(),
        )
        .await?;
        m.create_index(
            Index::create()
                .name("ix_comments_post_created")
                .table(Comments::Table)
                .col(Comments::PostId)
                .col(Comments::CreatedAt)
                .col(Comments::Id)
                .to_owned(),
        )
        .await
    }

    async fn down(&self, m: &SchemaManager) -> Result<(), DbErr> {
        m.drop_table(Table::drop().table(Comments::Table).to_owned()).await?;
        m.drop_table(Table::drop().table(Posts::Table).to_owned()).await
    }
}

#[derive(DeriveIden)]
enum Posts {
    Table,
    Id,
    CommunityId,
    AuthorProfileId,
    Title,
    Body,
    Pinned,
    RemovedAt,
    RemovedReason,
    RemovedBy,
    CreatedAt,
    UpdatedAt,
}

#[derive(DeriveIden)]
enum Comments {
    Table,
    Id,
    PostId,
    ParentId,
    AuthorProfileId,
    Body,
    RemovedAt,
    RemovedReason,
    RemovedBy,
    CreatedAt,
    UpdatedAt,
}
