//! The black-box harness: starts the real confab server on `127.0.0.1:0` over a fresh store and
//! talks to it with a real HTTP client. Every suite runs once per store through
//! [`store_tests!`], so a failure names its backend (`auth::sqlite::login_by_email`).
#![allow(clippy::unwrap_used, clippy::expect_used)]

pub mod browser;
pub mod chat;
mod client;
pub mod cluster;
pub mod existing;
pub mod files;
pub mod pg;
pub mod process;
pub mod redis;
pub mod rng;
pub mod smtp;
mod tokens;
pub mod ws;

pub use client::{Body, Resp, Session};
pub use pg::{PgCluster, TestDatabase};
pub use redis::RedisServer;
pub use tokens::{forge_token, token_claims};
pub use ws::{Ended, Refused, Token, Ws};

use std::net::SocketAddr;

use tempfile::TempDir;
use tokio::sync::oneshot;
use tokio::task::JoinHandle;

/// The signing secret every test server uses, so tests can forge tokens with or without it.
pub const TEST_SECRET: &str = "confab-test-secret-0123456789-abcdefghij";

/// Which store a server runs on.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Store {
    Sqlite,
    /// A database of the test's own on the cluster the process shares (see [`pg`]).
    Postgres,
}

/// A running server over its own fresh store.
pub struct TestServer {
    pub addr: SocketAddr,
    pub http: reqwest::Client,
    pub store: Store,
    dir: TempDir,
    flags: Vec<String>,
    /// Whether the server was given [`TEST_SECRET`]; without it, it generates and keeps its own.
    fixed_secret: bool,
    /// The account use cases of an in-process server; `None` for a [`TestServer::spawn`]ed one.
    accounts: Option<confab_ports::service::Accounts>,
    /// A server running as a process of its own ([`TestServer::spawn`]).
    process: Option<process::Watched>,
    shutdown: Option<oneshot::Sender<()>>,
    task: Option<JoinHandle<std::io::Result<()>>>,
    /// The helper of [`TestServer::settle`], once made: its session and group.
    settler: tokio::sync::Mutex<Option<(Session, String)>>,
    /// On [`Store::Postgres`], the server's database (`None` on an instance that shares
    /// another's): kept across restarts, dropped after the
    /// server (fields drop after `Drop::drop` has signalled the shutdown).
    database: Option<TestDatabase>,
    /// The database it serves (kept for restarts).
    database_url: String,
    /// The server's clock: real time plus whatever [`TestServer::advance`] added.
    clock: confab_ports::clock::ShiftedClock,
}

impl TestServer {
    /// A server with default settings.
    pub async fn start(store: Store) -> Self {
        Self::start_with(store, &[]).await
    }

    /// A server with extra command-line flags (e.g. tighter rate limits).
    pub async fn start_with(store: Store, flags: &[&str]) -> Self {
        let dir = tempfile::tempdir().expect("temp dir");
        let flags = flags.iter().map(|s| (*s).to_owned()).collect();
        Self::start_in(store, dir, None, flags, true).await
    }

    /// A server on [`Store::Postgres`] over a fresh database of `cluster` (e.g. a
    /// [`PgCluster::start_private`] that the test stops and starts), with extra flags.
    pub async fn start_on(cluster: &PgCluster, flags: &[&str]) -> Self {
        let dir = tempfile::tempdir().expect("temp dir");
        let database = TestDatabase::on(cluster).await;
        let flags = flags.iter().map(|s| (*s).to_owned()).collect();
        Self::start_in(Store::Postgres, dir, Some(database), flags, true).await
    }

    /// A server started as the README's quick start does: no secret given, so it generates
    /// one on first start and keeps it in the database.
    pub async fn start_with_generated_secret(store: Store) -> Self {
        let dir = tempfile::tempdir().expect("temp dir");
        Self::start_in(store, dir, None, Vec::new(), false).await
    }

    /// Starts a server on `store`: over `dir` on SQLite; over `database` on PostgreSQL, or a
    /// fresh one of the shared cluster when there is none yet.
    async fn start_in(
        store: Store,
        dir: TempDir,
        database: Option<TestDatabase>,
        flags: Vec<String>,
        fixed_secret: bool,
    ) -> Self {
        let (database_url, database) = match store {
            Store::Sqlite => (format!("sqlite://{}", sqlite_path(&dir).display()), None),
            Store::Postgres => {
                let database = match database {
                    Some(database) => database,
                    None => TestDatabase::new().await,
                };
                (database.url().to_owned(), Some(database))
            }
        };
        Self::launch(store, dir, database, database_url, flags, fixed_secret).await
    }

