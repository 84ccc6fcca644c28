//! A child process the test run cannot leave behind: a small shell watchdog starts it, prints
//! its pid, and kills it (SIGKILL) once the test process lets go of the watchdog's pipe — by
//! dropping the guard, or by exiting in any way at all, killed included. Used for
//! `redis-server` and for confab server processes that tests SIGKILL.

use std::io::Read;
use std::path::Path;
use std::process::{Child, ChildStdin, Command, Stdio};

/// Starts `$2…` with output appended to `$1`, prints its pid, waits for end-of-file on stdin,
/// then kills it.
const WATCHDOG: &str = r#"trap '' INT TERM HUP
log=$1
shift
"$@" >>"$log" 2>&1 </dev/null &
pid=$!
echo "$pid"
cat >/dev/null
kill -CONT "$pid" 2>/dev/null
kill -9 "$pid" 2>/dev/null"#;

/// A watched child process.
#[derive(Debug)]
pub struct Watched {
    watchdog: Child,
    alive: Option<ChildStdin>,
    pid: i32,
}

impl Watched {
    /// Starts `program` with `args`, its stdout and stderr appended to `log`.
    pub fn spawn(program: &Path, args: &[String], log: &Path) -> Self {
        let mut command = Command::new("sh");
        command
            .arg("-c")
            .arg(WATCHDOG)
            .arg("confab-test-watchdog")
            .arg(log)
            .arg(program)
            .args(args)
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .stderr(Stdio::null());
        // Its own process group: Ctrl-C on the test run must not kill it before it cleans up.
        std::os::unix::process::CommandExt::process_group(&mut command, 0);
        let mut watchdog = command.spawn().expect("sh starts");
        let alive = watchdog.stdin.take();
        let mut out = watchdog.stdout.take().expect("the watchdog's stdout");
        let mut line = Vec::new();
        let mut byte = [0u8; 1];
        while out.read(&mut byte).unwrap_or(0) == 1 && byte[0] != b'\n' {
            line.push(byte[0]);
        }
        let pid = String::from_utf8_lossy(&line)
            .trim()
            .parse()
            .expect("the watchdog prints the pid");
        Self {
            watchdog,
            alive,
            pid,
        }
    }

    /// Sends a signal (`KILL`, `TERM`, `STOP`, `CONT`).
    pub fn signal(&self, name: &str) {
        assert!(self.try_signal(name), "kill -{name} {} failed", self.pid);
    }

    /// Sends a signal; false when it could not be sent (the process has gone, say).
    pub fn try_signal(&self, name: &str) -> bool {
        Command::new("kill")
            .args([format!("-{name}"), self.pid.to_string()])
            .stderr(std::process::Stdio::null())
            .status()
            .expect("kill runs")
            .success()
    }

    /// The process id.
    pub fn pid(&self) -> i32 {
        self.pid
    }

    /// Whether the process is still there (a zombie counts as gone).
    pub fn is_running(&self) -> bool {
        std::fs::read_to_string(format!("/proc/{}/stat", self.pid))
            .map(|stat| {
                let state = stat.rsplit(')').next().unwrap_or("").trim_start();
                !state.starts_with('Z') && !state.starts_with('X')
            })
            .unwrap_or(false)
    }

    /// Kills the process (if it still runs) and waits for the watchdog to finish.
    pub fn finish(mut self) {
        drop(self.alive.take());
        let _ = self.watchdog.wait();
    }
}
