//! SeaORM models and relations of Semasocial. No API types live here.

pub mod activity;
pub mod agent_token;
pub mod comment;
pub mod community;
pub mod community_ban;
pub mod community_join_request;
pub mod community_member;
pub mod contract;
pub mod event;
pub mod event_rsvp;
pub mod gig;
pub mod gig_skill;
pub mod organization;
pub mod organization_member;
pub mod outcome;
pub mod post;
pub mod profile;
pub mod profile_skill;
pub mod proposal;
pub mod refresh_token;
pub mod review;
pub mod task;
pub mod task_assignment;
pub mod task_skill;
pub mod task_submission;
pub mod user;
