//! Mutations, one object per area. Each takes one input object and calls the domain.
mod account;
mod agent;
mod organization;
mod profile;

pub use account::AccountMutation;
pub use agent::AgentMutation;
pub use organization::OrganizationMutation;
pub use profile::ProfileMutation;
