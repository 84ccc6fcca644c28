//! Presence, the use case: who is online, told to those who share a group with them.
//!
//! Sockets report their start and end here ([`Presence::connected`], [`Presence::disconnected`]:
//! a count under a lock, never a wait). One worker per instance ([`Presence::start`]) tells the
//! presence board which users this instance has sockets of, in batches, keeps the instance
//! registered, and judges each user whose state may have changed (`domain::presence::judge`:
//! the grace after the last socket closes, the 5 s gap between announcements) — at once on a
//! first socket, when the grace ends on a last one. A change it may announce is claimed on the
//! board (so that no two instances announce it), `last_seen_at` is written for an offline
//! one, and a `presence` event goes on the bus to every group of the user, naming those a
//! block hides it from. Lookups for `user` objects ([`Presence::seen_by`]) cost at most two
//! store queries (who shares a group with the viewer; whom the viewer blocks or is blocked by)
//! and one board read, for a whole list.
//!
//! Nothing here may make a socket or a request wait on the board for long: a failing board
//! costs a request its presence (shown offline), and the worker retries; it never makes
//! anyone appear online who is not.

mod settle;
mod sockets;
mod timers;
mod worker;

use std::collections::HashSet;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use confab_domain::presence::{PresenceRules, Seen, Sighting, may_see};
use confab_domain::{User, UserId};
use tokio::sync::{Notify, oneshot};
use tokio::task::JoinHandle;

use crate::{Ports, Result};
use sockets::Sockets;

/// How presence is timed on this instance.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct PresenceSettings {
    pub rules: PresenceRules,
    /// How often this instance keeps itself registered on the board (well within the
    /// board's `dead_after`).
    pub keep_alive: Duration,
}

impl Default for PresenceSettings {
    fn default() -> Self {
        Self {
            rules: PresenceRules::default(),
            keep_alive: Duration::from_secs(1),
        }
    }
}

/// What the handles and the worker share.
struct Shared {
    ports: Arc<Ports>,
    settings: PresenceSettings,
    sockets: Mutex<Sockets>,
    /// Rung when a user's first socket opens or last socket closes.
    wake: Notify,
}

impl Shared {
    fn sockets(&self) -> std::sync::MutexGuard<'_, Sockets> {
        self.sockets.lock().unwrap_or_else(|p| p.into_inner())
    }
}

/// Presence use cases. Cheap to clone.
#[derive(Clone)]
pub struct Presence {
    shared: Arc<Shared>,
}

/// The running worker, stopped by [`PresenceWorker::close`].
pub struct PresenceWorker {
    stop: Option<oneshot::Sender<()>>,
    task: JoinHandle<()>,
}

/// Longest wait for the worker to hand its state over at shutdown.
const CLOSE_WAIT: Duration = Duration::from_secs(5);

impl PresenceWorker {
    /// Stops the worker: what sockets reported is told to the board, and the board is closed
    /// (its entries handed to other instances, or their `last_seen_at` written).
    pub async fn close(mut self) {
        if let Some(stop) = self.stop.take() {
            let _ = stop.send(());
        }
        if tokio::time::timeout(CLOSE_WAIT, &mut self.task)
            .await
            .is_err()
        {
            tracing::warn!("presence did not hand its state over in time");
            self.task.abort();
        }
    }
}

impl Drop for PresenceWorker {
    fn drop(&mut self) {
        if self.stop.is_some() {
            self.task.abort();
        }
    }
}

impl Presence {
    /// The use cases over `ports` (its board and its store's `Circles`).
    pub fn new(ports: Ports, settings: PresenceSettings) -> Self {
        Self {
            shared: Arc::new(Shared {
                ports: Arc::new(ports),
                settings,
                sockets: Mutex::new(Sockets::default()),
                wake: Notify::new(),
            }),
        }
    }

    /// Starts this instance's worker on the current runtime. Start one per instance, before
    /// sockets are served.
    pub fn start(&self) -> PresenceWorker {
        let (stop, stopped) = oneshot::channel();
        let worker = worker::Worker::new(Arc::clone(&self.shared));
        PresenceWorker {
            stop: Some(stop),
            task: tokio::spawn(worker.run(stopped)),
        }
    }

