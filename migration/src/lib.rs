//! Schema changes of Semasocial, applied in order. Only schema lives here.
pub use sea_orm_migration::prelude::*;

mod m20261123_000001_create_users;
mod m20261123_000002_create_profiles;
mod m20261123_000003_create_refresh_tokens;
mod m20261123_000004_create_agent_tokens;
mod m20261123_000005_create_organizations;
mod m20261123_000006_create_activities;
mod m20261123_000007_create_communities;
mod m20261123_000008_create_posts;
mod m20261123_000009_create_gigs;
mod m20261123_000010_create_events;
mod m20261123_000011_create_contracts;
mod m20261124_000012_task_work;
mod m20261124_000013_drop_task_skills_json;
mod m20261124_000014_create_ledger;
mod m20261124_000015_add_foreign_keys;
mod m20261124_000016_create_activity_streams;
mod m20261202_000017_create_organization_invitations;
mod m20261202_000018_index_events_start;
mod m20261202_000019_orchestration;
mod m20261203_000020_unique_playbook_names;
mod m20261205_000021_money_edges;
mod m20261205_000022_dispute_shares;
mod m20261205_000023_payment_provider;
mod m20261205_000024_payouts_and_refunds;
mod m20261205_000025_mail_and_recovery;
mod m20261206_000026_api_keys;
mod m20261206_000027_webhooks;
mod m20261206_000028_notification_mail;

/// Runs every migration of the service.
pub struct Migrator;

#[async_trait::async_trait]
impl MigratorTrait for Migrator {
    fn migrations() -> Vec<Box<dyn MigrationTrait>> {
        vec![
            Box::new(m20261123_000001_create_users::Migration),
            Box::new(m20261123_000002_create_profiles::Migration),
            Box::new(m20261123_000003_create_refresh_tokens::Migration),
            Box::new(m20261123_000004_create_agent_tokens::Migration),
            Box::new(m20261123_000005_create_organizations::Migration),
            Box::new(m20261123_000006_create_activities::Migration),
            Box::new(m20261123_000007_create_communities::Migration),
            Box::new(m20261123_000008_create_posts::Migration),
            Box::new(m20261123_000009_create_gigs::Migration),
            Box::new(m20261123_000010_create_events::Migration),
            Box::new(m20261123_000011_create_contracts::Migration),
            Box::new(m20261124_000012_task_work::Migration),
            Box::new(m20261124_000013_drop_task_skills_json::Migration),
            Box::new(m20261124_000014_create_ledger::Migration),
            Box::new(m20261124_000015_add_foreign_keys::Migration),
            Box::new(m20261124_000016_create_activity_streams::Migration),
            Box::new(m20261202_000017_create_organization_invitations::Migration),
            Box::new(m20261202_000018_index_events_start::Migration),
            Box::new(m20261202_000019_orchestration::Migration),
            Box::new(m20261203_000020_unique_playbook_names::Migration),
            Box::new(m20261205_000021_money_edges::Migration),
            Box::new(m20261205_000022_dispute_shares::Migration),
            Box::new(m20261205_000023_payment_provider::Migration),
            Box::new(m20261205_000024_payouts_and_refunds::Migration),
            Box::new(m20261205_000025_mail_and_recovery::Migration),
            Box::new(m20261206_000026_api_keys::Migration),
            Box::new(m20261206_000027_webhooks::Migration),
            Box::new(m20261206_000028_notification_mail::Migration),
        ]
    }
}

/// A reference to add: (table, column, referenced table); the referenced column is `id`.
pub(crate) type ForeignKeySpec = (&'static str, &'static str, &'static str);

/// The foreign key `fk_<table>_<column>` of a reference (no cascade: referenced rows stay).
pub(crate) fn fk(spec: &ForeignKeySpec) -> ForeignKeyCreateStatement {
    let (table, column, target) = *spec;
    ForeignKey::create()
        .name(format!("fk_{table}_{column}"))
        .from(Alias::new(table), Alias::new(column))
        .to(Alias::new(target), Alias::new("id"))
        .to_owned()
}

/// The index `ix_<table>_<column>` a reference is looked up by.
pub(crate) fn index(spec: &ForeignKeySpec) -> IndexCreateStatement {
    let (table, column, _) = *spec;
    Index::create()
        .name(format!("ix_{table}_{column}"))
        .table(Alias::new(table))
        .col(Alias::new(column))
        .if_not_exists()
        .to_owned()
}
