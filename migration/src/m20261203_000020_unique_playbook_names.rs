//! A playbook's name is unique within its organization: the check in `createPlaybook` alone let
//! two requests at once both insert the same name.
use sea_orm_migration::prelude::*;

#[derive(DeriveMigrationName)]
pub struct Migration;

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, m: &SchemaManager) -> Result<(), DbErr> {
        m.drop_index(Index::drop().name("ix_playbooks_organization_name").table(Alias::new("playbooks")).to_owned())
            .await?;
        m.create_index(
            Index::create()
                .name("ux_playbooks_organization_name")
                .table(Alias::new("playbooks"))
                .col(Alias::new("organization_id"))
                .col(Alias::new("name"))
                .unique()
                .to_owned(),
        )
        .await
    }

    async fn down(&self, m: &SchemaManager) -> Result<(), DbErr> {
        m.drop_index(Index::drop().name("ux_playbooks_organization_name").table(Alias::new("playbooks")).to_owned())
            .await?;
        m.create_index(
            Index::create()
                .name("ix_playbooks_organization_name")
                .table(Alias::new("playbooks"))
                .col(Alias::new("organization_id"))
                .col(Alias::new("name"))
                .to_owned(),
        )
        .await
    }
}
