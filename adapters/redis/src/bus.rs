//! The event bus over Redis pub/sub, for several instances.
//!
//! - A publish is encoded once, handed at once to this instance's own subscribers (so an
//!   instance keeps serving its own sockets whatever Redis does), and queued for a publisher
//!   task that sends it on the channel; it never waits for Redis. Other instances skip what
//!   they read back from themselves.
//! - Pub/sub is fire-and-forget, so the bus says `Missed` whenever something may have been
//!   lost, and the sessions re-check against the store: when the subscription is (re)made;
//!   every poll interval while it is down or silent; when another instance says it could not
//!   publish (`Lost`); when a subscriber's queue overflows.
//! - A subscription that is connected but hears nothing (Centrifugo #1189, Synapse #9351) is
//!   found by a heartbeat each instance publishes and expects to hear back: silence for
//!   [`Timing::silence`] drops the connection and makes a new one.
//! - An instance that goes silent while this one still hears Redis (it lost Redis alone, or
//!   died) may have committed events nobody heard: while a peer heard lately is silent, this
//!   instance re-checks every poll interval too, until the peer is heard again, says `Bye`
//!   (a graceful stop, after publishing everything), or is forgotten.
//! - The channel is per Redis database (`confab:events:<db>`): pub/sub ignores database
//!   numbers, and two deployments on one Redis must not hear each other.
//!
//! This module must never block a publisher, and never deliver an event twice to a local
//! subscriber (its own events come back from Redis and are skipped).

use std::collections::HashMap;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use async_trait::async_trait;
use confab_domain::Event;
use confab_ports::bus::{EventBus, Feeds, Subscription};
use futures::StreamExt;
use redis::Client;
use tokio::sync::{mpsc, oneshot};
use tokio::task::JoinHandle;
use tokio::time::Instant;
use uuid::Uuid;

use crate::codec::{self, Said, Saying};
use crate::link::{Limits, Link};

/// The channel every instance of one deployment publishes on and subscribes to, for Redis
/// database `db`.
pub(crate) fn channel(db: i64) -> String {
    format!("confab:events:{db}")
}
/// Events buffered per local subscriber before it hears `Missed` instead.
const SUBSCRIBER_CAPACITY: usize = 4096;
/// Encoded events waiting for the publisher; beyond this they are dropped (and others told).
const OUTGOING_CAPACITY: usize = 16_384;
/// Most events sent in one pipeline.
const BATCH: usize = 256;

/// The bus's clocks. The defaults bound how long a socket on another instance waits for an
/// acknowledged message while Redis is unreachable: `silence` to notice, then at most `poll`
/// until the next re-check (docs/operations.md: "at most 5 s").
#[derive(Debug, Clone, Copy)]
pub struct Timing {
    /// How often each instance publishes its heartbeat.
    pub heartbeat: Duration,
    /// How long without hearing its own heartbeat before the subscription counts as dead.
    pub silence: Duration,
    /// How often subscribers re-check against the store while the subscription is dead.
    pub poll: Duration,
    /// Longest wait for a connection, a subscription or a command.
    pub timeout: Duration,
    /// How long a silent peer is waited for (with re-checks) before it counts as gone.
    pub forget_peer: Duration,
}

impl Default for Timing {
    fn default() -> Self {
        Self {
            heartbeat: Duration::from_millis(500),
            silence: Duration::from_millis(2500),
            poll: Duration::from_secs(1),
            timeout: Duration::from_secs(1),
            forget_peer: Duration::from_secs(60),
        }
    }
}

/// What the tasks share with the bus.
struct Shared {
    origin: Uuid,
    channel: String,
    /// Other instances, and when each was last heard.
    peers: Mutex<HashMap<Uuid, Instant>>,
    feeds: Feeds,
    timing: Timing,
    /// Whether the subscription is connected and subscribed.
    subscribed: AtomicBool,
    /// When this instance last heard its own heartbeat.
    heard: Mutex<Instant>,
    /// The publisher dropped events: tell the other instances once it can publish again.
    lost: AtomicBool,
    /// An undecodable payload was logged already (logging each would flood the log).
    told_undecodable: AtomicBool,
}

impl Shared {
    fn heartbeat_age(&self) -> Duration {
        self.heard
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .elapsed()
    }

    fn healthy(&self) -> bool {
        self.subscribed.load(Ordering::Acquire) && self.heartbeat_age() < self.timing.silence
    }

