//! Scenario `fanout`: R sockets spread round robin over the URLs and over G groups, S senders
//! at a fixed total rate over HTTP or the socket. Reports the delivery latency from each send
//! to each receiver, the delivered ratio (received / expected, where expected is every socket
//! getting every message of its group that was answered 201 or acked), and duplicates (one
//! message id twice on one socket), missing and unexpected deliveries.

mod receiver;
mod sender;

use std::collections::BTreeMap;
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::{Duration, Instant};

use anyhow::{Result, ensure};
use serde::Serialize;
use tokio::sync::watch;

use crate::api::{Api, User, run_id};
use crate::stats::Latency;
use crate::ws::{self, Target};
use crate::{Over, Summary};

/// What to run.
#[derive(Clone, Debug)]
pub struct FanoutConfig {
    pub urls: Vec<String>,
    pub sockets: usize,
    pub senders: usize,
    /// Messages per second, all senders together.
    pub rate: f64,
    pub seconds: f64,
    pub groups: usize,
    pub over: Over,
    /// Seconds to wait after the last send for deliveries still under way.
    pub drain: f64,
}

/// What it measured.
#[derive(Debug, Serialize)]
pub struct FanoutSummary {
    pub scenario: &'static str,
    pub urls: Vec<String>,
    pub over: Over,
    pub sockets: usize,
    pub senders: usize,
    pub groups: usize,
    pub rate: f64,
    pub seconds: f64,
    /// Messages answered 201 (or acked), and the sends that failed, by kind.
    pub sent: usize,
    pub send_errors: u64,
    pub error_kinds: BTreeMap<String, u64>,
    pub ack_latency: Latency,
    /// How late the latest send left compared with its schedule.
    pub max_send_lag_ms: f64,
    /// Deliveries owed (each socket, each sent message of its group) and first deliveries.
    pub expected: u64,
    pub delivered: u64,
    pub delivered_ratio: f64,
    pub duplicates: u64,
    pub missing: u64,
    pub unexpected: u64,
    /// `message.created` frames that were not this run's.
    pub foreign: u64,
    /// Sockets that ended before the run did.
    pub lost_sockets: usize,
    pub delivery_latency: Latency,
}

impl Summary for FanoutSummary {
    fn line(&self) -> String {
        format!(
            "fanout over={} sockets={} senders={} groups={} rate={}/s {}s: delivery {}, \
             delivered {}/{} (ratio {:.4}), duplicates {}, missing {}, unexpected {}, lost sockets {}, \
             sent {} (errors {}), ack {}",
            self.over,
            self.sockets,
            self.senders,
            self.groups,
            self.rate,
            self.seconds,
            self.delivery_latency.brief(),
            self.delivered,
            self.expected,
            self.delivered_ratio,
            self.duplicates,
            self.missing,
            self.unexpected,
            self.lost_sockets,
            self.sent,
            self.send_errors,
            self.ack_latency.brief(),
        )
    }
}

