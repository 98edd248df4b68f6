use sea_orm_migration::{prelude::*, schema::*};

#[derive(DeriveMigrationName)]
pub struct Migration;

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, m: &SchemaManager) -> Result<(), DbErr> {
        m.create_table(
            Table::create()
                .table(Contracts::Table)
                .col(pk_uuid(Contracts::Id))
                .col(uuid(Contracts::ClientProfileId))
                .col(uuid_null(Contracts::OrganizationId))
                .col(uuid_null(Contracts::GigId))
                .col(string_len(Contracts::Title, 200))
                .col(text(Contracts::Description))
                .col(string_len(Contracts::Currency, 3))
                .col(big_integer(Contracts::BudgetCents))
                .col(string_len(Contracts::Status, 16))
                .col(timestamp_with_time_zone(Contracts::CreatedAt))
                .col(timestamp_with_time_zone(Contracts::UpdatedAt))
                .to_owned(),
        )
        .await?;
        for (name, col) in [
            ("ix_contracts_client", Contracts::ClientProfileId),
            ("ix_contracts_organization", Contracts::OrganizationId),
        ] {
            m.create_index(
                Index::create().name(name).table(Contracts::Table).col(col).col(Contracts::CreatedAt).to_owned(),
            )
            .await?;
        }
        m.create_table(
            Table::create()
                .table(Outcomes::Table)
                .col(pk_uuid(Outcomes::Id))
                .col(uuid(Outcomes::ContractId))
                .col(string_len(Outcomes::Title, 200))
                .col(json(Outcomes::Criteria))
                .col(big_integer(Outcomes::AmountCents))
                .col(timestamp_with_time_zone_null(Outcomes::DueAt))
                .col(string_len(Outcomes::Status, 16))
                .col(timestamp_with_time_zone(Outcomes::CreatedAt))
                .col(timestamp_with_time_zone(Outcomes::UpdatedAt))
                .foreign_key(
                    ForeignKey::create()
                        .name("fk_outcomes_contract")
                        .from(Outcomes::Table, Outcomes::ContractId)
                        .to(Contracts::Table, Contracts::Id)
                        .on_delete(ForeignKeyAction::Cascade),
                )
                .to_owned(),
        )
        .await?;
        m.create_index(
            Index::create()
                .name("ix_outcomes_contract")
                .table(Outcomes::Table)
                .col(Outcomes::ContractId)
                .col(Outcomes::CreatedAt)
                .to_owned(),
        )
        .await?;
        m.create_table(
            Table::create()
                .table(Tasks::Table)
                .col(pk_uuid(Tasks::Id))
                .col(uuid(Tasks::ContractId))
                .col(uuid(Tasks::OutcomeId))
                .col(string_len(Tasks::Title, 200))
                .col(text(Tasks::Description))
                .col(json(Tasks::Skills))
                .col(string_len(Tasks::Mode, 16))
                .col(integer(Tasks::Weight))
                .col(timestamp_with_time_zone_null(Tasks::DueAt))
                .col(string_len(Tasks::Status, 16))
                .col(uuid_null(Tasks::AssigneeProfileId))
                .col(timestamp_with_time_zone(Tasks::CreatedAt))
                .col(timestamp_with_time_zone(Tasks::UpdatedAt))
                .foreign_key(
                    ForeignKey::create()
                        .name("fk_tasks_outcome")
                        .from(Tasks::Table, Tasks::OutcomeId)
                        .to(Outcomes::Table, Outcomes::Id)
                        .on_delete(ForeignKeyAction::Cascade),
                )
                .to_owned(),
        )
        .await?;
        for (name, cols) in [
            ("ix_tasks_outcome", vec![Tasks::OutcomeId, Tasks::CreatedAt]),
            ("ix_tasks_contract", vec![Tasks::ContractId]),
            ("ix_tasks_assignee_status", vec![Tasks::AssigneeProfileId, Tasks::Status]),
        ] {
            let mut index = Index::create().name(name).table(Tasks::Table).to_owned();
            for col in cols {
                index.col(col);
            }
            m.create_index(index).await?;
        }
        m.create_table(
            Table::create()
                .table(TaskAssignments::Table)
                .col(pk_uuid(TaskAssignments::Id))
                .col(uuid(TaskAssignments::TaskId))
                .col(uuid(TaskAssignments::ProfileId))
                .col(string_len(TaskAssignments::Reason, 32))
                .col(timestamp_with_time_zone(TaskAssignments::StartedAt))
                .col(timestamp_with_time_zone_null(TaskAssignments::EndedAt))
                .col(string_len_null(TaskAssignments::EndReason, 32))
                .foreign_key(
                    ForeignKey::create()
                        .name("fk_task_assignments_task")
                        .from(TaskAssignments::Table, TaskAssignments::TaskId)
                        .to(Tasks::Table, Tasks::Id)
                        .on_delete(ForeignKeyAction::Cascade),
                )
                .to_owned(),
        )
        .await?;
        m.create_index(
            Index::create()
                .name("ix_task_assignments_task")
                .table(TaskAssignments::Table)
                .col(TaskAssignments::TaskId)
                .col(TaskAssignments::StartedAt)
                .to_owned(),
        )
        .await
    }

    async fn down(&self, m: &SchemaManager) -> Result<(), DbErr> {
        m.drop_table(Table::drop().table(TaskAssignments::Table).to_owned()).await?;
        m.drop_table(Table::drop().table(Tasks::Table).to_owned()).await?;
        m.drop_table(Table::drop().table(Outcomes::Table).to_owned()).await?;
        m.drop_table(Table::drop().table(Contracts::Table).to_owned()).await
    }
}

#[derive(DeriveIden, Clone, Copy)]
enum Contracts {
    Table,
    Id,
    ClientProfileId,
    OrganizationId,
    GigId,
    Title,
    Description,
    Currency,
    BudgetCents,
    Status,
    CreatedAt,
    UpdatedAt,
}

#[derive(DeriveIden)]
enum Outcomes {
    Table,
    Id,
    ContractId,
    Title,
    Criteria,
    AmountCents,
    DueAt,
    Status,
    CreatedAt,
    UpdatedAt,
}

#[derive(DeriveIden, Clone, Copy)]
enum Tasks {
    Table,
    Id,
    ContractId,
    OutcomeId,
    Title,
    Description,
    Skills,
    Mode,
    Weight,
    DueAt,
    Status,
    AssigneeProfileId,
    CreatedAt,
    UpdatedAt,
}

#[derive(DeriveIden)]
enum TaskAssignments {
    Table,
    Id,
    TaskId,
    ProfileId,
    Reason,
    StartedAt,
    EndedAt,
    EndReason,
}
