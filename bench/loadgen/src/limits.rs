//! Scenario `limits`: what this machine allows with no confab in the way, so the other
//! scenarios' figures can be given as ratios to the hardware. One after another: synced 4 KiB
//! writes on a directory's disk, closed-loop WebSocket echoes and closed-loop HTTP requests over
//! loopback (against bare servers started in this process, on this process's runtime), and
//! what machine it was (CPUs, kernel, CPU model).
//!
//! It must never talk to a confab server or to any other process, and never leave anything
//! behind: it starts everything it measures against itself, stops it again, and removes its
//! temporary file.

mod disk;
mod http;
mod ws_echo;

use std::future::Future;
use std::path::PathBuf;
use std::time::{Duration, Instant};

use anyhow::{Context, Result, ensure};
use serde::Serialize;

use crate::Summary;
use crate::stats::{Latency, micros};

pub use disk::{DiskLimits, SyncedWrites};

/// How long one round trip may take before its client gives up.
const ROUND_TRIP_TIMEOUT: Duration = Duration::from_secs(10);

/// What to run.
#[derive(Clone, Debug)]
pub struct LimitsConfig {
    /// The directory whose disk is measured (a temporary file is written there, then removed).
    pub dir: PathBuf,
    /// Length of each measurement.
    pub seconds: f64,
    /// Closed-loop clients of the WebSocket and HTTP measurements.
    pub clients: usize,
}

/// What it measured.
#[derive(Debug, Serialize)]
pub struct LimitsSummary {
    pub scenario: &'static str,
    pub machine: Machine,
    pub seconds: f64,
    pub clients: usize,
    pub disk: DiskLimits,
    /// Text messages of `payload_bytes` echoed by a bare tokio-tungstenite server.
    pub ws_echo: RoundTrips,
    /// JSON POSTs of `payload_bytes` answered with a small JSON body by a bare axum server.
    pub http: RoundTrips,
}

/// Which machine a result came from.
#[derive(Debug, Serialize)]
pub struct Machine {
    /// `std::thread::available_parallelism` (honours affinity and cgroup quotas).
    pub cpus: Option<usize>,
    /// Worker threads of the runtime the loopback measurements ran on.
    pub runtime_workers: usize,
    /// `/proc/sys/kernel/osrelease`.
    pub kernel: Option<String>,
    /// The first `model name` of `/proc/cpuinfo`.
    pub cpu_model: Option<String>,
}

/// Closed-loop round trips (send one, wait for its answer, repeat) over a window.
#[derive(Debug, Serialize)]
pub struct RoundTrips {
    pub clients: usize,
    pub payload_bytes: usize,
    pub round_trips: u64,
    /// Seconds from the clients' start until the last of them stopped.
    pub elapsed_seconds: f64,
    pub per_sec: f64,
    pub latency: Latency,
    /// Clients stopped by an error before the window ended, and the first such error.
    pub failed_clients: usize,
    pub first_error: Option<String>,
}

impl RoundTrips {
    /// `N unit/s (p50 x p99 y ms)`, with the failed clients when there are any.
    fn brief(&self, unit: &str) -> String {
        let failed = match &self.first_error {
            Some(e) => format!(", {} clients failed: {e}", self.failed_clients),
            None => String::new(),
        };
        format!(
            "{:.0} {unit}/s (p50 {:.2} p99 {:.2} ms{failed})",
            self.per_sec, self.latency.p50_ms, self.latency.p99_ms
        )
    }
}

impl Summary for LimitsSummary {
    fn line(&self) -> String {
        let (dsync, fdatasync) = (&self.disk.o_dsync, &self.disk.fdatasync);
        let fs = self
            .disk
            .filesystem
            .as_deref()
            .unwrap_or("filesystem unknown");
        let cpus = self
            .machine
            .cpus
            .map_or_else(|| "? CPUs".to_owned(), |n| format!("{n} CPUs"));
        format!(
            "limits: synced 4KiB writes {:.0}/s (O_DSYNC, {:.2} MB/s, p50 {:.2} p99 {:.2} ms; \
             write+fdatasync {:.0}/s; {} {fs}), ws echo {}, http {} [{cpus}, {} clients, {}s]",
            dsync.writes_per_sec,
            dsync.mb_per_sec,
            dsync.latency.p50_ms,
            dsync.latency.p99_ms,
            fdatasync.writes_per_sec,
            self.disk.dir,
            self.ws_echo.brief("msg"),
            self.http.brief("req"),
            self.clients,
            self.seconds,
        )
    }
}

