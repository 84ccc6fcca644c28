//! The real server binary behind a relay that keeps the page's origin across restarts and cuts.

use super::*;

// ---------------------------------------------------------------------------------------------
// The server behind a fixed origin

/// The real server binary on a SQLite file of the test's own, reached by the browser through a
/// relay on a port that does not change when the server restarts. Derefs to the
/// [`TestServer`], whose HTTP helpers (`register`, `send`, …) talk to the server directly.
pub struct BrowserServer {
    pub api: TestServer,
    binary: PathBuf,
    database_url: String,
    flags: Vec<String>,
    relay: Relay,
    _db: TempDir,
}

impl std::ops::Deref for BrowserServer {
    type Target = TestServer;
    fn deref(&self) -> &TestServer {
        &self.api
    }
}

/// Request budgets out of the way: a page makes many requests, tests make many pages.
pub const GENEROUS_LIMITS: &[&str] = &[
    "--request-burst",
    "100000",
    "--requests-per-second",
    "10000",
];

impl BrowserServer {
    /// Starts `binary` (`env!("CARGO_BIN_EXE_confab-node")`) with [`GENEROUS_LIMITS`] and
    /// `flags`.
    pub async fn start(binary: &str, flags: &[&str]) -> Self {
        let db = tempfile::tempdir().expect("temp dir");
        let database_url = format!("sqlite://{}", db.path().join("confab.db").display());
        let flags: Vec<String> = GENEROUS_LIMITS
            .iter()
            .chain(flags)
            .map(|s| (*s).to_owned())
            .collect();
        let binary = PathBuf::from(binary);
        let api = spawn(&binary, &database_url, &flags).await;
        let relay = Relay::start(api.addr).await;
        Self {
            api,
            binary,
            database_url,
            flags,
            relay,
            _db: db,
        }
    }

    /// The origin the browser uses (the relay's): `http://127.0.0.1:port` + `path`.
    pub fn page_url(&self, path: &str) -> String {
        format!("http://{}{path}", self.relay.addr)
    }

    /// A new browser at the server's `/`, its artifacts under `test`.
    pub async fn browser(&self, test: &str) -> Browser {
        let browser = Browser::new(test).await;
        browser.goto(&self.page_url("/")).await;
        browser
    }

    /// Stops the server (SIGTERM: its sockets are closed with 1001) and starts it again on the
    /// same database with the same flags, on a new port behind the same origin. While it is
    /// down, the browsers' connections are accepted and closed at once.
    pub async fn restart(&mut self) {
        self.api.stop().await;
        self.relay.cut();
        self.api = spawn(&self.binary, &self.database_url, &self.flags).await;
        self.relay.retarget(self.api.addr);
    }

    /// Makes `username` a server admin as an operator does: `confab user grant-admin` on the
    /// server's database (the server reads the role fresh on each request).
    pub fn grant_admin(&self, username: &str) {
        let out = Command::new(&self.binary)
            .args(["user", "grant-admin", username, "--database-url"])
            .arg(&self.database_url)
            .output()
            .expect("confab user grant-admin runs");
        assert!(
            out.status.success(),
            "confab user grant-admin {username} failed: {}{}",
            String::from_utf8_lossy(&out.stdout),
            String::from_utf8_lossy(&out.stderr)
        );
    }

    /// Makes an invite code as an operator does (`confab invite create` on the server's
    /// database), and returns it.
    pub fn invite(&self) -> String {
        let out = Command::new(&self.binary)
            .args(["invite", "create", "--database-url"])
            .arg(&self.database_url)
            .output()
            .expect("confab invite create runs");
        assert!(
            out.status.success(),
            "confab invite create failed: {}",
            String::from_utf8_lossy(&out.stderr)
        );
        String::from_utf8_lossy(&out.stdout).trim().to_owned()
    }

    /// Cuts every connection between the browsers and the server (both ends see the TCP
    /// connection close, no WebSocket close frame): what a network drop looks like.
    pub fn cut_connections(&self) {
        self.relay.cut();
    }

    /// From now on, the browsers' connections are closed as soon as they are made (the server
    /// itself stays reachable for the test's HTTP helpers), until [`Self::unblock_browsers`].
    /// Connections already open are not touched (see [`Self::cut_connections`]).
    pub fn block_browsers(&self) {
        self.relay.blocked.store(true, Ordering::SeqCst);
    }

    /// Lets the browsers' connections through again.
    pub fn unblock_browsers(&self) {
        self.relay.blocked.store(false, Ordering::SeqCst);
    }
}

async fn spawn(binary: &Path, database_url: &str, flags: &[String]) -> TestServer {
    let flags: Vec<&str> = flags.iter().map(String::as_str).collect();
    TestServer::spawn(binary, Store::Sqlite, database_url, &flags).await
}

/// A TCP relay on 127.0.0.1: each connection is piped to the current backend.
struct Relay {
    addr: SocketAddr,
    backend: Arc<Mutex<SocketAddr>>,
    blocked: Arc<AtomicBool>,
    cut: watch::Sender<u64>,
    task: JoinHandle<()>,
}

impl Relay {
    async fn start(backend: SocketAddr) -> Self {
        let listener = TcpListener::bind("127.0.0.1:0").await.expect("relay bind");
        let addr = listener.local_addr().expect("relay addr");
        let backend = Arc::new(Mutex::new(backend));
        let (cut, _) = watch::channel(0u64);
        let blocked = Arc::new(AtomicBool::new(false));
        let (to, cuts, refuse) = (Arc::clone(&backend), cut.subscribe(), Arc::clone(&blocked));
        let task = tokio::spawn(async move {
            while let Ok((mut client, _)) = listener.accept().await {
                if refuse.load(Ordering::SeqCst) {
                    continue;
                }
                let target = *to.lock().unwrap_or_else(|p| p.into_inner());
                let mut cuts = cuts.clone();
                cuts.mark_unchanged();
                tokio::spawn(async move {
                    let Ok(mut server) = AsyncTcpStream::connect(target).await else {
                        return;
                    };
                    tokio::select! {
                        _ = tokio::io::copy_bidirectional(&mut client, &mut server) => {}
                        _ = cuts.changed() => {}
                    }
                });
            }
        });
        Self {
            addr,
            backend,
            blocked,
            cut,
            task,
        }
    }

    fn cut(&self) {
        self.cut.send_modify(|n| *n += 1);
    }

    fn retarget(&self, to: SocketAddr) {
        *self.backend.lock().unwrap_or_else(|p| p.into_inner()) = to;
    }
}

impl Drop for Relay {
    fn drop(&mut self) {
        self.task.abort();
        self.cut();
    }
}
