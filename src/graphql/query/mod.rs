//! Queries, one object per area.
mod account;
mod organization;
mod profile;

pub use account::AccountQuery;
pub use organization::OrganizationQuery;
pub use profile::ProfileQuery;
