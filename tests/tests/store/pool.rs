//! `MatchPool`: who is matched with whom, the rooms a match makes, and their expiry.

use std::collections::BTreeSet;

use confab_domain::{Country, GroupId, GroupKind, Role, UserId};
use confab_ports::Error;
use confab_ports::store::{Closing, GroupView, Joined, PoolJoin};

use crate::fixtures::{Fresh, at, new_user, user};

crate::store_cases!(
    a_join_with_nobody_waiting_waits,
    a_join_meets_a_waiting_user_in_a_new_direct_room,
    the_oldest_waiting_entry_is_met_first,
    a_tie_on_joined_at_goes_to_the_smaller_user_id,
    same_country_is_honoured_whichever_side_asked_for_it,
    asking_for_the_same_country_without_one_is_invalid,
    a_user_already_waiting_is_refused_and_never_meets_themself,
    an_unknown_user_is_not_found,
    an_expired_entry_is_never_met_and_its_user_may_join_again,
    a_pair_with_an_open_room_is_not_matched_again,
    a_pair_meets_again_once_their_room_is_closed_or_expired,
    a_direct_chat_does_not_keep_a_pair_apart,
    leaving_removes_the_entry_and_says_whether_there_was_one,
    forty_users_joining_at_once_make_twenty_disjoint_rooms,
    a_leave_racing_a_join_never_both_take_the_entry,
    the_sweep_closes_each_expired_room_once_and_nothing_else,
    the_sweep_drops_expired_entries_and_keeps_live_ones,
    sweeps_at_once_close_each_room_exactly_once,
);

/// How long an entry waits, and how long a room lasts, in seconds.
const WAIT: i64 = 600;
const ROOM: i64 = 3_600;

/// `user` joining at `secs` (not asking for the same country), with a fresh room id.
pub(crate) fn join_at(user: UserId, secs: i64) -> PoolJoin {
    PoolJoin {
        user,
        same_country: false,
        now: at(secs),
        wait_until: at(secs + WAIT),
        room: GroupId::new(),
        room_expires_at: at(secs + ROOM),
    }
}

/// `join` asking for the same country.
fn strict(join: PoolJoin) -> PoolJoin {
    PoolJoin {
        same_country: true,
        ..join
    }
}

/// Creates a user named `name` living in `country`.
async fn user_in(s: &Fresh, name: &str, country: Option<&str>) -> UserId {
    let mut new = new_user(name);
    new.country = country.map(|c| Country::parse(c).unwrap());
    let id = new.id;
    s.users.create_user(new, None).await.unwrap();
    id
}

/// The room and partner of a match; panics on anything else.
pub(crate) fn matched(joined: Joined) -> (GroupView, UserId) {
    match joined {
        Joined::Matched { room, partner } => (room, partner),
        Joined::Waiting => panic!("expected a match, the joiner waits"),
    }
}

/// Whether `user` had a waiting entry, removing it (`leave_pool`).
pub(crate) async fn waits(s: &Fresh, user: UserId) -> bool {
    s.pool.leave_pool(user).await.unwrap()
}

/// MUST queue the caller when nobody fitting waits.
async fn a_join_with_nobody_waiting_waits(s: &Fresh) {
    let ada = user(s, "ada").await;
    assert_eq!(
        s.pool.join_pool(join_at(ada, 0)).await.unwrap(),
        Joined::Waiting
    );
    assert!(waits(s, ada).await, "ada's entry is kept");
}

/// MUST remove the partner's entry and create `join.room`: a direct group without a name,
/// created by the caller at `now`, expiring at `room_expires_at`, both users members.
async fn a_join_meets_a_waiting_user_in_a_new_direct_room(s: &Fresh) {
    let ada = user(s, "ada").await;
    let bob = user(s, "bob").await;
    s.pool.join_pool(join_at(ada, 0)).await.unwrap();
    let join = join_at(bob, 5);
    let (room, partner) = matched(s.pool.join_pool(join.clone()).await.unwrap());
    assert_eq!(partner, ada);
    let g = &room.group;
    assert_eq!(g.id, join.room);
    assert_eq!(g.kind, GroupKind::Direct);
    assert_eq!(g.name, None);
    assert_eq!(g.created_by, bob);
    assert_eq!(g.created_at, join.now);
    assert_eq!(g.expires_at, Some(join.room_expires_at));
    assert_eq!(g.closed_at, None);
    assert_eq!((g.last_seq, g.last_rev), (0, 0));
    assert_eq!(room.member_count, 2);
    assert_eq!(room.my.role, Role::Member);
    assert_eq!((room.my.last_read_seq, room.my.unread_count), (0, 0));
    // The partner sees the same room; both are members, neither waits any more.
    let theirs = s.groups.group_of(ada, join.room).await.unwrap();
    assert_eq!(theirs.group, room.group);
    let members = s.groups.members(bob, join.room).await.unwrap();
    let ids: BTreeSet<UserId> = members.iter().map(|m| m.user.id).collect();
    assert_eq!(ids, BTreeSet::from([ada, bob]));
    assert!(members.iter().all(|m| m.role == Role::Member));
    assert!(!waits(s, ada).await, "the partner's entry is gone");
    assert!(!waits(s, bob).await, "the joiner was not queued");
}

