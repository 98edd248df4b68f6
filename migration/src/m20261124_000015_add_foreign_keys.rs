//! Foreign keys (and their indexes) for the reference columns that had none. PostgreSQL adds
//! them in place; SQLite cannot add a foreign key to a table, so each table is rebuilt with the
//! same definition plus its keys (rows, indexes and triggers carried over, keys checked).
use sea_orm::{ConnectionTrait, DbBackend, Statement};
use sea_orm_migration::prelude::*;

use crate::{ForeignKeySpec, fk, index};

#[derive(DeriveMigrationName)]
pub struct Migration;

/// (table, column, referenced table): every reference gets `fk_<table>_<column>` and
/// `ix_<table>_<column>`. Nothing is deleted in cascade: rows that are referenced stay.
const KEYS: &[ForeignKeySpec] = &[
    ("contracts", "client_profile_id", "profiles"),
    ("contracts", "organization_id", "organizations"),
    ("contracts", "gig_id", "gigs"),
    ("tasks", "contract_id", "contracts"),
    ("tasks", "assignee_profile_id", "profiles"),
    ("task_assignments", "profile_id", "profiles"),
    ("task_submissions", "profile_id", "profiles"),
    ("reviews", "contract_id", "contracts"),
    ("reviews", "reviewer_profile_id", "profiles"),
    ("reviews", "subject_profile_id", "profiles"),
    ("gigs", "owner_profile_id", "profiles"),
    ("proposals", "author_profile_id", "profiles"),
    ("events", "host_profile_id", "profiles"),
    ("posts", "author_profile_id", "profiles"),
    ("comments", "author_profile_id", "profiles"),
];

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, m: &SchemaManager) -> Result<(), DbErr> {
        match m.get_database_backend() {
            DbBackend::Sqlite => rebuild_sqlite(m, true).await?,
            _ => {
                for key in KEYS {
                    m.create_foreign_key(fk(key)).await?;
                }
            }
        }
        for key in KEYS {
            m.create_index(index(key)).await?;
        }
        Ok(())
    }

    async fn down(&self, m: &SchemaManager) -> Result<(), DbErr> {
        for key in KEYS {
            m.drop_index(Index::drop().name(format!("ix_{}_{}", key.0, key.1)).table(Alias::new(key.0)).to_owned())
                .await?;
        }
        match m.get_database_backend() {
            DbBackend::Sqlite => rebuild_sqlite(m, false).await,
            _ => {
                for key in KEYS {
                    m.drop_foreign_key(
                        ForeignKey::drop().name(format!("fk_{}_{}", key.0, key.1)).table(Alias::new(key.0)).to_owned(),
                    )
                    .await?;
                }
                Ok(())
            }
        }
    }
}

/// The clause a key adds to a SQLite table definition.
fn clause(key: &ForeignKeySpec) -> String {
    format!(", CONSTRAINT \"fk_{0}_{1}\" FOREIGN KEY (\"{1}\") REFERENCES \"{2}\" (\"id\")", key.0, key.1, key.2)
}

/// Rebuilds each table with its keys added (`add`) or removed, in SQLite's documented way:
/// keys off, new table, copy, drop, rename, indexes and triggers back, keys checked and on.
async fn rebuild_sqlite(m: &SchemaManager<'_>, add: bool) -> Result<(), DbErr> {
    let db = m.get_connection();
    let mut tables: Vec<&str> = KEYS.iter().map(|k| k.0).collect();
    tables.dedup();
    db.execute_unprepared("PRAGMA foreign_keys = OFF").await?;
    for table in tables {
        let keys: Vec<&ForeignKeySpec> = KEYS.iter().filter(|k| k.0 == table).collect();
        let query = |sql: String| Statement::from_string(DbBackend::Sqlite, sql);
        let definition: String = db
            .query_one_raw(query(format!("SELECT sql FROM sqlite_master WHERE type = 'table' AND name = '{table}'")))
            .await?
            .ok_or_else(|| DbErr::Migration(format!("table {table} not found")))?
            .try_get("", "sql")?;
        let extras: Vec<String> = db
            .query_all_raw(query(format!(
                "SELECT sql FROM sqlite_master WHERE tbl_name = '{table}' AND type IN ('index', 'trigger') AND sql IS NOT NULL"
            )))
            .await?
            .into_iter()
            .filter_map(|row| row.try_get::<String>("", "sql").ok())
            .collect();
        let mut changed = definition.clone();
        for key in &keys {
            let clause = clause(key);
            if add {
                let end = changed.rfind(')').ok_or_else(|| DbErr::Migration(format!("odd definition of {table}")))?;
                changed.insert_str(end, &clause);
            } else {
                changed = changed.replace(&clause, "");
            }
        }
        let renamed = changed.replacen(&format!("\"{table}\""), &format!("\"{table}_rebuilt\""), 1);
        if renamed == changed {
            return Err(DbErr::Migration(format!("could not rename the definition of {table}")));
        }
        db.execute_unprepared(&renamed).await?;
        db.execute_unprepared(&format!("INSERT INTO \"{table}_rebuilt\" SELECT * FROM \"{table}\"")).await?;
        db.execute_unprepared(&format!("DROP TABLE \"{table}\"")).await?;
        db.execute_unprepared(&format!("ALTER TABLE \"{table}_rebuilt\" RENAME TO \"{table}\"")).await?;
        for extra in extras {
            db.execute_unprepared(&extra).await?;
        }
    }
    let broken = db.query_all_raw(Statement::from_string(DbBackend::Sqlite, "PRAGMA foreign_key_check")).await?;
    db.execute_unprepared("PRAGMA foreign_keys = ON").await?;
    if broken.is_empty() {
        Ok(())
    } else {
        Err(DbErr::Migration(format!("{} row(s) reference rows that do not exist", broken.len())))
    }
}
