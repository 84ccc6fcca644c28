//! The event-bus conformance suite: the contract of `ports/src/bus.rs` checked on every adapter.
//! Each shared case runs over the in-process bus (`bus::local::…`, one instance) and over Redis
//! pub/sub (`bus::redis::…`: two `RedisBus` on one private redis-server stand for two server
//! instances). Every event reaches every subscriber of every instance exactly once, in publish
//! order per publisher; a subscriber that falls behind hears `Missed`; a publisher never waits.
//! The Redis-only cases below the shared ones break the server (kill and restart, SIGSTOP,
//! foreign payloads on the channel) and check that the bus says `Missed`, reports itself not
//! ready, keeps serving its own instance, and recovers.
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod leaving;

use std::collections::BTreeMap;
use std::ops::Range;
use std::time::Duration;

use confab_domain::{Event, GroupId, UserId};
use confab_ports::bus::{EventBus, Notice, Subscription};
use confab_ports::rate_limit::Quotas;
use confab_tests::RedisServer;
use tokio::task::block_in_place;
use tokio::time::{Instant, timeout, timeout_at};
use uuid::Uuid;

/// The channel every `RedisBus` publishes on (adapters/redis/src/bus.rs).
const CHANNEL: &str = "confab:events:0";
/// Longest wait for something that should happen at once (a fence crossing, a local event).
const PROMPT: Duration = Duration::from_secs(10);
/// How soon an instance hands its own events to its own subscribers, whatever Redis does.
const SOON: Duration = Duration::from_millis(500);

/// Instances sharing one fan-out: one in process; two over one Redis server.
struct Instances {
    buses: Vec<Box<dyn EventBus>>,
    server: Option<RedisServer>,
}

async fn local() -> Instances {
    Instances {
        buses: vec![Box::new(confab_local::LocalBus::default())],
        server: None,
    }
}

async fn redis() -> Instances {
    let server = block_in_place(RedisServer::start);
    let mut buses: Vec<Box<dyn EventBus>> = Vec::new();
    for _ in 0..2 {
        let timing = confab_redis::Timing::default();
        let redis =
            confab_redis::connect(&server.url(), Quotas::default(), timing, Default::default())
                .await;
        buses.push(Box::new(redis.expect("connect to Redis").bus));
    }
    let instances = Instances {
        buses,
        server: Some(server),
    };
    instances.until_ready_is(true, Duration::from_secs(5)).await;
    instances
}

/// Event number `seq` of instance `from`.
fn event(from: usize, seq: u64) -> Event {
    Event::Read {
        group_id: GroupId::from_uuid(Uuid::from_u128(from as u128 + 1)),
        user_id: UserId::from_uuid(Uuid::nil()),
        seq,
    }
}

/// A marker no other event equals.
fn fence() -> Event {
    Event::Typing {
        group_id: GroupId::from_uuid(Uuid::nil()),
        user_id: UserId::new(),
    }
}

/// What one subscription heard: the `(publisher, seq)` of each event (`Missed` is allowed
/// whenever: the contract only forbids losing an event without saying so).
#[derive(Debug, Default)]
struct Heard {
    events: Vec<(usize, u64)>,
}

impl Heard {
    /// The seqs heard from each publisher, in the order heard.
    fn per_publisher(&self) -> BTreeMap<usize, Vec<u64>> {
        let mut out = BTreeMap::<usize, Vec<u64>>::new();
        self.events
            .iter()
            .for_each(|&(from, seq)| out.entry(from).or_default().push(seq));
        out
    }

    /// Reads `sub` until it hears `fence`, noting what came before; `None` if that takes
    /// longer than `within`.
    async fn read(
        &mut self,
        sub: &mut Subscription,
        fence: &Event,
        within: Duration,
    ) -> Option<()> {
        let deadline = Instant::now() + within;
        loop {
            let notice = timeout_at(deadline, sub.next()).await.ok()?;
            match notice.expect("the bus keeps its subscriptions") {
                Notice::Missed => {}
                Notice::Event(e) if *e == *fence => return Some(()),
                Notice::Event(e) => match *e {
                    Event::Read { group_id, seq, .. } => {
                        let from = group_id.as_uuid().as_u128() - 1;
                        self.events.push((from as usize, seq));
                    }
                    Event::Typing { .. } => {} // an older fence, from an attempt that timed out
                    ref other => panic!("an event nobody published: {other:?}"),
                },
            }
        }
    }
}

/// `seqs` from each of `publishers` instances.
fn from_each(publishers: usize, seqs: Range<u64>) -> BTreeMap<usize, Vec<u64>> {
    (0..publishers)
        .map(|i| (i, seqs.clone().collect()))
        .collect()
}

