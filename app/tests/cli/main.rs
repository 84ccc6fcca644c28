//! Black-box tests of the `confab` binary: its command line, its start-up checks, the server's
//! life cycle (start, health, restart, SIGTERM) and the `user`, `migrate`, `demo`, `port` and
//! `reports` subcommands. One test binary (`cargo test -p confab --test cli`), one module per
//! subcommand; the helpers they share are in [`h`].
//!
//! Every run gets a fresh temporary working directory and an environment with no `CONFAB_*`
//! (nor `RUST_LOG`, nor `RUST_BACKTRACE`) variable, so no test can see another's settings.
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod h;

mod backup;
mod config_file;
mod demo;
mod help;
mod invite;
mod manual;
mod migrate;
mod observe;
mod port;
mod prompt;
mod reports;
mod secrets;
mod serve;
mod serve_config;
mod user;
mod user_ops;
