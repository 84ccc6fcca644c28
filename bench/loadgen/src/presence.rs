//! Scenario `presence` (issue 18): what presence costs. N churning users, one socket each, in
//! groups of `group_size` with one observer each (a user connected through the whole run who
//! notes every `presence` frame). Each round: every churner connects (the observers should
//! hear each online), then reloads (closes and reconnects at once: no frame should come), then
//! disconnects (each offline should come after the grace); each phase is held `hold` seconds
//! so that its announcements land inside it. Per phase it reads what the server spent (its
//! CPU time with `--pid`, Redis's commands with `--redis`, its own counters from `/metrics`)
//! and what the observers heard, with latencies from each churner's connecting or closing.
//!
//! Against a server without presence (the baseline) the same churn runs and nothing is heard:
//! the difference in cost is what presence costs.

mod cost;
mod sockets;

use std::collections::HashMap;
use std::time::{Duration, Instant};

use anyhow::{Result, ensure};
use futures::{StreamExt, stream};
use serde::Serialize;

use crate::Summary;
use crate::api::{Api, User, run_id};
use crate::stats::{Latency, micros};
use crate::ws::{self, Target};
pub use cost::Cost;
use cost::Reading;
use sockets::{Churner, Heard, Observers};

/// What to run.
#[derive(Clone, Debug)]
pub struct PresenceConfig {
    pub url: String,
    /// Churning users, one socket each.
    pub sockets: usize,
    /// Churners per group (each group also has its observer).
    pub group_size: usize,
    pub rounds: usize,
    /// Seconds each phase is held after its changes (longer than the grace, and than the
    /// grace plus the 5 s gap for a next round's online to be immediate).
    pub hold: f64,
    /// The server's process id, for its CPU time.
    pub pid: Option<u32>,
    /// Redis `host:port`, for its command counts.
    pub redis: Option<String>,
    /// Sockets opened (or reloaded, or closed) at once.
    pub concurrency: usize,
}

/// One phase of one round.
#[derive(Debug, Serialize)]
pub struct Phase {
    pub name: &'static str,
    pub round: usize,
    /// Seconds the changes took (every churner connected, reloaded or closed), hold excluded.
    pub change_seconds: f64,
    pub cost: Cost,
    /// `presence` frames about churners the observers heard in the phase.
    pub heard: usize,
    /// From a churner's connection starting (connect) or its close (disconnect) to its
    /// observer hearing it.
    pub latency: Latency,
    pub failed: usize,
}

/// Per change (one socket connecting, reloading or closing), averaged over the rounds.
#[derive(Debug, Default, Serialize)]
pub struct PerChange {
    pub server_cpu_ms: Option<f64>,
    pub redis_commands: Option<f64>,
    pub presence_board_calls: f64,
    pub presence_frames_out: Option<f64>,
}

/// What it measured.
#[derive(Debug, Serialize)]
pub struct PresenceSummary {
    pub scenario: &'static str,
    pub url: String,
    pub sockets: usize,
    pub groups: usize,
    pub group_size: usize,
    pub rounds: usize,
    pub hold_seconds: f64,
    pub phases: Vec<Phase>,
    pub per_connect: PerChange,
    pub per_reload: PerChange,
    pub per_disconnect: PerChange,
    /// Onlines and offlines expected (one per churner per round) and heard.
    pub online_expected: usize,
    pub online_heard: usize,
    pub offline_expected: usize,
    pub offline_heard: usize,
    /// Frames heard while churners reloaded (a reload is not offline: 0 expected).
    pub reload_frames: usize,
    pub observers_lost: usize,
    pub failed: usize,
    pub first_error: Option<String>,
}

impl Summary for PresenceSummary {
    fn line(&self) -> String {
        let per = |p: &PerChange| {
            let cpu = p
                .server_cpu_ms
                .map_or("CPU not read".to_owned(), |ms| format!("{ms:.3} ms CPU"));
            let redis = p
                .redis_commands
                .map_or(String::new(), |n| format!(", {n:.2} Redis commands"));
            format!(
                "{cpu}{redis}, {:.2} presence board calls",
                p.presence_board_calls
            )
        };
        let latency = |name: &str| {
            let all: Vec<&Phase> = self.phases.iter().filter(|p| p.name == name).collect();
            all.last().map_or(String::new(), |p| p.latency.brief())
        };
        format!(
            "presence sockets={} groups={} rounds={} hold={}s: per connect {}; per reload {}; \
             per disconnect {}; online heard {}/{} ({}), offline heard {}/{} ({}), frames \
             during reloads {}, observers lost {}, failed {}{}",
            self.sockets,
            self.groups,
            self.rounds,
            self.hold_seconds,
            per(&self.per_connect),
            per(&self.per_reload),
            per(&self.per_disconnect),
            self.online_heard,
            self.online_expected,
            latency("connect"),
            self.offline_heard,
            self.offline_expected,
            latency("disconnect"),
            self.reload_frames,
            self.observers_lost,
            self.failed,
            self.first_error
                .as_ref()
                .map_or(String::new(), |e| format!(" (first: {e})")),
        )
    }
}

