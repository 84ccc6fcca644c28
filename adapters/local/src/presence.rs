//! The presence board in memory, for one instance: who has a socket here, who went away when,
//! and what was last announced about whom. No other instance exists, so none is ever given
//! up for dead, and at close the entries are answered for the caller to record.
//!
//! Memory stays bounded: an entry lives while its user is connected or in their grace (until
//! released), and an offline announcement is forgotten `forget_after` after it was made. It
//! must never be shared by two server processes: each would see only its own sockets.

use std::collections::HashMap;
use std::sync::Mutex;
use std::time::Duration;

use async_trait::async_trait;
use confab_domain::presence::{Announced, Sighting};
use confab_domain::{Timestamp, UserId};
use confab_ports::clock::{Clock, SystemClock};
use confab_ports::presence::{
    BoardSettings, Claim, Claimed, Outcome, PresenceBoard, Reading, Readings, Upkeep,
};

/// Forgotten offline announcements are swept at most this often.
const PRUNE_EVERY: Duration = Duration::from_secs(1);

#[derive(Debug, Default)]
struct State {
    /// Connected (`None`) or away since.
    entries: HashMap<UserId, Option<Timestamp>>,
    last: HashMap<UserId, Announced>,
    registered: bool,
    pruned_at: Option<Timestamp>,
}

/// The in-process presence board.
#[derive(Debug)]
pub struct LocalPresence {
    settings: BoardSettings,
    state: Mutex<State>,
}

impl LocalPresence {
    pub fn new(settings: BoardSettings) -> Self {
        Self {
            settings,
            state: Mutex::new(State::default()),
        }
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, State> {
        self.state.lock().unwrap_or_else(|p| p.into_inner())
    }

    fn forget_after(&self) -> time::Duration {
        time::Duration::try_from(self.settings.forget_after).unwrap_or(time::Duration::MAX)
    }

    /// Whether `a` is still remembered at `now`.
    fn remembered(&self, a: &Announced, now: Timestamp) -> bool {
        a.online || now < a.at + self.forget_after()
    }

    fn reading(&self, state: &State, user: UserId, now: Timestamp) -> Reading {
        let sighting = match state.entries.get(&user) {
            Some(None) => Sighting::Connected,
            Some(Some(since)) => Sighting::Away { since: *since },
            None => Sighting::Unseen,
        };
        let last = state
            .last
            .get(&user)
            .filter(|a| self.remembered(a, now))
            .copied();
        Reading { sighting, last }
    }
}

fn now() -> Timestamp {
    SystemClock.now()
}

/// Counts a call, under the same name as the Redis board's (where each is a round trip).
fn counted(call: &'static str) {
    metrics::counter!("confab_presence_board_calls_total", "call" => call).increment(1);
}

#[async_trait]
impl PresenceBoard for LocalPresence {
    async fn keep_alive(&self) -> confab_ports::Result<Upkeep> {
        counted("keep_alive");
        let now = now();
        let mut state = self.lock();
        let due = state
            .pruned_at
            .is_none_or(|at| now - at >= time::Duration::try_from(PRUNE_EVERY).unwrap_or_default());
        if due {
            state.pruned_at = Some(now);
            let forget = self.forget_after();
            state.last.retain(|_, a| a.online || now < a.at + forget);
        }
        let rejoined = !std::mem::replace(&mut state.registered, true);
        Ok(Upkeep {
            rejoined,
            adopted: Vec::new(),
        })
    }

    async fn mark(&self, here: &[UserId], gone: &[UserId]) -> confab_ports::Result<()> {
        counted("mark");
        let now = now();
        let mut state = self.lock();
        for user in here {
            state.entries.insert(*user, None);
        }
        for user in gone {
            state.entries.insert(*user, Some(now));
        }
        Ok(())
    }

    async fn release(&self, users: &[UserId]) -> confab_ports::Result<()> {
        counted("release");
        let mut state = self.lock();
        for user in users {
            if matches!(state.entries.get(user), Some(Some(_))) {
                state.entries.remove(user);
            }
        }
        Ok(())
    }

    async fn read(&self, users: &[UserId]) -> confab_ports::Result<Readings> {
        counted("read");
        let now = now();
        let state = self.lock();
        Ok(Readings {
            now,
            of: users
                .iter()
                .map(|u| self.reading(&state, *u, now))
                .collect(),
        })
    }

    async fn claim(&self, claims: &[Claim]) -> confab_ports::Result<Claimed> {
        counted("claim");
        let now = now();
        let mut state = self.lock();
        let outcomes = claims
            .iter()
            .map(|c| {
                let current = self.reading(&state, c.user, now);
                if current == c.seen {
                    state.last.insert(c.user, c.next);
                    Outcome::Won
                } else {
                    Outcome::Lost(current)
                }
            })
            .collect();
        Ok(Claimed { now, outcomes })
    }

    async fn close(&self) -> confab_ports::Result<Vec<(UserId, Timestamp)>> {
        counted("close");
        let now = now();
        let mut state = self.lock();
        state.last.clear();
        state.registered = false;
        Ok(state
            .entries
            .drain()
            .map(|(user, since)| (user, since.unwrap_or(now)))
            .collect())
    }
}
