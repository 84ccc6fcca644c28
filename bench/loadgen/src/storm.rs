//! Scenario `storm`: N clients with a socket in one or a few groups see a message live and
//! note the last `rev` they saw; they disconnect; K messages per group are sent; then every
//! client reconnects at once and sends `sync {since}`. Reports the time until every client got
//! `synced`, and checks each got exactly the messages it missed (none missing, none twice).

use std::collections::HashSet;
use std::time::{Duration, Instant};

use anyhow::{Context, Result, bail, ensure};
use futures::future::try_join_all;
use serde::Serialize;
use tokio::sync::watch;
use uuid::Uuid;

use crate::Summary;
use crate::api::{Api, User, run_id};
use crate::stats::{Latency, micros};
use crate::ws::{self, Carrying, Socket, Target};

/// What to run.
#[derive(Clone, Debug)]
pub struct StormConfig {
    pub url: String,
    pub clients: usize,
    /// Users the clients belong to, round robin (default: one per client; each costs an Argon2
    /// registration). At least one per group.
    pub users: Option<usize>,
    pub groups: usize,
    /// Messages sent to each group while its clients are away.
    pub messages: usize,
    /// Seconds a client may take to reconnect and catch up.
    pub timeout: f64,
}

/// What it measured.
#[derive(Debug, Serialize)]
pub struct StormSummary {
    pub scenario: &'static str,
    pub url: String,
    pub clients: usize,
    pub users: usize,
    pub groups: usize,
    pub messages_per_group: usize,
    /// Clients that got `synced`, and those that got it with exactly what they missed.
    pub synced: usize,
    pub caught_up: usize,
    /// Clients whose reconnect or sync failed, and the first reason.
    pub failed: usize,
    pub first_error: Option<String>,
    /// Seconds from the storm's start until the last client got `synced` (`null` if some never did).
    pub all_synced_seconds: Option<f64>,
    /// Per client, from the storm's start to its `synced`.
    pub sync_latency: Latency,
    pub missing: u64,
    pub duplicates: u64,
    pub unexpected: u64,
}

impl Summary for StormSummary {
    fn line(&self) -> String {
        let all = match self.all_synced_seconds {
            Some(s) => format!("all synced in {s:.3}s"),
            None => "NOT all synced".to_owned(),
        };
        format!(
            "storm clients={} groups={} messages={}: {all} ({} per client), caught up {}/{}, \
             missing {}, duplicates {}, unexpected {}, failed {}{}",
            self.clients,
            self.groups,
            self.messages_per_group,
            self.sync_latency.brief(),
            self.caught_up,
            self.clients,
            self.missing,
            self.duplicates,
            self.unexpected,
            self.failed,
            self.first_error
                .as_ref()
                .map_or(String::new(), |e| format!(" (first: {e})")),
        )
    }
}

/// One client after the storm.
struct Outcome {
    synced_after: Option<Duration>,
    got: Vec<Uuid>,
    error: Option<String>,
    /// Kept open until every client is done, as a real client would stay.
    socket: Option<Socket>,
}

