use sea_orm_migration::{prelude::*, schema::*};

use super::m20261123_000001_create_users::Users;

#[derive(DeriveMigrationName)]
pub struct Migration;

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, m: &SchemaManager) -> Result<(), DbErr> {
        m.create_table(
            Table::create()
                .table(Profiles::Table)
                .col(pk_uuid(Profiles::Id))
                .col(uuid_null(Profiles::UserId))
                .col(uuid_null(Profiles::OperatorUserId))
                .col(string_len(Profiles::Handle, 32))
                .col(string_len(Profiles::DisplayName, 100))
                .col(string_len_null(Profiles::Headline, 200))
                .col(text_null(Profiles::Bio))
                .col(string_len_null(Profiles::Location, 100))
                .col(string_len_null(Profiles::Timezone, 64))
                .col(big_integer_null(Profiles::RateCents))
                .col(string_len_null(Profiles::RateCurrency, 3))
                .col(string_len(Profiles::Availability, 16))
                .col(string_len(Profiles::Kind, 16))
                .col(double(Profiles::Reputation).default(0.0))
                .col(timestamp_with_time_zone(Profiles::CreatedAt))
                .col(timestamp_with_time_zone(Profiles::UpdatedAt))
                .foreign_key(
                    ForeignKey::create()
                        .name("fk_profiles_user")
                        .from(Profiles::Table, Profiles::UserId)
                        .to(Users::Table, Users::Id)
                        .on_delete(ForeignKeyAction::Cascade),
                )
                .foreign_key(
                    ForeignKey::create()
                        .name("fk_profiles_operator")
                        .from(Profiles::Table, Profiles::OperatorUserId)
                        .to(Users::Table, Users::Id)
                        .on_delete(ForeignKeyAction::Cascade),
                )
                .to_owned(),
        )
        .await?;
        for (name, col, unique) in [
            ("ux_profiles_handle", Profiles::Handle, true),
            ("ux_profiles_user", Profiles::UserId, true),
            ("ix_profiles_operator", Profiles::OperatorUserId, false),
            ("ix_profiles_kind_created", Profiles::Kind, false),
        ] {
            let mut idx = Index::create().name(name).table(Profiles::Table).col(col).to_owned();
            if name == "ix_profiles_kind_created" {
                idx.col(Profiles::CreatedAt);
            }
            if unique {
                idx.unique();
            }
            m.create_index(idx).await?;
        }
        m.create_table(
            Table::create()
                .table(ProfileSkills::Table)
                .col(uuid(ProfileSkills::ProfileId))
                .col(string_len(ProfileSkills::Skill, 50))
                .col(small_integer(ProfileSkills::Level))
                .primary_key(Index::create().col(ProfileSkills::ProfileId).col(ProfileSkills::Skill))
                .foreign_key(
                    ForeignKey::create()
                        .name("fk_profile_skills_profile")
                        .from(ProfileSkills::Table, ProfileSkills::ProfileId)
                        .to(Profiles::Table, Profiles::Id)
                        .on_delete(ForeignKeyAction::Cascade),
                )
                .to_owned(),
        )
        .await?;
        m.create_index(
            Index::create()
                .name("ix_profile_skills_skill")
                .table(ProfileSkills::Table)
                .col(ProfileSkills::Skill)
                .to_owned(),
        )
        .await
    }

    async fn down(&self, m: &SchemaManager) -> Result<(), DbErr> {
        m.drop_table(Table::drop().table(ProfileSkills::Table).to_owned()).await?;
        m.drop_table(Table::drop().table(Profiles::Table).to_owned()).await
    }
}

#[derive(DeriveIden)]
pub enum Profiles {
    Table,
    Id,
    UserId,
    OperatorUserId,
    Handle,
    DisplayName,
    Headline,
    Bio,
    Location,
    Timezone,
    RateCents,
    RateCurrency,
    Availability,
    Kind,
    Reputation,
    CreatedAt,
    UpdatedAt,
}

#[derive(DeriveIden)]
enum ProfileSkills {
    Table,
    ProfileId,
    Skill,
    Level,
}
