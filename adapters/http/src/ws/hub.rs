//! The hub: one per instance. It listens to the bus and hands each event to the sessions of the
//! users it concerns, keeping `group → sessions` and `user → sessions` in step with membership
//! events, in bus order. It never waits: a session whose inbox is full is dropped (its socket
//! closes with 1013, and the client resumes with `sync`), so one slow client slows nobody.

use std::collections::{HashMap, HashSet};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex, OnceLock};
use std::time::Duration;

use axum::extract::ws::Utf8Bytes;
use confab_domain::{Event, GroupId, UserId};
use confab_ports::bus::{Notice, Subscription};
use tokio::sync::{mpsc, watch};

/// An event on its way to the sessions, with room for the frame they share: every session
/// that is in step with the event's group sends the same text, so it is encoded once, by the
/// first session that needs it, and the others send the same bytes.
#[derive(Debug)]
pub struct Live {
    pub event: Arc<Event>,
    shared: OnceLock<Option<(Utf8Bytes, &'static str)>>,
}

impl Live {
    pub(crate) fn new(event: Arc<Event>) -> Self {
        Self {
            event,
            shared: OnceLock::new(),
        }
    }

    /// The frame every in-step recipient sends and its type, made by `encode` the first time
    /// it is asked (`None` when it could not be encoded).
    pub fn shared_frame(
        &self,
        encode: impl FnOnce() -> Option<(Utf8Bytes, &'static str)>,
    ) -> Option<(Utf8Bytes, &'static str)> {
        self.shared.get_or_init(encode).clone()
    }
}

/// What a session gets from the hub.
#[derive(Debug, Clone)]
pub enum Delivery {
    Event(Arc<Live>),
    /// The hub may have missed events (the bus lagged or lost its connection): re-check every
    /// group against the store, and the session's routing with it.
    Resync,
}

/// A session's handle in the hub.
pub type SessionKey = u64;

struct Entry {
    user: UserId,
    inbox: mpsc::Sender<Delivery>,
    /// A `Resync` is queued and its re-check has not started: another loss adds nothing, so
    /// a burst of losses costs each session one re-check, not one each.
    resync_queued: bool,
}

#[derive(Default)]
struct Index {
    next: SessionKey,
    sessions: HashMap<SessionKey, Entry>,
    by_user: HashMap<UserId, HashSet<SessionKey>>,
    by_group: HashMap<GroupId, HashSet<SessionKey>>,
}

/// Routes events to connected sessions.
pub struct Hub {
    index: Mutex<Index>,
    inbox_capacity: usize,
    shutdown: watch::Sender<bool>,
    /// Sessions attached and not yet detached. Not the index's size: a session dropped from
    /// the index for falling behind still runs until its socket has closed, and shutdown
    /// waits for it too.
    running: AtomicUsize,
}

impl Index {
    fn sessions_of(&self, user: UserId) -> Vec<SessionKey> {
        self.by_user
            .get(&user)
            .map(|s| s.iter().copied().collect())
            .unwrap_or_default()
    }

    fn join(&mut self, group: GroupId, user: UserId) {
        let keys = self.sessions_of(user);
        self.by_group.entry(group).or_default().extend(keys);
    }

    fn leave(&mut self, group: GroupId, user: UserId) {
        let keys = self.sessions_of(user);
        if let Some(set) = self.by_group.get_mut(&group) {
            for k in keys {
                set.remove(&k);
            }
            if set.is_empty() {
                self.by_group.remove(&group);
            }
        }
    }

    fn in_group(&self, group: GroupId) -> Vec<SessionKey> {
        self.by_group
            .get(&group)
            .map(|s| s.iter().copied().collect())
            .unwrap_or_default()
    }

    fn remove(&mut self, key: SessionKey) {
        if let Some(entry) = self.sessions.remove(&key) {
            if let Some(set) = self.by_user.get_mut(&entry.user) {
                set.remove(&key);
                if set.is_empty() {
                    self.by_user.remove(&entry.user);
                }
            }
            self.by_group.retain(|_, set| {
                set.remove(&key);
                !set.is_empty()
            });
        }
    }

