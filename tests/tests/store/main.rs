//! The store conformance suite (InfluxDB IOx's `interface_tests`): one test per MUST in
//! `ports/src/store/*.rs`, over the store traits themselves — no HTTP, no use case — each run
//! against a fresh SQLite file and a fresh PostgreSQL database, so a failure reads
//! `store::postgres::<case>` and the two stores cannot drift apart unnoticed.
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod announcements;
mod attachments;
mod circles;
mod erasure;
mod fixtures;
mod groups;
mod health;
mod invites;
mod members;
mod messages;
mod migrations;
mod moderation;
mod otp;
mod pool;
mod reports;
mod search;
mod sessions;
mod social;
mod transfer;
mod users;
