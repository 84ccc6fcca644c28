//! When each user is next to be judged: one time per user (the earliest asked for), in a
//! heap. Replaced times stay in the heap until they come up and are skipped, so its size is
//! bounded by what was scheduled within the longest wait (the grace or the 5 s gap). It must
//! never hand out a user before their time, nor twice for one time.

use std::cmp::Reverse;
use std::collections::{BinaryHeap, HashMap};

use confab_domain::UserId;
use tokio::time::Instant;

#[derive(Debug, Default)]
pub(super) struct Timers {
    due: HashMap<UserId, Instant>,
    queue: BinaryHeap<Reverse<(Instant, UserId)>>,
}

impl Timers {
    /// Judge `user` at `when`, unless they are due earlier already.
    pub(super) fn at(&mut self, user: UserId, when: Instant) {
        if self.due.get(&user).is_some_and(|t| *t <= when) {
            return;
        }
        self.due.insert(user, when);
        self.queue.push(Reverse((when, user)));
    }

    /// The earliest time someone is due.
    pub(super) fn next(&mut self) -> Option<Instant> {
        while let Some(Reverse((when, user))) = self.queue.peek() {
            if self.due.get(user) == Some(when) {
                return Some(*when);
            }
            self.queue.pop();
        }
        None
    }

    /// Up to `max` users due at `now`, no longer scheduled.
    pub(super) fn take_due(&mut self, now: Instant, max: usize) -> Vec<UserId> {
        let mut out = Vec::new();
        while out.len() < max {
            match self.next() {
                Some(when) if when <= now => {}
                _ => break,
            }
            if let Some(Reverse((_, user))) = self.queue.pop() {
                self.due.remove(&user);
                out.push(user);
            }
        }
        out
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::time::Duration;

    #[test]
    fn the_earliest_time_asked_for_wins_and_replaced_ones_are_skipped() {
        let mut t = Timers::default();
        let now = Instant::now();
        let (a, b) = (UserId::new(), UserId::new());
        t.at(a, now + Duration::from_secs(5));
        t.at(a, now + Duration::from_secs(1));
        t.at(a, now + Duration::from_secs(9));
        t.at(b, now + Duration::from_secs(3));
        assert_eq!(t.next(), Some(now + Duration::from_secs(1)));
        assert!(t.take_due(now, 10).is_empty());
        assert_eq!(t.take_due(now + Duration::from_secs(4), 10), vec![a, b]);
        assert_eq!(t.next(), None, "a's replaced time is skipped");
        assert!(t.take_due(now + Duration::from_secs(60), 10).is_empty());
    }

    #[test]
    fn at_most_max_are_taken_and_the_rest_stay_due() {
        let mut t = Timers::default();
        let now = Instant::now();
        for _ in 0..3 {
            t.at(UserId::new(), now);
        }
        assert_eq!(t.take_due(now, 2).len(), 2);
        assert_eq!(t.take_due(now, 2).len(), 1);
    }
}
