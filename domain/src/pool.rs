//! The matching pool: who waits, and whom a newcomer is matched with.
//!
//! The store keeps the queue and calls these rules inside the transaction that decides a match,
//! so every instance decides the same way.

use crate::{Country, Invalid, Timestamp, UserId};

/// A user waiting in the pool (or about to join it).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Waiting {
    pub user: UserId,
    /// The user's country when they joined: what `same_country` compares.
    pub country: Option<Country>,
    /// The user asked to be matched only within their own country.
    pub same_country: bool,
    pub joined_at: Timestamp,
    /// After this instant the entry is dead: never matched, removed by the next join or sweep.
    pub expires_at: Timestamp,
}

impl Waiting {
    /// Whether the entry may still be matched at `now`.
    pub fn is_live(&self, now: Timestamp) -> bool {
        self.expires_at > now
    }
}

/// Whether a user may join with these wishes: asking for `same_country` needs a country of
/// one's own (otherwise nobody could ever match, and the wait would end in silence).
pub fn check_join(country: Option<&Country>, same_country: bool) -> Result<(), Invalid> {
    if same_country && country.is_none() {
        return Err(Invalid::new(
            "same_country",
            "set your country (PATCH /users/me) before asking for a match in it",
        ));
    }
    Ok(())
}

/// Whether `a` and `b` may be matched: never oneself, and when either asked for the same
/// country, both have one and it is the same.
pub fn compatible(a: &Waiting, b: &Waiting) -> bool {
    if a.user == b.user {
        return false;
    }
    if a.same_country || b.same_country {
        return matches!((&a.country, &b.country), (Some(x), Some(y)) if x == y);
    }
    true
}

/// The entry `joiner` is matched with: the oldest (first come, first matched) live entry that
/// is compatible, is not someone `joiner` already has an open pool room with, and is not
/// someone `joiner` blocked or was blocked by (`blocks`: either way). `waiting` may be in any
/// order; ties on `joined_at` go to the smaller user id, so every store picks alike.
pub fn pick<'a>(
    joiner: &Waiting,
    waiting: &'a [Waiting],
    open_partners: &[UserId],
    blocks: &[UserId],
    now: Timestamp,
) -> Option<&'a Waiting> {
    waiting
        .iter()
        .filter(|w| w.is_live(now))
        .filter(|w| !open_partners.contains(&w.user))
        .filter(|w| !blocks.contains(&w.user))
        .filter(|w| compatible(joiner, w))
        .min_by_key(|w| (w.joined_at, w.user))
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]

    use super::*;
    use time::Duration;

    const T0: Timestamp = time::macros::datetime!(2026-01-01 00:00:00 UTC);

    fn entry(country: Option<&str>, same_country: bool, joined_secs: i64) -> Waiting {
        let joined_at = T0 + Duration::seconds(joined_secs);
        Waiting {
            user: UserId::new(),
            country: country.map(|c| Country::parse(c).unwrap()),
            same_country,
            joined_at,
            expires_at: joined_at + Duration::minutes(10),
        }
    }

    fn now() -> Timestamp {
        T0 + Duration::minutes(1)
    }

    #[test]
    fn the_oldest_compatible_entry_is_matched_first() {
        let joiner = entry(None, false, 60);
        let waiting = [
            entry(None, false, 30),
            entry(None, false, 10),
            entry(None, false, 20),
        ];
        assert_eq!(
            pick(&joiner, &waiting, &[], &[], now()).unwrap().user,
            waiting[1].user
        );
    }

    #[test]
    fn nobody_is_matched_with_themself() {
        let joiner = entry(None, false, 60);
        let me_again = Waiting {
            joined_at: T0,
            ..joiner.clone()
        };
        assert!(!compatible(&joiner, &me_again));
        assert_eq!(pick(&joiner, &[me_again], &[], &[], now()), None);
    }

    #[test]
    fn same_country_holds_when_either_side_asked_for_it() {
        let de = entry(Some("DE"), false, 0);
        let de_strict = entry(Some("DE"), true, 0);
        let fr = entry(Some("FR"), false, 0);
        let fr_strict = entry(Some("FR"), true, 0);
        let nowhere = entry(None, false, 0);
        assert!(compatible(&de, &fr));
        assert!(compatible(&de, &nowhere));
        assert!(compatible(&de_strict, &de));
        assert!(compatible(&de, &de_strict));
        assert!(!compatible(&de_strict, &fr));
        assert!(!compatible(&fr, &de_strict));
        assert!(!compatible(&fr_strict, &de));
        assert!(!compatible(&de_strict, &nowhere));
        assert!(!compatible(&nowhere, &fr_strict));
    }

    #[test]
    fn a_strict_joiner_skips_older_entries_of_other_countries() {
        let joiner = entry(Some("DE"), true, 60);
        let waiting = [entry(Some("FR"), false, 0), entry(Some("DE"), false, 30)];
        assert_eq!(
            pick(&joiner, &waiting, &[], &[], now()).unwrap().user,
            waiting[1].user
        );
    }

    #[test]
    fn expired_entries_are_never_matched() {
        let joiner = entry(None, false, 700);
        let old = entry(None, false, 0);
        assert!(!old.is_live(T0 + Duration::minutes(10)));
        assert!(old.is_live(T0 + Duration::minutes(10) - Duration::milliseconds(1)));
        assert_eq!(
            pick(&joiner, &[old], &[], &[], T0 + Duration::minutes(10)),
            None
        );
    }

    #[test]
    fn a_partner_with_an_open_room_is_skipped() {
        let joiner = entry(None, false, 60);
        let waiting = [entry(None, false, 0), entry(None, false, 10)];
        let open = [waiting[0].user];
        assert_eq!(
            pick(&joiner, &waiting, &open, &[], now()).unwrap().user,
            waiting[1].user
        );
        let both = [waiting[0].user, waiting[1].user];
        assert_eq!(pick(&joiner, &waiting, &both, &[], now()), None);
    }

    #[test]
    fn someone_blocked_either_way_is_skipped() {
        let joiner = entry(None, false, 60);
        let waiting = [entry(None, false, 0), entry(None, false, 10)];
        let blocks = [waiting[0].user];
        assert_eq!(
            pick(&joiner, &waiting, &[], &blocks, now()).unwrap().user,
            waiting[1].user
        );
        let all = [waiting[1].user, waiting[0].user];
        assert_eq!(pick(&joiner, &waiting, &[], &all, now()), None);
    }

    #[test]
    fn asking_for_the_same_country_needs_a_country() {
        let de = Country::parse("DE").unwrap();
        assert!(check_join(Some(&de), true).is_ok());
        assert!(check_join(None, false).is_ok());
        assert_eq!(check_join(None, true).unwrap_err().field, "same_country");
    }
}
