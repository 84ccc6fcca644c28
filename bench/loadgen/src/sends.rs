//! Scenario `sends`: N closed-loop senders (send, wait for the 201 or the socket's `ack`, send
//! again) into M groups. Reports acknowledged sends per second over the measured window, ack
//! latency, errors, and the server's commits over the same window (so messages per commit).

use std::collections::BTreeMap;
use std::time::Duration;

use anyhow::{Result, ensure};
use reqwest::StatusCode;
use reqwest::header::{AUTHORIZATION, CONTENT_TYPE};
use serde::Serialize;
use tokio::time::{Instant, sleep_until, timeout_at};

use crate::api::{Api, User, run_id};
use crate::stats::{Latency, commit_metrics, commits_between, micros};
use crate::ws::{self, Answer, Socket, Target};
use crate::{Over, Summary, count, transport_error};

/// How long after the window an answer may still come before its sender gives up.
const GRACE: Duration = Duration::from_secs(30);

/// What to run.
#[derive(Clone, Debug)]
pub struct SendsConfig {
    pub url: String,
    pub senders: usize,
    pub groups: usize,
    pub seconds: f64,
    pub warmup: f64,
    pub over: Over,
    /// Sends per second, all senders together; `None`: each sender sends again as soon as it
    /// has its answer (closed loop).
    pub rate: Option<f64>,
}

/// What it measured.
#[derive(Debug, Serialize)]
pub struct SendsSummary {
    pub scenario: &'static str,
    pub url: String,
    pub over: Over,
    pub senders: usize,
    pub groups: usize,
    pub seconds: f64,
    pub warmup: f64,
    /// The asked rate (sends/s, all senders), `null` for a closed loop.
    pub rate: Option<f64>,
    /// Sends acknowledged within the measured window.
    pub acked: u64,
    pub acked_per_sec: f64,
    pub ack_latency: Latency,
    /// Failed sends over the whole run (warm-up included), by kind.
    pub errors: u64,
    pub error_kinds: BTreeMap<String, u64>,
    /// The server's commits over the window (`null` without a commit metric).
    pub commits: Option<f64>,
    pub commit_metrics: Vec<String>,
    pub messages_per_commit: Option<f64>,
}

impl Summary for SendsSummary {
    fn line(&self) -> String {
        let commits = match (self.commits, self.messages_per_commit) {
            (Some(c), Some(m)) => format!("{c:.0} commits ({m:.1} msgs/commit)"),
            _ => "commits n/a".to_owned(),
        };
        let rate = self
            .rate
            .map_or_else(String::new, |r| format!(" rate={r}/s"));
        format!(
            "sends over={} senders={} groups={}{rate} {}s: {:.0} acked/s ({} acked), ack {}, errors {}, {commits}",
            self.over,
            self.senders,
            self.groups,
            self.seconds,
            self.acked_per_sec,
            self.acked,
            self.ack_latency.brief(),
            self.errors,
        )
    }
}

/// One sender's share of the run.
struct Sender {
    api: Api,
    user: User,
    group: String,
    tag: String,
    socket: Option<Socket>,
    start: Instant,
    window: Instant,
    end: Instant,
    /// With a rate: this sender's time between sends, and where in it its sends fall.
    pace: Option<(Duration, f64)>,
}

impl Sender {
    /// When send `k` goes out: at once in a closed loop; on its schedule with a rate. The
    /// latency counts from the schedule, so a server that falls behind is not flattered by
    /// senders that were kept waiting (coordinated omission).
    async fn due(&self, k: u64) -> Instant {
        match self.pace {
            None => Instant::now(),
            Some((every, offset)) => {
                let due = self.start + every.mul_f64(k as f64 + offset);
                sleep_until(due).await;
                due
            }
        }
    }
}

#[derive(Default)]
struct Tally {
    acked: u64,
    latencies: Vec<u32>,
    errors: BTreeMap<String, u64>,
}

