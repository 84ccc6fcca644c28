//! The one way a test cluster is removed: a small shell process that waits until the test
//! process lets go of it, then stops the cluster and deletes its directory.
//!
//! Rust never drops statics, so the cluster every test shares cannot clean up in `Drop`. The
//! watchdog reads a pipe whose only writer is the test process: the pipe reaches end-of-file
//! when the test process drops the writer (a private cluster's `Drop`) or when it exits in
//! any way at all — normally, by panic, or killed. The watchdog runs in a process group of its
//! own and ignores the terminal's signals, so that Ctrl-C on `cargo test` cannot kill it before
//! it has cleaned up.

use std::path::Path;
use std::process::{Child, ChildStdin, Command, Stdio};

use super::tools::Tools;

/// Waits for end-of-file on its stdin, then stops the cluster in `$1/data` (`-m immediate`:
/// nothing in it needs to survive) with the rest of the arguments (the privilege prefix and
/// `pg_ctl`), then removes `$1`.
const SCRIPT: &str = r#"trap '' INT TERM HUP
cat >/dev/null
dir=$1
shift
"$@" -D "$dir/data" -m immediate -w -t 30 stop >/dev/null 2>&1
rm -rf "$dir""#;

/// A running watchdog over one cluster directory.
#[derive(Debug)]
pub(super) struct Watchdog {
    child: Child,
    /// The write end of its pipe: as long as it is open, the cluster stays.
    alive: Option<ChildStdin>,
}

impl Watchdog {
    /// Starts a watchdog over `dir`.
    pub fn spawn(tools: &Tools, dir: &Path) -> Result<Self, String> {
        let mut command = Command::new("sh");
        command
            .arg("-c")
            .arg(SCRIPT)
            .arg("confab-pg-watchdog")
            .arg(dir)
            .args(tools.prefix())
            .arg(&tools.pg_ctl)
            .current_dir(dir)
            .stdin(Stdio::piped())
            // Not the test's output: a run whose output is piped would otherwise wait for the
            // watchdog to finish before it sees the end of it.
            .stdout(Stdio::null())
            .stderr(Stdio::null());
        std::os::unix::process::CommandExt::process_group(&mut command, 0);
        let mut child = command
            .spawn()
            .map_err(|e| format!("cannot start the cluster's watchdog (sh): {e}"))?;
        let alive = child.stdin.take();
        Ok(Self { child, alive })
    }

    /// Lets the watchdog clean up now and waits until it has: the cluster is stopped and its
    /// directory gone when this returns.
    pub fn finish(mut self) {
        drop(self.alive.take());
        let _ = self.child.wait();
    }
}
