//! The one presence worker of an instance: tells the board about first and last sockets in
//! batches, keeps the instance registered (adopting the users of dead instances), and judges
//! users when they are due (`settle.rs`). Everything a user's presence needs happens here, in
//! order, so two steps about one user never race; sockets only count and ring.
//!
//! It must never hold more than the users with a socket here, those in their grace here, and
//! their timers; and a failing board must cost retries, never a lost "offline".

use std::collections::{HashMap, HashSet};
use std::sync::Arc;
use std::time::Duration;

use confab_domain::UserId;
use tokio::sync::oneshot;
use tokio::time::Instant;

use super::Shared;
use super::timers::Timers;
use crate::presence::PresenceBoard;

/// Most users told to the board, or judged, in one call.
pub(super) const BATCH: usize = 512;
/// How long after a failed board call it is tried again.
pub(super) const RETRY: Duration = Duration::from_millis(500);

pub(super) struct Worker {
    pub(super) shared: Arc<Shared>,
    /// Users the board was told this instance has a socket of.
    pub(super) told: HashSet<UserId>,
    /// Users whose entry here is away (their last socket here closed, or they were adopted),
    /// and when their grace here ends: then this instance judges them, and lets go of them.
    pub(super) away: HashMap<UserId, Instant>,
    pub(super) timers: Timers,
    /// Whether the board registered this instance once already (a later `rejoined` means it
    /// was given up for dead meanwhile).
    registered: bool,
    /// Everything must be marked again (the board lost this instance's entries).
    remark: bool,
    next_keep_alive: Instant,
    /// When to try again after a failed call (marks that did not get through).
    retry_at: Option<Instant>,
    /// The board is failing: logged once until it answers again.
    failing: bool,
}

impl Worker {
    pub(super) fn new(shared: Arc<Shared>) -> Self {
        Self {
            shared,
            told: HashSet::new(),
            away: HashMap::new(),
            timers: Timers::default(),
            registered: false,
            remark: false,
            next_keep_alive: Instant::now(),
            retry_at: None,
            failing: false,
        }
    }

    pub(super) fn board(&self) -> &dyn PresenceBoard {
        self.shared.ports.presence.as_ref()
    }

    /// Runs until `stop`, then hands the state over.
    pub(super) async fn run(mut self, mut stop: oneshot::Receiver<()>) {
        loop {
            self.step().await;
            let wake_at = self.wake_at();
            tokio::select! {
                biased;
                _ = &mut stop => break,
                () = self.shared.wake.notified() => {}
                () = tokio::time::sleep_until(wake_at) => {}
            }
        }
        self.close().await;
    }

    /// One round: keep alive when due, tell what changed, judge who is due.
    async fn step(&mut self) {
        if Instant::now() >= self.next_keep_alive {
            self.keep_alive().await;
        }
        if self.remark && !self.mark_everything().await {
            return;
        }
        if self.flush_marks().await {
            self.retry_at = None;
        }
        self.settle_due().await;
    }

    fn wake_at(&mut self) -> Instant {
        let mut at = self.next_keep_alive;
        if let Some(t) = self.timers.next() {
            at = at.min(t);
        }
        if let Some(t) = self.retry_at {
            at = at.min(t);
        }
        at
    }

    /// A board call failed: logged once per outage.
    pub(super) fn failed(&mut self, call: &str, e: &crate::Error) {
        if !std::mem::replace(&mut self.failing, true) {
            tracing::warn!(call, error = %e, "the presence board failed; retrying");
        } else {
            tracing::debug!(call, error = %e, "the presence board failed again");
        }
    }

    pub(super) fn answered(&mut self) {
        if std::mem::replace(&mut self.failing, false) {
            tracing::info!("the presence board answers again");
        }
    }