    /// Who hears `event`, updating the index for membership events first or after, so that a
    /// joiner hears their own join and a leaver their own leave.
    fn recipients(&mut self, event: &Event) -> Vec<SessionKey> {
        match event {
            Event::GroupCreated { group_id, members } => {
                for user in members {
                    self.join(*group_id, *user);
                }
                self.in_group(*group_id)
            }
            Event::MemberJoined {
                group_id, user_id, ..
            } => {
                self.join(*group_id, *user_id);
                self.in_group(*group_id)
            }
            Event::MemberLeft { group_id, user_id } => {
                // The leaver hears it on every socket, also one whose routing was not set up
                // yet when the leave happened.
                let mut to = self.in_group(*group_id);
                to.extend(self.sessions_of(*user_id));
                to.sort_unstable();
                to.dedup();
                self.leave(*group_id, *user_id);
                to
            }
            Event::GroupDeleted { group_id, members } => {
                let mut to = self.in_group(*group_id);
                // The last one out is no longer in the group's set but must still hear it.
                for user in members {
                    to.extend(self.sessions_of(*user));
                }
                to.sort_unstable();
                to.dedup();
                self.by_group.remove(group_id);
                to
            }
            // Server-wide: every session of every user, in a group or not.
            Event::AnnouncementCreated { .. } => self.sessions.keys().copied().collect(),
            // Addressed to the banned user's own sockets, which it ends.
            Event::UserBanned { user_id } => self.sessions_of(*user_id),
            // To everyone in a group with the user (closed ones too), and the user's own.
            Event::Presence {
                user_id, groups, ..
            } => {
                let mut to = self.sessions_of(*user_id);
                for group in groups {
                    to.extend(self.in_group(*group));
                }
                to.sort_unstable();
                to.dedup();
                to
            }
            Event::PoolMatched { group_id, members } => {
                // Addressed to the matched users themselves, on every socket of theirs.
                let mut to = Vec::new();
                for user in members {
                    self.join(*group_id, *user);
                    to.extend(self.sessions_of(*user));
                }
                to.sort_unstable();
                to.dedup();
                to
            }
            other => other
                .group_id()
                .map(|group| self.in_group(group))
                .unwrap_or_default(),
        }
    }
}

impl Hub {
    /// Starts a hub fed by `notices` (a subscription to the bus); each session's inbox holds up
    /// to `inbox_capacity` deliveries.
    pub fn start(mut notices: Subscription, inbox_capacity: usize) -> Arc<Self> {
        let hub = Arc::new(Self {
            index: Mutex::new(Index::default()),
            inbox_capacity: inbox_capacity.max(1),
            shutdown: watch::channel(false).0,
            running: AtomicUsize::new(0),
        });
        let weak = Arc::downgrade(&hub);
        tokio::spawn(async move {
            while let Some(notice) = notices.next().await {
                let Some(hub) = weak.upgrade() else { break };
                match notice {
                    Notice::Event(event) => hub.dispatch(event),
                    Notice::Missed => {
                        tracing::debug!("the bus may have lost events; sessions re-check");
                        metrics::counter!("confab_bus_rechecks_total").increment(1);
                        hub.resync_all();
                    }
                }
            }
        });
        hub
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, Index> {
        self.index.lock().unwrap_or_else(|p| p.into_inner())
    }

    /// Registers a session of `user` in `groups`; events arrive on the returned inbox. When
    /// the inbox closes (`None`), the hub has dropped the session for falling behind.
    pub fn attach(
        &self,
        user: UserId,
        groups: impl IntoIterator<Item = GroupId>,
    ) -> (SessionKey, mpsc::Receiver<Delivery>) {
        let (tx, rx) = mpsc::channel(self.inbox_capacity);
        self.running.fetch_add(1, Ordering::SeqCst);
        let mut index = self.lock();
        index.next += 1;
        let key = index.next;
        index.sessions.insert(
            key,
            Entry {
                user,
                inbox: tx,
                resync_queued: false,
            },
        );
        index.by_user.entry(user).or_default().insert(key);
        for group in groups {
            index.by_group.entry(group).or_default().insert(key);
        }
        metrics::gauge!("confab_ws_sockets_connected").set(index.sessions.len() as f64);
        (key, rx)
    }

    /// Corrects a session's routing after a re-check read its groups from the store: routes
    /// `current` to it and stops routing `gone` (groups it had but no longer has). Nothing
    /// else is removed, so a group joined after the store was read keeps the route the hub
    /// gave it on the join.
    pub fn reroute(
        &self,
        key: SessionKey,
        current: impl IntoIterator<Item = GroupId>,
        gone: &[GroupId],
    ) {
        let mut index = self.lock();
        if !index.sessions.contains_key(&key) {
            return;
        }
        for group in current {
            index.by_group.entry(group).or_default().insert(key);
        }
        for group in gone {
            if let Some(set) = index.by_group.get_mut(group) {
                set.remove(&key);
                if set.is_empty() {
                    index.by_group.remove(group);
                }
            }
        }
    }

    /// A session starts the re-check its `Resync` asked for, before it reads the store: a loss
    /// from now on queues another.
    pub fn recheck_started(&self, key: SessionKey) {
        if let Some(entry) = self.lock().sessions.get_mut(&key) {
            entry.resync_queued = false;
        }
    }

    /// Adds groups to a session's routing (groups it was already in are fine).
    pub fn add_groups(&self, key: SessionKey, groups: impl IntoIterator<Item = GroupId>) {
        let mut index = self.lock();
        if index.sessions.contains_key(&key) {
            for group in groups {
                index.by_group.entry(group).or_default().insert(key);
            }
        }
    }

    /// Forgets a session: called once for each [`Hub::attach`], when its socket has closed.
    pub fn detach(&self, key: SessionKey) {
        self.running.fetch_sub(1, Ordering::SeqCst);
        let mut index = self.lock();
        index.remove(key);
        metrics::gauge!("confab_ws_sockets_connected").set(index.sessions.len() as f64);
    }

    fn dispatch(&self, event: Arc<Event>) {
        let mut index = self.lock();
        let recipients = index.recipients(&event);
        let live = Arc::new(Live::new(event));
        let mut overflowed = Vec::new();
        for key in &recipients {
            if let Some(entry) = index.sessions.get(key)
                && entry
                    .inbox
                    .try_send(Delivery::Event(Arc::clone(&live)))
                    .is_err()
            {
                overflowed.push(*key);
            }
        }
        metrics::counter!("confab_ws_events_fanned_out_total").increment(recipients.len() as u64);
        for key in overflowed {
            // Dropping the entry drops its inbox sender: the session sees the end and closes
            // with 1013 (and counts it).
            index.remove(key);
        }
    }

    fn resync_all(&self) {
        let mut index = self.lock();
        let mut full = Vec::new();
        for (key, entry) in index.sessions.iter_mut() {
            if entry.resync_queued {
                continue;
            }
            if entry.inbox.try_send(Delivery::Resync).is_ok() {
                entry.resync_queued = true;
            } else {
                full.push(*key);
            }
        }
        for key in full {
            index.remove(key);
        }
    }

    /// Completes when the server is shutting down.
    pub fn shutdown_signal(&self) -> watch::Receiver<bool> {
        self.shutdown.subscribe()
    }

    /// Tells every session to close (1001, after the answers it owes) and waits until all
    /// have, for at most `grace`.
    pub async fn close_all(&self, grace: Duration) {
        let _ = self.shutdown.send(true);
        let deadline = tokio::time::Instant::now() + grace;
        while self.running.load(Ordering::SeqCst) > 0 && tokio::time::Instant::now() < deadline {
            tokio::time::sleep(Duration::from_millis(20)).await;
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use confab_domain::Role;
    use confab_ports::bus::{Feed, subscription};

    /// A hub and the feed that stands for the bus.
    fn hub(inbox_capacity: usize) -> (Feed, Arc<Hub>) {
        let (feed, notices) = subscription(64);
        (feed, Hub::start(notices, inbox_capacity))
    }

    fn publish(feed: &Feed, event: Event) {
        feed.deliver(Arc::new(event));
    }

    async fn next(rx: &mut mpsc::Receiver<Delivery>) -> Event {
        match tokio::time::timeout(Duration::from_secs(2), rx.recv()).await {
            Ok(Some(Delivery::Event(e))) => (*e.event).clone(),
            other => panic!("no event: {other:?}"),
        }
    }

    #[tokio::test]
    async fn events_reach_the_sessions_of_members_only() {
        let (bus, hub) = hub(16);
        let (alice, bob, g) = (UserId::new(), UserId::new(), GroupId::new());
        let (_, mut a) = hub.attach(alice, [g]);
        let (_, mut b) = hub.attach(bob, []);
        publish(&bus, Event::GroupUpdated { group_id: g });
        assert_eq!(next(&mut a).await, Event::GroupUpdated { group_id: g });
        // Bob joins: he hears his own join and what follows.
        let joined = Event::MemberJoined {
            group_id: g,
            user_id: bob,
            role: Role::Member,
        };
        publish(&bus, joined.clone());
        assert_eq!(next(&mut a).await, joined);
        assert_eq!(next(&mut b).await, joined);
        // Bob leaves: he hears his leave, then nothing more of the group.
        let left = Event::MemberLeft {
            group_id: g,
            user_id: bob,
        };
        publish(&bus, left.clone());
        assert_eq!(next(&mut b).await, left);
        publish(&bus, Event::GroupUpdated { group_id: g });
        assert_eq!(next(&mut a).await, left);
        assert_eq!(next(&mut a).await, Event::GroupUpdated { group_id: g });
        assert!(b.try_recv().is_err());
    }

    #[tokio::test]
    async fn an_announcement_reaches_every_session_in_a_group_or_not() {
        let (bus, hub) = hub(16);
        let (alice, g) = (UserId::new(), GroupId::new());
        let (_, mut in_group) = hub.attach(alice, [g]);
        let (_, mut alone) = hub.attach(UserId::new(), []);
        let (_, mut alone_too) = hub.attach(alice, []);
        let event = Event::AnnouncementCreated {
            announcement: confab_domain::Announcement {
                id: confab_domain::AnnouncementId::new(),
                sender_id: UserId::new(),
                body: "hello".into(),
                created_at: time::OffsetDateTime::UNIX_EPOCH,
            },
        };
        publish(&bus, event.clone());
        for rx in [&mut in_group, &mut alone, &mut alone_too] {
            assert_eq!(next(rx).await, event);
            assert!(rx.try_recv().is_err());
        }
    }

    #[tokio::test]
    async fn a_pool_match_reaches_both_users_alone_and_routes_the_room_to_them() {
        let (bus, hub) = hub(16);
        let (alice, bob, room) = (UserId::new(), UserId::new(), GroupId::new());
        let (_, mut a) = hub.attach(alice, []);
        let (_, mut b) = hub.attach(bob, []);
        let (_, mut other) = hub.attach(UserId::new(), []);
        let matched = Event::PoolMatched {
            group_id: room,
            members: vec![alice, bob],
        };
        publish(&bus, matched.clone());
        assert_eq!(next(&mut a).await, matched);
        assert_eq!(next(&mut b).await, matched);
        // From then on the room's events reach both of them, and nobody else.
        publish(&bus, Event::GroupClosed { group_id: room });
        assert_eq!(next(&mut a).await, Event::GroupClosed { group_id: room });
        assert_eq!(next(&mut b).await, Event::GroupClosed { group_id: room });
        assert!(other.try_recv().is_err());
    }

    #[tokio::test]
    async fn a_full_inbox_drops_that_session_alone() {
        let (bus, hub) = hub(2);
        let (user, g) = (UserId::new(), GroupId::new());
        let (_, mut slow) = hub.attach(user, [g]);
        let (_, mut fast) = hub.attach(UserId::new(), [g]);
        for _ in 0..5 {
            publish(&bus, Event::GroupUpdated { group_id: g });
            next(&mut fast).await;
        }
        // The slow one got what fit, then its inbox was closed.
        let mut got = 0;
        while slow.recv().await.is_some() {
            got += 1;
        }
        assert_eq!(got, 2);
    }

    #[tokio::test]
    async fn a_loss_on_the_bus_makes_every_session_recheck() {
        let (bus, hub) = hub(16);
        let (_, mut a) = hub.attach(UserId::new(), [GroupId::new()]);
        let (_, mut b) = hub.attach(UserId::new(), []);
        bus.missed();
        for rx in [&mut a, &mut b] {
            let got = tokio::time::timeout(Duration::from_secs(2), rx.recv()).await;
            assert!(matches!(got, Ok(Some(Delivery::Resync))), "{got:?}");
        }
    }

    #[tokio::test]
    async fn reroute_adds_current_groups_drops_gone_ones_and_keeps_the_rest() {
        let (bus, hub) = hub(16);
        let (gone, kept, found, joined) = (
            GroupId::new(),
            GroupId::new(),
            GroupId::new(),
            GroupId::new(),
        );
        let user = UserId::new();
        let (key, mut rx) = hub.attach(user, [gone, kept]);
        // A join the re-check's read did not see yet.
        publish(
            &bus,
            Event::GroupCreated {
                group_id: joined,
                members: vec![user],
            },
        );
        assert!(matches!(next(&mut rx).await, Event::GroupCreated { .. }));
        hub.reroute(key, [kept, found], &[gone]);
        for g in [gone, kept, found, joined] {
            publish(&bus, Event::GroupUpdated { group_id: g });
        }
        for g in [kept, found, joined] {
            assert_eq!(next(&mut rx).await, Event::GroupUpdated { group_id: g });
        }
        assert!(rx.try_recv().is_err());
    }

    #[tokio::test]
    async fn losses_in_a_burst_queue_one_resync_until_it_starts() {
        let (bus, hub) = hub(16);
        let (key, mut rx) = hub.attach(UserId::new(), []);
        for _ in 0..5 {
            bus.missed();
            tokio::task::yield_now().await;
        }
        let got = tokio::time::timeout(Duration::from_secs(2), rx.recv()).await;
        assert!(matches!(got, Ok(Some(Delivery::Resync))));
        tokio::time::sleep(Duration::from_millis(50)).await;
        assert!(rx.try_recv().is_err(), "one Resync for the burst");
        hub.recheck_started(key);
        bus.missed();
        let got = tokio::time::timeout(Duration::from_secs(2), rx.recv()).await;
        assert!(
            matches!(got, Ok(Some(Delivery::Resync))),
            "a loss after the start counts"
        );
    }

    #[tokio::test]
    async fn shutdown_waits_for_a_session_dropped_for_falling_behind() {
        let (bus, hub) = hub(1);
        let g = GroupId::new();
        let (key, mut slow) = hub.attach(UserId::new(), [g]);
        for _ in 0..3 {
            publish(&bus, Event::GroupUpdated { group_id: g });
        }
        while slow.recv().await.is_some() {}
        // Out of the index, but its task still closes its socket: shutdown waits for it.
        let closing = tokio::spawn({
            let hub = Arc::clone(&hub);
            async move { hub.close_all(Duration::from_secs(5)).await }
        });
        tokio::time::sleep(Duration::from_millis(100)).await;
        assert!(
            !closing.is_finished(),
            "close_all returned with a session running"
        );
        hub.detach(key);
        tokio::time::timeout(Duration::from_secs(2), closing)
            .await
            .expect("close_all returns once the session detached")
            .expect("close_all does not panic");
    }
}