/// Matches `a` (waiting) with `b` at `secs`: from then on they have an open room, so both
/// can wait side by side without meeting each other.
pub(crate) async fn acquaint(s: &Fresh, a: UserId, b: UserId, secs: i64) {
    s.pool.join_pool(join_at(a, secs)).await.unwrap();
    let (_, partner) = matched(s.pool.join_pool(join_at(b, secs)).await.unwrap());
    assert_eq!(partner, a);
}

/// MUST meet the oldest live entry (by `joined_at`), whatever order they were written in.
async fn the_oldest_waiting_entry_is_met_first(s: &Fresh) {
    let late = user(s, "late").await;
    let early = user(s, "early").await;
    let newcomer = user(s, "newcomer").await;
    let other = user(s, "other").await;
    acquaint(s, late, early, 0).await;
    // Written out of joined_at order: what counts is when each joined.
    assert_eq!(
        s.pool.join_pool(join_at(late, 30)).await.unwrap(),
        Joined::Waiting
    );
    assert_eq!(
        s.pool.join_pool(join_at(early, 10)).await.unwrap(),
        Joined::Waiting
    );
    let (_, partner) = matched(s.pool.join_pool(join_at(newcomer, 40)).await.unwrap());
    assert_eq!(partner, early);
    let (_, partner) = matched(s.pool.join_pool(join_at(other, 41)).await.unwrap());
    assert_eq!(partner, late);
}

/// MUST break a tie on `joined_at` by the smaller user id, so every store picks alike.
async fn a_tie_on_joined_at_goes_to_the_smaller_user_id(s: &Fresh) {
    let a = user(s, "aaa").await;
    let b = user(s, "bbb").await;
    let newcomer = user(s, "newcomer").await;
    let (small, large) = if a < b { (a, b) } else { (b, a) };
    acquaint(s, small, large, 0).await;
    // The larger id joins first, at the same instant.
    s.pool.join_pool(join_at(large, 10)).await.unwrap();
    s.pool.join_pool(join_at(small, 10)).await.unwrap();
    let (_, partner) = matched(s.pool.join_pool(join_at(newcomer, 11)).await.unwrap());
    assert_eq!(partner, small);
}

/// MUST match only within one country when either side asked for it; otherwise across.
async fn same_country_is_honoured_whichever_side_asked_for_it(s: &Fresh) {
    let fr = user_in(s, "fr_waits", Some("FR")).await;
    let de_waits = user_in(s, "de_waits", Some("DE")).await;
    let de_strict = user_in(s, "de_strict", Some("DE")).await;
    // A strict waiter is not taken by someone of another country; a strict joiner skips the
    // older entry from another country.
    s.pool.join_pool(strict(join_at(fr, 0))).await.unwrap();
    assert_eq!(
        s.pool.join_pool(join_at(de_waits, 1)).await.unwrap(),
        Joined::Waiting
    );
    let (_, partner) = matched(
        s.pool
            .join_pool(strict(join_at(de_strict, 2)))
            .await
            .unwrap(),
    );
    assert_eq!(partner, de_waits);

    // Nor by someone of no country.
    let it_strict = user_in(s, "it_strict", Some("IT")).await;
    let nowhere = user_in(s, "nowhere", None).await;
    let es = user_in(s, "es_joins", Some("ES")).await;
    assert!(s.pool.leave_pool(fr).await.unwrap());
    s.pool
        .join_pool(strict(join_at(it_strict, 10)))
        .await
        .unwrap();
    assert_eq!(
        s.pool.join_pool(join_at(nowhere, 11)).await.unwrap(),
        Joined::Waiting
    );
    // Someone without the wish meets the oldest who fits: not the strict Italian.
    let (_, partner) = matched(s.pool.join_pool(join_at(es, 12)).await.unwrap());
    assert_eq!(
        partner, nowhere,
        "a non-strict pair matches across countries"
    );
    let it = user_in(s, "it_joins", Some("IT")).await;
    let (_, partner) = matched(s.pool.join_pool(join_at(it, 13)).await.unwrap());
    assert_eq!(partner, it_strict);
}