    async fn keep_alive(&mut self) {
        self.next_keep_alive = Instant::now() + self.shared.settings.keep_alive;
        let upkeep = match self.board().keep_alive().await {
            Ok(upkeep) => upkeep,
            Err(e) => return self.failed("keep_alive", &e),
        };
        self.answered();
        if upkeep.rejoined && self.registered {
            tracing::warn!(
                "this instance was given up for dead on the presence board; marking its users again"
            );
            self.remark = true;
        }
        self.registered = true;
        let now = Instant::now();
        if !upkeep.adopted.is_empty() {
            tracing::info!(
                users = upkeep.adopted.len(),
                "adopted the users of a dead instance"
            );
        }
        for user in upkeep.adopted {
            if !self.told.contains(&user) {
                self.away.entry(user).or_insert(now);
            }
            self.timers.at(user, now);
        }
    }

    /// Marks every user this instance holds again, and judges the connected ones (the board
    /// may have announced them offline while this instance counted as dead).
    async fn mark_everything(&mut self) -> bool {
        let here: Vec<UserId> = self.told.iter().copied().collect();
        let gone: Vec<UserId> = self.away.keys().copied().collect();
        for (here, gone) in chunks(&here, &gone) {
            if let Err(e) = self.board().mark(here, gone).await {
                self.failed("mark", &e);
                self.retry_at = Some(Instant::now() + RETRY);
                return false;
            }
        }
        self.remark = false;
        let now = Instant::now();
        for user in here {
            self.timers.at(user, now);
        }
        true
    }

    /// Tells the board every user whose first socket opened or last socket closed here;
    /// whether everything got through.
    async fn flush_marks(&mut self) -> bool {
        loop {
            let batch = self.shared.sockets().take_dirty(BATCH);
            if batch.is_empty() {
                return true;
            }
            let (mut here, mut gone) = (Vec::new(), Vec::new());
            for (user, connected) in batch {
                match (connected, self.told.contains(&user)) {
                    (true, false) => here.push(user),
                    (false, true) => gone.push(user),
                    // Opened and closed again before the board heard of it: no change.
                    _ => {}
                }
            }
            if here.is_empty() && gone.is_empty() {
                continue;
            }
            if let Err(e) = self.board().mark(&here, &gone).await {
                self.failed("mark", &e);
                self.shared.sockets().redirty(here.into_iter().chain(gone));
                self.retry_at = Some(Instant::now() + RETRY);
                return false;
            }
            self.answered();
            self.marked(here, gone);
        }
    }

    fn marked(&mut self, here: Vec<UserId>, gone: Vec<UserId>) {
        let now = Instant::now();
        let grace_ends = now + to_std(self.shared.settings.rules.grace);
        for user in here {
            self.told.insert(user);
            self.away.remove(&user);
            self.timers.at(user, now);
        }
        for user in gone {
            self.told.remove(&user);
            self.away.insert(user, grace_ends);
            self.timers.at(user, grace_ends);
        }
    }

    /// At shutdown: tells the board the last changes (every socket has closed by now), then
    /// closes it, writing `last_seen_at` for the users no other instance will take over.
    async fn close(mut self) {
        self.flush_marks().await;
        match self.board().close().await {
            Ok(last) if last.is_empty() => {}
            Ok(last) => {
                if let Err(e) = self.shared.ports.circles.record_last_seen(&last).await {
                    tracing::warn!(error = %e, users = last.len(), "last_seen_at not written at shutdown");
                }
            }
            Err(e) => {
                tracing::warn!(error = %e, "the presence board was not closed: other instances take over its users when they find it dead");
            }
        }
    }
}

/// `here` and `gone` in calls of at most [`BATCH`] users each.
fn chunks<'a>(
    here: &'a [UserId],
    gone: &'a [UserId],
) -> impl Iterator<Item = (&'a [UserId], &'a [UserId])> {
    here.chunks(BATCH)
        .map(|h| (h, &[][..]))
        .chain(gone.chunks(BATCH).map(|g| (&[][..], g)))
}

/// A domain duration as a wait (negative: none).
pub(super) fn to_std(d: time::Duration) -> Duration {
    Duration::try_from(d).unwrap_or(Duration::ZERO)
}
