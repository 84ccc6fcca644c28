//! `Users::set_banned` / `banned_since` and `Blocks`: what a ban does to logins, tokens and the
//! pool; what a block closes and refuses (direct chats both ways, the pool).

use confab_domain::{BanReason, GroupId, GroupKind, UserId};
use confab_ports::Error;
use confab_ports::store::{Joined, Rotation};

use crate::fixtures::{Fresh, T0, at, user};
use crate::messages::{chat, room};
use crate::pool::{join_at, matched, waits};
use crate::sessions::{is_live, login, rotate};

crate::store_cases!(
    a_ban_revokes_every_login_and_tokens_say_banned,
    a_second_ban_changes_nothing_and_a_lift_keeps_logins_ended,
    a_ban_takes_the_user_out_of_the_pool,
    banned_since_lists_the_bans_in_the_window,
    banning_an_unknown_user_is_not_found,
    a_block_closes_the_pairs_direct_chats_and_pool_rooms,
    blocking_again_changes_nothing_and_unblock_says_whether_there_was_one,
    blocking_oneself_is_invalid_and_an_unknown_user_not_found,
    the_blocked_opener_meets_an_unknown_user_and_the_blocker_a_refusal,
    blocked_users_are_listed_most_recent_first,
    the_pool_never_pairs_a_blocked_pair_either_way,
);

async fn ban(s: &Fresh, who: UserId, banned: bool) -> bool {
    let reason = banned.then(|| BanReason::parse("spam").unwrap());
    s.users
        .set_banned(who, banned, reason, at(5))
        .await
        .unwrap()
}

/// MUST mark the account banned, revoke every login, and make its tokens say so.
async fn a_ban_revokes_every_login_and_tokens_say_banned(s: &Fresh) {
    let ada = user(s, "ada").await;
    let bob = user(s, "bob").await;
    let (one, two) = (login(s, ada, 1).await, login(s, ada, 2).await);
    let bobs = login(s, bob, 3).await;
    assert!(ban(s, ada, true).await);
    assert!(s.users.user_by_id(ada).await.unwrap().unwrap().banned);
    for session in [one, two] {
        let p = s.sessions.principal(session, ada).await.unwrap().unwrap();
        assert!(p.banned, "{p:?}");
    }
    assert!(is_live(s, bobs, bob).await, "another account's login stays");
    assert!(!s.users.user_by_id(bob).await.unwrap().unwrap().banned);
    // Live, used and unknown-state tokens alike.
    assert_eq!(rotate(s, 1, 10, at(6)).await, Rotation::Banned);
    assert_eq!(rotate(s, 2, 11, at(6)).await, Rotation::Banned);
    assert_eq!(
        rotate(s, 3, 12, at(6)).await,
        Rotation::Rotated {
            session_id: bobs,
            user: s.users.user_by_id(bob).await.unwrap().unwrap()
        }
    );
}

/// A second ban MUST change nothing; lifting MUST clear the ban and keep the logins ended.
async fn a_second_ban_changes_nothing_and_a_lift_keeps_logins_ended(s: &Fresh) {
    let ada = user(s, "ada").await;
    let session = login(s, ada, 1).await;
    assert!(ban(s, ada, true).await);
    assert!(!ban(s, ada, true).await);
    assert!(ban(s, ada, false).await);
    assert!(!ban(s, ada, false).await);
    assert!(!s.users.user_by_id(ada).await.unwrap().unwrap().banned);
    assert_eq!(s.sessions.principal(session, ada).await.unwrap(), None);
    assert_eq!(rotate(s, 1, 2, at(6)).await, Rotation::Rejected);
    // A new login works.
    let fresh = login(s, ada, 3).await;
    assert!(is_live(s, fresh, ada).await);
}

/// A ban MUST take the account out of the matching pool.
async fn a_ban_takes_the_user_out_of_the_pool(s: &Fresh) {
    let ada = user(s, "ada").await;
    let bob = user(s, "bob").await;
    assert_eq!(
        s.pool.join_pool(join_at(ada, 0)).await.unwrap(),
        Joined::Waiting
    );
    ban(s, ada, true).await;
    assert!(!waits(s, ada).await);
    // Nobody is matched with the banned user any more.
    assert_eq!(
        s.pool.join_pool(join_at(bob, 1)).await.unwrap(),
        Joined::Waiting
    );
}

/// MUST list exactly the accounts banned (and still banned) at or after `since`.
async fn banned_since_lists_the_bans_in_the_window(s: &Fresh) {
    let ada = user(s, "ada").await;
    let bob = user(s, "bob").await;
    let cy = user(s, "cyd").await;
    s.users.set_banned(ada, true, None, at(1)).await.unwrap();
    s.users.set_banned(bob, true, None, at(10)).await.unwrap();
    s.users.set_banned(cy, true, None, at(10)).await.unwrap();
    s.users.set_banned(cy, false, None, at(11)).await.unwrap();
    assert_eq!(s.users.banned_since(at(5)).await.unwrap(), vec![bob]);
    let mut all = s.users.banned_since(T0).await.unwrap();
    all.sort();
    let mut expected = vec![ada, bob];
    expected.sort();
    assert_eq!(all, expected);
}

async fn banning_an_unknown_user_is_not_found(s: &Fresh) {
    for banned in [true, false] {
        let r = s.users.set_banned(UserId::new(), banned, None, T0).await;
        assert!(matches!(r, Err(Error::NotFound("user"))), "{r:?}");
    }
}

