//! The black-box API suite: real HTTP against the real server, once per store.
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod auth;
mod authz;
mod errors;
mod hostile;
mod ops;
mod outage;
mod tokens;
mod users;
