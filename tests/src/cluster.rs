//! Several confab instances behind an imaginary load balancer: one PostgreSQL database, one
//! `redis-server` of the test's own, and in-process or spawned (SIGKILL-able) instances with
//! `--redis-url`. Plus [`Listener`], a client socket that records every message event it
//! hears and fails on a duplicate or an out-of-order `rev` — the exactly-once, in-order check
//! the several-instance tests make of every client.

use std::collections::{HashMap, HashSet};
use std::path::Path;
use std::time::Duration;

use serde_json::{Value, json};

use crate::chat::{id, num, text};
use crate::ws::kind;
use crate::{RedisServer, Session, Store, TestDatabase, TestServer, Ws};

/// Instances over one database and one Redis. Fields drop in order: the instances first, then
/// Redis, then the database.
pub struct Cluster {
    pub nodes: Vec<TestServer>,
    pub redis: RedisServer,
    database: TestDatabase,
}

impl Cluster {
    /// Redis, a fresh database and `n` in-process instances sharing both, each with `flags`.
    pub async fn start(n: usize, flags: &[&str]) -> Self {
        let redis = tokio::task::spawn_blocking(RedisServer::start)
            .await
            .unwrap_or_else(|e| std::panic::resume_unwind(e.into_panic()));
        let database = TestDatabase::new().await;
        let mut cluster = Self {
            nodes: Vec::new(),
            redis,
            database,
        };
        for _ in 0..n {
            cluster.add(flags).await;
        }
        cluster
    }

    /// The flags every instance gets: this cluster's Redis, then `extra`.
    pub fn flags<'a>(&'a self, url: &'a str, extra: &[&'a str]) -> Vec<&'a str> {
        let mut all = vec!["--redis-url", url];
        all.extend_from_slice(extra);
        all
    }

    /// The database's URL.
    pub fn database_url(&self) -> &str {
        self.database.url()
    }

    /// Starts one more in-process instance; returns its index.
    pub async fn add(&mut self, extra: &[&str]) -> usize {
        let url = self.redis.url();
        let node = TestServer::start_sharing(self.database.url(), &self.flags(&url, extra)).await;
        self.nodes.push(node);
        self.nodes.len() - 1
    }

    /// Starts one more instance as a process of its own (`binary`: the test's
    /// `env!("CARGO_BIN_EXE_confab-node")`), for a test that SIGKILLs it; returns its index.
    pub async fn spawn(&mut self, binary: &Path, extra: &[&str]) -> usize {
        let url = self.redis.url();
        let flags = self.flags(&url, extra);
        let node = TestServer::spawn(binary, Store::Postgres, self.database.url(), &flags).await;
        self.nodes.push(node);
        self.nodes.len() - 1
    }

    /// Restarts instance `i` gracefully (SIGTERM's path: sockets get 1001); it comes back on
    /// another port, as a replaced instance behind a load balancer does.
    pub async fn restart(&mut self, i: usize) {
        let node = self.nodes.remove(i);
        let restarted = node.restart().await;
        self.nodes.insert(i, restarted);
    }
}

/// A client socket that keeps, per group, every message change it heard, in arrival order.
pub struct Listener {
    pub ws: Ws,
    pub user: Session,
    /// Per group: the message ids created, in the order heard.
    pub created: HashMap<String, Vec<String>>,
    /// Per group: the highest rev heard.
    pub revs: HashMap<String, u64>,
    /// Every frame type heard that is not a message change (for the tests' own checks).
    pub others: Vec<Value>,
}

impl Listener {
    /// Opens a socket for `user` on `node` and waits for `ready`.
    pub async fn open(node: &TestServer, user: &Session) -> Self {
        let ws = node.ws(user).await;
        Self {
            ws,
            user: user.clone(),
            created: HashMap::new(),
            revs: HashMap::new(),
            others: Vec::new(),
        }
    }

    /// Records one frame; panics on a duplicate or a rev that does not go up by one.
    pub fn record(&mut self, frame: Value) {
        match kind(&frame) {
            "message.created" | "message.updated" | "message.deleted" => {
                let message = if kind(&frame) == "message.deleted" {
                    &frame
                } else {
                    &frame["message"]
                };
                let group = text(message, "group_id");
                let rev = num(message, "rev");
                let last = self.revs.get(&group).copied().unwrap_or(0);
                assert!(
                    rev > last,
                    "{}: rev {rev} after {last} in group {group} — out of order or doubled: {frame}",
                    self.user.username
                );
                self.revs.insert(group.clone(), rev);
                if kind(&frame) == "message.created" {
                    self.created.entry(group).or_default().push(id(message));
                }
            }
            _ => self.others.push(frame),
        }
    }

    /// Reads and records frames until `done` says so, for at most `wait`; whether it did.
    pub async fn until(&mut self, wait: Duration, done: impl Fn(&Self) -> bool) -> bool {
        let deadline = tokio::time::Instant::now() + wait;
        while !done(self) {
            let left = deadline.saturating_duration_since(tokio::time::Instant::now());
            if left.is_zero() {
                return false;
            }
            match self.ws.recv(left.min(Duration::from_millis(250))).await {
                Some(frame) => self.record(frame),
                None if self.ws.ended().is_some() => return false,
                None => {}
            }
        }
        true
    }

    /// The message ids heard in `group`, checked to be distinct.
    pub fn ids(&self, group: &str) -> HashSet<String> {
        let list = self.created.get(group).cloned().unwrap_or_default();
        let set: HashSet<String> = list.iter().cloned().collect();
        assert_eq!(
            set.len(),
            list.len(),
            "{} heard a message twice",
            self.user.username
        );
        set
    }

    /// Asks for everything after the revs heard so far (what a reconnecting client does) and
    /// records it, up to `synced`.
    pub async fn sync(&mut self) {
        let since: serde_json::Map<String, Value> = self
            .revs
            .iter()
            .map(|(g, r)| (g.clone(), json!(r)))
            .collect();
        self.ws
            .send(json!({"type": "sync", "ref": "resync", "since": since}))
            .await;
        loop {
            let frame = self.ws.next().await;
            if kind(&frame) == "synced" {
                return;
            }
            self.record(frame);
        }
    }

    /// Moves to a new socket on `node` (after the old one's instance died) and syncs.
    pub async fn reconnect(&mut self, node: &TestServer) {
        self.ws = node.ws(&self.user).await;
        self.sync().await;
    }
}
