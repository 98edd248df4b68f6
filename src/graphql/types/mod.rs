//! What clients see: GraphQL types, separate from database entities.
pub mod account;
pub mod agent;
pub mod common;
pub mod community;
pub mod contract;
pub mod event;
pub mod gig;
pub mod organization;
pub mod profile;

pub use account::{AuthPayload, Me};
pub use agent::{AgentToken, AgentTokenScope, IssuedAgentToken};
pub use common::{Money, parse_id};
pub use organization::{OrgRole, Organization, OrganizationMember};
pub use profile::{Availability, Profile, ProfileKind, Skill};
