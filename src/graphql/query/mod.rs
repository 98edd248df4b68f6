//! Queries, one object per area.
mod account;
mod community;
mod contract;
mod event;
mod gig;
mod node;
mod notification;
mod organization;
mod profile;
mod webhook;

pub use account::AccountQuery;
pub use community::CommunityQuery;
pub use contract::ContractQuery;
pub use event::EventQuery;
pub use gig::GigQuery;
pub use node::NodeQuery;
pub use notification::NotificationQuery;
pub use organization::OrganizationQuery;
pub use profile::ProfileQuery;
pub use webhook::WebhookQuery;
