//! Money at its edges: idempotency keys belong to the paying account (the column says so),
//! arbiters are accounts granted the role (by configuration at start or by an operator
//! command), and a party to a dispute concedes only its own share (one row per concession).
use sea_orm_migration::{prelude::*, schema::*};

use crate::{ForeignKeySpec, fk, index};

#[derive(DeriveMigrationName)]
pub struct Migration;

const REFERENCES: &[ForeignKeySpec] = &[
    ("arbiters", "profile_id", "profiles"),
    ("dispute_concessions", "dispute_id", "disputes"),
    ("dispute_concessions", "profile_id", "profiles"),
];

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, m: &SchemaManager) -> Result<(), DbErr> {
        m.alter_table(
            Table::alter()
                .table(IdempotencyKeys::Table)
                .rename_column(IdempotencyKeys::ActorId, IdempotencyKeys::AccountId)
                .to_owned(),
        )
        .await?;
        let mut arbiters = Table::create()
            .table(Arbiters::Table)
            .col(pk_uuid(Arbiters::ProfileId))
            .col(string_len(Arbiters::Source, 16))
            .col(timestamp_with_time_zone(Arbiters::GrantedAt))
            .to_owned();
        let mut concessions = Table::create()
            .table(DisputeConcessions::Table)
            .col(uuid(DisputeConcessions::DisputeId))
            .col(uuid(DisputeConcessions::ProfileId))
            .col(big_integer(DisputeConcessions::RefundedCents))
            .col(timestamp_with_time_zone(DisputeConcessions::CreatedAt))
            .primary_key(Index::create().col(DisputeConcessions::DisputeId).col(DisputeConcessions::ProfileId))
            .to_owned();
        for spec in REFERENCES {
            let table = if spec.0 == "arbiters" { &mut arbiters } else { &mut concessions };
            table.foreign_key(&mut fk(spec));
        }
        m.create_table(arbiters).await?;
        m.create_table(concessions).await?;
        m.create_index(index(&("dispute_concessions", "profile_id", "profiles"))).await?;
        Ok(())
    }

    async fn down(&self, m: &SchemaManager) -> Result<(), DbErr> {
        m.drop_table(Table::drop().table(DisputeConcessions::Table).to_owned()).await?;
        m.drop_table(Table::drop().table(Arbiters::Table).to_owned()).await?;
        m.alter_table(
            Table::alter()
                .table(IdempotencyKeys::Table)
                .rename_column(IdempotencyKeys::AccountId, IdempotencyKeys::ActorId)
                .to_owned(),
        )
        .await
    }
}

#[derive(DeriveIden)]
enum IdempotencyKeys {
    Table,
    ActorId,
    AccountId,
}

#[derive(DeriveIden)]
enum Arbiters {
    Table,
    ProfileId,
    Source,
    GrantedAt,
}

#[derive(DeriveIden)]
enum DisputeConcessions {
    Table,
    DisputeId,
    ProfileId,
    RefundedCents,
    CreatedAt,
}
