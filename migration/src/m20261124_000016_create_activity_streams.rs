//! The outbox of live updates and the notification inbox.
//!
//! - `activity_streams` files each activity under the streams it is delivered on (its topic,
//!   the workers a task change concerns, the inboxes it notifies) with a position `seq` that
//!   is dense per stream and increases in commit order: the writer takes the stream's row in
//!   `stream_heads` before it allocates ids, and holds it until commit.
//! - `notifications` is the read state of what reached a user's inbox.
//!
//! Existing activities are filed under their topic, in id order.
use sea_orm_migration::{prelude::*, schema::*};

#[derive(DeriveMigrationName)]
pub struct Migration;

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, m: &SchemaManager) -> Result<(), DbErr> {
        m.create_table(
            Table::create()
                .table(StreamHeads::Table)
                .col(string_len(StreamHeads::Stream, 100).primary_key())
                .col(big_integer(StreamHeads::Seq))
                .to_owned(),
        )
        .await?;
        m.create_table(
            Table::create()
                .table(ActivityStreams::Table)
                .col(string_len(ActivityStreams::Stream, 100))
                .col(big_integer(ActivityStreams::Seq))
                .col(big_integer(ActivityStreams::ActivityId))
                .primary_key(Index::create().col(ActivityStreams::Stream).col(ActivityStreams::Seq))
                .foreign_key(
                    ForeignKey::create()
                        .name("fk_activity_streams_activity_id")
                        .from(ActivityStreams::Table, ActivityStreams::ActivityId)
                        .to(Alias::new("activities"), Alias::new("id")),
                )
                .to_owned(),
        )
        .await?;
        m.create_index(
            Index::create()
                .name("ux_activity_streams_stream_activity")
                .table(ActivityStreams::Table)
                .col(ActivityStreams::Stream)
                .col(ActivityStreams::ActivityId)
                .unique()
                .to_owned(),
        )
        .await?;
        m.create_table(
            Table::create()
                .table(Notifications::Table)
                .col(big_pk_auto(Notifications::Id))
                .col(uuid(Notifications::UserId))
                .col(big_integer(Notifications::ActivityId))
                .col(timestamp_with_time_zone_null(Notifications::ReadAt))
                .col(timestamp_with_time_zone(Notifications::CreatedAt))
                .foreign_key(
                    ForeignKey::create()
                        .name("fk_notifications_user_id")
                        .from(Notifications::Table, Notifications::UserId)
                        .to(Alias::new("users"), Alias::new("id")),
                )
                .foreign_key(
                    ForeignKey::create()
                        .name("fk_notifications_activity_id")
                        .from(Notifications::Table, Notifications::ActivityId)
                        .to(Alias::new("activities"), Alias::new("id")),
                )
                .to_owned(),
        )
        .await?;
        m.create_index(
            Index::create()
                .name("ux_notifications_user_activity")
                .table(Notifications::Table)
                .col(Notifications::UserId)
                .col(Notifications::ActivityId)
                .unique()
                .to_owned(),
        )
        .await?;
        m.create_index(
            Index::create()
                .name("ix_notifications_user_unread")
                .table(Notifications::Table)
                .col(Notifications::UserId)
                .col(Notifications::ReadAt)
                .to_owned(),
        )
        .await?;
        let db = m.get_connection();
        db.execute_unprepared(
            "INSERT INTO activity_streams (stream, seq, activity_id) \
             SELECT topic, ROW_NUMBER() OVER (PARTITION BY topic ORDER BY id), id FROM activities",
        )
        .await?;
        db.execute_unprepared(
            "INSERT INTO stream_heads (stream, seq) SELECT stream, MAX(seq) FROM activity_streams GROUP BY stream",
        )
        .await?;
        Ok(())
    }

    async fn down(&self, m: &SchemaManager) -> Result<(), DbErr> {
        m.drop_table(Table::drop().table(Notifications::Table).to_owned()).await?;
        m.drop_table(Table::drop().table(ActivityStreams::Table).to_owned()).await?;
        m.drop_table(Table::drop().table(StreamHeads::Table).to_owned()).await
    }
}

#[derive(DeriveIden)]
enum StreamHeads {
    Table,
    Stream,
    Seq,
}

#[derive(DeriveIden)]
enum ActivityStreams {
    Table,
    Stream,
    Seq,
    ActivityId,
}

#[derive(DeriveIden)]
enum Notifications {
    Table,
    Id,
    UserId,
    ActivityId,
    ReadAt,
    CreatedAt,
}
