use sea_orm_migration::{prelude::*, schema::*};

use super::m20261123_000002_create_profiles::Profiles;

#[derive(DeriveMigrationName)]
pub struct Migration;

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, m: &SchemaManager) -> Result<(), DbErr> {
        m.create_table(
            Table::create()
                .table(Organizations::Table)
                .col(pk_uuid(Organizations::Id))
                .col(string_len(Organizations::Slug, 48))
                .col(string_len(Organizations::Name, 100))
                .col(text_null(Organizations::Description))
                .col(timestamp_with_time_zone(Organizations::CreatedAt))
                .col(timestamp_with_time_zone(Organizations::UpdatedAt))
                .to_owned(),
        )
        .await?;
        m.create_index(
            Index::create()
                .name("ux_organizations_slug")
                .table(Organizations::Table)
                .col(Organizations::Slug)
                .unique()
                .to_owned(),
        )
        .await?;
        m.create_table(
            Table::create()
                .table(OrganizationMembers::Table)
                .col(uuid(OrganizationMembers::OrganizationId))
                .col(uuid(OrganizationMembers::ProfileId))
                .col(string_len(OrganizationMembers::Role, 16))
                .col(timestamp_with_time_zone(OrganizationMembers::CreatedAt))
                .primary_key(
                    Index::create().col(OrganizationMembers::OrganizationId).col(OrganizationMembers::ProfileId),
                )
                .foreign_key(
                    ForeignKey::create()
                        .name("fk_org_members_org")
                        .from(OrganizationMembers::Table, OrganizationMembers::OrganizationId)
                        .to(Organizations::Table, Organizations::Id)
                        .on_delete(ForeignKeyAction::Cascade),
                )
                .foreign_key(
                    ForeignKey::create()
                        .name("fk_org_members_profile")
                        .from(OrganizationMembers::Table, OrganizationMembers::ProfileId)
                        .to(Profiles::Table, Profiles::Id)
                        .on_delete(ForeignKeyAction::Cascade),
                )
                .to_owned(),
        )
        .await?;
        m.create_index(
            Index::create()
                .name("ix_org_members_profile")
                .table(OrganizationMembers::Table)
                .col(OrganizationMembers::ProfileId)
                .to_owned(),
        )
        .await
    }

    async fn down(&self, m: &SchemaManager) -> Result<(), DbErr> {
        m.drop_table(Table::drop().table(OrganizationMembers::Table).to_owned()).await?;
        m.drop_table(Table::drop().table(Organizations::Table).to_owned()).await
    }
}

#[derive(DeriveIden)]
enum Organizations {
    Table,
    Id,
    Slug,
    Name,
    Description,
    CreatedAt,
    UpdatedAt,
}

#[derive(DeriveIden)]
enum OrganizationMembers {
    Table,
    OrganizationId,
    ProfileId,
    Role,
    CreatedAt,
}