/// MUST answer `Error::Invalid` (field `same_country`) for a caller without a country who
/// asks for the same country, queuing nothing.
async fn asking_for_the_same_country_without_one_is_invalid(s: &Fresh) {
    let nowhere = user(s, "nowhere").await;
    let err = s
        .pool
        .join_pool(strict(join_at(nowhere, 0)))
        .await
        .unwrap_err();
    assert!(
        matches!(&err, Error::Invalid(i) if i.field == "same_country"),
        "{err:?}"
    );
    assert!(!waits(s, nowhere).await);
}

/// MUST answer `Error::Conflict { field: "pool" }` when the caller already waits: nobody
/// waits twice, and nobody meets themself.
async fn a_user_already_waiting_is_refused_and_never_meets_themself(s: &Fresh) {
    let ada = user(s, "ada").await;
    s.pool.join_pool(join_at(ada, 0)).await.unwrap();
    let err = s.pool.join_pool(join_at(ada, 1)).await.unwrap_err();
    assert!(matches!(err, Error::Conflict { field: "pool" }), "{err:?}");
    // Still one entry, still waiting for someone else.
    assert!(waits(s, ada).await);
    assert!(!waits(s, ada).await);
}

/// MUST answer `Error::NotFound("user")` for a caller that does not exist.
async fn an_unknown_user_is_not_found(s: &Fresh) {
    let err = s
        .pool
        .join_pool(join_at(UserId::new(), 0))
        .await
        .unwrap_err();
    assert!(matches!(err, Error::NotFound("user")), "{err:?}");
}

/// MUST remove expired entries (`expires_at <= now`) first and never match them; their user
/// may join again.
async fn an_expired_entry_is_never_met_and_its_user_may_join_again(s: &Fresh) {
    let ada = user(s, "ada").await;
    let bob = user(s, "bob").await;
    s.pool.join_pool(join_at(ada, 0)).await.unwrap();
    // Exactly at ada's `wait_until` her entry is dead.
    assert_eq!(
        s.pool.join_pool(join_at(bob, WAIT)).await.unwrap(),
        Joined::Waiting
    );
    assert!(!waits(s, ada).await, "the join removed the expired entry");
    // Bob's own entry expires in turn; joining again after that is no conflict.
    assert_eq!(
        s.pool.join_pool(join_at(bob, 2 * WAIT)).await.unwrap(),
        Joined::Waiting
    );
    assert!(waits(s, bob).await);
}

/// MUST NOT match a pair again while their pool room is open.
async fn a_pair_with_an_open_room_is_not_matched_again(s: &Fresh) {
    let ada = user(s, "ada").await;
    let bob = user(s, "bob").await;
    s.pool.join_pool(join_at(ada, 0)).await.unwrap();
    matched(s.pool.join_pool(join_at(bob, 1)).await.unwrap());
    s.pool.join_pool(join_at(ada, 2)).await.unwrap();
    assert_eq!(
        s.pool.join_pool(join_at(bob, 3)).await.unwrap(),
        Joined::Waiting,
        "bob waits rather than meet ada again"
    );
    // Anyone else meets the older of them.
    let cyd = user(s, "cyd").await;
    let (_, partner) = matched(s.pool.join_pool(join_at(cyd, 4)).await.unwrap());
    assert_eq!(partner, ada);
}

/// An open pool room is one neither closed nor expired: after either, the pair may meet again.
async fn a_pair_meets_again_once_their_room_is_closed_or_expired(s: &Fresh) {
    let ada = user(s, "ada").await;
    let bob = user(s, "bob").await;
    s.pool.join_pool(join_at(ada, 0)).await.unwrap();
    let (room, _) = matched(s.pool.join_pool(join_at(bob, 1)).await.unwrap());
    let closing = s
        .groups
        .delete_or_close(ada, room.group.id, at(2))
        .await
        .unwrap();
    assert_eq!(closing, Closing::Closed);
    s.pool.join_pool(join_at(ada, 3)).await.unwrap();
    let (second, partner) = matched(s.pool.join_pool(join_at(bob, 4)).await.unwrap());
    assert_eq!(partner, ada, "a closed room does not keep them apart");

    // The second room expires at 4 + ROOM: from then on (swept or not) they may meet again.
    assert_eq!(second.group.expires_at, Some(at(4 + ROOM)));
    s.pool.join_pool(join_at(ada, 4 + ROOM)).await.unwrap();
    let (_, partner) = matched(s.pool.join_pool(join_at(bob, 4 + ROOM)).await.unwrap());
    assert_eq!(partner, ada, "an expired room does not keep them apart");
}

