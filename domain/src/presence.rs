//! Presence: whether a user counts as online, when a change of it is announced, and what a
//! viewer is shown. Pure rules over what the presence board read — where the user's sockets
//! are, what was announced last — and the board's time of that reading. The board, the
//! timers and the bus are elsewhere (`ports::presence`, `ports::service::Presence`).
//!
//! This module must never read a clock or know where a reading came from: callers pass `now`.

use crate::{Timestamp, UserId};
use time::Duration;

/// The timing rules. API.md: at most one announcement per 5 s per user, and going offline
/// waits 5 s for a reconnect (a page reload is not "offline").
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct PresenceRules {
    /// How long after their last socket closed a user still counts as online.
    pub grace: Duration,
    /// The least time between two announcements of one user.
    pub min_gap: Duration,
}

impl Default for PresenceRules {
    fn default() -> Self {
        Self {
            grace: Duration::seconds(5),
            min_gap: Duration::seconds(5),
        }
    }
}

/// Where a user's sockets are, as the board saw them.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Sighting {
    /// At least one socket, on some instance.
    Connected,
    /// No socket; the last one closed at `since`.
    Away { since: Timestamp },
    /// No socket, and none that closed recently enough to be remembered.
    Unseen,
}

/// The last announcement of a user's presence.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Announced {
    pub online: bool,
    pub at: Timestamp,
}

/// A change of presence to announce.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Change {
    pub online: bool,
    /// When the user's last socket closed; `None` when going online.
    pub last_seen_at: Option<Timestamp>,
}

/// What to do about one user, judged at one instant.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Verdict {
    /// Announce this change now.
    Announce(Change),
    /// Nothing may be said before `until` (the grace or the 5 s gap): judge again then.
    Wait { until: Timestamp },
    /// What was announced last is still true: nothing to say.
    Settled,
}

/// What should be said about a user seen as `sighting`, last announced as `last` (`None`:
/// never, which counts as offline), at `now`.
///
/// A user is online while connected, and for `grace` after their last socket closed; a
/// change is announced at most once per `min_gap`, and one held back by it is announced when
/// the gap is over, if it is still true then (`Wait`).
pub fn judge(
    rules: PresenceRules,
    sighting: Sighting,
    last: Option<Announced>,
    now: Timestamp,
) -> Verdict {
    let was_online = last.is_some_and(|a| a.online);
    let wanted = match sighting {
        Sighting::Connected => Change {
            online: true,
            last_seen_at: None,
        },
        Sighting::Away { since } if now < since + rules.grace => {
            // Perhaps a reload: nothing changes before the grace is over. Someone who was
            // never announced online is not announced for a visit this short.
            return if was_online {
                Verdict::Wait {
                    until: since + rules.grace,
                }
            } else {
                Verdict::Settled
            };
        }
        Sighting::Away { since } => Change {
            online: false,
            last_seen_at: Some(since),
        },
        // Gone without a trace (its instance's entries were lost): last seen about now.
        Sighting::Unseen => Change {
            online: false,
            last_seen_at: Some(now),
        },
    };
    if wanted.online == was_online {
        return Verdict::Settled;
    }
    match last {
        Some(a) if now < a.at + rules.min_gap => Verdict::Wait {
            until: a.at + rules.min_gap,
        },
        _ => Verdict::Announce(wanted),
    }
}

/// A user's presence as a viewer is shown it (`online`, `last_seen_at` of the `user` object).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Seen {
    pub online: bool,
    /// `None` while online, or when never seen.
    pub last_seen_at: Option<Timestamp>,
}

impl Seen {
    /// What someone who may not see a user's presence is shown.
    pub const HIDDEN: Seen = Seen {
        online: false,
        last_seen_at: None,
    };

    /// A user seen as `sighting` at `now`, whose last sighting the store keeps as `stored`:
    /// online while connected and during the grace, else last seen when their last socket
    /// closed (the later of the store's time and the board's).
    pub fn of(
        rules: PresenceRules,
        sighting: Sighting,
        stored: Option<Timestamp>,
        now: Timestamp,
    ) -> Self {
        let online = Seen {
            online: true,
            last_seen_at: None,
        };
        match sighting {
            Sighting::Connected => online,
            Sighting::Away { since } if now < since + rules.grace => online,
            Sighting::Away { since } => Seen {
                online: false,
                last_seen_at: stored.max(Some(since)),
            },
            Sighting::Unseen => Seen {
                online: false,
                last_seen_at: stored,
            },
        }
    }
}

/// Whether `viewer` may see `user`'s presence: their own, or that of someone they share a
/// group with (a named group, a direct chat or a pool room, open or closed) — unless a block
/// stands between them, whoever blocked whom: the blocked learn nothing of the blocker, and
/// the blocker asked to hear no more of the blocked.
pub fn may_see(viewer: UserId, user: UserId, share_a_group: bool, blocked: bool) -> bool {
    viewer == user || (share_a_group && !blocked)
}

#[cfg(test)]
mod tests {
    use super::*;
    use time::macros::datetime;