    /// A socket of `user` opened on this instance.
    pub fn connected(&self, user: UserId) {
        if self.shared.sockets().opened(user) {
            self.shared.wake.notify_one();
        }
    }

    /// A socket of `user` closed on this instance (once for each [`Presence::connected`]).
    pub fn disconnected(&self, user: UserId) {
        if self.shared.sockets().closed(user) {
            self.shared.wake.notify_one();
        }
    }

    /// The presence of each of `users` as `viewer` may see it, in order: their own, and that
    /// of users who share a group with them and have no block between them; everyone else is
    /// [`Seen::HIDDEN`]. At most two store queries and one board read for the whole list.
    pub async fn seen_by(&self, viewer: UserId, users: &[&User]) -> Result<Vec<Seen>> {
        let mut others: Vec<UserId> = users
            .iter()
            .map(|u| u.id)
            .filter(|id| *id != viewer)
            .collect();
        others.sort_unstable();
        others.dedup();
        let sharing: HashSet<UserId> = if others.is_empty() {
            HashSet::new()
        } else {
            let circles = &self.shared.ports.circles;
            circles
                .sharing_with(viewer, &others)
                .await?
                .into_iter()
                .collect()
        };
        // Nobody shares a group: no block can matter.
        let blocked = if sharing.is_empty() {
            HashSet::new()
        } else {
            self.blocked_with(viewer).await?
        };
        Ok(self
            .seen_where(users, |id| {
                may_see(viewer, id, sharing.contains(&id), blocked.contains(&id))
            })
            .await)
    }

    /// The presence of each of `users`, who all share a group with `viewer` (a group's
    /// members, to one of them), but for those a block stands between: one store query and
    /// one board read. If the blocks cannot be read, only the viewer's own is shown.
    pub async fn seen_among(&self, viewer: UserId, users: &[&User]) -> Vec<Seen> {
        match self.blocked_with(viewer).await {
            Ok(blocked) => {
                self.seen_where(users, |id| may_see(viewer, id, true, blocked.contains(&id)))
                    .await
            }
            Err(e) => {
                tracing::warn!(error = %e, "blocks cannot be read; members are shown offline");
                self.seen_where(users, |id| id == viewer).await
            }
        }
    }

    /// Everyone a block stands between `viewer` and, whoever blocked whom.
    async fn blocked_with(&self, viewer: UserId) -> Result<HashSet<UserId>> {
        let pairs = self.shared.ports.circles.blocks_touching(&[viewer]).await?;
        Ok(pairs.into_iter().map(|(_, other)| other).collect())
    }

    async fn seen_where(&self, users: &[&User], visible: impl Fn(UserId) -> bool) -> Vec<Seen> {
        let mut shown: Vec<UserId> = users
            .iter()
            .map(|u| u.id)
            .filter(|id| visible(*id))
            .collect();
        shown.sort_unstable();
        shown.dedup();
        if shown.is_empty() {
            return vec![Seen::HIDDEN; users.len()];
        }
        let rules = self.shared.settings.rules;
        let (now, readings) = match self.shared.ports.presence.read(&shown).await {
            Ok(readings) => (readings.now, readings.of),
            Err(e) => {
                // Presence is not worth failing a request for: shown offline meanwhile (an
                // unseen user's presence does not depend on the time).
                tracing::warn!(error = %e, "presence cannot be read; users are shown offline");
                (confab_domain::Timestamp::UNIX_EPOCH, Vec::new())
            }
        };
        users
            .iter()
            .map(|u| match shown.binary_search(&u.id) {
                Ok(i) => {
                    let sighting = readings.get(i).map_or(Sighting::Unseen, |r| r.sighting);
                    Seen::of(rules, sighting, u.last_seen_at, now)
                }
                Err(_) => Seen::HIDDEN,
            })
            .collect()
    }
}
