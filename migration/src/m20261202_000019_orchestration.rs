//! Orchestration: criteria scoped to tasks and ticked by the client, planning and escalation
//! on tasks, provenance and proposed plans on submissions, playbooks (decomposition recipes),
//! community tags (community standing in routing) and a neutral starting reputation.
use sea_orm_migration::{prelude::*, schema::*};

#[derive(DeriveMigrationName)]
pub struct Migration;

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, m: &SchemaManager) -> Result<(), DbErr> {
        // SQLite adds one column per ALTER TABLE.
        for col in [
            json_null(Tasks::Criteria),
            string_len(Tasks::Kind, 16).default("WORK").to_owned(),
            integer(Tasks::EscalateAfter).default(2).to_owned(),
            integer(Tasks::AgentFailures).default(0).to_owned(),
            timestamp_with_time_zone_null(Tasks::EscalatedAt),
            string_len_null(Tasks::EscalatedFrom, 16),
        ] {
            m.alter_table(Table::alter().table(Tasks::Table).add_column(col).to_owned()).await?;
        }
        for col in [json_null(Outcomes::Checks), json_null(Outcomes::Ticks)] {
            m.alter_table(Table::alter().table(Outcomes::Table).add_column(col).to_owned()).await?;
        }
        for col in [json_null(TaskSubmissions::Provenance), json_null(TaskSubmissions::Plan)] {
            m.alter_table(Table::alter().table(TaskSubmissions::Table).add_column(col).to_owned()).await?;
        }
        m.create_table(
            Table::create()
                .table(Playbooks::Table)
                .col(pk_uuid(Playbooks::Id))
                .col(uuid_null(Playbooks::OrganizationId))
                .col(string_len(Playbooks::Name, 120))
                .col(text(Playbooks::Description))
                .col(json(Playbooks::Steps))
                .col(uuid_null(Playbooks::CreatedBy))
                .col(timestamp_with_time_zone(Playbooks::CreatedAt))
                .foreign_key(
                    ForeignKey::create()
                        .name("fk_playbooks_organization_id")
                        .from(Playbooks::Table, Playbooks::OrganizationId)
                        .to(Alias::new("organizations"), Alias::new("id")),
                )
                .to_owned(),
        )
        .await?;
        m.create_index(
            Index::create()
                .name("ix_playbooks_organization_name")
                .table(Playbooks::Table)
                .col(Playbooks::OrganizationId)
                .col(Playbooks::Name)
                .to_owned(),
        )
        .await?;
        m.create_table(
            Table::create()
                .table(CommunityTags::Table)
                .col(uuid(CommunityTags::CommunityId))
                .col(string_len(CommunityTags::Tag, 50))
                .primary_key(Index::create().col(CommunityTags::CommunityId).col(CommunityTags::Tag))
                .foreign_key(
                    ForeignKey::create()
                        .name("fk_community_tags_community_id")
                        .from(CommunityTags::Table, CommunityTags::CommunityId)
                        .to(Alias::new("communities"), Alias::new("id"))
                        .on_delete(ForeignKeyAction::Cascade),
                )
                .to_owned(),
        )
        .await?;
        m.create_index(
            Index::create()
                .name("ix_community_tags_tag")
                .table(CommunityTags::Table)
                .col(CommunityTags::Tag)
                .to_owned(),
        )
        .await?;
        // Reputation is now built from outcomes with a prior: a profile nobody has judged yet
        // starts neutral (2.5 of 5), not at 0. Profiles with reviews keep their average until
        // their next accepted, rejected or reviewed task recomputes it.
        m.get_connection()
            .execute_unprepared(
                "UPDATE profiles SET reputation = 2.5 WHERE id NOT IN (SELECT subject_profile_id FROM reviews)",
            )
            .await?;
        Ok(())
    }

    async fn down(&self, m: &SchemaManager) -> Result<(), DbErr> {
        m.drop_table(Table::drop().table(CommunityTags::Table).to_owned()).await?;
        m.drop_table(Table::drop().table(Playbooks::Table).to_owned()).await?;
        for col in [TaskSubmissions::Provenance, TaskSubmissions::Plan] {
            m.alter_table(Table::alter().table(TaskSubmissions::Table).drop_column(col).to_owned()).await?;
        }
        for col in [Outcomes::Checks, Outcomes::Ticks] {
            m.alter_table(Table::alter().table(Outcomes::Table).drop_column(col).to_owned()).await?;
        }
        for col in [
            Tasks::Criteria,
            Tasks::Kind,
            Tasks::EscalateAfter,
            Tasks::AgentFailures,
            Tasks::EscalatedAt,
            Tasks::EscalatedFrom,
        ] {
            m.alter_table(Table::alter().table(Tasks::Table).drop_column(col).to_owned()).await?;
        }
        Ok(())
    }
}

#[derive(DeriveIden)]
enum Tasks {
    Table,
    Criteria,
    Kind,
    EscalateAfter,
    AgentFailures,
    EscalatedAt,
    EscalatedFrom,
}

#[derive(DeriveIden)]
enum Outcomes {
    Table,
    Checks,
    Ticks,
}

#[derive(DeriveIden)]
enum TaskSubmissions {
    Table,
    Provenance,
    Plan,
}

#[derive(DeriveIden)]
enum Playbooks {
    Table,
    Id,
    OrganizationId,
    Name,
    Description,
    Steps,
    CreatedBy,
    CreatedAt,
}

#[derive(DeriveIden)]
enum CommunityTags {
    Table,
    CommunityId,
    Tag,
}
