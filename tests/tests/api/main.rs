//! The black-box API suite: real HTTP against the real server, once per store.
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod auth;
mod authz;
mod concurrency;
mod conversations_hostile;
mod direct;
mod errors;
mod groups;
mod hostile;
mod members;
mod messages;
mod ops;
mod outage;
mod read_state;
mod search;
mod tokens;
mod users;
mod ws_smoke;