    /// A second instance over this server's database, as behind a load balancer: it shares
    /// the data but has its own clock (advance each), bus and sockets. It does not own the
    /// database: drop it before this server. Ask this server for `count_rows`.
    pub async fn another_instance(&self, flags: &[&str]) -> Self {
        let url = match &self.database {
            Some(database) => database.url().to_owned(),
            None => format!("sqlite://{}", self.sqlite_path().display()),
        };
        let dir = tempfile::tempdir().expect("temp dir");
        let flags = flags.iter().map(|s| (*s).to_owned()).collect();
        Self::launch(self.store, dir, None, url, flags, self.fixed_secret).await
    }

    async fn launch(
        store: Store,
        dir: TempDir,
        database: Option<TestDatabase>,
        database_url: String,
        flags: Vec<String>,
        fixed_secret: bool,
    ) -> Self {
        let mut all = vec!["--database-url".to_owned(), database_url.clone()];
        if fixed_secret {
            all.extend(["--jwt-secret".to_owned(), TEST_SECRET.to_owned()]);
        }
        all.extend(flags.iter().cloned());
        let args = confab::ServeArgs::try_from_flags(&all).expect("test flags parse");
        let clock = confab_ports::clock::ShiftedClock::default();
        let app = confab::build_with_clock(&args, std::sync::Arc::new(clock.clone()))
            .await
            .expect("server builds");
        let accounts = Some(app.accounts().clone());
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
            .await
            .expect("bind");
        let addr = listener.local_addr().expect("addr");
        let (tx, rx) = oneshot::channel::<()>();
        let task = tokio::spawn(confab::serve(app, listener, async move {
            let _ = rx.await;
        }));
        let mut server = Self::bare(addr, store, dir, flags, database_url, fixed_secret);
        server.accounts = accounts;
        server.shutdown = Some(tx);
        server.task = Some(task);
        server.database = database;
        server.clock = clock;
        server
    }

    /// A server as a process of its own over `database_url`, for tests that SIGKILL it
    /// ([`TestServer::kill`]). `binary` is confab built from this code: an integration test
    /// passes `env!("CARGO_BIN_EXE_confab-node")`. Its clock cannot be advanced, and
    /// [`TestServer::make_admin`] needs an in-process instance.
    pub async fn spawn(
        binary: &std::path::Path,
        store: Store,
        database_url: &str,
        flags: &[&str],
    ) -> Self {
        let dir = tempfile::tempdir().expect("temp dir");
        let log = dir.path().join("confab.log");
        let mut args: Vec<String> = [
            "--listen",
            "127.0.0.1:0",
            "--log-format",
            "json",
            "--database-url",
            database_url,
            "--jwt-secret",
            TEST_SECRET,
        ]
        .iter()
        .chain(flags)
        .map(|s| (*s).to_owned())
        .collect();
        args.insert(0, "serve".to_owned());
        let process = process::Watched::spawn(binary, &args, &log);
        let addr = listening_addr(&log, &process).await;
        let flags = flags.iter().map(|s| (*s).to_owned()).collect();
        let mut server = Self::bare(addr, store, dir, flags, database_url.to_owned(), true);
        server.process = Some(process);
        server
    }

    /// A server handle with nothing running behind it yet: the constructors fill in what runs.
    fn bare(
        addr: SocketAddr,
        store: Store,
        dir: TempDir,
        flags: Vec<String>,
        database_url: String,
        fixed_secret: bool,
    ) -> Self {
        Self {
            addr,
            http: reqwest::Client::builder()
                .redirect(reqwest::redirect::Policy::none())
                .build()
                .expect("client"),
            store,
            dir,
            flags,
            fixed_secret,
            accounts: None,
            process: None,
            shutdown: None,
            task: None,
            settler: tokio::sync::Mutex::new(None),
            database: None,
            database_url,
            clock: confab_ports::clock::ShiftedClock::default(),
        }
    }

    /// Sends a signal (`KILL`, `TERM`, `STOP`, `CONT`) to a [`TestServer::spawn`]ed server.
    pub fn signal(&self, name: &str) {
        self.process
            .as_ref()
            .expect("only a spawned server takes signals")
            .signal(name);
    }