/// Runs the scenario.
pub async fn fanout(cfg: &FanoutConfig) -> Result<FanoutSummary> {
    ensure!(
        cfg.groups >= 1 && cfg.senders >= cfg.groups && cfg.sockets >= cfg.groups,
        "need at least one group, and one sender and one socket per group"
    );
    ensure!(
        cfg.rate > 0.0 && cfg.seconds > 0.0,
        "--rate and --seconds must be positive"
    );
    let total = (cfg.rate * cfg.seconds).round() as usize;
    let api = Api::new(&cfg.urls)?;
    let targets = api
        .urls()
        .iter()
        .map(Target::resolve)
        .collect::<Result<Vec<_>>>()?;
    let run = run_id();
    let mut users = api
        .register(&format!("bf{run}"), cfg.senders + cfg.sockets)
        .await?;
    let receivers = users.split_off(cfg.senders);
    let senders = users;
    // Sender g creates group g; sender i and socket j belong to groups i % G and j % G.
    let mut groups = Vec::with_capacity(cfg.groups);
    for g in 0..cfg.groups {
        let mut members: Vec<&User> = senders
            .iter()
            .enumerate()
            .filter(|(i, _)| i % cfg.groups == g && *i != g)
            .map(|(_, u)| u)
            .collect();
        members.extend(receivers.iter().skip(g).step_by(cfg.groups));
        let name = format!("fanout {run} {g}");
        groups.push(api.create_group(&senders[g], &name, &members).await?);
    }

    let who = receivers
        .iter()
        .map(|u| (u.url, u.access.clone()))
        .collect();
    let sockets = ws::open_all(&targets, who, ws::BUSY_BUFFER, 128).await?;
    let epoch = Instant::now();
    let delivered = Arc::new(AtomicU64::new(0));
    let (stop, stopped) = watch::channel(false);
    let listening: Vec<_> = sockets
        .into_iter()
        .enumerate()
        .map(|(j, socket)| {
            let task = tokio::spawn(receiver::receive(receiver::Receiver {
                socket,
                epoch,
                total,
                mine: total.div_ceil(cfg.groups),
                delivered: delivered.clone(),
                stop: stopped.clone(),
            }));
            (j % cfg.groups, task)
        })
        .collect();
    let mut sender_sockets = match cfg.over {
        Over::Http => Vec::new(),
        Over::Ws => {
            let who = senders.iter().map(|u| (u.url, u.access.clone())).collect();
            ws::open_all(&targets, who, ws::BUSY_BUFFER, 64).await?
        }
    }
    .into_iter();
    tokio::time::sleep(Duration::from_millis(500)).await; // let the connects settle

    let start = Instant::now() + Duration::from_millis(100);
    let sending: Vec<_> = senders
        .iter()
        .enumerate()
        .map(|(i, user)| {
            tokio::spawn(sender::send(sender::Sender {
                api: api.clone(),
                url: user.url,
                token: user.access.clone(),
                group: groups[i % cfg.groups].clone(),
                socket: sender_sockets.next(),
                tag: format!("{run}-{i}"),
                first: i,
                step: cfg.senders,
                total,
                rate: cfg.rate,
                epoch,
                start,
            }))
        })
        .collect();
    let mut ok_group: Vec<Option<usize>> = vec![None; total];
    let (mut errors, mut acks, mut max_lag) = (BTreeMap::new(), Vec::new(), 0);
    for (i, task) in sending.into_iter().enumerate() {
        let sent = task.await?;
        for number in sent.ok {
            ok_group[number] = Some(i % cfg.groups);
        }
        for (kind, n) in sent.errors {
            *errors.entry(kind).or_insert(0u64) += n;
        }
        acks.extend_from_slice(&sent.ack_latencies);
        max_lag = max_lag.max(sent.max_lag);
    }
    let mut per_group = vec![0u64; cfg.groups];
    for g in ok_group.iter().flatten() {
        per_group[*g] += 1;
    }
    let expected: u64 = (0..cfg.sockets).map(|j| per_group[j % cfg.groups]).sum();

    // Drain: until every owed delivery has come, or the drain time is up.
    let deadline = Instant::now() + Duration::from_secs_f64(cfg.drain.max(0.0));
    while delivered.load(Ordering::Relaxed) < expected && Instant::now() < deadline {
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
    let _ = stop.send(true);
    let mut summary = FanoutSummary {
        scenario: "fanout",
        urls: cfg.urls.clone(),
        over: cfg.over,
        sockets: cfg.sockets,
        senders: cfg.senders,
        groups: cfg.groups,
        rate: cfg.rate,
        seconds: cfg.seconds,
        sent: ok_group.iter().flatten().count(),
        send_errors: errors.values().sum(),
        error_kinds: errors,
        ack_latency: Latency::from_micros(acks),
        max_send_lag_ms: f64::from(max_lag) / 1000.0,
        expected,
        delivered: 0,
        delivered_ratio: 0.0,
        duplicates: 0,
        missing: 0,
        unexpected: 0,
        foreign: 0,
        lost_sockets: 0,
        delivery_latency: Latency::default(),
    };
    let mut latencies = Vec::new();
    for (group, task) in listening {
        let got = task.await?;
        summary.duplicates += got.duplicates;
        summary.foreign += got.foreign;
        summary.lost_sockets += usize::from(got.lost.is_some());
        latencies.extend_from_slice(&got.latencies);
        for (number, &n) in got.got.iter().enumerate() {
            let owed = ok_group[number] == Some(group);
            match (owed, n) {
                (true, 0) => summary.missing += 1,
                (true, n) => {
                    summary.delivered += 1;
                    summary.unexpected += u64::from(n - 1);
                }
                (false, n) => summary.unexpected += u64::from(n),
            }
        }
    }
    summary.delivered_ratio = if expected == 0 {
        0.0
    } else {
        summary.delivered as f64 / expected as f64
    };
    summary.delivery_latency = Latency::from_micros(latencies);
    Ok(summary)
}