    const T: Timestamp = datetime!(2026-01-01 12:00:00 UTC);
    const RULES: PresenceRules = PresenceRules {
        grace: Duration::seconds(5),
        min_gap: Duration::seconds(5),
    };

    fn s(n: i64) -> Timestamp {
        T + Duration::seconds(n)
    }

    fn announced(online: bool, at: i64) -> Option<Announced> {
        Some(Announced { online, at: s(at) })
    }

    fn online() -> Verdict {
        Verdict::Announce(Change {
            online: true,
            last_seen_at: None,
        })
    }

    #[test]
    fn a_user_never_announced_who_connects_is_announced_online_at_once() {
        assert_eq!(judge(RULES, Sighting::Connected, None, s(0)), online());
    }

    #[test]
    fn going_online_within_5_s_of_the_last_announcement_waits_for_the_gap() {
        let verdict = judge(RULES, Sighting::Connected, announced(false, 0), s(2));
        assert_eq!(verdict, Verdict::Wait { until: s(5) });
        assert_eq!(
            judge(RULES, Sighting::Connected, announced(false, 0), s(5)),
            online()
        );
    }

    #[test]
    fn a_closed_socket_is_not_offline_before_the_grace_is_over() {
        let away = Sighting::Away { since: s(10) };
        assert_eq!(
            judge(RULES, away, announced(true, 0), s(12)),
            Verdict::Wait { until: s(15) }
        );
        assert_eq!(
            judge(RULES, away, announced(true, 0), s(15)),
            Verdict::Announce(Change {
                online: false,
                last_seen_at: Some(s(10)),
            })
        );
    }

    #[test]
    fn a_reconnect_within_the_grace_says_nothing() {
        assert_eq!(
            judge(RULES, Sighting::Connected, announced(true, 0), s(12)),
            Verdict::Settled
        );
    }

    #[test]
    fn a_visit_shorter_than_the_grace_by_someone_announced_offline_is_never_announced() {
        let away = Sighting::Away { since: s(7) };
        assert_eq!(
            judge(RULES, away, announced(false, 0), s(8)),
            Verdict::Settled
        );
        assert_eq!(
            judge(RULES, away, announced(false, 0), s(20)),
            Verdict::Settled
        );
    }

    #[test]
    fn going_offline_right_after_going_online_waits_for_the_gap_and_keeps_the_time() {
        let away = Sighting::Away { since: s(1) };
        // Online was announced at 3 (held back by the gap); the socket had closed at 1.
        assert_eq!(
            judge(RULES, away, announced(true, 3), s(6)),
            Verdict::Wait { until: s(8) }
        );
        assert_eq!(
            judge(RULES, away, announced(true, 3), s(8)),
            Verdict::Announce(Change {
                online: false,
                last_seen_at: Some(s(1)),
            })
        );
    }

    #[test]
    fn an_unseen_user_announced_online_goes_offline_as_of_now_and_one_never_seen_is_settled() {
        assert_eq!(
            judge(RULES, Sighting::Unseen, announced(true, 0), s(30)),
            Verdict::Announce(Change {
                online: false,
                last_seen_at: Some(s(30)),
            })
        );
        assert_eq!(judge(RULES, Sighting::Unseen, None, s(0)), Verdict::Settled);
        assert_eq!(
            judge(RULES, Sighting::Away { since: s(0) }, None, s(30)),
            Verdict::Settled
        );
    }

    #[test]
    fn a_user_is_shown_online_while_connected_and_during_the_grace() {
        assert!(Seen::of(RULES, Sighting::Connected, Some(s(0)), s(9)).online);
        let away = Sighting::Away { since: s(10) };
        assert_eq!(
            Seen::of(RULES, away, Some(s(0)), s(14)),
            Seen {
                online: true,
                last_seen_at: None
            }
        );
        assert_eq!(
            Seen::of(RULES, away, Some(s(0)), s(15)),
            Seen {
                online: false,
                last_seen_at: Some(s(10))
            }
        );
    }

    #[test]
    fn the_later_of_the_stored_and_the_seen_time_is_shown() {
        let away = Sighting::Away { since: s(10) };
        assert_eq!(
            Seen::of(RULES, away, Some(s(20)), s(30)).last_seen_at,
            Some(s(20))
        );
        assert_eq!(Seen::of(RULES, Sighting::Unseen, None, s(30)), Seen::HIDDEN);
        assert_eq!(
            Seen::of(RULES, Sighting::Unseen, Some(s(3)), s(30)).last_seen_at,
            Some(s(3))
        );
    }

    #[test]
    fn only_oneself_and_those_sharing_a_group_without_a_block_may_see_presence() {
        let (me, other) = (UserId::new(), UserId::new());
        assert!(may_see(me, me, false, false));
        assert!(may_see(me, other, true, false));
        assert!(!may_see(me, other, false, false));
        // A block hides it both ways, even in a group both are still in.
        assert!(!may_see(me, other, true, true));
        assert!(!may_see(me, other, false, true));
        // Nobody blocks themself: one's own presence is always one's own.
        assert!(may_see(me, me, false, true));
    }
}
