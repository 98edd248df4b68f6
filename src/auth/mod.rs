//! Authentication: passwords, tokens, the viewer of a request, rate limits.
pub mod api_key;
pub mod password;
pub mod rate_limit;
pub mod session;
pub mod token;
pub mod viewer;

pub use viewer::{AgentScope, Viewer, authenticate};

/// The address a request came from, for per-address limits (put in request data by HTTP).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct ClientIp(pub std::net::IpAddr);

/// When the credentials of a long-lived connection (a WebSocket) expire; live subscriptions
/// end then. Absent on plain HTTP requests, which are checked one at a time.
#[derive(Clone, Copy, Debug)]
pub struct SessionExpiry(pub chrono::DateTime<chrono::Utc>);
