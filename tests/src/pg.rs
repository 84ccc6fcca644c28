//! PostgreSQL for the black-box suite: a throwaway cluster started from the `initdb` and
//! `pg_ctl` on PATH ([`PgCluster`]), shared by every test of the process, and a database of
//! each test's own copied from a migrated template ([`TestDatabase`]), so tests run in
//! parallel. Nothing is skipped: without PostgreSQL, every PostgreSQL test fails saying what to
//! install.
//!
//! Everything is removed afterwards: a test database when its guard drops, a cluster when it
//! drops or, for the shared one (a static, never dropped), when the test process exits, by
//! its watchdog process.

mod cluster;
mod database;
mod sql;
mod template;
mod tools;
mod watchdog;

pub use cluster::PgCluster;
pub use database::{TestDatabase, count_rows_at};
