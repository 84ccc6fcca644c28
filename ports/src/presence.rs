//! The presence board as a port: where every user's sockets are, across instances, and what
//! was last announced about each — the shared state behind `online` and the `presence` event.
//! In process (`adapters/local`) for one instance; Redis (`adapters/redis`) for several. Both
//! pass one contract suite (`tests/tests/presence_board`).
//!
//! Each instance tells the board which users it has a socket of (`mark`), and keeps itself
//! registered (`keep_alive`); an instance that stops doing so (killed) is given up by the
//! others after [`BoardSettings::dead_after`], and one of them adopts its users, so that no
//! user stays online forever. Deciding *what* to announce is not the board's business
//! (`confab_domain::presence::judge`); the board only records an announcement when what it
//! was judged on still holds (`claim`), so that two instances never announce one change twice.
//!
//! A board holds nothing that must survive (the store keeps `last_seen_at`). It MUST stay
//! bounded: entries of users without a socket go when released or adopted, and an offline
//! announcement is forgotten [`BoardSettings::forget_after`] after it was made. Every method
//! MAY fail with `Error::Unavailable` when a shared backend cannot be reached, and MUST do so
//! within its timeout rather than hang.

use std::time::Duration;

use async_trait::async_trait;
use confab_domain::presence::{Announced, Sighting};
use confab_domain::{Timestamp, UserId};

use crate::Result;

/// How long a board remembers things.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct BoardSettings {
    /// An instance that has not kept itself registered for this long counts as dead: its
    /// users are adopted by the next instance that keeps alive.
    pub dead_after: Duration,
    /// How long an offline announcement is remembered (at least the 5 s gap between two
    /// announcements, which it is there to enforce).
    pub forget_after: Duration,
}

impl Default for BoardSettings {
    fn default() -> Self {
        Self {
            dead_after: Duration::from_secs(10),
            forget_after: Duration::from_secs(60),
        }
    }
}

/// What the board knows of one user.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Reading {
    /// Connected on some registered instance; else away since the latest time an instance
    /// still vouching for them saw their last socket close; else unseen.
    pub sighting: Sighting,
    /// The last announcement claimed, if the board still remembers one.
    pub last: Option<Announced>,
}

/// Readings of several users, in the order asked, at the board's `now`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Readings {
    pub now: Timestamp,
    pub of: Vec<Reading>,
}

/// "Record `next` as `user`'s last announcement, if their reading is still `seen`."
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Claim {
    pub user: UserId,
    pub seen: Reading,
    pub next: Announced,
}

/// What became of one claim.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Outcome {
    /// Recorded: this caller announces the change, and no one else will.
    Won,
    /// The reading had changed (or another instance claimed first): here it is now.
    Lost(Reading),
}

/// The outcomes of several claims, in order, and the board's time when they were judged.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Claimed {
    pub now: Timestamp,
    pub outcomes: Vec<Outcome>,
}

/// What keeping alive found.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Upkeep {
    /// This instance was not registered: it had been given up for dead (or the backend lost
    /// its data). What it marked may be gone: mark everything again.
    pub rejoined: bool,
    /// Users of dead instances that this instance now vouches for as away (since their last
    /// socket closed there, or since that instance was last alive): settle them.
    pub adopted: Vec<UserId>,
}

/// Where users' sockets are, and what was last announced about them.
#[cfg_attr(test, mockall::automock)]
#[async_trait]
pub trait PresenceBoard: Send + Sync {
    /// Registers this instance (again) and gives up instances silent for `dead_after`.
    /// MUST be called at start and then regularly (well within `dead_after`).
    /// MUST say `rejoined` when this instance was not registered (on the first call too).
    /// MUST move the entries of every instance silent for `dead_after` to this one, in one
    /// step, exactly once whichever instances keep alive at the same time: a connected entry
    /// becomes away since that instance was last alive, an away entry keeps its time, and an
    /// entry of this instance's own is kept (connected wins; else the later time). MUST list
    /// the users moved in `adopted`.
    async fn keep_alive(&self) -> Result<Upkeep>;

    /// This instance now has a socket of each of `here` (connected), and no more of each of
    /// `gone` (away, since now). A user in neither keeps their entry.
    async fn mark(&self, here: &[UserId], gone: &[UserId]) -> Result<()>;

    /// This instance stops vouching for `users`: their away entries here go. A connected
    /// entry MUST stay.
    async fn release(&self, users: &[UserId]) -> Result<()>;

    /// One reading per user of `users`, in order (an unknown user: unseen, never announced),
    /// at the board's `now`. A user connected on any registered instance is connected, also
    /// when they are away on another.
    async fn read(&self, users: &[UserId]) -> Result<Readings>;

    /// For each claim, in one step per claim: records `next` as the user's last announcement
    /// if their reading now equals `seen` (`Won`), else changes nothing and answers the
    /// reading now (`Lost`). Of claims on one reading made at once, on any instances, MUST
    /// let exactly one win. An offline announcement MUST be forgotten `forget_after` after it
    /// was recorded (an online one is kept while the user is online).
    async fn claim(&self, claims: &[Claim]) -> Result<Claimed>;

    /// This instance stops: its entries are handed over at once (the other instances adopt
    /// them at their next `keep_alive`), or, where no other instance can, answered — each
    /// user with the time their last socket here closed (now, for one still connected) —
    /// for the caller to record, and forgotten.
    async fn close(&self) -> Result<Vec<(UserId, Timestamp)>>;
}
