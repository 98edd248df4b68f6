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
        ]
    }
}