    fn peers(&self) -> std::sync::MutexGuard<'_, HashMap<Uuid, Instant>> {
        self.peers.lock().unwrap_or_else(|p| p.into_inner())
    }

    /// Forgets peers silent for too long; says whether one heard lately is silent now, and
    /// how many are heard.
    fn peer_silent(&self) -> (bool, usize) {
        let mut peers = self.peers();
        peers.retain(|_, heard| heard.elapsed() < self.timing.forget_peer);
        let heard = peers
            .values()
            .filter(|heard| heard.elapsed() < self.timing.silence)
            .count();
        (heard < peers.len(), heard)
    }

    fn hear_myself(&self) {
        *self.heard.lock().unwrap_or_else(|p| p.into_inner()) = Instant::now();
    }

    fn deliver(&self, event: &Arc<Event>) {
        let reach = self.feeds.deliver(event);
        metrics::counter!("confab_bus_events_dropped_total").increment(reach.dropped);
    }

    /// Handles one payload read from the channel.
    fn receive(&self, payload: &[u8]) {
        let envelope = match codec::decode(payload) {
            Ok(envelope) => envelope,
            Err(e) => {
                metrics::counter!("confab_bus_undecodable_total").increment(1);
                if !self.told_undecodable.swap(true, Ordering::Relaxed) {
                    tracing::warn!(error = %e, "skipping a bus message this build cannot read (logged once)");
                }
                // It may have been an event (another version's, during a rolling upgrade):
                // what it said is in the store.
                self.feeds.missed();
                return;
            }
        };
        let mine = envelope.origin == self.origin;
        match envelope.said {
            Said::Heartbeat if mine => self.hear_myself(),
            // Delivered locally when published.
            _ if mine => {}
            Said::Heartbeat => {
                self.peers().insert(envelope.origin, Instant::now());
            }
            Said::Bye => {
                self.peers().remove(&envelope.origin);
            }
            Said::Event(event) => {
                metrics::counter!("confab_bus_events_received_total").increment(1);
                self.deliver(&Arc::new(*event));
            }
            Said::Lost => self.feeds.missed(),
        }
    }
}

/// What the publisher task is handed.
enum Outgoing {
    /// An encoded event.
    Payload(Vec<u8>),
    /// Send everything before this, say `Bye`, answer, and stop.
    Close(oneshot::Sender<()>),
}

/// Fan-out to every instance through Redis pub/sub.
pub struct RedisBus {
    shared: Arc<Shared>,
    outgoing: mpsc::Sender<Outgoing>,
    tasks: Vec<JoinHandle<()>>,
}

impl std::fmt::Debug for RedisBus {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("RedisBus")
            .field("origin", &self.shared.origin)
            .finish_non_exhaustive()
    }
}

impl RedisBus {
    /// Starts the publisher, the subscriber and the watchdog on the current runtime.
    pub(crate) fn start(client: Client, timing: Timing) -> Self {
        let db = client.get_connection_info().redis_settings().db();
        let shared = Arc::new(Shared {
            origin: Uuid::now_v7(),
            channel: channel(db),
            peers: Mutex::new(HashMap::new()),
            feeds: Feeds::default(),
            timing,
            subscribed: AtomicBool::new(false),
            heard: Mutex::new(Instant::now()),
            lost: AtomicBool::new(false),
            told_undecodable: AtomicBool::new(false),
        });
        let (outgoing, queued) = mpsc::channel(OUTGOING_CAPACITY);
        let limits = Limits {
            connect: timing.timeout,
            response: timing.timeout,
        };
        let link = Link::new(client.clone(), limits);
        let tasks = vec![
            tokio::spawn(publish_loop(Arc::clone(&shared), link, queued)),
            tokio::spawn(subscribe_loop(Arc::clone(&shared), client)),
            tokio::spawn(watchdog(Arc::clone(&shared))),
        ];
        Self {
            shared,
            outgoing,
            tasks,
        }
    }
}

impl Drop for RedisBus {
    fn drop(&mut self) {
        for task in &self.tasks {
            task.abort();
        }
    }
}

#[async_trait]
impl EventBus for RedisBus {
    async fn publish(&self, event: Event) {
        let payload = codec::encode(self.shared.origin, Saying::Event(&event));
        self.shared.deliver(&Arc::new(event));
        metrics::counter!("confab_bus_events_published_total").increment(1);
        if self.outgoing.try_send(Outgoing::Payload(payload)).is_err() {
            metrics::counter!("confab_bus_events_dropped_total").increment(1);
            self.shared.lost.store(true, Ordering::Release);
        }
    }

    fn subscribe(&self) -> Subscription {
        self.shared.feeds.subscribe(SUBSCRIBER_CAPACITY)
    }

    async fn close(&self) {
        let (done, closed) = oneshot::channel();
        let wait = self.shared.timing.timeout * 2;
        if self
            .outgoing
            .send_timeout(Outgoing::Close(done), wait)
            .await
            .is_ok()
            && tokio::time::timeout(wait, closed).await.is_err()
        {
            tracing::warn!("events still queued for Redis at shutdown were not all sent");
        }
    }

    async fn ready(&self) -> confab_ports::Result<()> {
        if self.shared.healthy() {
            Ok(())
        } else {
            Err(confab_ports::Error::Unavailable(format!(
                "Redis: not subscribed, or no heartbeat heard for {:.1} s",
                self.shared.heartbeat_age().as_secs_f64()
            )))
        }
    }
}