    /// SIGKILLs a [`TestServer::spawn`]ed server: it dies at once, mid-request, with no close
    /// frames. Waits until the process is gone.
    pub async fn kill(&mut self) {
        let process = self
            .process
            .take()
            .expect("only a spawned server can be killed");
        // It may die (of an earlier SIGKILL) between the check and the signal: then the
        // signal fails, and that is fine.
        if process.is_running() && !process.try_signal("KILL") {
            assert!(!process.is_running(), "kill -KILL {} failed", process.pid());
        }
        while process.is_running() {
            tokio::time::sleep(std::time::Duration::from_millis(10)).await;
        }
        process.finish();
    }

    /// Moves the server's clock `by` into the future, as if that much time had passed (token
    /// lifetimes, code and room expiry). A restart starts from real time again.
    pub fn advance(&self, by: std::time::Duration) {
        self.clock.advance(by);
    }

    /// Stops the server gracefully and starts a new one on the same store: what an operator's
    /// restart does. Whatever was acknowledged before must still be there.
    pub async fn restart(mut self) -> Self {
        self.stop().await;
        let dir = std::mem::replace(&mut self.dir, tempfile::tempdir().expect("temp dir"));
        let flags = std::mem::take(&mut self.flags);
        let database = self.database.take();
        let url = std::mem::take(&mut self.database_url);
        Self::launch(self.store, dir, database, url, flags, self.fixed_secret).await
    }

    /// An in-process instance over a PostgreSQL database it does not own (e.g. a
    /// [`TestDatabase`] a several-instance test keeps), with extra flags.
    pub async fn start_sharing(database_url: &str, flags: &[&str]) -> Self {
        let dir = tempfile::tempdir().expect("temp dir");
        let flags = flags.iter().map(|s| (*s).to_owned()).collect();
        Self::launch(
            Store::Postgres,
            dir,
            None,
            database_url.to_owned(),
            flags,
            true,
        )
        .await
    }

    /// The resident memory of a [`TestServer::spawn`]ed server now, in bytes (VmRSS).
    pub fn rss(&self) -> u64 {
        let pid = self
            .process
            .as_ref()
            .expect("only a spawned server has a process")
            .pid();
        let status = std::fs::read_to_string(format!("/proc/{pid}/status")).expect("/proc status");
        status
            .lines()
            .find_map(|l| l.strip_prefix("VmRSS:"))
            .and_then(|v| v.trim().trim_end_matches("kB").trim().parse::<u64>().ok())
            .expect("VmRSS in /proc status")
            * 1024
    }

    /// What a [`TestServer::spawn`]ed server has logged so far (JSON lines).
    pub fn log(&self) -> String {
        std::fs::read_to_string(self.dir.path().join("confab.log")).unwrap_or_default()
    }

    /// The SQLite file of a server on [`Store::Sqlite`].
    pub fn sqlite_path(&self) -> std::path::PathBuf {
        sqlite_path(&self.dir)
    }

    /// How many rows of the store's `table` have `column` equal to `value`, read from the
    /// database itself, whichever the store: for what HTTP cannot tell apart. Ids compare as
    /// text (PostgreSQL keeps them as `uuid`).
    pub async fn count_rows(&self, table: &str, column: &str, value: &str) -> i64 {
        for name in [table, column] {
            assert!(
                !name.is_empty() && name.chars().all(|c| c.is_ascii_lowercase() || c == '_'),
                "not a plain table or column name: {name:?}"
            );
        }
        // By the URL the server was given: a spawned server or another instance owns no
        // `TestDatabase`, and its SQLite file may lie outside its own directory.
        match self.database_url.strip_prefix("sqlite://") {
            None => pg::count_rows_at(&self.database_url, table, column, value).await,
            Some(path) => {
                let sql = format!("SELECT count(*) FROM {table} WHERE {column} = ?1");
                let (path, value) = (std::path::PathBuf::from(path), value.to_owned());
                tokio::task::spawn_blocking(move || {
                    rusqlite::Connection::open(path)
                        .and_then(|db| db.query_row(&sql, [&value], |row| row.get(0)))
                        .expect("rows counted")
                })
                .await
                .expect("the count ran")
            }
        }
    }

    /// Stops the server as SIGTERM does (graceful: sockets are closed with 1001) and waits
    /// until it has stopped. Idempotent.
    pub async fn stop(&mut self) {
        if let Some(process) = self.process.take() {
            process.signal("TERM");
            let deadline = tokio::time::Instant::now() + std::time::Duration::from_secs(30);
            while process.is_running() && tokio::time::Instant::now() < deadline {
                tokio::time::sleep(std::time::Duration::from_millis(20)).await;
            }
            assert!(
                !process.is_running(),
                "the server process did not stop on SIGTERM"
            );
            process.finish();
        }
        if let Some(tx) = self.shutdown.take() {
            let _ = tx.send(());
        }
        if let Some(task) = self.task.take() {
            task.await
                .expect("server task")
                .expect("server stopped cleanly");
        }
    }

