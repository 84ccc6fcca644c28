//! The presence board over Redis, shared by every instance: per instance a sorted set of its
//! users (connected, or away since when) that expires unless the instance keeps alive; an
//! instance registry from which a dead instance is adopted by the first live one to notice;
//! per user the last announcement, claimed by compare-and-set. One Lua script per call
//! (`scripts.rs`), so every call is one round trip whatever the number of users.
//!
//! This module must never hold a caller longer than the command timeout, and never keep a
//! key that nothing will expire or delete (but an online announcement, deleted when the user
//! is announced offline).

mod scripts;

use std::time::Duration;

use async_trait::async_trait;
use confab_domain::presence::{Announced, Sighting};
use confab_domain::{Timestamp, UserId, from_unix_millis, unix_millis};
use confab_ports::presence::{
    BoardSettings, Claim, Claimed, Outcome, PresenceBoard, Reading, Readings, Upkeep,
};
use redis::{FromRedisValue, Script, ScriptInvocation};
use uuid::Uuid;

use crate::link::Link;
use scripts::Scripts;

/// Every key of the board starts with this.
pub(crate) const PREFIX: &str = "confab:presence:";

/// Where users' sockets are, across the instances on one Redis.
pub struct RedisPresence {
    link: Link,
    /// This instance's id on the board.
    instance: String,
    settings: BoardSettings,
    scripts: Scripts,
}

impl std::fmt::Debug for RedisPresence {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("RedisPresence")
            .field("instance", &self.instance)
            .field("settings", &self.settings)
            .finish_non_exhaustive()
    }
}

fn millis(d: Duration) -> u64 {
    u64::try_from(d.as_millis()).unwrap_or(u64::MAX).max(1)
}

/// A time the board wrote (ms); out of range reads as the epoch, never a panic.
fn time(ms: i64) -> Timestamp {
    from_unix_millis(ms).unwrap_or(Timestamp::UNIX_EPOCH)
}

/// A reading from the script's four numbers.
fn reading(n: &[i64]) -> Reading {
    let sighting = match n.first() {
        Some(1) => Sighting::Connected,
        Some(2) => Sighting::Away {
            since: time(n.get(1).copied().unwrap_or(0)),
        },
        _ => Sighting::Unseen,
    };
    let last = match n.get(2) {
        Some(on @ (0 | 1)) => Some(Announced {
            online: *on == 1,
            at: time(n.get(3).copied().unwrap_or(0)),
        }),
        _ => None,
    };
    Reading { sighting, last }
}

/// The script's four numbers for a reading (what a claim compares).
fn numbers(r: &Reading) -> [i64; 4] {
    let (kind, since) = match r.sighting {
        Sighting::Unseen => (0, 0),
        Sighting::Connected => (1, 0),
        Sighting::Away { since } => (2, unix_millis(since)),
    };
    let (on, at) = match r.last {
        None => (-1, 0),
        Some(a) => (i64::from(a.online), unix_millis(a.at)),
    };
    [kind, since, on, at]
}

impl RedisPresence {
    pub(crate) fn new(link: Link, settings: BoardSettings) -> Self {
        Self {
            link,
            instance: Uuid::now_v7().to_string(),
            settings,
            scripts: Scripts::new(),
        }
    }

    /// How long an instance's set outlives its last keep-alive: long enough for another
    /// instance to adopt it, bounded so that nothing stays if none ever does.
    fn set_ttl(&self) -> u64 {
        millis(self.settings.dead_after).saturating_mul(6)
    }

    /// Runs one script, counting the call; a failure is `Unavailable`.
    async fn run<T: FromRedisValue + Send>(
        &self,
        name: &'static str,
        call: ScriptInvocation<'_>,
    ) -> confab_ports::Result<T> {
        metrics::counter!("confab_presence_board_calls_total", "call" => name).increment(1);
        self.link
            .run(|mut c| async move { call.invoke_async::<T>(&mut c).await })
            .await
            .map_err(|e| confab_ports::Error::Unavailable(format!("Redis (presence): {e}")))
    }

    fn invocation<'a>(&self, script: &'a Script) -> ScriptInvocation<'a> {
        let mut call = script.prepare_invoke();
        call.arg(PREFIX);
        call
    }
}