/// Sends queued payloads (several per round trip) and the heartbeat. A failed send drops
/// what it carried and marks the loss, which is announced (`Lost`) with the next send that
/// gets through, so the other instances re-check against the store. On `Close` it sends what
/// came before, says `Bye`, and stops.
async fn publish_loop(shared: Arc<Shared>, link: Link, mut queued: mpsc::Receiver<Outgoing>) {
    let heartbeat = codec::encode(shared.origin, Saying::Heartbeat);
    let lost = codec::encode(shared.origin, Saying::Lost);
    let bye = codec::encode(shared.origin, Saying::Bye);
    let mut beat = tokio::time::interval(shared.timing.heartbeat);
    beat.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
    let mut batch: Vec<Vec<u8>> = Vec::with_capacity(BATCH);
    loop {
        // How many of the batch are signals of ours rather than events.
        let mut signals = 0;
        let mut closing = None;
        tokio::select! {
            first = queued.recv() => match first {
                Some(Outgoing::Payload(payload)) => batch.push(payload),
                Some(Outgoing::Close(done)) => closing = Some(done),
                None => return,
            },
            _ = beat.tick() => {
                batch.push(heartbeat.clone());
                signals += 1;
            }
        }
        while closing.is_none() && batch.len() < BATCH {
            match queued.try_recv() {
                Ok(Outgoing::Payload(payload)) => batch.push(payload),
                Ok(Outgoing::Close(done)) => closing = Some(done),
                Err(_) => break,
            }
        }
        if shared.lost.swap(false, Ordering::AcqRel) {
            batch.push(lost.clone());
            signals += 1;
        }
        if closing.is_some() {
            batch.push(bye.clone());
            signals += 1;
        }
        let sent = link
            .run(|mut conn| {
                let mut pipe = redis::pipe();
                for payload in &batch {
                    pipe.publish(&shared.channel, payload.as_slice()).ignore();
                }
                async move { pipe.query_async::<()>(&mut conn).await }
            })
            .await;
        if let Err(e) = sent {
            let events = batch.len() - signals;
            metrics::counter!("confab_bus_events_dropped_total").increment(events as u64);
            shared.lost.store(true, Ordering::Release);
            tracing::debug!(error = %e, dropped = events, "publishing to Redis failed");
        }
        batch.clear();
        if let Some(done) = closing {
            let _ = done.send(());
            return;
        }
    }
}

/// Keeps one subscription: connects, subscribes, reads until the connection fails or goes
/// silent, and again. Each new subscription makes every subscriber re-check.
async fn subscribe_loop(shared: Arc<Shared>, client: Client) {
    let timeout = shared.timing.timeout;
    let mut failures: u32 = 0;
    loop {
        let subscribed = tokio::time::timeout(timeout, async {
            let mut pubsub = client.get_async_pubsub().await?;
            pubsub.subscribe(&shared.channel).await?;
            Ok::<_, redis::RedisError>(pubsub)
        })
        .await;
        match subscribed {
            Ok(Ok(pubsub)) => {
                if failures > 0 {
                    tracing::info!(
                        "subscribed to Redis again; sockets re-check against the database"
                    );
                }
                failures = 0;
                shared.hear_myself();
                shared.subscribed.store(true, Ordering::Release);
                // Whatever was published while there was no subscription is in the store.
                shared.feeds.missed();
                let why = read_until_dead(&shared, pubsub).await;
                shared.subscribed.store(false, Ordering::Release);
                tracing::warn!(reason = why, "the Redis subscription ended; reconnecting");
                shared.feeds.missed();
            }
            Ok(Err(e)) => {
                failures += 1;
                if failures == 1 {
                    tracing::warn!(error = %e, "cannot subscribe to Redis; retrying");
                }
            }
            Err(_) => {
                failures += 1;
                if failures == 1 {
                    tracing::warn!(?timeout, "subscribing to Redis timed out; retrying");
                }
            }
        }
        tokio::time::sleep(
            shared
                .timing
                .poll
                .min(Duration::from_millis(250) * failures),
        )
        .await;
    }
}

/// Reads the subscription until it fails or stays silent too long; says which.
async fn read_until_dead(shared: &Shared, pubsub: redis::aio::PubSub) -> &'static str {
    let mut messages = pubsub.into_on_message();
    let mut check = tokio::time::interval(shared.timing.heartbeat / 2);
    loop {
        tokio::select! {
            message = messages.next() => match message {
                Some(message) => shared.receive(message.get_payload_bytes()),
                None => return "connection closed",
            },
            _ = check.tick() => {
                if shared.heartbeat_age() >= shared.timing.silence {
                    return "no heartbeat heard back";
                }
            }
        }
    }
}

/// While the subscription is down or silent, or a peer heard lately is silent, makes every
/// subscriber re-check each poll interval: sockets still get every acknowledged message, late
/// by at most that much.
async fn watchdog(shared: Arc<Shared>) {
    let mut tick = tokio::time::interval(shared.timing.poll);
    tick.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
    loop {
        tick.tick().await;
        metrics::gauge!("confab_bus_heartbeat_age_seconds")
            .set(shared.heartbeat_age().as_secs_f64());
        let (peer_silent, peers_heard) = shared.peer_silent();
        metrics::gauge!("confab_bus_peers_heard").set(peers_heard as f64);
        if !shared.healthy() || peer_silent {
            shared.feeds.missed();
        }
    }
}
