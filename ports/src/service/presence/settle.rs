//! Judging the users that are due: one board read for the batch, `domain::presence::judge`
//! for each, one claim for those with something to say (again, with the fresh readings, for
//! those whose claim lost), then the announcements: `last_seen_at` written for those going
//! offline, their groups and blocks read, one `presence` event each. A user whose grace here
//! is over and who is settled is released from the board.
//!
//! It must never announce without a won claim (that is what keeps instances from saying one
//! change twice), never tell a change past a block, and never drop a user it could not judge:
//! a failure reschedules them.

use std::collections::HashMap;

use confab_domain::presence::{Announced, Change, Verdict, judge};
use confab_domain::{Event, GroupId, Timestamp, UserId};
use tokio::time::Instant;

use super::worker::{BATCH, RETRY, Worker, to_std};
use crate::presence::{Claim, Outcome, Reading};

/// Rounds of claims per batch: a claim that keeps losing (its user changes faster than the
/// board answers) is judged again a moment later instead.
const CLAIM_ROUNDS: usize = 3;

/// A claim with the change it would announce.
#[derive(Debug, Clone, Copy)]
struct Pending {
    claim: Claim,
    change: Change,
}

impl Worker {
    /// Judges everyone due, a batch at a time, until no one is or the board fails.
    pub(super) async fn settle_due(&mut self) {
        loop {
            let users = self.timers.take_due(Instant::now(), BATCH);
            if users.is_empty() || !self.settle(users).await {
                return;
            }
        }
    }

    /// Judges `users`; whether the board answered.
    async fn settle(&mut self, users: Vec<UserId>) -> bool {
        let readings = match self.board().read(&users).await {
            Ok(readings) => readings,
            Err(e) => {
                self.failed("read", &e);
                self.retry(users);
                return false;
            }
        };
        let mut pending = Vec::new();
        let mut settled = Vec::new();
        for (user, reading) in users.into_iter().zip(readings.of) {
            self.judged(user, reading, readings.now, &mut pending, &mut settled);
        }
        let won = self.claim(pending, &mut settled).await;
        self.announce(&won).await;
        settled.extend(won.iter().map(|p| p.claim.user));
        self.finished(settled).await;
        true
    }

    /// Acts on one verdict: a claim to make, a later judgement, or nothing.
    fn judged(
        &mut self,
        user: UserId,
        seen: Reading,
        now: Timestamp,
        pending: &mut Vec<Pending>,
        settled: &mut Vec<UserId>,
    ) {
        match judge(self.shared.settings.rules, seen.sighting, seen.last, now) {
            Verdict::Announce(change) => pending.push(Pending {
                claim: Claim {
                    user,
                    seen,
                    next: Announced {
                        online: change.online,
                        at: now,
                    },
                },
                change,
            }),
            Verdict::Wait { until } => self.timers.at(user, Instant::now() + to_std(until - now)),
            Verdict::Settled => settled.push(user),
        }
    }

    /// Claims `pending`, judging the losers again; the claims won.
    async fn claim(
        &mut self,
        mut pending: Vec<Pending>,
        settled: &mut Vec<UserId>,
    ) -> Vec<Pending> {
        let mut won = Vec::new();
        for _ in 0..CLAIM_ROUNDS {
            if pending.is_empty() {
                break;
            }
            let claims: Vec<Claim> = pending.iter().map(|p| p.claim).collect();
            let claimed = match self.board().claim(&claims).await {
                Ok(claimed) => claimed,
                Err(e) => {
                    self.failed("claim", &e);
                    break;
                }
            };
            let mut again = Vec::new();
            for (p, outcome) in pending.into_iter().zip(claimed.outcomes) {
                match outcome {
                    Outcome::Won => won.push(p),
                    Outcome::Lost(fresh) => {
                        self.judged(p.claim.user, fresh, claimed.now, &mut again, settled);
                    }
                }
            }
            pending = again;
        }
        self.retry(pending.iter().map(|p| p.claim.user));
        won
    }

    /// Says what was won: `last_seen_at` for those going offline, then one event each, to
    /// every group of theirs (read now).
    async fn announce(&self, won: &[Pending]) {
        if won.is_empty() {
            return;
        }
        let circles = &self.shared.ports.circles;
        let offline: Vec<(UserId, Timestamp)> = won
            .iter()
            .filter_map(|p| p.change.last_seen_at.map(|at| (p.claim.user, at)))
            .collect();
        if !offline.is_empty()
            && let Err(e) = circles.record_last_seen(&offline).await
        {
            tracing::warn!(error = %e, users = offline.len(), "last_seen_at not written");
        }
        let users: Vec<UserId> = won.iter().map(|p| p.claim.user).collect();
        let mut groups: HashMap<UserId, Vec<GroupId>> = HashMap::new();
        match circles.memberships(&users).await {
            Ok(pairs) => {
                for (user, group) in pairs {
                    groups.entry(user).or_default().push(group);
                }
            }
            // Their own sockets still hear it; the others see it in `user` objects.
            Err(e) => {
                tracing::warn!(error = %e, "a presence change reaches no group: the store failed")
            }
        }
        let mut hidden: HashMap<UserId, Vec<UserId>> = HashMap::new();
        match circles.blocks_touching(&users).await {
            Ok(pairs) => {
                for (user, other) in pairs {
                    hidden.entry(user).or_default().push(other);
                }
            }
            // Never told past a block: without the blocks, only their own sockets hear it.
            Err(e) => {
                tracing::warn!(error = %e, "a presence change reaches no group: blocks unread");
                groups.clear();
            }
        }
        for p in won {
            let user_id = p.claim.user;
            self.shared
                .ports
                .bus
                .publish(Event::Presence {
                    user_id,
                    online: p.change.online,
                    last_seen_at: p.change.last_seen_at,
                    groups: groups.remove(&user_id).unwrap_or_default(),
                    hidden_from: hidden.remove(&user_id).unwrap_or_default(),
                })
                .await;
        }
        tracing::debug!(users = won.len(), "presence announced");
    }

    /// `users` are settled for now: those whose grace here is over are released from the
    /// board; those still in it are judged again when it ends.
    async fn finished(&mut self, users: Vec<UserId>) {
        let now = Instant::now();
        let mut release = Vec::new();
        for user in users {
            match self.away.get(&user) {
                Some(&ends) if ends > now => self.timers.at(user, ends),
                Some(_) => {
                    self.away.remove(&user);
                    release.push(user);
                }
                None => {}
            }
        }
        if release.is_empty() {
            return;
        }
        if let Err(e) = self.board().release(&release).await {
            self.failed("release", &e);
            for user in &release {
                self.away.insert(*user, now);
            }
            self.retry(release);
        }
    }

    /// Judges `users` again after [`RETRY`].
    fn retry(&mut self, users: impl IntoIterator<Item = UserId>) {
        let at = Instant::now() + RETRY;
        for user in users {
            self.timers.at(user, at);
        }
    }
}