/// Runs the scenario.
pub async fn storm(cfg: &StormConfig) -> Result<StormSummary> {
    ensure!(
        cfg.groups >= 1 && cfg.clients >= cfg.groups,
        "need at least one group and one client per group"
    );
    let api = Api::new(&[&cfg.url])?;
    let target = Target::resolve(&api.urls()[0])?;
    let run = run_id();
    let users = cfg
        .users
        .unwrap_or(cfg.clients)
        .clamp(cfg.groups, cfg.clients);
    let mut clients = api
        .register(&format!("bt{run}"), cfg.groups + users)
        .await?;
    let mut senders = clients.split_off(users);
    api.refresh_stale(&mut clients, Duration::from_secs(300))
        .await?;
    api.refresh_stale(&mut senders, Duration::from_secs(300))
        .await?;
    let mut groups = Vec::with_capacity(cfg.groups);
    for (g, sender) in senders.iter().enumerate() {
        let members: Vec<&User> = clients.iter().skip(g).step_by(cfg.groups).collect();
        let name = format!("storm {run} {g}");
        groups.push(api.create_group(sender, &name, &members).await?);
    }
    // Client j is user j % users, a member of group (j % users) % groups.
    let user_of = |j: usize| &clients[j % users];
    let group_of = |j: usize| (j % users) % cfg.groups;
    let limit = Duration::from_secs_f64(cfg.timeout.max(1.0));

    // Connected: each client sees one message live and keeps the last rev it saw.
    let who = (0..cfg.clients)
        .map(|j| (0, user_of(j).access.clone()))
        .collect();
    let sockets = ws::open_all(std::slice::from_ref(&target), who, ws::IDLE_BUFFER, 256).await?;
    let mut live = Vec::with_capacity(cfg.groups);
    for (g, sender) in senders.iter().enumerate() {
        live.push(api.post(sender, &groups[g], "before the storm").await?.rev);
    }
    let seen = try_join_all(sockets.into_iter().enumerate().map(|(j, socket)| {
        let (group, rev) = (groups[group_of(j)].clone(), live[group_of(j)]);
        async move {
            tokio::time::timeout(limit, see_then_leave(socket, &group, rev))
                .await
                .context("a client never saw the live message")?
        }
    }))
    .await?;

    // Away: the messages they will have to catch up on.
    let mut missed: Vec<HashSet<Uuid>> = vec![HashSet::new(); cfg.groups];
    for (g, sender) in senders.iter().enumerate() {
        for k in 0..cfg.messages {
            let posted = api.post(sender, &groups[g], &format!("missed {k}")).await?;
            missed[g].insert(posted.id);
        }
    }

    // The storm: everyone reconnects at once and syncs.
    let (go, gate) = watch::channel(None::<Instant>);
    let tasks: Vec<_> = (0..cfg.clients)
        .map(|j| {
            let user = user_of(j);
            let sync = format!(
                "{{\"type\":\"sync\",\"ref\":1,\"since\":{{\"{}\":{}}}}}",
                groups[group_of(j)],
                seen[j]
            );
            let (target, token, gate) = (target.clone(), user.access.clone(), gate.clone());
            tokio::spawn(async move {
                let result = tokio::time::timeout(limit, rejoin(&target, &token, sync, gate)).await;
                match result {
                    Ok(Ok((after, got, socket))) => Outcome {
                        synced_after: Some(after),
                        got,
                        error: None,
                        socket: Some(socket),
                    },
                    Ok(Err((got, e))) => Outcome {
                        synced_after: None,
                        got,
                        error: Some(e),
                        socket: None,
                    },
                    Err(_) => Outcome {
                        synced_after: None,
                        got: Vec::new(),
                        error: Some("timed out".to_owned()),
                        socket: None,
                    },
                }
            })
        })
        .collect();
    tokio::time::sleep(Duration::from_millis(100)).await; // every task is waiting at the gate
    let _ = go.send(Some(Instant::now()));

    let mut summary = StormSummary {
        scenario: "storm",
        url: cfg.url.clone(),
        clients: cfg.clients,
        users,
        groups: cfg.groups,
        messages_per_group: cfg.messages,
        synced: 0,
        caught_up: 0,
        failed: 0,
        first_error: None,
        all_synced_seconds: None,
        sync_latency: Latency::default(),
        missing: 0,
        duplicates: 0,
        unexpected: 0,
    };
    let mut latencies = Vec::with_capacity(cfg.clients);
    let mut slowest = Duration::ZERO;
    let mut open = Vec::with_capacity(cfg.clients);
    for (j, task) in tasks.into_iter().enumerate() {
        let mut outcome = task.await?;
        open.extend(outcome.socket.take());
        let want = &missed[group_of(j)];
        let mut got = HashSet::with_capacity(outcome.got.len());
        let duplicates = outcome.got.iter().filter(|id| !got.insert(**id)).count() as u64;
        let missing = want.difference(&got).count() as u64;
        let unexpected = got.difference(want).count() as u64;
        summary.duplicates += duplicates;
        summary.missing += missing;
        summary.unexpected += unexpected;
        match (outcome.synced_after, outcome.error) {
            (Some(after), _) => {
                summary.synced += 1;
                summary.caught_up += usize::from(missing + duplicates + unexpected == 0);
                slowest = slowest.max(after);
                latencies.push(micros(after));
            }
            (None, error) => {
                summary.failed += 1;
                if summary.first_error.is_none() {
                    summary.first_error = error;
                }
            }
        }
    }
    if summary.synced == cfg.clients {
        summary.all_synced_seconds = Some(slowest.as_secs_f64());
    }
    summary.sync_latency = Latency::from_micros(latencies);
    futures::future::join_all(open.into_iter().map(ws::close)).await;
    Ok(summary)
}

/// Reads until a message of `group` with `rev` or later has come; closes; the last rev seen.
async fn see_then_leave(mut socket: Socket, group: &str, rev: u64) -> Result<u64> {
    let group: Uuid = group.parse()?;
    let mut last = 0;
    while last < rev {
        let text = ws::next_text(&mut socket).await?;
        if ws::kind(&text) == "message.created" {
            let frame: Carrying<'_> = serde_json::from_str(&text)?;
            if frame.message.group_id == group {
                last = last.max(frame.message.rev);
            }
        }
    }
    ws::close(socket).await;
    Ok(last)
}

/// What a client that caught up has: the time from the gate to `synced`, the messages created
/// it got, and its socket.
type Rejoined = (Duration, Vec<Uuid>, Socket);

/// Waits at the gate, reconnects, syncs, and collects the messages created until `synced`;
/// on failure, what it got and why.
async fn rejoin(
    target: &Target,
    token: &str,
    sync: String,
    mut gate: watch::Receiver<Option<Instant>>,
) -> Result<Rejoined, (Vec<Uuid>, String)> {
    let start = loop {
        if let Some(start) = *gate.borrow_and_update() {
            break start;
        }
        if gate.changed().await.is_err() {
            return Err((Vec::new(), "the storm never started".to_owned()));
        }
    };
    let mut got = Vec::new();
    match catch_up(target, token, sync, &mut got).await {
        Ok((at, socket)) => Ok((at - start, got, socket)),
        Err(e) => Err((got, format!("{e:#}"))),
    }
}

/// Connects, syncs and reads until `synced`: when it came, and the socket.
async fn catch_up(
    target: &Target,
    token: &str,
    sync: String,
    got: &mut Vec<Uuid>,
) -> Result<(Instant, Socket)> {
    let mut socket = ws::connect_ready(target, token, ws::IDLE_BUFFER).await?;
    ws::send_text(&mut socket, sync).await?;
    loop {
        let text = ws::next_text(&mut socket).await?;
        match &*ws::kind(&text) {
            "message.created" => {
                let frame: Carrying<'_> = serde_json::from_str(&text)?;
                got.push(frame.message.id);
            }
            "synced" => return Ok((Instant::now(), socket)),
            "error" => bail!("the sync was refused: {text}"),
            _ => {}
        }
    }
}
