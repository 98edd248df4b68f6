//! Business rules and state machines, one module per area. No axum or async-graphql here.
pub mod account;
pub mod activity;
pub mod agent;
pub mod community;
pub mod contract;
pub mod conversation;
pub mod event;
pub mod gig;
pub mod organization;
pub mod page;
pub mod profile;
pub mod proposal;
pub mod task;
pub mod validate;

pub use activity::{NewActivity, UnitOfWork};
