//! What a phase of the presence scenario cost the server, read before and after it: the
//! server process's CPU time (`/proc/<pid>/stat`, user + system, in the kernel's 100 Hz
//! ticks), the commands Redis ran (`INFO commandstats`, one round trip on a plain TCP
//! connection), and the server's own counters (`/metrics`: presence's board calls, presence
//! frames sent, events published). Any of them may be missing (no `--pid`, no `--redis`, a
//! server without the counter): then it is `None`, never a made-up zero.

use std::collections::BTreeMap;

use anyhow::{Context, Result, bail};
use serde::Serialize;
use tokio::io::{AsyncBufReadExt, AsyncReadExt, AsyncWriteExt, BufReader};
use tokio::net::TcpStream;

/// Linux reports process times in USER_HZ ticks, 100 a second on every architecture confab runs on.
const TICKS_PER_SECOND: f64 = 100.0;

/// One reading of everything.
#[derive(Clone, Debug, Default)]
pub struct Reading {
    cpu_seconds: Option<f64>,
    redis: Option<BTreeMap<String, u64>>,
    metrics: BTreeMap<String, f64>,
}

/// What happened between two readings.
#[derive(Clone, Debug, Default, Serialize)]
pub struct Cost {
    /// CPU time the server process used (user + system), milliseconds.
    pub server_cpu_ms: Option<f64>,
    /// Commands Redis ran, all clients together (this tool's own `INFO` not counted).
    pub redis_commands: Option<u64>,
    /// Of those, per command (only the ones that ran).
    pub redis_by_command: BTreeMap<String, u64>,
    /// Presence's calls to its board (`confab_presence_board_calls_total`), per call: over Redis each
    /// is one round trip (one script).
    pub presence_board_calls: BTreeMap<String, u64>,
    /// `presence` frames the server sent (`confab_ws_frames_out_total{type="presence"}`).
    pub presence_frames_out: Option<u64>,
    /// Events the server published (`confab_bus_events_published_total`).
    pub events_published: Option<u64>,
}

/// CPU seconds used so far by process `pid` (all its threads).
fn cpu_seconds(pid: u32) -> Result<f64> {
    let path = format!("/proc/{pid}/stat");
    let stat = std::fs::read_to_string(&path).with_context(|| format!("reading {path}"))?;
    // The command name may hold spaces: fields are counted after its closing parenthesis.
    let rest = stat.rsplit_once(')').map(|(_, r)| r).unwrap_or_default();
    let fields: Vec<&str> = rest.split_whitespace().collect();
    // utime and stime are fields 14 and 15 of the line, 12 and 13 after the name.
    let tick = |i: usize| fields.get(i).and_then(|v| v.parse::<f64>().ok());
    match (tick(11), tick(12)) {
        (Some(user), Some(system)) => Ok((user + system) / TICKS_PER_SECOND),
        _ => bail!("{path} has no utime/stime"),
    }
}

/// `INFO commandstats` of the Redis at `addr` (host:port): calls per command.
async fn redis_calls(addr: &str) -> Result<BTreeMap<String, u64>> {
    let mut conn = TcpStream::connect(addr)
        .await
        .with_context(|| format!("connecting to Redis at {addr}"))?;
    conn.write_all(b"*2\r\n$4\r\nINFO\r\n$12\r\ncommandstats\r\n")
        .await?;
    let mut reader = BufReader::new(conn);
    let mut head = String::new();
    reader.read_line(&mut head).await?;
    let len: usize = head
        .trim()
        .strip_prefix('$')
        .and_then(|n| n.parse().ok())
        .with_context(|| format!("Redis answered INFO with {head:?}"))?;
    let mut body = vec![0; len];
    reader.read_exact(&mut body).await?;
    Ok(parse_commandstats(&String::from_utf8_lossy(&body)))
}

/// `cmdstat_<name>:calls=<n>,…` lines → calls per command.
fn parse_commandstats(text: &str) -> BTreeMap<String, u64> {
    text.lines()
        .filter_map(|line| {
            let (name, stats) = line.strip_prefix("cmdstat_")?.split_once(':')?;
            let calls = stats.split(',').find_map(|kv| kv.strip_prefix("calls="))?;
            Some((name.to_owned(), calls.parse().ok()?))
        })
        .collect()
}

