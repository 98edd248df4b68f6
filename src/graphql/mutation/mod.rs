//! Mutations, one object per area. Each takes one input object and calls the domain.
mod account;
mod agent;
mod api_key;
mod community;
mod contract;
mod event;
mod gig;
mod money;
mod notification;
mod organization;
mod playbook;
mod profile;
mod task;

pub use account::AccountMutation;
pub use agent::AgentMutation;
pub use api_key::ApiKeyMutation;
pub use community::CommunityMutation;
pub use contract::ContractMutation;
pub use event::EventMutation;
pub use gig::GigMutation;
pub use money::MoneyMutation;
pub use notification::NotificationMutation;
pub use organization::OrganizationMutation;
pub use playbook::PlaybookMutation;
pub use profile::ProfileMutation;
pub use task::TaskMutation;