/// The next event `sub` hears within `within` (`missed`: the next `Missed`), skipping others.
async fn next(sub: &mut Subscription, within: Duration, missed: bool) -> Notice {
    let deadline = Instant::now() + within;
    loop {
        let notice = timeout_at(deadline, sub.next()).await.expect("in time");
        match notice.expect("the bus keeps its subscriptions") {
            Notice::Missed if !missed => {}
            Notice::Event(_) if missed => {}
            notice => return notice,
        }
    }
}

async fn next_event(sub: &mut Subscription, within: Duration) -> Event {
    let Notice::Event(e) = next(sub, within, false).await else {
        unreachable!()
    };
    (*e).clone()
}

impl Instances {
    fn server(&mut self) -> &mut RedisServer {
        self.server.as_mut().expect("a Redis case")
    }

    /// `per_instance` subscriptions on each instance, instance by instance.
    fn subscribe_each(&self, per_instance: usize) -> Vec<Subscription> {
        let all = 0..self.buses.len() * per_instance;
        all.map(|k| self.buses[k / per_instance].subscribe())
            .collect()
    }

    /// Publishes `seqs` from every instance, interleaved.
    async fn publish_each(&self, seqs: Range<u64>) {
        for seq in seqs {
            for (i, bus) in self.buses.iter().enumerate() {
                bus.publish(event(i, seq)).await;
            }
        }
    }

    /// Waits until every instance's `ready()` says `ready`.
    async fn until_ready_is(&self, ready: bool, within: Duration) {
        let deadline = Instant::now() + within;
        for (i, bus) in self.buses.iter().enumerate() {
            while bus.ready().await.is_ok() != ready {
                assert!(Instant::now() < deadline, "{i}: ready() is not {ready}");
                tokio::time::sleep(Duration::from_millis(20)).await;
            }
        }
    }

    /// Publishes a fence on each instance in turn and reads every subscription until it has
    /// heard that fence; returns what each heard before the last. Once the last instance's
    /// fence has arrived everywhere, so has everything published earlier (and any copy of it).
    /// `None` if a fence took longer than `within`.
    async fn drain_for(&self, subs: &mut [Subscription], within: Duration) -> Option<Vec<Heard>> {
        let mut heard: Vec<Heard> = subs.iter().map(|_| Heard::default()).collect();
        for bus in &self.buses {
            let marker = fence();
            bus.publish(marker.clone()).await;
            for (sub, heard) in subs.iter_mut().zip(&mut heard) {
                heard.read(sub, &marker, within).await?;
            }
        }
        Some(heard)
    }

    async fn drain(&self, subs: &mut [Subscription]) -> Vec<Heard> {
        let heard = self
            .drain_for(subs, PROMPT)
            .await
            .expect("every fence crosses in time");
        for sub in subs.iter_mut() {
            while let Some(notice) = sub.try_next() {
                assert_eq!(notice, Notice::Missed, "heard after the last fence");
            }
        }
        heard
    }

    /// Waits until fences cross between every pair of instances again (after an outage).
    async fn until_crossing(&self, subs: &mut [Subscription], within: Duration) {
        let deadline = Instant::now() + within;
        let attempt = Duration::from_millis(500);
        while self.drain_for(subs, attempt).await.is_none() {
            assert!(Instant::now() < deadline, "events do not cross again");
        }
    }

    /// After recovery: a batch from every instance reaches every subscription exactly once, in
    /// order, with nothing lost.
    async fn events_flow(&self, subs: &mut [Subscription], seqs: Range<u64>) {
        self.publish_each(seqs.clone()).await;
        let expected = from_each(self.buses.len(), seqs);
        for heard in self.drain(subs).await {
            assert_eq!(heard.per_publisher(), expected);
        }
    }
}

/// Each shared case, once per adapter: `bus::local::<case>` and `bus::redis::<case>`.
macro_rules! bus_tests {
    ($($case:ident),* $(,)?) => {
        bus_tests!(@ local: $($case),*);
        bus_tests!(@ redis: $($case),*);
    };
    (@ $adapter:ident: $($case:ident),*) => {
        mod $adapter {
            $(
                #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
                async fn $case() {
                    super::$case(super::$adapter().await).await;
                }
            )*
        }
    };
}

bus_tests!(
    every_subscriber_gets_every_event_once_in_publish_order,
    several_subscribers_each_get_every_event,
    publishing_without_subscribers_is_fine,
    a_dropped_subscription_does_not_break_publishing,
    a_subscriber_that_does_not_read_hears_missed_and_never_blocks_the_publisher,
    ready_is_ok_when_healthy,
);

async fn every_subscriber_gets_every_event_once_in_publish_order(inst: Instances) {
    let mut subs = inst.subscribe_each(1);
    inst.publish_each(0..300).await;
    for heard in inst.drain(&mut subs).await {
        assert_eq!(heard.per_publisher(), from_each(inst.buses.len(), 0..300));
    }
}

