//! The browser harness: the web client in headless Chromium, driven over WebDriver
//! (`fantoccini`) through Debian's `chromedriver`, against the real server binary.
//!
//! - One `chromedriver` per test process ([`driver`]), started on first use on a free port of
//!   127.0.0.1 by a watchdog shell that kills its whole process group — chromedriver and every
//!   Chromium it started — when the test process exits, however it exits.
//! - Each [`Browser`] is a WebDriver session of its own: a fresh Chromium with a fresh profile
//!   (`--user-data-dir` in a temporary directory), so two of them are two independent users.
//!   Its session is ended when it is [closed](Browser::close) or dropped (a failing test too).
//! - [`BrowserServer`] is the real binary ([`TestServer::spawn`]) on a SQLite file of the
//!   test's own, behind a small TCP relay that gives the page a fixed origin: the server can be
//!   [restarted](BrowserServer::restart) (on a new port, behind the same origin) and live
//!   connections [cut](BrowserServer::cut_connections) while the page stays open.
//! - Waits poll (every 50 ms, 10 s by default, [`WAIT`]); there are no fixed sleeps. A wait
//!   that times out saves a screenshot and says what the page showed.
//! - Screenshots go to `target/browser-artifacts/<test>/<view>-<width>.png`
//!   ([`Browser::screenshots`]); [`Browser::axe`] runs the vendored axe-core
//!   (`tests/vendor/axe-core`) and returns the serious and critical violations.
//!
//! Without `/usr/bin/chromium` or `chromedriver` every browser test fails saying to install
//! `chromium chromium-driver` (`scripts/test` does): nothing is skipped.

use std::io::{Read, Write};
use std::net::{SocketAddr, TcpStream};
use std::path::{Path, PathBuf};
use std::process::{Child, ChildStdin, Command, Stdio};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex, OnceLock};
use std::time::Duration;

use fantoccini::actions::{InputSource, KeyAction, KeyActions};
use fantoccini::elements::Element;
use fantoccini::{Client, ClientBuilder, Locator};
use serde_json::{Value, json};
use tempfile::TempDir;
use tokio::net::{TcpListener, TcpStream as AsyncTcpStream};
use tokio::sync::watch;
use tokio::task::JoinHandle;

use crate::{Store, TestServer};

/// The Chromium the tests drive (Debian's package `chromium`).
pub const CHROMIUM: &str = "/usr/bin/chromium";

/// How long a wait lasts by default.
pub const WAIT: Duration = Duration::from_secs(10);

/// How often a wait looks again.
const POLL: Duration = Duration::from_millis(50);

/// The desktop and phone widths of [`Browser::screenshots`].
pub const WIDTHS: [u32; 2] = [1280, 375];

/// The window height used at every width.
const HEIGHT: u32 = 900;

/// What to do when the browser is missing.
const INSTALL: &str = "the browser tests need Debian's Chromium and its WebDriver: \
     apt-get install chromium chromium-driver (scripts/test installs them)";

/// Chromium's command line for every session (plus a fresh `--user-data-dir`).
const CHROMIUM_ARGS: &[&str] = &[
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
    "--disable-dev-shm-usage",
    "--window-size=1280,900",
];

/// The vendored axe-core (see `tests/vendor/axe-core/README.md`).
const AXE: &str = include_str!("../../vendor/axe-core/axe.min.js");

mod driver;
mod page;
mod page_actions;
mod server;

pub use driver::{Driver, driver};
pub use page::{Browser, LogEntry, tid};
pub use page_actions::artifacts_dir;
pub use server::{BrowserServer, GENEROUS_LIMITS};
