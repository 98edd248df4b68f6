//! SeaORM models and relations of Semasocial. No API types live here.

pub mod activity;
pub mod agent_token;
pub mod organization;
pub mod organization_member;
pub mod profile;
pub mod profile_skill;
pub mod refresh_token;
pub mod user;
