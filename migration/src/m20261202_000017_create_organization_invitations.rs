//! Organization membership by invitation: owners and admins invite a person with a role, the
//! invitee accepts (becoming a member) or declines; a pending invitation can be revoked.
use sea_orm_migration::{prelude::*, schema::*};

use crate::{ForeignKeySpec, fk, index};

#[derive(DeriveMigrationName)]
pub struct Migration;

const REFERENCES: &[ForeignKeySpec] = &[
    ("organization_invitations", "organization_id", "organizations"),
    ("organization_invitations", "profile_id", "profiles"),
    ("organization_invitations", "invited_by", "profiles"),
];

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, m: &SchemaManager) -> Result<(), DbErr> {
        let mut table = Table::create()
            .table(OrganizationInvitations::Table)
            .col(pk_uuid(OrganizationInvitations::Id))
            .col(uuid(OrganizationInvitations::OrganizationId))
            .col(uuid(OrganizationInvitations::ProfileId))
            .col(string_len(OrganizationInvitations::Role, 16))
            .col(uuid(OrganizationInvitations::InvitedBy))
            .col(string_len(OrganizationInvitations::Status, 16))
            .col(timestamp_with_time_zone(OrganizationInvitations::CreatedAt))
            .col(uuid_null(OrganizationInvitations::DecidedBy))
            .col(timestamp_with_time_zone_null(OrganizationInvitations::DecidedAt))
            .to_owned();
        for spec in REFERENCES {
            table.foreign_key(&mut fk(spec));
        }
        m.create_table(table).await?;
        for spec in REFERENCES {
            m.create_index(index(spec)).await?;
        }
        // One pending invitation per person and organization, whoever sends it at once.
        m.get_connection()
            .execute_unprepared(
                "CREATE UNIQUE INDEX ux_organization_invitations_pending \
                 ON organization_invitations (organization_id, profile_id) WHERE status = 'PENDING'",
            )
            .await?;
        Ok(())
    }

    async fn down(&self, m: &SchemaManager) -> Result<(), DbErr> {
        m.drop_table(Table::drop().table(OrganizationInvitations::Table).to_owned()).await
    }
}

#[derive(DeriveIden)]
enum OrganizationInvitations {
    Table,
    Id,
    OrganizationId,
    ProfileId,
    Role,
    InvitedBy,
    Status,
    CreatedAt,
    DecidedBy,
    DecidedAt,
}
