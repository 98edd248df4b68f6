//! Task skills live in `task_skills` alone: the JSON copy on `tasks` goes. Rows written before
//! the table existed are copied over first (`task_skills` was filled alongside the JSON since).
use sea_orm_migration::prelude::*;

/// Drops `tasks.skills`.
pub struct Migration;

impl MigrationName for Migration {
    fn name(&self) -> &str {
        "m20261124_000013_drop_task_skills_json"
    }
}

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        let copy = match manager.get_database_backend() {
            sea_orm::DbBackend::Postgres => {
                "INSERT INTO task_skills (task_id, skill) SELECT t.id, s.value FROM tasks t \
                 CROSS JOIN LATERAL json_array_elements_text(t.skills::json) AS s(value) ON CONFLICT DO NOTHING"
            }
            _ => {
                "INSERT OR IGNORE INTO task_skills (task_id, skill) SELECT t.id, j.value FROM tasks t, \
                 json_each(t.skills) AS j"
            }
        };
        manager.get_connection().execute_unprepared(copy).await?;
        manager.alter_table(Table::alter().table(Tasks::Table).drop_column(Tasks::Skills).to_owned()).await
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .alter_table(
                Table::alter()
                    .table(Tasks::Table)
                    .add_column(ColumnDef::new(Tasks::Skills).json().not_null().default("[]"))
                    .to_owned(),
            )
            .await
    }
}

#[derive(DeriveIden)]
enum Tasks {
    Table,
    Skills,
}
