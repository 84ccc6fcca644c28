//! This instance's sockets per user, counted as sessions start and end, and the users whose
//! count crossed zero since the worker last looked. Called from every socket's task, so it
//! only counts (under a lock held for a map operation): it must never wait or do I/O. Its
//! size is bounded by the users connected here, plus those waiting to be told to the board.

use std::collections::{HashMap, HashSet};

use confab_domain::UserId;

/// Open sockets per user, and who changed.
#[derive(Debug, Default)]
pub(super) struct Sockets {
    open: HashMap<UserId, u32>,
    /// Users whose first socket opened or last socket closed since the worker last looked.
    dirty: HashSet<UserId>,
}

impl Sockets {
    /// A socket of `user` opened; whether it is their first here.
    pub(super) fn opened(&mut self, user: UserId) -> bool {
        let count = self.open.entry(user).or_insert(0);
        *count += 1;
        let first = *count == 1;
        if first {
            self.dirty.insert(user);
        }
        first
    }

    /// A socket of `user` closed; whether it was their last here.
    pub(super) fn closed(&mut self, user: UserId) -> bool {
        match self.open.get_mut(&user) {
            Some(count) if *count > 1 => {
                *count -= 1;
                false
            }
            Some(_) => {
                self.open.remove(&user);
                self.dirty.insert(user);
                true
            }
            // A close without its open: nothing to count.
            None => false,
        }
    }

    /// Up to `max` changed users, each with whether they have a socket here now.
    pub(super) fn take_dirty(&mut self, max: usize) -> Vec<(UserId, bool)> {
        let taken: Vec<UserId> = self.dirty.iter().take(max).copied().collect();
        taken
            .into_iter()
            .map(|user| {
                self.dirty.remove(&user);
                (user, self.open.contains_key(&user))
            })
            .collect()
    }

    /// Marks `users` changed again (telling the board about them failed).
    pub(super) fn redirty(&mut self, users: impl IntoIterator<Item = UserId>) {
        self.dirty.extend(users);
    }

    /// Whether a change waits to be told.
    #[cfg(test)]
    pub(super) fn has_dirty(&self) -> bool {
        !self.dirty.is_empty()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_the_first_open_and_the_last_close_are_changes() {
        let mut s = Sockets::default();
        let u = UserId::new();
        assert!(s.opened(u));
        assert!(!s.opened(u));
        assert_eq!(s.take_dirty(10), vec![(u, true)]);
        assert!(!s.closed(u));
        assert!(!s.has_dirty());
        assert!(s.closed(u));
        assert_eq!(s.take_dirty(10), vec![(u, false)]);
        assert!(!s.closed(u), "a close without an open counts nothing");
        assert!(s.take_dirty(10).is_empty());
    }

    #[test]
    fn a_change_is_taken_with_the_state_at_the_time_it_is_taken() {
        let mut s = Sockets::default();
        let u = UserId::new();
        s.opened(u);
        s.closed(u);
        assert_eq!(s.take_dirty(10), vec![(u, false)]);
        s.redirty([u]);
        s.opened(u);
        assert_eq!(s.take_dirty(10), vec![(u, true)]);
    }

    #[test]
    fn changes_are_taken_at_most_max_at_a_time() {
        let mut s = Sockets::default();
        for _ in 0..5 {
            s.opened(UserId::new());
        }
        assert_eq!(s.take_dirty(3).len(), 3);
        assert_eq!(s.take_dirty(3).len(), 2);
        assert!(!s.has_dirty());
    }
}