/// Sums of the counters presence is measured by, keyed `name` or `name{label}` for the
/// per-call and per-type ones.
fn parse_metrics(text: &str) -> BTreeMap<String, f64> {
    let mut out = BTreeMap::new();
    for line in text.lines().filter(|l| !l.starts_with('#')) {
        let Some((series, value)) = line.rsplit_once(' ') else {
            continue;
        };
        let Ok(value) = value.parse::<f64>() else {
            continue;
        };
        let key = if let Some(rest) = series.strip_prefix("confab_presence_board_calls_total{") {
            label(rest, "call").map(|c| format!("presence:{c}"))
        } else if series.starts_with("confab_ws_frames_out_total{")
            && series.contains("\"presence\"")
        {
            Some("presence_frames".to_owned())
        } else if series == "confab_bus_events_published_total" {
            Some("published".to_owned())
        } else {
            None
        };
        if let Some(key) = key {
            *out.entry(key).or_insert(0.0) += value;
        }
    }
    out
}

/// The value of label `name` in `a="x",b="y"}`.
fn label<'a>(labels: &'a str, name: &str) -> Option<&'a str> {
    let start = labels.find(&format!("{name}=\""))? + name.len() + 2;
    let len = labels[start..].find('"')?;
    Some(&labels[start..start + len])
}

impl Reading {
    /// Reads what is available now.
    pub async fn take(
        pid: Option<u32>,
        redis: Option<&str>,
        metrics: Option<String>,
    ) -> Result<Self> {
        Ok(Self {
            cpu_seconds: pid.map(cpu_seconds).transpose()?,
            redis: match redis {
                Some(addr) => Some(redis_calls(addr).await?),
                None => None,
            },
            metrics: metrics.as_deref().map(parse_metrics).unwrap_or_default(),
        })
    }

    /// What happened from `self` to `later`.
    pub fn until(&self, later: &Reading) -> Cost {
        let delta = |key: &str| -> Option<u64> {
            let after = later.metrics.get(key)?;
            Some((after - self.metrics.get(key).copied().unwrap_or(0.0)).max(0.0) as u64)
        };
        let mut cost = Cost {
            server_cpu_ms: match (self.cpu_seconds, later.cpu_seconds) {
                (Some(a), Some(b)) => Some((b - a) * 1000.0),
                _ => None,
            },
            presence_frames_out: delta("presence_frames"),
            events_published: delta("published"),
            ..Cost::default()
        };
        for key in later.metrics.keys() {
            if let Some(call) = key.strip_prefix("presence:") {
                cost.presence_board_calls
                    .insert(call.to_owned(), delta(key).unwrap_or(0));
            }
        }
        if let (Some(before), Some(after)) = (&self.redis, &later.redis) {
            for (name, calls) in after {
                // This tool's own INFO of the later reading.
                let own = u64::from(name == "info");
                let ran = calls.saturating_sub(before.get(name).copied().unwrap_or(0) + own);
                if ran > 0 {
                    cost.redis_by_command.insert(name.clone(), ran);
                }
            }
            cost.redis_commands = Some(cost.redis_by_command.values().sum());
        }
        cost
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn commandstats_and_metrics_are_read() {
        let stats = "# Commandstats\r\ncmdstat_evalsha:calls=12,usec=30,usec_per_call=2.5\r\n\
                     cmdstat_publish:calls=7,usec=1\r\n";
        let calls = parse_commandstats(stats);
        assert_eq!(calls["evalsha"], 12);
        assert_eq!(calls["publish"], 7);
        let text = "# TYPE x counter\nconfab_presence_board_calls_total{call=\"mark\"} 4\n\
                    confab_presence_board_calls_total{call=\"read\"} 2\n\
                    confab_ws_frames_out_total{type=\"presence\"} 9\nconfab_ws_frames_out_total{type=\"ack\"} 1\n\
                    confab_bus_events_published_total 3\n";
        let m = parse_metrics(text);
        assert_eq!(m["presence:mark"], 4.0);
        assert_eq!(m["presence:read"], 2.0);
        assert_eq!(m["presence_frames"], 9.0);
        assert_eq!(m["published"], 3.0);
    }

    #[test]
    fn this_process_has_a_cpu_time() {
        assert!(cpu_seconds(std::process::id()).unwrap() >= 0.0);
    }
}