#[async_trait]
impl PresenceBoard for RedisPresence {
    async fn keep_alive(&self) -> confab_ports::Result<Upkeep> {
        let mut call = self.invocation(&self.scripts.keep_alive);
        call.arg(&self.instance)
            .arg(millis(self.settings.dead_after))
            .arg(self.set_ttl());
        let answer: Vec<String> = self.run("keep_alive", call).await?;
        let mut answer = answer.into_iter();
        let known = answer.next().is_some_and(|k| k == "1");
        let adopted = answer
            .filter_map(|id| Uuid::parse_str(&id).ok().map(UserId::from_uuid))
            .collect();
        Ok(Upkeep {
            rejoined: !known,
            adopted,
        })
    }

    async fn mark(&self, here: &[UserId], gone: &[UserId]) -> confab_ports::Result<()> {
        if here.is_empty() && gone.is_empty() {
            return Ok(());
        }
        let mut call = self.invocation(&self.scripts.mark);
        call.arg(&self.instance).arg(self.set_ttl()).arg(here.len());
        for user in here.iter().chain(gone) {
            call.arg(user.to_string());
        }
        self.run::<i64>("mark", call).await.map(drop)
    }

    async fn release(&self, users: &[UserId]) -> confab_ports::Result<()> {
        if users.is_empty() {
            return Ok(());
        }
        let mut call = self.invocation(&self.scripts.release);
        call.arg(&self.instance);
        for user in users {
            call.arg(user.to_string());
        }
        self.run::<i64>("release", call).await.map(drop)
    }

    async fn read(&self, users: &[UserId]) -> confab_ports::Result<Readings> {
        let mut call = self.invocation(&self.scripts.read);
        for user in users {
            call.arg(user.to_string());
        }
        let answer: Vec<i64> = self.run("read", call).await?;
        let (now, rest) = answer.split_first().unwrap_or((&0, &[]));
        Ok(Readings {
            now: time(*now),
            of: rest.chunks(4).map(reading).collect(),
        })
    }

    async fn claim(&self, claims: &[Claim]) -> confab_ports::Result<Claimed> {
        let mut call = self.invocation(&self.scripts.claim);
        call.arg(millis(self.settings.forget_after));
        for c in claims {
            call.arg(c.user.to_string());
            for n in numbers(&c.seen) {
                call.arg(n);
            }
            call.arg(i64::from(c.next.online))
                .arg(unix_millis(c.next.at));
        }
        let answer: Vec<i64> = self.run("claim", call).await?;
        let (now, rest) = answer.split_first().unwrap_or((&0, &[]));
        let outcomes = rest
            .chunks(5)
            .map(|n| match n.split_first() {
                Some((1, _)) => Outcome::Won,
                Some((_, r)) => Outcome::Lost(reading(r)),
                None => Outcome::Lost(reading(&[])),
            })
            .collect();
        Ok(Claimed {
            now: time(*now),
            outcomes,
        })
    }

    async fn close(&self) -> confab_ports::Result<Vec<(UserId, Timestamp)>> {
        let mut call = self.invocation(&self.scripts.close);
        call.arg(&self.instance);
        // The other instances adopt this one's entries at their next keep-alive.
        self.run::<i64>("close", call).await.map(|_| Vec::new())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn readings_go_to_numbers_and_back() {
        let at = time(1_767_225_600_123);
        for r in [
            Reading {
                sighting: Sighting::Unseen,
                last: None,
            },
            Reading {
                sighting: Sighting::Connected,
                last: Some(Announced { online: true, at }),
            },
            Reading {
                sighting: Sighting::Away { since: at },
                last: Some(Announced { online: false, at }),
            },
        ] {
            assert_eq!(reading(&numbers(&r)), r);
        }
    }

    #[test]
    fn numbers_that_are_not_a_reading_read_as_unseen_and_never_announced() {
        let unseen = Reading {
            sighting: Sighting::Unseen,
            last: None,
        };
        assert_eq!(reading(&[]), unseen);
        assert_eq!(reading(&[7, 1, 9, 1]), unseen);
    }
}