/// Only pool rooms keep a pair apart: a `POST /direct` chat does not.
async fn a_direct_chat_does_not_keep_a_pair_apart(s: &Fresh) {
    let ada = user(s, "ada").await;
    let bob = user(s, "bob").await;
    let (_, created) = s
        .groups
        .open_direct(ada, bob, GroupId::new(), at(0))
        .await
        .unwrap();
    assert!(created);
    s.pool.join_pool(join_at(ada, 1)).await.unwrap();
    let (_, partner) = matched(s.pool.join_pool(join_at(bob, 2)).await.unwrap());
    assert_eq!(partner, ada);
}

/// MUST remove the caller's entry and answer whether there was one (never an error).
async fn leaving_removes_the_entry_and_says_whether_there_was_one(s: &Fresh) {
    let ada = user(s, "ada").await;
    let bob = user(s, "bob").await;
    assert!(!s.pool.leave_pool(ada).await.unwrap());
    assert!(!s.pool.leave_pool(UserId::new()).await.unwrap());
    s.pool.join_pool(join_at(ada, 0)).await.unwrap();
    assert!(s.pool.leave_pool(ada).await.unwrap());
    assert_eq!(
        s.pool.join_pool(join_at(bob, 1)).await.unwrap(),
        Joined::Waiting,
        "nobody meets a user who left"
    );
    assert!(!s.pool.leave_pool(ada).await.unwrap());
}

/// MUST decide one join at a time: 40 fitting users joining at once make 20 rooms with 40
/// different members, and nobody is left waiting.
async fn forty_users_joining_at_once_make_twenty_disjoint_rooms(s: &Fresh) {
    let mut users = Vec::new();
    for i in 0..40 {
        users.push(user(s, &format!("user{i:02}")).await);
    }
    let joins: Vec<PoolJoin> = users.iter().map(|u| join_at(*u, 0)).collect();
    let answers =
        futures::future::join_all(joins.iter().map(|j| s.pool.join_pool(j.clone()))).await;
    let mut rooms = BTreeSet::new();
    let mut paired = Vec::new();
    for (join, answer) in joins.iter().zip(answers) {
        match answer.unwrap() {
            Joined::Waiting => {}
            Joined::Matched { room, partner } => {
                assert_eq!(room.group.id, join.room);
                assert_ne!(partner, join.user);
                assert!(rooms.insert(room.group.id));
                paired.extend([join.user, partner]);
            }
        }
    }
    assert_eq!(rooms.len(), 20, "every second join meets someone");
    let distinct: BTreeSet<UserId> = paired.iter().copied().collect();
    assert_eq!(paired.len(), 40);
    assert_eq!(
        distinct,
        users.iter().copied().collect(),
        "each user in exactly one room"
    );
    for u in &users {
        assert!(!waits(s, *u).await, "nobody is left waiting");
        assert_eq!(s.groups.groups_of(*u).await.unwrap().len(), 1);
    }
}

/// MUST serialise leaves with joins: a waiting user who leaves while someone joins is either
/// gone (the leave answers `true`, the joiner waits) or met (`false`, matched) — never both.
async fn a_leave_racing_a_join_never_both_take_the_entry(s: &Fresh) {
    for round in 0..10 {
        let waiter = user(s, &format!("waiter{round}")).await;
        let joiner = user(s, &format!("joiner{round}")).await;
        s.pool.join_pool(join_at(waiter, 0)).await.unwrap();
        let (left, joined) = futures::join!(
            s.pool.leave_pool(waiter),
            s.pool.join_pool(join_at(joiner, 1))
        );
        match (left.unwrap(), joined.unwrap()) {
            (true, Joined::Waiting) => assert!(s.pool.leave_pool(joiner).await.unwrap()),
            (false, Joined::Matched { partner, .. }) => assert_eq!(partner, waiter),
            other => panic!("round {round}: the leave and the join disagree: {other:?}"),
        }
    }
}

