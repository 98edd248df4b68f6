//! Queries, one object per area.
mod account;
mod community;
mod contract;
mod organization;
mod profile;

pub use account::AccountQuery;
pub use community::CommunityQuery;
pub use contract::ContractQuery;
pub use organization::OrganizationQuery;
pub use profile::ProfileQuery;
