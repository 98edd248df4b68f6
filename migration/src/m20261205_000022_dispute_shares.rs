//! A dispute's shares are fixed when it opens: one row per task of the disputed outcome that
//! had a worker then, with the worker, the task's exact part of the disputed amount, and its
//! place in the order the amount was split in (tasks' creation order).
//! Disputes opened before this table existed have no rows and keep following their tasks.
use sea_orm_migration::{prelude::*, schema::*};

use crate::{ForeignKeySpec, fk, index};

#[derive(DeriveMigrationName)]
pub struct Migration;

const REFERENCES: &[ForeignKeySpec] = &[
    ("dispute_shares", "dispute_id", "disputes"),
    ("dispute_shares", "task_id", "tasks"),
    ("dispute_shares", "profile_id", "profiles"),
];

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, m: &SchemaManager) -> Result<(), DbErr> {
        let mut shares = Table::create()
            .table(DisputeShares::Table)
            .col(uuid(DisputeShares::DisputeId))
            .col(uuid(DisputeShares::TaskId))
            .col(uuid(DisputeShares::ProfileId))
            .col(big_integer(DisputeShares::Cents))
            .col(integer(DisputeShares::Position))
            .primary_key(Index::create().col(DisputeShares::DisputeId).col(DisputeShares::TaskId))
            .to_owned();
        for spec in REFERENCES {
            shares.foreign_key(&mut fk(spec));
        }
        m.create_table(shares).await?;
        m.create_index(index(&REFERENCES[1])).await?;
        m.create_index(index(&REFERENCES[2])).await?;
        Ok(())
    }

    async fn down(&self, m: &SchemaManager) -> Result<(), DbErr> {
        m.drop_table(Table::drop().table(DisputeShares::Table).to_owned()).await
    }
}

#[derive(DeriveIden)]
enum DisputeShares {
    Table,
    DisputeId,
    TaskId,
    ProfileId,
    Cents,
    Position,
}
