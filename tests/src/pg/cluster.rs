//! A throwaway PostgreSQL cluster: `initdb` into a fresh temporary directory, configured for
//! tests, served on 127.0.0.1 at a free port, removed by its [`Watchdog`].

use std::path::PathBuf;
use std::process::Output;
use std::sync::OnceLock;

use super::template;
use super::tools::Tools;
use super::watchdog::Watchdog;

/// How many ports a first start tries: a free port found by binding port 0 may be taken by
/// someone else before the server binds it.
const START_ATTEMPTS: usize = 5;

/// The superuser `initdb` creates; every URL logs in as it (authentication: trust).
const SUPERUSER: &str = "postgres";

/// A PostgreSQL cluster of the test process's own, with a template database `confab_template`
/// prepared by `confab_postgres::migrate`.
///
/// Dropping it stops the server and deletes its directory; the cluster of
/// [`PgCluster::shared`], never dropped, goes when the test process exits.
#[derive(Debug)]
pub struct PgCluster {
    tools: Tools,
    /// Everything of the cluster: `data/`, the Unix socket, the server's log.
    dir: PathBuf,
    port: u16,
    watchdog: Option<Watchdog>,
}

/// The cluster every test shares, or why it could not start (kept, so that every test fails
/// fast with the same message instead of each trying again).
static SHARED: OnceLock<Result<PgCluster, String>> = OnceLock::new();