async fn several_subscribers_each_get_every_event(inst: Instances) {
    let mut subs = inst.subscribe_each(3);
    inst.publish_each(0..100).await;
    for heard in inst.drain(&mut subs).await {
        assert_eq!(heard.per_publisher(), from_each(inst.buses.len(), 0..100));
    }
}

async fn publishing_without_subscribers_is_fine(inst: Instances) {
    inst.publish_each(0..100).await;
    let mut subs = inst.subscribe_each(1);
    inst.publish_each(100..200).await;
    for (at, heard) in inst.drain(&mut subs).await.iter().enumerate() {
        assert_heard_since(heard, at, inst.buses.len(), 100..200);
    }
}

/// `heard`, by a subscription made on instance `at` just before `seqs` were published from
/// every instance, holds them all, once, in order. An instance's own earlier events never
/// reach a later subscription; another's may still have been on their way when it subscribed.
fn assert_heard_since(heard: &Heard, at: usize, instances: usize, seqs: Range<u64>) {
    let per_publisher = heard.per_publisher();
    assert_eq!(per_publisher.len(), instances, "{at} hears every one");
    for (from, got) in per_publisher {
        let earlier = got.iter().take_while(|&&s| s < seqs.start).count();
        assert!(from != at || earlier == 0, "{at} heard its own old ones");
        let expected: Vec<u64> = got[..earlier].iter().copied().chain(seqs.clone()).collect();
        assert_eq!(got, expected, "on instance {at}, events of {from}");
        assert!(got.windows(2).all(|w| w[0] < w[1]), "in order, once");
    }
}

async fn a_dropped_subscription_does_not_break_publishing(inst: Instances) {
    let mut subs = inst.subscribe_each(1);
    let dropped = inst.subscribe_each(2);
    inst.publish_each(0..50).await;
    drop(dropped); // with events still queued
    inst.publish_each(50..100).await;
    subs.extend(inst.subscribe_each(1));
    inst.publish_each(100..150).await;
    let n = inst.buses.len();
    let heard = inst.drain(&mut subs).await;
    for (at, heard) in heard.iter().enumerate() {
        if at < n {
            assert_eq!(heard.per_publisher(), from_each(n, 0..150), "kept on {at}");
        } else {
            assert_heard_since(heard, at - n, n, 100..150);
        }
    }
    inst.events_flow(&mut subs, 150..160).await;
}

async fn a_subscriber_that_does_not_read_hears_missed_and_never_blocks_the_publisher(
    inst: Instances,
) {
    /// More than a subscription buffers (4096).
    const SENT: u64 = 5000;
    let mut slow = inst.subscribe_each(1);
    // Subscriptions on the other instances that do read, to know when everything has arrived.
    let readers: Vec<_> = inst.buses[1..]
        .iter()
        .map(|bus| {
            let mut sub = bus.subscribe();
            tokio::spawn(async move {
                while next_event(&mut sub, PROMPT).await != event(0, SENT - 1) {}
            })
        })
        .collect();
    let publishing = async {
        for seq in 0..SENT {
            inst.buses[0].publish(event(0, seq)).await;
        }
    };
    timeout(Duration::from_secs(5), publishing)
        .await
        .expect("a full subscriber never blocks the publisher");
    for reader in readers {
        reader.await.unwrap();
    }
    for (at, sub) in slow.iter_mut().enumerate() {
        let first = sub.try_next();
        assert_eq!(first, Some(Notice::Missed), "{at}: the loss is told first");
        let mut kept = Vec::new();
        while let Some(notice) = sub.try_next() {
            match notice {
                Notice::Event(e) => match *e {
                    Event::Read { seq, .. } => kept.push(seq),
                    ref other => panic!("unexpected {other:?}"),
                },
                Notice::Missed => panic!("instance {at}: the loss is told once"),
            }
        }
        let n = kept.len();
        assert!(n > 0 && n < SENT as usize, "{at}: kept {n}");
        assert!(kept.windows(2).all(|w| w[0] < w[1]), "{at}: kept in order");
    }
    // Having caught up, the slow subscriptions hear what comes next.
    inst.events_flow(&mut slow, SENT..SENT + 10).await;
}

async fn ready_is_ok_when_healthy(inst: Instances) {
    for bus in &inst.buses {
        bus.ready().await.expect("a healthy bus is ready");
    }
    let mut subs = inst.subscribe_each(1);
    inst.events_flow(&mut subs, 0..10).await;
    for bus in &inst.buses {
        bus.ready().await.expect("still ready after publishing");
    }
}

