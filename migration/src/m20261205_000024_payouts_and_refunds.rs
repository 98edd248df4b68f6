//! Money leaving through a real provider: each payee's connected payout account there (and
//! whether it may receive payouts yet), and each refund owed back to a client's payment,
//! queued in the transaction that moved it out of escrow and sent after commit.
use sea_orm_migration::{prelude::*, schema::*};

use crate::{ForeignKeySpec, fk, index};

#[derive(DeriveMigrationName)]
pub struct Migration;

const REFERENCES: &[ForeignKeySpec] = &[
    ("payout_accounts", "profile_id", "profiles"),
    ("provider_refunds", "funding_id", "fundings"),
    ("provider_refunds", "contract_id", "contracts"),
    ("provider_refunds", "transaction_id", "ledger_transactions"),
];

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, m: &SchemaManager) -> Result<(), DbErr> {
        let mut accounts = Table::create()
            .table(PayoutAccounts::Table)
            .col(uuid(PayoutAccounts::ProfileId))
            .col(string_len(PayoutAccounts::Provider, 16))
            .col(string_len_uniq(PayoutAccounts::AccountRef, 255))
            .col(boolean(PayoutAccounts::Ready))
            .col(timestamp_with_time_zone(PayoutAccounts::CreatedAt))
            .col(timestamp_with_time_zone(PayoutAccounts::UpdatedAt))
            .primary_key(Index::create().col(PayoutAccounts::ProfileId).col(PayoutAccounts::Provider))
            .to_owned();
        accounts.foreign_key(&mut fk(&REFERENCES[0]));
        m.create_table(accounts).await?;
        let mut refunds = Table::create()
            .table(ProviderRefunds::Table)
            .col(pk_uuid(ProviderRefunds::Id))
            .col(uuid(ProviderRefunds::FundingId))
            .col(uuid(ProviderRefunds::ContractId))
            .col(uuid(ProviderRefunds::TransactionId))
            .col(big_integer(ProviderRefunds::AmountCents))
            .col(string_len(ProviderRefunds::Currency, 3))
            .col(string_len(ProviderRefunds::Status, 16))
            .col(string_len_null(ProviderRefunds::ProviderRef, 255).unique_key())
            .col(text_null(ProviderRefunds::FailureReason))
            .col(timestamp_with_time_zone(ProviderRefunds::CreatedAt))
            .col(timestamp_with_time_zone(ProviderRefunds::UpdatedAt))
            .to_owned();
        for spec in &REFERENCES[1..] {
            refunds.foreign_key(&mut fk(spec));
        }
        m.create_table(refunds).await?;
        for spec in &REFERENCES[1..] {
            m.create_index(index(spec)).await?;
        }
        m.create_index(
            Index::create()
                .name("ix_provider_refunds_status")
                .table(ProviderRefunds::Table)
                .col(ProviderRefunds::Status)
                .col(ProviderRefunds::CreatedAt)
                .to_owned(),
        )
        .await
    }

    async fn down(&self, m: &SchemaManager) -> Result<(), DbErr> {
        m.drop_table(Table::drop().table(ProviderRefunds::Table).to_owned()).await?;
        m.drop_table(Table::drop().table(PayoutAccounts::Table).to_owned()).await
    }
}

#[derive(DeriveIden)]
enum PayoutAccounts {
    Table,
    ProfileId,
    Provider,
    AccountRef,
    Ready,
    CreatedAt,
    UpdatedAt,
}

#[derive(DeriveIden)]
enum ProviderRefunds {
    Table,
    Id,
    FundingId,
    ContractId,
    TransactionId,
    AmountCents,
    Currency,
    Status,
    ProviderRef,
    FailureReason,
    CreatedAt,
    UpdatedAt,
}