impl Tally {
    /// Notes one answer to a send made at `sent`.
    fn note(&mut self, s: &Sender, sent: Instant, outcome: Result<(), String>) {
        let now = Instant::now();
        match outcome {
            Ok(()) if now >= s.window && now <= s.end => {
                self.acked += 1;
                self.latencies.push(micros(now - sent));
            }
            Ok(()) => {}
            Err(kind) => count(&mut self.errors, &kind),
        }
    }
}

/// Runs the scenario.
pub async fn sends(cfg: &SendsConfig) -> Result<SendsSummary> {
    ensure!(
        cfg.groups >= 1 && cfg.senders >= cfg.groups,
        "need at least one group and one sender per group"
    );
    ensure!(cfg.seconds > 0.0, "--seconds must be positive");
    ensure!(
        cfg.rate.is_none_or(|r| r > 0.0 && r.is_finite()),
        "--rate must be positive"
    );
    let every = cfg
        .rate
        .map(|rate| Duration::from_secs_f64(cfg.senders as f64 / rate));
    let api = Api::new(&[&cfg.url])?;
    let run = run_id();
    let users = api.register(&format!("bs{run}"), cfg.senders).await?;
    let mut groups = Vec::with_capacity(cfg.groups);
    for g in 0..cfg.groups {
        let members: Vec<&User> = users
            .iter()
            .enumerate()
            .filter(|(i, _)| i % cfg.groups == g && *i != g)
            .map(|(_, u)| u)
            .collect();
        let name = format!("sends {run} {g}");
        groups.push(api.create_group(&users[g], &name, &members).await?);
    }
    let mut sockets: Vec<Option<Socket>> = match cfg.over {
        Over::Http => users.iter().map(|_| None).collect(),
        Over::Ws => {
            let targets = [Target::resolve(&api.urls()[0])?];
            let who = users.iter().map(|u| (0, u.access.clone())).collect();
            let opened = ws::open_all(&targets, who, ws::BUSY_BUFFER, 64).await?;
            opened.into_iter().map(Some).collect()
        }
    };

    let start = Instant::now() + Duration::from_millis(200);
    let window = start + Duration::from_secs_f64(cfg.warmup.max(0.0));
    let end = window + Duration::from_secs_f64(cfg.seconds);
    let read_at = |at: Instant| {
        let api = api.clone();
        tokio::spawn(async move {
            sleep_until(at).await;
            api.metrics(0).await
        })
    };
    let (before, after) = (read_at(window), read_at(end));
    let tasks: Vec<_> = users
        .into_iter()
        .enumerate()
        .map(|(i, user)| {
            let sender = Sender {
                api: api.clone(),
                user,
                group: groups[i % cfg.groups].clone(),
                tag: format!("{run}-{i}"),
                socket: sockets[i].take(),
                start,
                window,
                end,
                pace: every.map(|every| (every, i as f64 / cfg.senders as f64)),
            };
            tokio::spawn(match cfg.over {
                Over::Http => futures::future::Either::Left(over_http(sender)),
                Over::Ws => futures::future::Either::Right(over_ws(sender)),
            })
        })
        .collect();
    let mut total = Tally::default();
    for task in tasks {
        let tally = task.await?;
        total.acked += tally.acked;
        total.latencies.extend_from_slice(&tally.latencies);
        for (kind, n) in tally.errors {
            *total.errors.entry(kind).or_insert(0) += n;
        }
    }
    let before = commit_metrics(&before.await??.unwrap_or_default());
    let after = commit_metrics(&after.await??.unwrap_or_default());
    let (commits, commit_metrics) = commits_between(&before, &after);
    Ok(SendsSummary {
        scenario: "sends",
        url: cfg.url.clone(),
        over: cfg.over,
        senders: cfg.senders,
        groups: cfg.groups,
        seconds: cfg.seconds,
        warmup: cfg.warmup,
        rate: cfg.rate,
        acked: total.acked,
        acked_per_sec: total.acked as f64 / cfg.seconds,
        ack_latency: Latency::from_micros(total.latencies),
        errors: total.errors.values().sum(),
        error_kinds: total.errors,
        commits,
        commit_metrics,
        messages_per_commit: commits.filter(|c| *c > 0.0).map(|c| total.acked as f64 / c),
    })
}