/// MUST close, in the same transaction, every open direct chat and pool room of the pair.
async fn a_block_closes_the_pairs_direct_chats_and_pool_rooms(s: &Fresh) {
    let ada = user(s, "ada").await;
    let bob = user(s, "bob").await;
    let cy = user(s, "cyd").await;
    let direct = chat(s, ada, bob).await;
    let pool_room = room(s, bob, ada, at(3_600)).await;
    let other = chat(s, ada, cy).await;
    let group = crate::fixtures::group(s, ada, &[bob]).await;
    let blocked = s.blocks.block(ada, bob, at(2)).await.unwrap();
    assert!(blocked.changed);
    let mut closed = blocked.closed.clone();
    closed.sort();
    let mut expected = vec![direct, pool_room];
    expected.sort();
    assert_eq!(closed, expected);
    for (g, open) in [
        (direct, false),
        (pool_room, false),
        (other, true),
        (group, true),
    ] {
        let view = s.groups.group_of(ada, g).await.unwrap();
        assert_eq!(view.group.closed_at.is_none(), open, "{g:?}");
    }
    let view = s.groups.group_of(bob, direct).await.unwrap();
    assert_eq!(view.group.kind, GroupKind::Direct);
    assert_eq!(view.group.closed_at, Some(at(2)));
}

async fn blocking_again_changes_nothing_and_unblock_says_whether_there_was_one(s: &Fresh) {
    let ada = user(s, "ada").await;
    let bob = user(s, "bob").await;
    assert!(s.blocks.block(ada, bob, T0).await.unwrap().changed);
    let direct_after = chat_attempt(s, bob, ada).await;
    assert!(matches!(direct_after, Err(Error::NotFound("user"))));
    let again = s.blocks.block(ada, bob, at(1)).await.unwrap();
    assert!(!again.changed && again.closed.is_empty());
    assert!(s.blocks.unblock(ada, bob).await.unwrap());
    assert!(!s.blocks.unblock(ada, bob).await.unwrap());
    assert!(!s.blocks.unblock(ada, UserId::new()).await.unwrap());
    // Unblocked: a new chat may be opened.
    assert!(chat_attempt(s, bob, ada).await.is_ok());
}

async fn blocking_oneself_is_invalid_and_an_unknown_user_not_found(s: &Fresh) {
    let ada = user(s, "ada").await;
    let r = s.blocks.block(ada, ada, T0).await;
    assert!(
        matches!(&r, Err(Error::Invalid(i)) if i.field == "user_id"),
        "{r:?}"
    );
    let r = s.blocks.block(ada, UserId::new(), T0).await;
    assert!(matches!(r, Err(Error::NotFound("user"))), "{r:?}");
    assert!(s.blocks.blocked_by(ada).await.unwrap().is_empty());
}

async fn chat_attempt(s: &Fresh, me: UserId, other: UserId) -> Result<GroupId, Error> {
    s.groups
        .open_direct(me, other, GroupId::new(), at(3))
        .await
        .map(|(view, _)| view.group.id)
}

/// `open_direct` MUST answer the blocked opener as for an unknown user, and refuse the blocker.
async fn the_blocked_opener_meets_an_unknown_user_and_the_blocker_a_refusal(s: &Fresh) {
    let ada = user(s, "ada").await;
    let bob = user(s, "bob").await;
    s.blocks.block(ada, bob, T0).await.unwrap();
    let blocked = chat_attempt(s, bob, ada).await;
    let unknown = chat_attempt(s, bob, UserId::new()).await;
    assert_eq!(format!("{blocked:?}"), format!("{unknown:?}"));
    assert!(matches!(blocked, Err(Error::NotFound("user"))));
    assert!(matches!(
        chat_attempt(s, ada, bob).await,
        Err(Error::Forbidden(_))
    ));
}

async fn blocked_users_are_listed_most_recent_first(s: &Fresh) {
    let ada = user(s, "ada").await;
    let bob = user(s, "bob").await;
    let cy = user(s, "cyd").await;
    s.blocks.block(ada, bob, at(1)).await.unwrap();
    s.blocks.block(ada, cy, at(2)).await.unwrap();
    s.blocks.block(bob, ada, at(3)).await.unwrap();
    let listed: Vec<UserId> = s
        .blocks
        .blocked_by(ada)
        .await
        .unwrap()
        .iter()
        .map(|u| u.id)
        .collect();
    assert_eq!(listed, vec![cy, bob]);
}

/// `join_pool` MUST NOT match a pair where either blocked the other.
async fn the_pool_never_pairs_a_blocked_pair_either_way(s: &Fresh) {
    let ada = user(s, "ada").await;
    let bob = user(s, "bob").await;
    let cy = user(s, "cyd").await;
    s.blocks.block(bob, ada, T0).await.unwrap();
    assert_eq!(
        s.pool.join_pool(join_at(ada, 0)).await.unwrap(),
        Joined::Waiting
    );
    // bob blocked ada: waits beside her.
    assert_eq!(
        s.pool.join_pool(join_at(bob, 1)).await.unwrap(),
        Joined::Waiting
    );
    // cy meets the oldest, ada.
    let (_, partner) = matched(s.pool.join_pool(join_at(cy, 2)).await.unwrap());
    assert_eq!(partner, ada);
    assert!(waits(s, bob).await);
    // The other way round: the blocker joins after the one they blocked.
    assert_eq!(
        s.pool.join_pool(join_at(ada, 3)).await.unwrap(),
        Joined::Waiting
    );
    assert!(s.blocks.unblock(bob, ada).await.unwrap());
    s.blocks.block(ada, bob, at(4)).await.unwrap();
    assert_eq!(
        s.pool.join_pool(join_at(bob, 5)).await.unwrap(),
        Joined::Waiting
    );
}
