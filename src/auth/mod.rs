//! Authentication: passwords, tokens, the viewer of a request, rate limits.
pub mod password;
pub mod rate_limit;
pub mod token;
pub mod viewer;

pub use viewer::{AgentScope, Viewer, authenticate};