/// A sender posting over HTTP (one keep-alive connection of the shared pool at a time).
async fn over_http(s: Sender) -> Tally {
    let url = s
        .api
        .endpoint(s.user.url, &format!("/api/v1/groups/{}/messages", s.group));
    let auth = format!("Bearer {}", s.user.access);
    let mut tally = Tally::default();
    let mut failures_in_a_row = 0;
    sleep_until(s.start).await;
    for k in 0u64.. {
        let sent = s.due(k).await;
        if sent >= s.end || failures_in_a_row >= 100 {
            break;
        }
        let body = format!("{{\"body\":\"m {k}\",\"client_id\":\"{}-{k}\"}}", s.tag);
        let request = s
            .api
            .http()
            .post(&url)
            .header(AUTHORIZATION, &auth)
            .header(CONTENT_TYPE, "application/json")
            .body(body)
            .send();
        let outcome = match timeout_at(s.end + GRACE, request).await {
            Err(_) => Err("timeout".to_owned()),
            Ok(Err(e)) => Err(transport_error(&e).to_owned()),
            Ok(Ok(res)) => {
                let status = res.status();
                match res.bytes().await {
                    Ok(_) if status == StatusCode::CREATED => Ok(()),
                    Ok(_) => Err(format!("http_{}", status.as_u16())),
                    Err(e) => Err(transport_error(&e).to_owned()),
                }
            }
        };
        failures_in_a_row = if outcome.is_ok() {
            0
        } else {
            failures_in_a_row + 1
        };
        tally.note(&s, sent, outcome);
    }
    tally
}

/// A sender on its own socket: `message.send`, then read until the `ack` of that `ref`.
async fn over_ws(mut s: Sender) -> Tally {
    let mut tally = Tally::default();
    let Some(mut socket) = s.socket.take() else {
        count(&mut tally.errors, "no_socket");
        return tally;
    };
    sleep_until(s.start).await;
    for k in 0u64.. {
        let sent = s.due(k).await;
        if sent >= s.end {
            break;
        }
        let frame = ws::send_frame(
            k,
            &s.group,
            format_args!("m {k}"),
            format_args!("{}-{k}", s.tag),
        );
        if ws::send_text(&mut socket, frame).await.is_err() {
            count(&mut tally.errors, "socket_lost");
            return tally;
        }
        match timeout_at(s.end + GRACE, answer(&mut socket, k)).await {
            Err(_) => {
                count(&mut tally.errors, "timeout");
                break;
            }
            Ok(Err(_)) => {
                count(&mut tally.errors, "socket_lost");
                return tally;
            }
            Ok(Ok(outcome)) => tally.note(&s, sent, outcome),
        }
    }
    ws::close(socket).await;
    tally
}

/// Reads frames until the answer to `reference`: `Ok(Ok)` for its `ack`, `Ok(Err(kind))` for
/// its `error`; other frames (deliveries of the group's messages) are skipped unparsed.
pub(crate) async fn answer(socket: &mut Socket, reference: u64) -> Result<Result<(), String>> {
    loop {
        let text = ws::next_text(socket).await?;
        let kind = ws::kind(&text);
        if kind != "ack" && kind != "error" {
            continue;
        }
        let answer: Answer<'_> = serde_json::from_str(&text)?;
        if answer.reference != Some(reference) {
            continue;
        }
        return Ok(match answer.code {
            None if kind == "ack" => Ok(()),
            code => Err(format!("ws_{}", code.unwrap_or_default())),
        });
    }
}