    /// `http://127.0.0.1:port` + `path`.
    pub fn url(&self, path: &str) -> String {
        format!("http://{}{path}", self.addr)
    }

    /// Deletes `username` the way `confab user delete --yes` does (with this server's bus).
    pub async fn delete_user(&self, username: &str) -> confab_ports::service::DeletedUser {
        self.accounts
            .as_ref()
            .expect("an in-process server")
            .admin_delete_user(username)
            .await
            .expect("delete the user")
    }

    /// Creates a server admin the way `confab user create --admin` does (whatever the
    /// registration policy), logged in.
    pub async fn admin_created_directly(&self, username: &str) -> Session {
        let reg = confab_ports::service::Registration {
            username: username.to_owned(),
            password: "correct horse battery".to_owned(),
            ..Default::default()
        };
        self.accounts
            .as_ref()
            .expect("an in-process server")
            .admin_create_user(reg, true)
            .await
            .expect("create admin");
        self.login(username, "correct horse battery").await
    }

    /// Makes `username` a server admin the way the `confab user grant-admin` command does.
    pub async fn make_admin(&self, username: &str) {
        self.accounts
            .as_ref()
            .expect("an in-process server (make admins on another instance)")
            .admin_set_admin(username, true)
            .await
            .expect("grant admin");
    }
}

impl Drop for TestServer {
    fn drop(&mut self) {
        if let Some(tx) = self.shutdown.take() {
            let _ = tx.send(());
        }
    }
}

/// Reads the address a spawned server logged ("confab is listening", JSON), waiting for it.
async fn listening_addr(log: &std::path::Path, process: &process::Watched) -> SocketAddr {
    let deadline = tokio::time::Instant::now() + std::time::Duration::from_secs(30);
    loop {
        let text = std::fs::read_to_string(log).unwrap_or_default();
        let found = text.lines().find_map(|line| {
            let v: serde_json::Value = serde_json::from_str(line).ok()?;
            let fields = v.get("fields")?;
            (fields.get("message")?.as_str()? == "confab is listening")
                .then(|| fields.get("addr")?.as_str()?.parse().ok())?
        });
        if let Some(addr) = found {
            return addr;
        }
        assert!(
            process.is_running() && tokio::time::Instant::now() < deadline,
            "the server process did not start; its log:\n{text}"
        );
        tokio::time::sleep(std::time::Duration::from_millis(20)).await;
    }
}

fn sqlite_path(dir: &TempDir) -> std::path::PathBuf {
    dir.path().join("confab.db")
}

/// Instantiates each case of a shared port's suite (an `async fn(Backend)`, `Backend` being the
/// suite's own enum with `Local` and `Redis`) once per adapter, in modules named after it, so a
/// failure reads `limiter::local::<case>` or `presence_board::redis::<case>`.
#[macro_export]
macro_rules! adapter_tests {
    ($($case:ident),* $(,)?) => {
        mod local {
            $(
                #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
                async fn $case() {
                    super::$case(super::Backend::Local).await;
                }
            )*
        }
        mod redis {
            $(
                #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
                async fn $case() {
                    super::$case(super::Backend::Redis).await;
                }
            )*
        }
    };
}

/// Instantiates test cases once per store, in a module named after the store, so a failure
/// reads `auth::sqlite::<name>` or `auth::postgres::<name>`.
///
/// Cases before the `;` are `async fn(&TestServer)` and get a fresh default server. Cases after
/// `own_server:` are `async fn(Store)` and start their own (custom settings, restarts).
#[macro_export]
macro_rules! store_tests {
    ($($name:ident),* $(,)? $(; own_server: $($own:ident),+ $(,)?)?) => {
        mod sqlite {
            $(
                #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
                async fn $name() {
                    let server = $crate::TestServer::start($crate::Store::Sqlite).await;
                    super::$name(&server).await;
                }
            )*
            $($(
                #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
                async fn $own() {
                    super::$own($crate::Store::Sqlite).await;
                }
            )+)?
        }
        mod postgres {
            $(
                #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
                async fn $name() {
                    let server = $crate::TestServer::start($crate::Store::Postgres).await;
                    super::$name(&server).await;
                }
            )*
            $($(
                #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
                async fn $own() {
                    super::$own($crate::Store::Postgres).await;
                }
            )+)?
        }
    };
}