/// Runs the measurements one after another: the disk, then WebSocket echoes, then HTTP.
pub async fn limits(cfg: &LimitsConfig) -> Result<LimitsSummary> {
    let window = Duration::try_from_secs_f64(cfg.seconds)
        .ok()
        .filter(|d| !d.is_zero())
        .context("--seconds must be a positive number")?;
    ensure!(cfg.clients > 0, "--clients must be at least 1");
    let dir = cfg.dir.clone();
    let disk = tokio::task::spawn_blocking(move || disk::measure(&dir, window))
        .await
        .context("the disk measurement panicked")?
        .context("measuring synced writes")?;
    let ws_echo = ws_echo::measure(window, cfg.clients)
        .await
        .context("measuring loopback WebSocket echoes")?;
    let http = http::measure(window, cfg.clients)
        .await
        .context("measuring loopback HTTP requests")?;
    Ok(LimitsSummary {
        scenario: "limits",
        machine: machine(),
        seconds: cfg.seconds,
        clients: cfg.clients,
        disk,
        ws_echo,
        http,
    })
}

/// What this machine is.
fn machine() -> Machine {
    let read = |path: &str| std::fs::read_to_string(path).ok();
    Machine {
        cpus: std::thread::available_parallelism()
            .ok()
            .map(std::num::NonZero::get),
        runtime_workers: tokio::runtime::Handle::current().metrics().num_workers(),
        kernel: read("/proc/sys/kernel/osrelease").map(|s| s.trim().to_owned()),
        cpu_model: read("/proc/cpuinfo").and_then(|s| model_name(&s)),
    }
}

/// The first `model name` of a `/proc/cpuinfo`.
fn model_name(cpuinfo: &str) -> Option<String> {
    cpuinfo
        .lines()
        .filter(|line| line.starts_with("model name"))
        .find_map(|line| line.split_once(':'))
        .map(|(_, name)| name.trim().to_owned())
}

/// A JSON object of exactly `len` bytes (at least 11): `{"body":"xx…x"}`.
pub(crate) fn json_of_len(len: usize) -> String {
    const EMPTY: usize = r#"{"body":""}"#.len();
    format!(r#"{{"body":"{}"}}"#, "x".repeat(len.saturating_sub(EMPTY)))
}

/// Runs one closed loop per client on the runtime's worker threads for `window`: `once` takes
/// a client, does one round trip and hands the client back. Sums them up.
pub(crate) async fn closed_loop<C, O, F>(
    window: Duration,
    clients: Vec<C>,
    payload_bytes: usize,
    once: O,
) -> RoundTrips
where
    C: Send + 'static,
    O: Fn(C) -> F + Clone + Send + 'static,
    F: Future<Output = Result<C>> + Send + 'static,
{
    let count = clients.len();
    let start = Instant::now();
    let deadline = start + window;
    let tasks: Vec<_> = clients
        .into_iter()
        .map(|client| tokio::spawn(client_loop(client, deadline, once.clone())))
        .collect();
    let mut all = Vec::new();
    let mut failed_clients = 0;
    let mut first_error = None;
    for task in futures::future::join_all(tasks).await {
        let (micros, error) = match task {
            Ok(share) => share,
            Err(e) => (Vec::new(), Some(format!("the client panicked: {e}"))),
        };
        all.extend(micros);
        if let Some(e) = error {
            failed_clients += 1;
            first_error.get_or_insert(e);
        }
    }
    let elapsed = start.elapsed().as_secs_f64();
    RoundTrips {
        clients: count,
        payload_bytes,
        round_trips: all.len() as u64,
        elapsed_seconds: elapsed,
        per_sec: all.len() as f64 / elapsed,
        latency: Latency::from_micros(all),
        failed_clients,
        first_error,
    }
}

/// One client's closed loop until `deadline`: each round trip's time in microseconds, and the
/// error that stopped it early, if one did.
async fn client_loop<C, F>(
    mut client: C,
    deadline: Instant,
    once: impl Fn(C) -> F,
) -> (Vec<u32>, Option<String>)
where
    F: Future<Output = Result<C>>,
{
    let mut times = Vec::new();
    while Instant::now() < deadline {
        let sent = Instant::now();
        match tokio::time::timeout(ROUND_TRIP_TIMEOUT, once(client)).await {
            Ok(Ok(next)) => {
                times.push(micros(sent.elapsed()));
                client = next;
            }
            Ok(Err(e)) => return (times, Some(format!("{e:#}"))),
            Err(_) => {
                let e = format!("no answer within {ROUND_TRIP_TIMEOUT:?}");
                return (times, Some(e));
            }
        }
    }
    (times, None)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn json_bodies_have_the_length_asked_for() {
        for len in [11, 150, 200] {
            let json = json_of_len(len);
            assert_eq!(json.len(), len);
            serde_json::from_str::<serde_json::Value>(&json).expect("valid JSON");
        }
    }

    #[test]
    fn the_cpu_model_is_the_first_model_name() {
        let cpuinfo = "processor\t: 0\nvendor_id\t: X\nmodel name\t: Some CPU @ 3.0GHz\n\n\
                       processor\t: 1\nmodel name\t: Other\n";
        assert_eq!(model_name(cpuinfo).as_deref(), Some("Some CPU @ 3.0GHz"));
        assert_eq!(model_name("processor\t: 0\n"), None);
    }
}