// ---- Redis only -------------------------------------------------------------------------

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn redis_events_cross_instances_exactly_once() {
    let inst = redis().await;
    let mut subs = inst.subscribe_each(1);
    for from in 0..2 {
        inst.buses[from].publish(event(from, 1)).await;
        for sub in &mut subs {
            assert_eq!(next_event(sub, PROMPT).await, event(from, 1), "from {from}");
        }
    }
    // Neither hears anything twice (its own events come back from Redis and are skipped).
    for heard in inst.drain(&mut subs).await {
        assert!(heard.events.is_empty(), "heard again: {:?}", heard.events);
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn redis_after_a_restart_subscribers_hear_missed_then_events_flow_again() {
    let mut inst = redis().await;
    let mut subs = inst.subscribe_each(1);
    inst.events_flow(&mut subs, 0..10).await;
    block_in_place(|| inst.server().kill());
    block_in_place(|| inst.server().restart());
    for sub in &mut subs {
        next(sub, Duration::from_secs(5), true).await;
    }
    inst.until_ready_is(true, Duration::from_secs(10)).await;
    inst.until_crossing(&mut subs, Duration::from_secs(10))
        .await;
    inst.events_flow(&mut subs, 100..200).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn redis_while_the_server_is_down_the_bus_is_not_ready_serves_its_own_and_says_missed() {
    let mut inst = redis().await;
    let mut subs = inst.subscribe_each(1);
    block_in_place(|| inst.server().kill());
    let down = Instant::now();
    inst.until_ready_is(false, Duration::from_secs(4)).await;
    assert!(down.elapsed() < Duration::from_secs(4));

    // Each instance still hands its own events to its own subscribers at once.
    for (i, (bus, sub)) in inst.buses.iter().zip(&mut subs).enumerate() {
        let started = Instant::now();
        bus.publish(event(i, 1)).await;
        assert_eq!(next_event(sub, SOON).await, event(i, 1));
        assert!(started.elapsed() < SOON, "waited for Redis");
    }

    // And says Missed about every poll interval (1 s), for as long as Redis is gone.
    let watch = |mut sub: Subscription| {
        tokio::spawn(async move {
            let mut times = Vec::new();
            let until = Instant::now() + Duration::from_millis(3500);
            while let Ok(notice) = timeout_at(until, sub.next()).await {
                assert_eq!(notice, Some(Notice::Missed), "no other instance's events");
                times.push(Instant::now());
            }
            times
        })
    };
    let watchers: Vec<_> = subs.into_iter().map(watch).collect();
    for (at, watcher) in watchers.into_iter().enumerate() {
        let times = watcher.await.unwrap();
        let n = times.len();
        assert!((2..=6).contains(&n), "{at}: {n} Missed in 3.5 s");
        let longest = times.windows(2).map(|w| w[1] - w[0]).max().unwrap();
        assert!(longest.as_millis() < 1600, "{at}: {longest:?} silent");
    }
    assert!(inst.buses[0].ready().await.is_err() && inst.buses[1].ready().await.is_err());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn redis_a_silent_server_is_found_dead_and_the_bus_recovers_on_resume() {
    let mut inst = redis().await;
    let mut subs = inst.subscribe_each(1);
    inst.events_flow(&mut subs, 0..10).await;
    inst.server().pause();
    let paused = Instant::now();
    inst.until_ready_is(false, Duration::from_secs(5)).await;
    let found = paused.elapsed();
    assert!(found.as_secs() >= 1, "found dead too early: {found:?}");
    for sub in &mut subs {
        next(sub, Duration::from_secs(3), true).await;
    }
    // Publishing does not wait for the silent server; an instance's own events still arrive.
    let started = Instant::now();
    inst.buses[0].publish(event(0, 50)).await;
    let own = next_event(&mut subs[0], SOON).await;
    assert_eq!(own, event(0, 50));
    assert!(started.elapsed() < SOON);

    inst.server().resume();
    inst.until_ready_is(true, Duration::from_secs(10)).await;
    inst.until_crossing(&mut subs, Duration::from_secs(10))
        .await;
    inst.events_flow(&mut subs, 100..200).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn redis_a_payload_that_is_not_ours_is_skipped() {
    let mut inst = redis().await;
    let mut subs = inst.subscribe_each(1);
    let client = ::redis::Client::open(inst.server().url()).unwrap();
    let mut raw = client.get_multiplexed_async_connection().await.unwrap();
    let foreign: [&[u8]; 6] = [
        b"",
        b"hello",
        b"{\"type\":\"message.created\"}",
        &[2, 0, 0],
        &[1; 64],
        &[1, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0x7f],
    ];
    for payload in foreign {
        let mut publish = ::redis::cmd("PUBLISH");
        publish.arg(CHANNEL).arg(payload);
        let receivers: i64 = publish.query_async(&mut raw).await.unwrap();
        assert_eq!(receivers, 2, "both instances are subscribed");
    }
    inst.events_flow(&mut subs, 0..20).await;
    inst.until_ready_is(true, Duration::from_secs(1)).await;
}