/// MUST close every open room whose time has come (`closed_at = now`), answer each once, and
/// leave rooms not yet expired, rooms closed before, and groups without expiry alone.
async fn the_sweep_closes_each_expired_room_once_and_nothing_else(s: &Fresh) {
    let names = ["ada", "bob", "cyd", "dee", "eve", "fay"];
    let mut users = Vec::new();
    for name in names {
        users.push(user(s, name).await);
    }
    // Three rooms: expiring at ROOM, at ROOM + 10, and one closed by a member first.
    let mut rooms = Vec::new();
    for (i, pair) in users.chunks(2).enumerate() {
        let secs = i64::try_from(i).unwrap() * 10;
        s.pool.join_pool(join_at(pair[0], secs)).await.unwrap();
        let (room, _) = matched(s.pool.join_pool(join_at(pair[1], secs)).await.unwrap());
        rooms.push(room.group.id);
    }
    s.groups
        .delete_or_close(users[4], rooms[2], at(25))
        .await
        .unwrap();
    let named = crate::fixtures::group(s, users[0], &[users[1]]).await;

    let swept = s.pool.sweep_expired(at(ROOM)).await.unwrap();
    assert_eq!(swept.closed, vec![rooms[0]], "exactly at expires_at");
    assert_eq!(swept.dropped_entries, 0);
    let closed = s.groups.group_of(users[0], rooms[0]).await.unwrap();
    assert_eq!(closed.group.closed_at, Some(at(ROOM)));
    assert_eq!(
        s.groups
            .group_of(users[2], rooms[1])
            .await
            .unwrap()
            .group
            .closed_at,
        None,
        "not yet expired"
    );

    let swept = s.pool.sweep_expired(at(ROOM + 10)).await.unwrap();
    assert_eq!(
        swept.closed,
        vec![rooms[1]],
        "the first room is not answered again"
    );
    let later = s.pool.sweep_expired(at(10 * ROOM)).await.unwrap();
    assert!(later.closed.is_empty(), "{later:?}");
    // The room a member closed keeps its own closing time; the named group is untouched.
    let by_member = s.groups.group_of(users[4], rooms[2]).await.unwrap();
    assert_eq!(by_member.group.closed_at, Some(at(25)));
    let group = s.groups.group_of(users[0], named).await.unwrap();
    assert_eq!(
        (group.group.expires_at, group.group.closed_at),
        (None, None)
    );
}

/// MUST remove waiting entries with `expires_at <= now` and count them; live ones stay.
async fn the_sweep_drops_expired_entries_and_keeps_live_ones(s: &Fresh) {
    let ada = user_in(s, "ada", Some("FR")).await;
    let bob = user_in(s, "bob", Some("DE")).await;
    let cyd = user_in(s, "cyd", Some("IT")).await;
    // Strict wishes of different countries: all three wait side by side.
    s.pool.join_pool(strict(join_at(ada, 0))).await.unwrap();
    s.pool.join_pool(strict(join_at(bob, 10))).await.unwrap();
    s.pool.join_pool(strict(join_at(cyd, 20))).await.unwrap();
    let swept = s.pool.sweep_expired(at(WAIT + 10)).await.unwrap();
    assert_eq!(
        swept.dropped_entries, 2,
        "ada's and bob's (exactly at its end)"
    );
    assert!(swept.closed.is_empty());
    assert!(!waits(s, ada).await);
    assert!(!waits(s, bob).await);
    assert!(waits(s, cyd).await);
    let again = s.pool.sweep_expired(at(WAIT + 10)).await.unwrap();
    assert_eq!(again.dropped_entries, 0);
}

/// MUST close each room exactly once even when sweeps run at once (many instances).
async fn sweeps_at_once_close_each_room_exactly_once(s: &Fresh) {
    let mut rooms = BTreeSet::new();
    for i in 0..10 {
        let a = user(s, &format!("left{i}")).await;
        let b = user(s, &format!("right{i}")).await;
        s.pool.join_pool(join_at(a, 0)).await.unwrap();
        let (room, _) = matched(s.pool.join_pool(join_at(b, 0)).await.unwrap());
        rooms.insert(room.group.id);
    }
    let sweeps = futures::future::join_all((0..4).map(|_| s.pool.sweep_expired(at(ROOM)))).await;
    let mut closed = Vec::new();
    for swept in sweeps {
        closed.extend(swept.unwrap().closed);
    }
    closed.sort();
    let once: Vec<GroupId> = rooms.into_iter().collect();
    assert_eq!(closed, once, "every room closed, none twice");
}
