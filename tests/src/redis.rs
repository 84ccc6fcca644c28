//! A throwaway `redis-server` from PATH, on 127.0.0.1 at a free port, for the tests that need
//! Redis: the shared bus and limiter suites and the several-instance tests. Each test starts
//! its own (tests kill, pause and restart it). Missing `redis-server` fails the test saying
//! what to install — never a skip.
//!
//! The server runs under a [`Watched`] guard, so no server outlives its test run.

use std::io::{Read, Write};
use std::net::TcpStream;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use tempfile::TempDir;

use crate::process::Watched;

/// How many ports a start tries: a port found free may be taken before the server binds it.
const START_ATTEMPTS: usize = 5;
/// Longest wait for a started server to answer.
const READY_WAIT: Duration = Duration::from_secs(10);

/// One running (or killed) redis-server of a test's own.
#[derive(Debug)]
pub struct RedisServer {
    dir: TempDir,
    port: u16,
    running: Option<Watched>,
}

fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0")
        .and_then(|l| l.local_addr())
        .map(|a| a.port())
        .expect("a free port")
}

/// Whether a Redis server answers PING on `port`.
fn answers(port: u16) -> bool {
    let Ok(mut s) = TcpStream::connect_timeout(
        &std::net::SocketAddr::from(([127, 0, 0, 1], port)),
        Duration::from_millis(200),
    ) else {
        return false;
    };
    let _ = s.set_read_timeout(Some(Duration::from_millis(500)));
    let mut buf = [0u8; 7];
    s.write_all(b"PING\r\n").is_ok() && s.read_exact(&mut buf).is_ok() && &buf == b"+PONG\r\n"
}

impl RedisServer {
    /// Starts a server (blocks for a moment). Panics, naming the package, when `redis-server`
    /// is not on PATH.
    pub fn start() -> Self {
        let dir = tempfile::tempdir().expect("temp dir");
        let mut server = Self {
            dir,
            port: 0,
            running: None,
        };
        for _ in 0..START_ATTEMPTS {
            server.port = free_port();
            if server.launch() {
                return server;
            }
        }
        panic!(
            "redis-server did not start on a free port after {START_ATTEMPTS} tries; its log:\n{}",
            server.log()
        );
    }

    fn log_path(&self) -> PathBuf {
        self.dir.path().join("redis.log")
    }

    fn log(&self) -> String {
        std::fs::read_to_string(self.log_path()).unwrap_or_default()
    }

    /// Starts redis-server on `self.port`; whether it answers.
    fn launch(&mut self) -> bool {
        let found = Command::new("redis-server")
            .arg("--version")
            .stdout(Stdio::null())
            .status();
        assert!(
            found.is_ok_and(|s| s.success()),
            "redis-server is not on PATH: the several-instance tests need it \
             (apt-get install redis-server; scripts/test installs it)"
        );
        let args: Vec<String> = [
            "--port",
            &self.port.to_string(),
            "--bind",
            "127.0.0.1",
            "--save",
            "",
            "--appendonly",
            "no",
            "--protected-mode",
            "no",
            "--daemonize",
            "no",
            "--dir",
            &self.dir.path().display().to_string(),
        ]
        .iter()
        .map(|s| (*s).to_owned())
        .collect();
        let running = Watched::spawn(Path::new("redis-server"), &args, &self.log_path());
        let deadline = Instant::now() + READY_WAIT;
        while Instant::now() < deadline {
            if answers(self.port) {
                self.running = Some(running);
                return true;
            }
            if self.log().contains("Address already in use") {
                break;
            }
            std::thread::sleep(Duration::from_millis(25));
        }
        running.finish();
        false
    }

    /// `redis://127.0.0.1:<port>/0`.
    pub fn url(&self) -> String {
        format!("redis://127.0.0.1:{}/0", self.port)
    }

    /// The port it listens on (the same after a restart).
    pub fn port(&self) -> u16 {
        self.port
    }

    fn running(&self) -> &Watched {
        self.running.as_ref().expect("the server is running")
    }

    /// SIGKILL: the server dies at once, with every connection and subscription.
    pub fn kill(&mut self) {
        if let Some(running) = self.running.take() {
            running.signal("KILL");
            running.finish();
        }
        let deadline = Instant::now() + READY_WAIT;
        while answers(self.port) && Instant::now() < deadline {
            std::thread::sleep(Duration::from_millis(20));
        }
    }

    /// SIGSTOP: connections stay open, nothing answers (the silent failure).
    pub fn pause(&self) {
        self.running().signal("STOP");
    }

    /// SIGCONT after [`RedisServer::pause`].
    pub fn resume(&self) {
        self.running().signal("CONT");
    }

    /// Starts the server again on the same port after [`RedisServer::kill`] (empty: it keeps
    /// nothing), waiting until it answers.
    pub fn restart(&mut self) {
        assert!(self.running.is_none(), "restart after kill");
        let deadline = Instant::now() + READY_WAIT;
        while !self.launch() {
            assert!(
                Instant::now() < deadline,
                "redis-server did not start again on port {}; its log:\n{}",
                self.port,
                self.log()
            );
            std::thread::sleep(Duration::from_millis(100));
        }
    }
}

impl Drop for RedisServer {
    fn drop(&mut self) {
        if let Some(running) = self.running.take() {
            running.finish();
        }
    }
}
