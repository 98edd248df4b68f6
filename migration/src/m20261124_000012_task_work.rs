//! Task work: offers with a time limit, submissions with metric checks, reviews, and the
//! columns the sweep and the dashboards read.
use sea_orm_migration::{prelude::*, schema::*};

#[derive(DeriveMigrationName)]
pub struct Migration;

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, m: &SchemaManager) -> Result<(), DbErr> {
        // SQLite adds one column per ALTER TABLE.
        for col in [
            timestamp_with_time_zone_null(Tasks::OfferExpiresAt),
            timestamp_with_time_zone_null(Tasks::AssignedAt),
            integer(Tasks::RejectionCount).default(0).to_owned(),
            timestamp_with_time_zone_null(Tasks::SubmittedAt),
            timestamp_with_time_zone_null(Tasks::AcceptedAt),
        ] {
            m.alter_table(Table::alter().table(Tasks::Table).add_column(col).to_owned()).await?;
        }
        for col in [text_null(Outcomes::Feedback), timestamp_with_time_zone_null(Outcomes::AcceptedAt)] {
            m.alter_table(Table::alter().table(Outcomes::Table).add_column(col).to_owned()).await?;
        }
        m.alter_table(
            Table::alter()
                .table(TaskAssignments::Table)
                .add_column(timestamp_with_time_zone_null(TaskAssignments::AcceptedAt))
                .to_owned(),
        )
        .await?;
        // The sweep looks for lapsed offers and overdue work.
        for (name, col) in [("ix_tasks_status_offer", Tasks::OfferExpiresAt), ("ix_tasks_status_due", Tasks::DueAt)] {
            m.create_index(Index::create().name(name).table(Tasks::Table).col(Tasks::Status).col(col).to_owned())
                .await?;
        }

        m.create_table(
            Table::create()
                .table(TaskSkills::Table)
                .col(uuid(TaskSkills::TaskId))
                .col(string_len(TaskSkills::Skill, 50))
                .primary_key(Index::create().col(TaskSkills::TaskId).col(TaskSkills::Skill))
                .foreign_key(
                    ForeignKey::create()
                        .name("fk_task_skills_task")
                        .from(TaskSkills::Table, TaskSkills::TaskId)
                        .to(Tasks::Table, Tasks::Id)
                        .on_delete(ForeignKeyAction::Cascade),
                )
                .to_owned(),
        )
        .await?;
        m.create_index(
            Index::create().name("ix_task_skills_skill").table(TaskSkills::Table).col(TaskSkills::Skill).to_owned(),
        )
        .await?;

        m.create_table(
            Table::create()
                .table(TaskSubmissions::Table)
                .col(pk_uuid(TaskSubmissions::Id))
                .col(uuid(TaskSubmissions::TaskId))
                .col(uuid(TaskSubmissions::ProfileId))
                .col(text_null(TaskSubmissions::Text))
                .col(string_len_null(TaskSubmissions::Url, 2048))
                .col(json(TaskSubmissions::Metrics))
                .col(json(TaskSubmissions::Checks))
                .col(boolean_null(TaskSubmissions::ChecksPassed))
                .col(string_len(TaskSubmissions::Status, 16))
                .col(text_null(TaskSubmissions::Feedback))
                .col(timestamp_with_time_zone(TaskSubmissions::CreatedAt))
                .col(timestamp_with_time_zone_null(TaskSubmissions::ReviewedAt))
                .foreign_key(
                    ForeignKey::create()
                        .name("fk_task_submissions_task")
                        .from(TaskSubmissions::Table, TaskSubmissions::TaskId)
                        .to(Tasks::Table, Tasks::Id)
                        .on_delete(ForeignKeyAction::Cascade),
                )
                .to_owned(),
        )
        .await?;
        for (name, col) in [
            ("ix_task_submissions_task", TaskSubmissions::TaskId),
            ("ix_task_submissions_profile", TaskSubmissions::ProfileId),
        ] {
            m.create_index(
                Index::create()
                    .name(name)
                    .table(TaskSubmissions::Table)
                    .col(col)
                    .col(TaskSubmissions::CreatedAt)
                    .to_owned(),
            )
            .await?;
        }

        m.create_table(
            Table::create()
                .table(Reviews::Table)
                .col(pk_uuid(Reviews::Id))
                .col(uuid(Reviews::TaskId))
                .col(uuid(Reviews::ContractId))
                .col(uuid(Reviews::ReviewerProfileId))
                .col(uuid(Reviews::SubjectProfileId))
                .col(small_integer(Reviews::Rating))
                .col(text(Reviews::Text))
                .col(timestamp_with_time_zone(Reviews::CreatedAt))
                .foreign_key(
                    ForeignKey::create()
                        .name("fk_reviews_task")
                        .from(Reviews::Table, Reviews::TaskId)
                        .to(Tasks::Table, Tasks::Id)
                        .on_delete(ForeignKeyAction::Cascade),
                )
                .to_owned(),
        )
        .await?;
        m.create_index(
            Index::create()
                .name("ux_reviews_task_reviewer")
                .table(Reviews::Table)
                .col(Reviews::TaskId)
                .col(Reviews::ReviewerProfileId)
                .unique()
                .to_owned(),
        )
        .await?;
        m.create_index(
            Index::create().name("ix_reviews_subject").table(Reviews::Table).col(Reviews::SubjectProfileId).to_owned(),
        )
        .await
    }

    async fn down(&self, m: &SchemaManager) -> Result<(), DbErr> {
        for table in [Reviews::Table.into_iden(), TaskSubmissions::Table.into_iden(), TaskSkills::Table.into_iden()] {
            m.drop_table(Table::drop().table(table).to_owned()).await?;
        }
        for name in ["ix_tasks_status_offer", "ix_tasks_status_due"] {
            m.drop_index(Index::drop().name(name).table(Tasks::Table).to_owned()).await?;
        }
        for col in
            [Tasks::OfferExpiresAt, Tasks::AssignedAt, Tasks::RejectionCount, Tasks::SubmittedAt, Tasks::AcceptedAt]
        {
            m.alter_table(Table::alter().table(Tasks::Table).drop_column(col).to_owned()).await?;
        }
        for col in [Outcomes::Feedback, Outcomes::AcceptedAt] {
            m.alter_table(Table::alter().table(Outcomes::Table).drop_column(col).to_owned()).await?;
        }
        m.alter_table(Table::alter().table(TaskAssignments::Table).drop_column(TaskAssignments::AcceptedAt).to_owned())
            .await
    }
}

#[derive(DeriveIden, Clone, Copy)]
enum Tasks {
    Table,
    Id,
    Status,
    DueAt,
    OfferExpiresAt,
    AssignedAt,
    RejectionCount,
    SubmittedAt,
    AcceptedAt,
}

#[derive(DeriveIden, Clone, Copy)]
enum Outcomes {
    Table,
    Feedback,
    AcceptedAt,
}

#[derive(DeriveIden)]
enum TaskAssignments {
    Table,
    AcceptedAt,
}

#[derive(DeriveIden)]
enum TaskSkills {
    Table,
    TaskId,
    Skill,
}

#[derive(DeriveIden, Clone, Copy)]
enum TaskSubmissions {
    Table,
    Id,
    TaskId,
    ProfileId,
    Text,
    Url,
    Metrics,
    Checks,
    ChecksPassed,
    Status,
    Feedback,
    CreatedAt,
    ReviewedAt,
}

#[derive(DeriveIden)]
enum Reviews {
    Table,
    Id,
    TaskId,
    ContractId,
    ReviewerProfileId,
    SubjectProfileId,
    Rating,
    Text,
    CreatedAt,
}
