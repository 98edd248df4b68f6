//! Accounts people can recover: whether an address is verified (accounts that existed before
//! count as verified), single-use hashed tokens that prove a mailbox (verification, password
//! reset), and the mail outbox mails leave from after commit (retried until sent).
use sea_orm_migration::{prelude::*, schema::*};

use crate::{ForeignKeySpec, fk, index};

#[derive(DeriveMigrationName)]
pub struct Migration;

const TOKEN_USER: ForeignKeySpec = ("account_tokens", "user_id", "users");

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, m: &SchemaManager) -> Result<(), DbErr> {
        m.alter_table(
            Table::alter()
                .table(Users::Table)
                .add_column(timestamp_with_time_zone_null(Users::EmailVerifiedAt))
                .to_owned(),
        )
        .await?;
        // Accounts made before addresses were verified keep moving money: they count as
        // verified from their creation (new accounts verify by mail).
        m.exec_stmt(
            Query::update().table(Users::Table).value(Users::EmailVerifiedAt, Expr::col(Users::CreatedAt)).to_owned(),
        )
        .await?;
        let mut tokens = Table::create()
            .table(AccountTokens::Table)
            .col(pk_uuid(AccountTokens::Id))
            .col(uuid(AccountTokens::UserId))
            .col(string_len(AccountTokens::Purpose, 32))
            .col(string_len_uniq(AccountTokens::TokenHash, 64))
            .col(timestamp_with_time_zone(AccountTokens::ExpiresAt))
            .col(timestamp_with_time_zone_null(AccountTokens::UsedAt))
            .col(timestamp_with_time_zone(AccountTokens::CreatedAt))
            .to_owned();
        tokens.foreign_key(&mut fk(&TOKEN_USER));
        m.create_table(tokens).await?;
        m.create_index(index(&TOKEN_USER)).await?;
        m.create_table(
            Table::create()
                .table(MailOutbox::Table)
                .col(pk_uuid(MailOutbox::Id))
                .col(string_len(MailOutbox::Recipient, 320))
                .col(string_len(MailOutbox::Kind, 32))
                .col(string_len(MailOutbox::Subject, 255))
                .col(text(MailOutbox::Body))
                .col(integer(MailOutbox::Attempts))
                .col(timestamp_with_time_zone(MailOutbox::NextAttemptAt))
                .col(timestamp_with_time_zone_null(MailOutbox::SentAt))
                .col(text_null(MailOutbox::LastError))
                .col(timestamp_with_time_zone(MailOutbox::CreatedAt))
                .to_owned(),
        )
        .await?;
        m.create_index(
            Index::create()
                .name("ix_mail_outbox_due")
                .table(MailOutbox::Table)
                .col(MailOutbox::SentAt)
                .col(MailOutbox::NextAttemptAt)
                .to_owned(),
        )
        .await
    }

    async fn down(&self, m: &SchemaManager) -> Result<(), DbErr> {
        m.drop_table(Table::drop().table(MailOutbox::Table).to_owned()).await?;
        m.drop_table(Table::drop().table(AccountTokens::Table).to_owned()).await?;
        m.alter_table(Table::alter().table(Users::Table).drop_column(Users::EmailVerifiedAt).to_owned()).await
    }
}

#[derive(DeriveIden)]
enum Users {
    Table,
    EmailVerifiedAt,
    CreatedAt,
}

#[derive(DeriveIden)]
enum AccountTokens {
    Table,
    Id,
    UserId,
    Purpose,
    TokenHash,
    ExpiresAt,
    UsedAt,
    CreatedAt,
}

#[derive(DeriveIden)]
enum MailOutbox {
    Table,
    Id,
    Recipient,
    Kind,
    Subject,
    Body,
    Attempts,
    NextAttemptAt,
    SentAt,
    LastError,
    CreatedAt,
}
