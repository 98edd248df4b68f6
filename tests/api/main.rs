//! The one integration test binary: every test starts the real application on port 0 with
//! its own database (a SQLite file, or a fresh PostgreSQL database when
//! `TEST_DATABASE_URL` is set; Redis when `TEST_REDIS_URL` is set).
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod abuse;
mod agents;
mod api_keys;
mod auth;
mod builders;
mod clients;
mod communities;
mod contracts;
mod conversations;
mod decomposition;
mod events;
mod gigs;
mod helpers;
mod http_spec;
mod layout;
mod listing;
mod live;
mod migrations;
mod money;
mod money_edges;
mod money_simulation;
mod notification_mail;
mod orchestration;
mod organizations;
mod payments;
mod profiles;
mod recovery;
mod refusals;
mod rsvps;
mod schema;
mod seed;
mod sessions;
mod webhooks;
mod work;
