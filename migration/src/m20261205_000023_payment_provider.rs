//! A real payment provider: each paying account's customer there, each funding with the
//! provider's object and where it stands (PENDING until the provider settles it), and the
//! webhook events applied (each once).
use sea_orm_migration::{prelude::*, schema::*};

use crate::{ForeignKeySpec, fk, index};

#[derive(DeriveMigrationName)]
pub struct Migration;

const REFERENCES: &[ForeignKeySpec] = &[
    ("fundings", "contract_id", "contracts"),
    ("fundings", "actor_profile_id", "profiles"),
    ("fundings", "transaction_id", "ledger_transactions"),
];

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, m: &SchemaManager) -> Result<(), DbErr> {
        m.create_table(
            Table::create()
                .table(PaymentCustomers::Table)
                .col(uuid(PaymentCustomers::AccountId))
                .col(string_len(PaymentCustomers::Provider, 16))
                .col(string_len(PaymentCustomers::CustomerRef, 255))
                .col(timestamp_with_time_zone(PaymentCustomers::CreatedAt))
                .primary_key(Index::create().col(PaymentCustomers::AccountId).col(PaymentCustomers::Provider))
                .to_owned(),
        )
        .await?;
        let mut fundings = Table::create()
            .table(Fundings::Table)
            .col(pk_uuid(Fundings::Id))
            .col(uuid(Fundings::ContractId))
            .col(uuid(Fundings::PayerId))
            .col(uuid(Fundings::ActorProfileId))
            .col(big_integer(Fundings::AmountCents))
            .col(string_len(Fundings::Currency, 3))
            .col(string_len_uniq(Fundings::ProviderRef, 255))
            .col(string_len(Fundings::Status, 16))
            .col(uuid_null(Fundings::TransactionId))
            .col(text_null(Fundings::FailureReason))
            .col(timestamp_with_time_zone(Fundings::CreatedAt))
            .col(timestamp_with_time_zone(Fundings::UpdatedAt))
            .to_owned();
        for spec in REFERENCES {
            fundings.foreign_key(&mut fk(spec));
        }
        m.create_table(fundings).await?;
        for spec in REFERENCES {
            m.create_index(index(spec)).await?;
        }
        m.create_table(
            Table::create()
                .table(ProviderEvents::Table)
                .col(string_len(ProviderEvents::Id, 255).primary_key())
                .col(string_len(ProviderEvents::Kind, 64))
                .col(timestamp_with_time_zone(ProviderEvents::ReceivedAt))
                .to_owned(),
        )
        .await
    }

    async fn down(&self, m: &SchemaManager) -> Result<(), DbErr> {
        m.drop_table(Table::drop().table(ProviderEvents::Table).to_owned()).await?;
        m.drop_table(Table::drop().table(Fundings::Table).to_owned()).await?;
        m.drop_table(Table::drop().table(PaymentCustomers::Table).to_owned()).await
    }
}

#[derive(DeriveIden)]
enum PaymentCustomers {
    Table,
    AccountId,
    Provider,
    CustomerRef,
    CreatedAt,
}

#[derive(DeriveIden)]
enum Fundings {
    Table,
    Id,
    ContractId,
    PayerId,
    ActorProfileId,
    AmountCents,
    Currency,
    ProviderRef,
    Status,
    TransactionId,
    FailureReason,
    CreatedAt,
    UpdatedAt,
}

#[derive(DeriveIden)]
enum ProviderEvents {
    Table,
    Id,
    Kind,
    ReceivedAt,
}