/// The churners' open sockets, each with its index in `Run::churners`.
type Open = Vec<(usize, Churner)>;

/// A socket opened for churner `.0`, with when its change began.
type Opened = Result<(usize, Churner, Instant)>;

/// What a phase changed: when each churner's change began (by user id), how long all took.
struct Changes {
    name: &'static str,
    round: usize,
    seconds: f64,
    since: HashMap<String, Instant>,
    failed: usize,
}

/// The run's fixed parts.
struct Run<'a> {
    cfg: &'a PresenceConfig,
    api: Api,
    target: Target,
    churners: Vec<User>,
    observers: Observers,
    first_error: Option<String>,
}

/// Runs the scenario.
pub async fn presence(cfg: &PresenceConfig) -> Result<PresenceSummary> {
    ensure!(
        cfg.sockets > 0 && cfg.group_size > 0 && cfg.rounds > 0,
        "--sockets, --group-size and --rounds must be positive"
    );
    let api = Api::new(&[&cfg.url])?;
    let target = Target::resolve(&api.urls()[0])?;
    let groups = cfg.sockets.div_ceil(cfg.group_size);
    let tag = run_id();
    let mut users = api
        .register(&format!("bp{tag}"), cfg.sockets + groups)
        .await?;
    api.refresh_stale(&mut users, Duration::from_secs(600))
        .await?;
    let watchers = users.split_off(cfg.sockets);
    for (g, owner) in watchers.iter().enumerate() {
        let members: Vec<&User> = users
            .iter()
            .skip(g * cfg.group_size)
            .take(cfg.group_size)
            .collect();
        api.create_group(owner, &format!("presence {tag} {g}"), &members)
            .await?;
    }
    let who = watchers.iter().map(|u| (0, u.access.clone())).collect();
    let sockets = ws::open_all(
        std::slice::from_ref(&target),
        who,
        ws::IDLE_BUFFER,
        cfg.concurrency,
    )
    .await?;
    let mut run = Run {
        cfg,
        api,
        target,
        churners: users,
        observers: Observers::start(sockets),
        first_error: None,
    };
    // The observers' own announcements land before anything is measured.
    tokio::time::sleep(Duration::from_secs_f64(cfg.hold.min(6.0))).await;
    let mut phases = Vec::new();
    for round in 0..cfg.rounds {
        let open = run.connect(round, &mut phases).await?;
        let open = run.reload(round, open, &mut phases).await?;
        run.disconnect(round, open, &mut phases).await?;
    }
    let observers_lost = run.observers.stop().await;
    Ok(summarize(
        cfg,
        groups,
        phases,
        observers_lost,
        run.first_error,
    ))
}

impl Run<'_> {
    async fn reading(&self) -> Result<Reading> {
        let metrics = self.api.metrics(0).await.ok().flatten();
        Reading::take(self.cfg.pid, self.cfg.redis.as_deref(), metrics).await
    }

    fn failed(&mut self, e: anyhow::Error) {
        self.first_error.get_or_insert_with(|| format!("{e:#}"));
    }

    /// Holds the phase, then reads its cost and what was heard about churners.
    async fn end_phase(&self, began: Instant, before: &Reading, changes: Changes) -> Result<Phase> {
        tokio::time::sleep(Duration::from_secs_f64(self.cfg.hold)).await;
        let cost = before.until(&self.reading().await?);
        let ids: std::collections::HashSet<&str> =
            self.churners.iter().map(|u| u.id.as_str()).collect();
        let heard: Vec<Heard> = self
            .observers
            .heard_since(began)
            .into_iter()
            .filter(|h| ids.contains(h.user.as_str()))
            .collect();
        Ok(phase(changes, cost, &heard))
    }

    /// Every churner opens a socket.
    async fn connect(&mut self, round: usize, phases: &mut Vec<Phase>) -> Result<Open> {
        let before = self.reading().await?;
        let began = Instant::now();
        let target = &self.target;
        let opened: Vec<Opened> = stream::iter(self.churners.iter().enumerate())
            .map(|(i, user)| async move {
                let (churner, at) = Churner::open(target, &user.access).await?;
                Ok((i, churner, at))
            })
            .buffer_unordered(self.cfg.concurrency.max(1))
            .collect()
            .await;
        let (open, changes) = self.keep_opened("connect", round, began, opened);
        phases.push(self.end_phase(began, &before, changes).await?);
        Ok(open)
    }

    /// Every churner closes its socket and opens another at once (a page reload).
    async fn reload(&mut self, round: usize, open: Open, phases: &mut Vec<Phase>) -> Result<Open> {
        let before = self.reading().await?;
        let began = Instant::now();
        let (target, churners) = (&self.target, &self.churners);
        let reopened: Vec<Opened> = stream::iter(open)
            .map(|(i, churner)| async move {
                let closed = churner.close().await;
                let (again, _) = Churner::open(target, &churners[i].access).await?;
                Ok((i, again, closed))
            })
            .buffer_unordered(self.cfg.concurrency.max(1))
            .collect()
            .await;
        let (open, changes) = self.keep_opened("reload", round, began, reopened);
        phases.push(self.end_phase(began, &before, changes).await?);
        Ok(open)
    }

    /// Every churner closes its socket.
    async fn disconnect(
        &mut self,
        round: usize,
        open: Open,
        phases: &mut Vec<Phase>,
    ) -> Result<()> {
        let before = self.reading().await?;
        let began = Instant::now();
        let churners = &self.churners;
        let since: HashMap<String, Instant> = stream::iter(open)
            .map(|(i, churner)| async move { (churners[i].id.clone(), churner.close().await) })
            .buffer_unordered(self.cfg.concurrency.max(1))
            .collect()
            .await;
        let changes = Changes {
            name: "disconnect",
            round,
            seconds: began.elapsed().as_secs_f64(),
            since,
            failed: 0,
        };
        phases.push(self.end_phase(began, &before, changes).await?);
        Ok(())
    }

    /// The sockets that opened, and the phase's changes: when each began; failures counted.
    fn keep_opened(
        &mut self,
        name: &'static str,
        round: usize,
        began: Instant,
        results: Vec<Opened>,
    ) -> (Open, Changes) {
        let seconds = began.elapsed().as_secs_f64();
        let (mut open, mut since, mut failed) = (Vec::new(), HashMap::new(), 0);
        for result in results {
            match result {
                Ok((i, churner, at)) => {
                    since.insert(self.churners[i].id.clone(), at);
                    open.push((i, churner));
                }
                Err(e) => {
                    failed += 1;
                    self.failed(e);
                }
            }
        }
        let changes = Changes {
            name,
            round,
            seconds,
            since,
            failed,
        };
        (open, changes)
    }
}

