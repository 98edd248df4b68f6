use sea_orm_migration::{prelude::*, schema::*};

#[derive(DeriveMigrationName)]
pub struct Migration;

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, m: &SchemaManager) -> Result<(), DbErr> {
        m.create_table(
            Table::create()
                .table(Events::Table)
                .col(pk_uuid(Events::Id))
                .col(uuid_null(Events::CommunityId))
                .col(uuid(Events::HostProfileId))
                .col(string_len(Events::Title, 200))
                .col(text_null(Events::Description))
                .col(timestamp_with_time_zone(Events::StartsAt))
                .col(timestamp_with_time_zone(Events::EndsAt))
                .col(string_len(Events::Timezone, 64))
                .col(string_len_null(Events::Venue, 200))
                .col(string_len_null(Events::OnlineUrl, 500))
                .col(integer(Events::Capacity))
                .col(integer(Events::GoingCount).default(0))
                .col(integer(Events::WaitlistSeq).default(0))
                .col(string_len(Events::Status, 16))
                .col(timestamp_with_time_zone(Events::CreatedAt))
                .col(timestamp_with_time_zone(Events::UpdatedAt))
                .to_owned(),
        )
        .await?;
        m.create_index(
            Index::create()
                .name("ix_events_community_start")
                .table(Events::Table)
                .col(Events::CommunityId)
                .col(Events::StartsAt)
                .to_owned(),
        )
        .await?;
        m.create_table(
            Table::create()
                .table(EventRsvps::Table)
                .col(pk_uuid(EventRsvps::Id))
                .col(uuid(EventRsvps::EventId))
                .col(uuid(EventRsvps::ProfileId))
                .col(string_len(EventRsvps::Status, 16))
                .col(integer_null(EventRsvps::WaitlistSeq))
                .col(timestamp_with_time_zone(EventRsvps::CreatedAt))
                .col(timestamp_with_time_zone(EventRsvps::UpdatedAt))
                .foreign_key(
                    ForeignKey::create()
                        .name("fk_event_rsvps_event")
                        .from(EventRsvps::Table, EventRsvps::EventId)
                        .to(Events::Table, Events::Id)
                        .on_delete(ForeignKeyAction::Cascade),
                )
                .to_owned(),
        )
        .await?;
        m.create_index(
            Index::create()
                .name("ux_event_rsvps_person")
                .table(EventRsvps::Table)
                .col(EventRsvps::EventId)
                .col(EventRsvps::ProfileId)
                .unique()
                .to_owned(),
        )
        .await?;
        // Waitlist positions never collide.
        m.create_index(
            Index::create()
                .name("ux_event_rsvps_waitlist")
                .table(EventRsvps::Table)
                .col(EventRsvps::EventId)
                .col(EventRsvps::WaitlistSeq)
                .unique()
                .to_owned(),
        )
        .await
    }

    async fn down(&self, m: &SchemaManager) -> Result<(), DbErr> {
        m.drop_table(Table::drop().table(EventRsvps::Table).to_owned()).await?;
        m.drop_table(Table::drop().table(Events::Table).to_owned()).await
    }
}

#[derive(DeriveIden)]
enum Events {
    Table,
    Id,
    CommunityId,
    HostProfileId,
    Title,
    Description,
    StartsAt,
    EndsAt,
    Timezone,
    Venue,
    OnlineUrl,
    Capacity,
    GoingCount,
    WaitlistSeq,
    Status,
    CreatedAt,
    UpdatedAt,
}

#[derive(DeriveIden)]
enum EventRsvps {
    Table,
    Id,
    EventId,
    ProfileId,
    Status,
    WaitlistSeq,
    CreatedAt,
    UpdatedAt,
}
