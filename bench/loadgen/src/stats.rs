//! What the scenarios measure with: nearest-rank latency percentiles, the server's commit
//! counter read from its Prometheus text, its resident memory from `/proc`, and this process's
//! open-file limit.

use std::collections::BTreeMap;

use anyhow::{Context, Result};
use serde::Serialize;

/// Latencies of one kind, in milliseconds.
#[derive(Clone, Copy, Debug, Default, Serialize)]
pub struct Latency {
    pub count: usize,
    pub p50_ms: f64,
    pub p99_ms: f64,
    pub max_ms: f64,
}

impl Latency {
    /// Summarises latencies given in microseconds (sorts them).
    pub fn from_micros(mut micros: Vec<u32>) -> Self {
        micros.sort_unstable();
        let ms = |us: u32| f64::from(us) / 1000.0;
        Self {
            count: micros.len(),
            p50_ms: ms(nearest_rank(&micros, 50.0)),
            p99_ms: ms(nearest_rank(&micros, 99.0)),
            max_ms: ms(micros.last().copied().unwrap_or(0)),
        }
    }

    /// `p50 x p99 y max z ms`, for summary lines.
    pub fn brief(&self) -> String {
        format!(
            "p50 {:.2} p99 {:.2} max {:.2} ms",
            self.p50_ms, self.p99_ms, self.max_ms
        )
    }
}

/// The nearest-rank `p`th percentile of sorted values (0 when there are none).
pub fn nearest_rank(sorted: &[u32], p: f64) -> u32 {
    if sorted.is_empty() {
        return 0;
    }
    let rank = ((p / 100.0) * sorted.len() as f64).ceil() as usize;
    sorted[rank.clamp(1, sorted.len()) - 1]
}

/// Microseconds in a duration, saturating.
pub fn micros(d: std::time::Duration) -> u32 {
    u32::try_from(d.as_micros()).unwrap_or(u32::MAX)
}

/// The sum of each metric whose name contains `commit`, over its label sets.
pub fn commit_metrics(text: &str) -> BTreeMap<String, f64> {
    let mut out = BTreeMap::new();
    for line in text.lines() {
        if line.starts_with('#') || !line.contains("commit") {
            continue;
        }
        let name = line.split(['{', ' ']).next().unwrap_or_default().to_owned();
        let value = line.rsplit(' ').next().and_then(|v| v.parse::<f64>().ok());
        if let (true, Some(value)) = (name.contains("commit"), value) {
            *out.entry(name).or_insert(0.0) += value;
        }
    }
    out
}

/// The server's commits between two readings of `/metrics`: the counters whose names contain
/// `commit` (ending in `_total`, else a histogram's `_count`), summed; `None` when the server
/// has no such metric. Returns the metric names used too.
pub fn commits_between(
    before: &BTreeMap<String, f64>,
    after: &BTreeMap<String, f64>,
) -> (Option<f64>, Vec<String>) {
    let pick = |suffix: &str| -> Vec<String> {
        after
            .keys()
            .filter(|name| name.ends_with(suffix))
            .cloned()
            .collect()
    };
    let mut names = pick("_total");
    if names.is_empty() {
        names = pick("_count");
    }
    if names.is_empty() {
        return (None, names);
    }
    let delta = names
        .iter()
        .map(|n| after[n] - before.get(n).copied().unwrap_or(0.0))
        .sum();
    (Some(delta), names)
}

/// The resident set size of process `pid`, in KiB (`VmRSS` of `/proc/<pid>/status`).
pub fn rss_kib(pid: u32) -> Result<u64> {
    let path = format!("/proc/{pid}/status");
    let status = std::fs::read_to_string(&path).with_context(|| format!("reading {path}"))?;
    status
        .lines()
        .find_map(|line| line.strip_prefix("VmRSS:"))
        .and_then(|rest| rest.trim().trim_end_matches("kB").trim().parse().ok())
        .with_context(|| format!("no VmRSS in {path}"))
}

/// This process's open-file limit, soft and hard (`None` when it cannot be read).
pub fn open_file_limit() -> Option<(String, String)> {
    let limits = std::fs::read_to_string("/proc/self/limits").ok()?;
    let line = limits.lines().find(|l| l.starts_with("Max open files"))?;
    let mut fields = line["Max open files".len()..].split_whitespace();
    Some((fields.next()?.to_owned(), fields.next()?.to_owned()))
}

/// A warning when `sockets` (plus some slack) do not fit this process's open-file limit.
pub fn open_file_warning(sockets: usize) -> Option<String> {
    let (soft, hard) = open_file_limit()?;
    let limit: usize = soft.parse().ok()?;
    (sockets + 64 > limit).then(|| {
        format!(
            "warning: {sockets} sockets need more than the open-file limit of {soft} \
             (hard limit {hard}); run `ulimit -n 65536` (or up to the hard limit) first"
        )
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn nearest_rank_takes_the_value_at_the_ceiling_rank() {
        let v: Vec<u32> = (1..=100).collect();
        assert_eq!(nearest_rank(&v, 50.0), 50);
        assert_eq!(nearest_rank(&v, 99.0), 99);
        assert_eq!(nearest_rank(&v, 100.0), 100);
        assert_eq!(nearest_rank(&[7], 99.0), 7);
        assert_eq!(nearest_rank(&[], 50.0), 0);
    }

    #[test]
    fn commits_are_counted_from_counters_summed_over_labels() {
        let before = commit_metrics(
            "# TYPE confab_store_commits_total counter\nconfab_store_commits_total{store=\"a\"} 3\n",
        );
        let after = commit_metrics(
            "confab_store_commits_total{store=\"a\"} 10\nconfab_store_commits_total{store=\"b\"} 2\n\
             store_commit_seconds_count 12\nhttp_requests_total 99\n",
        );
        assert_eq!(
            commits_between(&before, &after),
            (Some(9.0), vec!["confab_store_commits_total".to_owned()])
        );
        assert_eq!(commits_between(&before, &BTreeMap::new()), (None, vec![]));
    }
}