/// A phase's result: what was heard about churners, with each change's latency from when it
/// began to the first frame saying so (online after a connect, offline otherwise).
fn phase(changes: Changes, cost: Cost, heard: &[Heard]) -> Phase {
    let online = changes.name == "connect";
    let mut first: HashMap<&str, Instant> = HashMap::new();
    for h in heard.iter().filter(|h| h.online == online) {
        first.entry(h.user.as_str()).or_insert(h.at);
    }
    let latencies = first
        .iter()
        .filter_map(|(user, at)| {
            changes
                .since
                .get(*user)
                .map(|from| micros(at.saturating_duration_since(*from)))
        })
        .collect();
    Phase {
        name: changes.name,
        round: changes.round,
        change_seconds: changes.seconds,
        cost,
        heard: heard.len(),
        latency: Latency::from_micros(latencies),
        failed: changes.failed,
    }
}

/// Averages per change over the phases named `name`.
fn per_change(phases: &[Phase], name: &str, sockets: usize) -> PerChange {
    let all: Vec<&Phase> = phases.iter().filter(|p| p.name == name).collect();
    let changes = (all.len() * sockets).max(1) as f64;
    let sum = |f: &dyn Fn(&Cost) -> Option<f64>| -> Option<f64> {
        all.iter()
            .map(|p| f(&p.cost))
            .sum::<Option<f64>>()
            .map(|s| s / changes)
    };
    PerChange {
        server_cpu_ms: sum(&|c| c.server_cpu_ms),
        redis_commands: sum(&|c| c.redis_commands.map(|n| n as f64)),
        presence_board_calls: sum(&|c| Some(c.presence_board_calls.values().sum::<u64>() as f64))
            .unwrap_or(0.0),
        presence_frames_out: sum(&|c| c.presence_frames_out.map(|n| n as f64)),
    }
}

fn summarize(
    cfg: &PresenceConfig,
    groups: usize,
    phases: Vec<Phase>,
    observers_lost: usize,
    first_error: Option<String>,
) -> PresenceSummary {
    let heard = |name: &str| {
        phases
            .iter()
            .filter(|p| p.name == name)
            .map(|p| p.latency.count)
            .sum()
    };
    PresenceSummary {
        scenario: "presence",
        url: cfg.url.clone(),
        sockets: cfg.sockets,
        groups,
        group_size: cfg.group_size,
        rounds: cfg.rounds,
        hold_seconds: cfg.hold,
        per_connect: per_change(&phases, "connect", cfg.sockets),
        per_reload: per_change(&phases, "reload", cfg.sockets),
        per_disconnect: per_change(&phases, "disconnect", cfg.sockets),
        online_expected: cfg.sockets * cfg.rounds,
        online_heard: heard("connect"),
        offline_expected: cfg.sockets * cfg.rounds,
        offline_heard: heard("disconnect"),
        reload_frames: phases
            .iter()
            .filter(|p| p.name == "reload")
            .map(|p| p.heard)
            .sum(),
        failed: phases.iter().map(|p| p.failed).sum(),
        observers_lost,
        first_error,
        phases,
    }
}
