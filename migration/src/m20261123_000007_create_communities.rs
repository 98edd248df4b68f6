use sea_orm_migration::{prelude::*, schema::*};

use super::m20261123_000002_create_profiles::Profiles;

#[derive(DeriveMigrationName)]
pub struct Migration;

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, m: &SchemaManager) -> Result<(), DbErr> {
        m.create_table(
            Table::create()
                .table(Communities::Table)
                .col(pk_uuid(Communities::Id))
                .col(string_len(Communities::Slug, 48))
                .col(string_len(Communities::Name, 100))
                .col(text_null(Communities::Description))
                .col(string_len(Communities::Visibility, 16))
                .col(uuid(Communities::CreatedBy))
                .col(timestamp_with_time_zone(Communities::CreatedAt))
                .col(timestamp_with_time_zone(Communities::UpdatedAt))
                .to_owned(),
        )
        .await?;
        m.create_index(
            Index::create()
                .name("ux_communities_slug")
                .table(Communities::Table)
                .col(Communities::Slug)
                .unique()
                .to_owned(),
        )
        .await?;
        m.create_table(
            Table::create()
                .table(CommunityMembers::Table)
                .col(uuid(CommunityMembers::CommunityId))
                .col(uuid(CommunityMembers::ProfileId))
                .col(string_len(CommunityMembers::Role, 16))
                .col(timestamp_with_time_zone(CommunityMembers::CreatedAt))
                .primary_key(Index::create().col(CommunityMembers::CommunityId).col(CommunityMembers::ProfileId))
                .foreign_key(
                    ForeignKey::create()
                        .name("fk_community_members_community")
                        .from(CommunityMembers::Table, CommunityMembers::CommunityId)
                        .to(Communities::Table, Communities::Id)
                        .on_delete(ForeignKeyAction::Cascade),
                )
                .foreign_key(
                    ForeignKey::create()
                        .name("fk_community_members_profile")
                        .from(CommunityMembers::Table, CommunityMembers::ProfileId)
                        .to(Profiles::Table, Profiles::Id)
                        .on_delete(ForeignKeyAction::Cascade),
                )
                .to_owned(),
        )
        .await?;
        m.create_index(
            Index::create()
                .name("ix_community_members_profile")
                .table(CommunityMembers::Table)
                .col(CommunityMembers::ProfileId)
                .to_owned(),
        )
        .await?;
        m.create_table(
            Table::create()
                .table(CommunityBans::Table)
                .col(uuid(CommunityBans::CommunityId))
                .col(uuid(CommunityBans::ProfileId))
                .col(text_null(CommunityBans::Reason))
                .col(uuid(CommunityBans::BannedBy))
                .col(timestamp_with_time_zone(CommunityBans::CreatedAt))
                .primary_key(Index::create().col(CommunityBans::CommunityId).col(CommunityBans::ProfileId))
                .foreign_key(
                    ForeignKey::create()
                        .name("fk_community_bans_community")
                        .from(CommunityBans::Table, CommunityBans::CommunityId)
                        .to(Communities::Table, Communities::Id)
                        .on_delete(ForeignKeyAction::Cascade),
                )
                .to_owned(),
        )
        .await?;
        m.create_table(
            Table::create()
                .table(CommunityJoinRequests::Table)
                .col(pk_uuid(CommunityJoinRequests::Id))
                .col(uuid(CommunityJoinRequests::CommunityId))
                .col(uuid(CommunityJoinRequests::ProfileId))
                .col(text_null(CommunityJoinRequests::Message))
                .col(string_len(CommunityJoinRequests::Status, 16))
                .col(uuid_null(CommunityJoinRequests::DecidedBy))
                .col(timestamp_with_time_zone(CommunityJoinRequests::CreatedAt))
                .col(timestamp_with_time_zone_null(CommunityJoinRequests::DecidedAt))
                .foreign_key(
                    ForeignKey::create()
                        .name("fk_join_requests_community")
                        .from(CommunityJoinRequests::Table, CommunityJoinRequests::CommunityId)
                        .to(Communities::Table, Communities::Id)
                        .on_delete(ForeignKeyAction::Cascade),
                )
                .to_owned(),
        )
        .await?;
        // One pending request per person and community.
        m.get_connection()
            .execute_unprepared(
                "CREATE UNIQUE INDEX ux_join_requests_pending ON community_join_requests (community_id, profile_id) \
                 WHERE status = 'PENDING'",
            )
            .await?;
        Ok(())
    }

    async fn down(&self, m: &SchemaManager) -> Result<(), DbErr> {
        for table in [
            CommunityJoinRequests::Table.into_iden(),
            CommunityBans::Table.into_iden(),
            CommunityMembers::Table.into_iden(),
            Communities::Table.into_iden(),
        ] {
            m.drop_table(Table::drop().table(table).to_owned()).await?;
        }
        Ok(())
    }
}

#[derive(DeriveIden)]
pub enum Communities {
    Table,
    Id,
    Slug,
    Name,
    Description,
    Visibility,
    CreatedBy,
    CreatedAt,
    UpdatedAt,
}

#[derive(DeriveIden)]
enum CommunityMembers {
    Table,
    CommunityId,
    ProfileId,
    Role,
    CreatedAt,
}

#[derive(DeriveIden)]
enum CommunityBans {
    Table,
    CommunityId,
    ProfileId,
    Reason,
    BannedBy,
    CreatedAt,
}

#[derive(DeriveIden)]
enum CommunityJoinRequests {
    Table,
    Id,
    CommunityId,
    ProfileId,
    Message,
    Status,
    DecidedBy,
    CreatedAt,
    DecidedAt,
}