impl PgCluster {
    /// The cluster every test of the process shares, started on first use. Panics, saying what
    /// to install or set up, when PostgreSQL is missing or does not start.
    pub async fn shared() -> &'static PgCluster {
        let started = match SHARED.get() {
            Some(started) => started,
            // Starting takes a few seconds of blocking calls (and a runtime of its own for the
            // template): off the async workers, whatever runtime the first test runs on.
            None => tokio::task::spawn_blocking(|| SHARED.get_or_init(Self::launch))
                .await
                .unwrap_or_else(|e| std::panic::resume_unwind(e.into_panic())),
        };
        match started {
            Ok(cluster) => cluster,
            Err(e) => panic!("the PostgreSQL test cluster did not start: {e}"),
        }
    }

    /// A cluster of the caller's own, for a test that stops and starts it. Blocks for a few
    /// seconds (from async code, call it in `spawn_blocking`); panics like [`PgCluster::shared`].
    pub fn start_private() -> PgCluster {
        Self::launch()
            .unwrap_or_else(|e| panic!("a private PostgreSQL test cluster did not start: {e}"))
    }

    /// The URL of database `db` on this cluster.
    pub fn url(&self, db: &str) -> String {
        format!("postgres://{SUPERUSER}@127.0.0.1:{}/{db}", self.port)
    }

    /// The port the cluster listens on, the same across [`PgCluster::stop`] and
    /// [`PgCluster::start`].
    pub fn port(&self) -> u16 {
        self.port
    }

    /// Stops the server (`-m fast`: clients are disconnected, what was committed stays) and
    /// waits until it is down. Blocks; panics when `pg_ctl` fails.
    pub fn stop(&self) {
        let out = self.pg_ctl(&["-m", "fast", "stop"]);
        if !out.status.success() {
            panic!("pg_ctl stop failed: {}", self.explain(&out));
        }
    }

    /// Starts the stopped server again on the same port and waits until it accepts
    /// connections. Blocks; panics when it does not come up.
    pub fn start(&self) {
        if let Err(e) = self.try_start() {
            panic!("the PostgreSQL test cluster did not start again: {e}");
        }
    }

    /// Creates, starts and prepares a cluster. Whatever fails on the way, the directory goes
    /// with the watchdog.
    fn launch() -> Result<Self, String> {
        let tools = Tools::find()?;
        let dir = tempfile::Builder::new()
            .prefix("confab-pg-")
            .tempdir()
            .map_err(|e| format!("cannot create a temporary directory: {e}"))?
            // The watchdog removes it, also after the test process has gone.
            .keep();
        let watchdog = tools
            .hand_over(&dir)
            .and_then(|()| Watchdog::spawn(&tools, &dir))
            .inspect_err(|_| {
                let _ = std::fs::remove_dir_all(&dir);
            })?;
        let mut cluster = Self {
            tools,
            dir,
            port: 0,
            watchdog: Some(watchdog),
        };
        cluster.initdb()?;
        cluster.first_start()?;
        template::prepare(&cluster)?;
        Ok(cluster)
    }

    fn data(&self) -> PathBuf {
        self.dir.join("data")
    }

    fn log(&self) -> PathBuf {
        self.dir.join("postgres.log")
    }

    fn initdb(&self) -> Result<(), String> {
        let out = self
            .tools
            .command(&self.tools.initdb)
            .arg("-D")
            .arg(self.data())
            .args([
                "--auth=trust",
                "-U",
                SUPERUSER,
                "--encoding=UTF8",
                "--locale=C",
                // Throwaway: no need to flush the new cluster to disk.
                "--no-sync",
            ])
            .current_dir(&self.dir)
            .output()
            .map_err(|e| format!("cannot run initdb: {e}"))?;
        if !out.status.success() {
            return Err(format!(
                "initdb failed{}: {}",
                self.tools.directory_hint(&self.dir),
                String::from_utf8_lossy(&out.stderr).trim()
            ));
        }
        let conf = self.data().join("postgresql.conf");
        let mut text = std::fs::read_to_string(&conf)
            .map_err(|e| format!("cannot read {}: {e}", conf.display()))?;
        text.push_str("\ninclude 'confab.conf'\n");
        std::fs::write(&conf, text).map_err(|e| format!("cannot write {}: {e}", conf.display()))
    }

    /// Starts the server on a free port, trying another when the one found is taken by the
    /// time the server binds it.
    fn first_start(&mut self) -> Result<(), String> {
        let mut last = String::new();
        for _ in 0..START_ATTEMPTS {
            self.port = free_port()?;
            self.write_config()?;
            match self.try_start() {
                Ok(()) => return Ok(()),
                Err(e) => last = e,
            }
        }
        Err(format!(
            "{START_ATTEMPTS} attempts failed; the last: {last}"
        ))
    }

    /// The settings of a test cluster, in `data/confab.conf` (included by `postgresql.conf`).
    fn write_config(&self) -> Result<(), String> {
        let config = format!(
            "# Written by the confab test harness (tests/src/pg/cluster.rs).\n\
             listen_addresses = '127.0.0.1'\n\
             port = {port}\n\
             # Its own socket directory: the system's may not exist or belong to someone else.\n\
             unix_socket_directories = '{socket}'\n\
             # A throwaway cluster: nothing in it must survive a crash of the machine, so it\n\
             # skips the flushes and full-page images that make commits durable. They would\n\
             # dominate the cost of the suite's many small commits and of the per-test copies\n\
             # of the template.\n\
             fsync = off\n\
             full_page_writes = off\n\
             # Every test's server keeps a pool of its own, and many tests run at once.\n\
             max_connections = 400\n\
             shared_buffers = 32MB\n",
            port = self.port,
            socket = self.dir.display().to_string().replace('\'', "''"),
        );
        let path = self.data().join("confab.conf");
        std::fs::write(&path, config).map_err(|e| format!("cannot write {}: {e}", path.display()))
    }

    fn try_start(&self) -> Result<(), String> {
        let log = self.log();
        let log = log
            .to_str()
            .ok_or("the temporary directory's path is not UTF-8")?;
        let out = self.pg_ctl(&["-l", log, "start"]);
        if out.status.success() {
            Ok(())
        } else {
            Err(format!("pg_ctl start failed: {}", self.explain(&out)))
        }
    }

    /// Runs `pg_ctl -D data -w -t 60 <args>` (waiting for the outcome, a minute at most).
    fn pg_ctl(&self, args: &[&str]) -> Output {
        self.tools
            .command(&self.tools.pg_ctl)
            .arg("-D")
            .arg(self.data())
            .args(["-w", "-t", "60"])
            .args(args)
            .current_dir(&self.dir)
            .output()
            .unwrap_or_else(|e| panic!("cannot run {}: {e}", self.tools.pg_ctl.display()))
    }

    /// `pg_ctl`'s output and the end of the server's log.
    fn explain(&self, out: &Output) -> String {
        let log = std::fs::read_to_string(self.log()).unwrap_or_default();
        let tail: Vec<&str> = log.lines().rev().take(10).collect();
        let tail: Vec<&str> = tail.into_iter().rev().collect();
        format!(
            "{} {}; the end of {}:\n{}",
            String::from_utf8_lossy(&out.stdout).trim(),
            String::from_utf8_lossy(&out.stderr).trim(),
            self.log().display(),
            tail.join("\n")
        )
    }
}

impl Drop for PgCluster {
    fn drop(&mut self) {
        if let Some(watchdog) = self.watchdog.take() {
            watchdog.finish();
        }
    }
}

/// A TCP port on 127.0.0.1 that was free a moment ago: bound at port 0, then released.
fn free_port() -> Result<u16, String> {
    std::net::TcpListener::bind("127.0.0.1:0")
        .and_then(|l| l.local_addr())
        .map(|a| a.port())
        .map_err(|e| format!("cannot find a free port: {e}"))
}
