//! Scenario `idle`: N sockets open and idle (each past `ready`), and the server's resident
//! memory before and after, read from `/proc/<pid>/status`: RSS per idle socket. Run it
//! against a freshly started server: memory freed by earlier runs is reused by the new
//! sockets and makes the figure look smaller than it is.

use std::time::{Duration, Instant};

use anyhow::{Result, ensure};
use serde::Serialize;
use tokio::sync::watch;

use crate::Summary;
use crate::api::{Api, run_id};
use crate::stats::{open_file_limit, rss_kib};
use crate::ws::{self, Target};

/// What to run.
#[derive(Clone, Debug)]
pub struct IdleConfig {
    pub url: String,
    pub sockets: usize,
    /// Users the sockets belong to, round robin (default: one user per socket).
    pub users: Option<usize>,
    /// The server's process id, to read its RSS (without it, no RSS is reported).
    pub pid: Option<u32>,
    /// Seconds to wait after the last `ready` before reading the RSS.
    pub settle: f64,
    /// Sockets being opened at once.
    pub concurrency: usize,
}

/// What it measured.
#[derive(Debug, Serialize)]
pub struct IdleSummary {
    pub scenario: &'static str,
    pub url: String,
    pub sockets: usize,
    pub users: usize,
    pub pid: Option<u32>,
    /// Seconds to open every socket past `ready`.
    pub open_seconds: f64,
    /// Sockets still open when the RSS was read.
    pub still_open: usize,
    pub rss_before_kib: Option<u64>,
    pub rss_after_kib: Option<u64>,
    /// (RSS after − RSS before) / sockets.
    pub rss_per_socket_bytes: Option<f64>,
    /// This process's open-file limit (soft, hard).
    pub open_file_limit: Option<(String, String)>,
}

impl Summary for IdleSummary {
    fn line(&self) -> String {
        let rss = match (
            self.rss_before_kib,
            self.rss_after_kib,
            self.rss_per_socket_bytes,
        ) {
            (Some(b), Some(a), Some(per)) => format!(
                "server RSS {b} -> {a} KiB = {:.2} KiB per socket",
                per / 1024.0
            ),
            _ => "server RSS not read (no --pid)".to_owned(),
        };
        format!(
            "idle sockets={} users={}: opened in {:.1}s, {} still open; {rss}",
            self.sockets, self.users, self.open_seconds, self.still_open
        )
    }
}

/// Runs the scenario.
pub async fn idle(cfg: &IdleConfig) -> Result<IdleSummary> {
    ensure!(cfg.sockets > 0, "--sockets must be positive");
    let users = cfg.users.unwrap_or(cfg.sockets).clamp(1, cfg.sockets);
    let api = Api::new(&[&cfg.url])?;
    let target = [Target::resolve(&api.urls()[0])?];
    let run = run_id();
    let mut registered = api.register(&format!("bi{run}"), users).await?;
    api.refresh_stale(&mut registered, Duration::from_secs(300))
        .await?;
    let rss = |pid: Option<u32>| pid.map(rss_kib).transpose();
    let before = rss(cfg.pid)?;

    let began = Instant::now();
    let who = (0..cfg.sockets)
        .map(|k| (0, registered[k % users].access.clone()))
        .collect();
    let sockets = ws::open_all(&target, who, ws::IDLE_BUFFER, cfg.concurrency).await?;
    let open_seconds = began.elapsed().as_secs_f64();
    // Each socket is read (so pings are answered) until the end.
    let (stop, stopped) = watch::channel(false);
    let holding: Vec<_> = sockets
        .into_iter()
        .map(|mut socket| {
            let mut stopped = stopped.clone();
            tokio::spawn(async move {
                loop {
                    tokio::select! {
                        biased;
                        _ = stopped.changed() => break,
                        text = ws::next_text(&mut socket) => if text.is_err() { return false },
                    }
                }
                ws::close(socket).await;
                true
            })
        })
        .collect();
    tokio::time::sleep(Duration::from_secs_f64(cfg.settle.max(0.0))).await;
    let after = rss(cfg.pid)?;
    let still_open = holding.iter().filter(|task| !task.is_finished()).count();
    let _ = stop.send(true);
    for task in holding {
        task.await?;
    }
    let per_socket = match (before, after) {
        (Some(b), Some(a)) => Some((a as f64 - b as f64) * 1024.0 / cfg.sockets as f64),
        _ => None,
    };
    Ok(IdleSummary {
        scenario: "idle",
        url: cfg.url.clone(),
        sockets: cfg.sockets,
        users,
        pid: cfg.pid,
        open_seconds,
        still_open,
        rss_before_kib: before,
        rss_after_kib: after,
        rss_per_socket_bytes: per_socket,
        open_file_limit: open_file_limit(),
    })
}
