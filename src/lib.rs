//! Semasocial API: the GraphQL backend of an outcome-based freelance and community marketplace.
//!
//! Layers depend downwards only: `http` → `graphql` → `domain` → `entity`; `auth` and `events`
//! are used from above and import neither `graphql` nor `http`.
pub mod auth;
pub mod cli;
pub mod clock;
pub mod config;
pub mod domain;
pub mod error;
pub mod events;
pub mod graphql;
pub mod http;
pub mod mail;
pub mod seed;
pub mod startup;
pub mod state;
pub mod telemetry;
