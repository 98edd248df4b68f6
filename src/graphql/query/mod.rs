//! Queries, one object per area.
mod account;
mod community;
mod organization;
mod profile;

pub use account::AccountQuery;
pub use community::CommunityQuery;
pub use organization::OrganizationQuery;
pub use profile::ProfileQuery;
