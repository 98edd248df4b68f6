//! Notification mail: each person's choice per kind of notification (IMMEDIATE, DAILY_DIGEST,
//! OFF; no row means IMMEDIATE), where each person's daily digest stands, and the unsubscribe
//! link a mail carries (for its List-Unsubscribe header).
use sea_orm_migration::{prelude::*, schema::*};

use crate::{ForeignKeySpec, fk};

#[derive(DeriveMigrationName)]
pub struct Migration;

const PREFERENCE_USER: ForeignKeySpec = ("notification_mail_preferences", "user_id", "users");
const DIGEST_USER: ForeignKeySpec = ("mail_digests", "user_id", "users");

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, m: &SchemaManager) -> Result<(), DbErr> {
        let mut preferences = Table::create()
            .table(NotificationMailPreferences::Table)
            .col(uuid(NotificationMailPreferences::UserId))
            .col(string_len(NotificationMailPreferences::Kind, 32))
            .col(string_len(NotificationMailPreferences::Mode, 16))
            .col(timestamp_with_time_zone(NotificationMailPreferences::UpdatedAt))
            .primary_key(
                Index::create().col(NotificationMailPreferences::UserId).col(NotificationMailPreferences::Kind),
            )
            .to_owned();
        preferences.foreign_key(&mut fk(&PREFERENCE_USER));
        m.create_table(preferences).await?;
        m.create_index(
            Index::create()
                .name("ix_notification_mail_preferences_mode")
                .table(NotificationMailPreferences::Table)
                .col(NotificationMailPreferences::Mode)
                .to_owned(),
        )
        .await?;
        let mut digests = Table::create()
            .table(MailDigests::Table)
            .col(uuid(MailDigests::UserId).primary_key())
            .col(big_integer(MailDigests::LastActivityId))
            .col(timestamp_with_time_zone(MailDigests::SentAt))
            .to_owned();
        digests.foreign_key(&mut fk(&DIGEST_USER));
        m.create_table(digests).await?;
        m.alter_table(
            Table::alter()
                .table(MailOutbox::Table)
                .add_column(string_len_null(MailOutbox::UnsubscribeUrl, 2048))
                .to_owned(),
        )
        .await
    }

    async fn down(&self, m: &SchemaManager) -> Result<(), DbErr> {
        m.alter_table(Table::alter().table(MailOutbox::Table).drop_column(MailOutbox::UnsubscribeUrl).to_owned())
            .await?;
        m.drop_table(Table::drop().table(MailDigests::Table).to_owned()).await?;
        m.drop_table(Table::drop().table(NotificationMailPreferences::Table).to_owned()).await
    }
}

#[derive(DeriveIden)]
enum NotificationMailPreferences {
    Table,
    UserId,
    Kind,
    Mode,
    UpdatedAt,
}

#[derive(DeriveIden)]
enum MailDigests {
    Table,
    UserId,
    LastActivityId,
    SentAt,
}

#[derive(DeriveIden)]
enum MailOutbox {
    Table,
    UnsubscribeUrl,
}
