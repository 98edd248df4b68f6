use sea_orm_migration::{prelude::*, schema::*, sea_orm::DbBackend};

#[derive(DeriveMigrationName)]
pub struct Migration;

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, m: &SchemaManager) -> Result<(), DbErr> {
        m.create_table(
            Table::create()
                .table(Gigs::Table)
                .col(pk_uuid(Gigs::Id))
                .col(uuid(Gigs::OwnerProfileId))
                .col(uuid_null(Gigs::OrganizationId))
                .col(uuid_null(Gigs::CommunityId))
                .col(string_len(Gigs::Title, 200))
                .col(text(Gigs::Description))
                .col(big_integer(Gigs::BudgetCents))
                .col(string_len(Gigs::Currency, 3))
                .col(timestamp_with_time_zone_null(Gigs::Deadline))
                .col(boolean(Gigs::Remote))
                .col(string_len_null(Gigs::Location, 100))
                .col(string_len(Gigs::Visibility, 16))
                .col(string_len(Gigs::Status, 16))
                .col(uuid_null(Gigs::AcceptedProposalId))
                .col(timestamp_with_time_zone(Gigs::CreatedAt))
                .col(timestamp_with_time_zone(Gigs::UpdatedAt))
                .to_owned(),
        )
        .await?;
        // Keyset indexes for each sort, and the filters lists use.
        let indexes: [(&str, Vec<Gigs>); 5] = [
            ("ix_gigs_status_newest", vec![Gigs::Status, Gigs::CreatedAt, Gigs::Id]),
            ("ix_gigs_status_budget", vec![Gigs::Status, Gigs::BudgetCents, Gigs::Id]),
            ("ix_gigs_community", vec![Gigs::CommunityId, Gigs::Status]),
            ("ix_gigs_owner", vec![Gigs::OwnerProfileId]),
            ("ix_gigs_organization", vec![Gigs::OrganizationId]),
        ];
        for (name, cols) in indexes {
            let mut index = Index::create().name(name).table(Gigs::Table).to_owned();
            for col in cols {
                index.col(col);
            }
            m.create_index(index).await?;
        }
        m.create_table(
            Table::create()
                .table(GigSkills::Table)
                .col(uuid(GigSkills::GigId))
                .col(string_len(GigSkills::Skill, 50))
                .primary_key(Index::create().col(GigSkills::GigId).col(GigSkills::Skill))
                .foreign_key(
                    ForeignKey::create()
                        .name("fk_gig_skills_gig")
                        .from(GigSkills::Table, GigSkills::GigId)
                        .to(Gigs::Table, Gigs::Id)
                        .on_delete(ForeignKeyAction::Cascade),
                )
                .to_owned(),
        )
        .await?;
        m.create_index(
            Index::create().name("ix_gig_skills_skill").table(GigSkills::Table).col(GigSkills::Skill).to_owned(),
        )
        .await?;
        m.create_table(
            Table::create()
                .table(Proposals::Table)
                .col(pk_uuid(Proposals::Id))
                .col(uuid(Proposals::GigId))
                .col(uuid(Proposals::AuthorProfileId))
                .col(text(Proposals::CoverNote))
                .col(big_integer(Proposals::AmountCents))
                .col(string_len(Proposals::Currency, 3))
                .col(integer(Proposals::EtaDays))
                .col(string_len(Proposals::Status, 16))
                .col(text_null(Proposals::DeclineReason))
                .col(timestamp_with_time_zone(Proposals::CreatedAt))
                .col(timestamp_with_time_zone(Proposals::UpdatedAt))
                .foreign_key(
                    ForeignKey::create()
                        .name("fk_proposals_gig")
                        .from(Proposals::Table, Proposals::GigId)
                        .to(Gigs::Table, Gigs::Id)
                        .on_delete(ForeignKeyAction::Cascade),
                )
                .to_owned(),
        )
        .await?;
        m.create_index(
            Index::create()
                .name("ix_proposals_gig_created")
                .table(Proposals::Table)
                .col(Proposals::GigId)
                .col(Proposals::CreatedAt)
                .to_owned(),
        )
        .await?;
        m.create_index(
            Index::create()
                .name("ix_proposals_author")
                .table(Proposals::Table)
                .col(Proposals::AuthorProfileId)
                .to_owned(),
        )
        .await?;
        let db = m.get_connection();
        // One active proposal per person per gig, even under concurrent submissions.
        db.execute_unprepared(
            "CREATE UNIQUE INDEX ux_proposals_active ON proposals (gig_id, author_profile_id) \
             WHERE status IN ('SUBMITTED', 'SHORTLISTED', 'ACCEPTED')",
        )
        .await?;
        // Full-text search: a generated tsvector on PostgreSQL, an FTS5 index on SQLite.
        match m.get_database_backend() {
            DbBackend::Postgres => {
                db.execute_unprepared(
                    "ALTER TABLE gigs ADD COLUMN search tsvector GENERATED ALWAYS AS \
                     (setweight(to_tsvector('english', title), 'A') || setweight(to_tsvector('english', description), 'B')) STORED",
                )
                .await?;
                db.execute_unprepared("CREATE INDEX ix_gigs_search ON gigs USING GIN (search)").await?;
            }
            _ => {
                db.execute_unprepared(
                    "CREATE VIRTUAL TABLE gigs_fts USING fts5(gig_id UNINDEXED, title, description, tokenize = 'porter unicode61')",
                )
                .await?;
                db.execute_unprepared(
                    "CREATE TRIGGER gigs_fts_insert AFTER INSERT ON gigs BEGIN \
                       INSERT INTO gigs_fts (gig_id, title, description) VALUES (new.id, new.title, new.description); \
                     END; \
                     CREATE TRIGGER gigs_fts_update AFTER UPDATE OF title, description ON gigs BEGIN \
                       DELETE FROM gigs_fts WHERE gig_id = old.id; \
                       INSERT INTO gigs_fts (gig_id, title, description) VALUES (new.id, new.title, new.description); \
                     END; \
                     CREATE TRIGGER gigs_fts_delete AFTER DELETE ON gigs BEGIN \
                       DELETE FROM gigs_fts WHERE gig_id = old.id; \
                     END;",
                )
                .await?;
            }
        }
        Ok(())
    }

    async fn down(&self, m: &SchemaManager) -> Result<(), DbErr> {
        if m.get_database_backend() != DbBackend::Postgres {
            m.get_connection().execute_unprepared("DROP TABLE IF EXISTS gigs_fts").await?;
        }
        m.drop_table(Table::drop().table(Proposals::Table).to_owned()).await?;
        m.drop_table(Table::drop().table(GigSkills::Table).to_owned()).await?;
        m.drop_table(Table::drop().table(Gigs::Table).to_owned()).await
    }
}

#[derive(DeriveIden, Clone, Copy)]
enum Gigs {
    Table,
    Id,
    OwnerProfileId,
    OrganizationId,
    CommunityId,
    Title,
    Description,
    BudgetCents,
    Currency,
    Deadline,
    Remote,
    Location,
    Visibility,
    Status,
    AcceptedProposalId,
    CreatedAt,
    UpdatedAt,
}

#[derive(DeriveIden)]
enum GigSkills {
    Table,
    GigId,
    Skill,
}

#[derive(DeriveIden)]
enum Proposals {
    Table,
    Id,
    GigId,
    AuthorProfileId,
    CoverNote,
    AmountCents,
    Currency,
    EtaDays,
    Status,
    DeclineReason,
    CreatedAt,
    UpdatedAt,
}
