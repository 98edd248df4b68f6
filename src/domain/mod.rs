//! Business rules and state machines, one module per area. No axum or async-graphql here.
pub mod account;
pub mod activity;
pub mod agent;
pub mod organization;
pub mod page;
pub mod profile;
pub mod validate;

pub use activity::{NewActivity, UnitOfWork};
