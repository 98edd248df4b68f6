//! What clients see: GraphQL types, separate from database entities.
/// Two-way `From` between an API enum and the entity (or auth) enum it mirrors, variant by
/// variant; a variant added on one side only fails to compile.
macro_rules! mirror_enum {
    ($api:ident, $other:path, [$($v:ident),* $(,)?]) => {
        impl From<$other> for $api {
            fn from(v: $other) -> Self {
                match v { $(<$other>::$v => Self::$v),* }
            }
        }
        impl From<$api> for $other {
            fn from(v: $api) -> Self {
                match v { $($api::$v => Self::$v),* }
            }
        }
    };
}

pub mod account;
pub mod activity;
pub mod agent;
pub mod api_key;
pub mod common;
pub mod community;
pub mod contract;
pub mod dashboard;
pub mod event;
pub mod gig;
pub mod ledger;
pub mod money;
pub mod node;
pub mod notification;
pub mod organization;
pub mod playbook;
pub mod profile;
pub mod task;
pub mod webhook;

pub use account::{AuthPayload, Me};
pub use agent::{AgentToken, AgentTokenScope, IssuedAgentToken};
pub use api_key::{ApiKey, CreatedApiKey};
pub use common::{Money, parse_id};
pub use organization::{OrgRole, Organization, OrganizationInvitation, OrganizationMember};
pub use profile::{Availability, Profile, ProfileKind, Skill};
