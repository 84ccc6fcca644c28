//! The web client in a real browser: headless Chromium (Debian's `chromium`), driven over
//! WebDriver (`chromedriver`, `fantoccini`) against the real server binary on 127.0.0.1, on
//! SQLite. The harness is `confab_tests::browser`; the user flows shared by the tests (register,
//! log in, open a conversation, send) are in [`ui`]. Screenshots and the pictures of failed
//! waits go to `target/browser-artifacts/<test>/`.
//!
//! Selectors are only the client's test hooks (`data-testid` and form field names), listed in
//! `docs/testing.md`.
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod a11y;
mod announcements;
mod attachments;
mod codes;
mod conversations;
mod edit_search;
mod invites;
mod members;
mod moderation;
mod pool;
mod presence;
mod reconnect;
mod refresh;
mod reports;
mod screenshots;
mod scrollback;
mod smoke;
mod social;
mod ui;

/// The server binary built from this code.
pub const NODE: &str = env!("CARGO_BIN_EXE_confab-node");
