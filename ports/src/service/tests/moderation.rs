//! Blocks and bans: who may ban (admins, never themselves) decided before any store call, and
//! what is published once the store has answered — `GroupClosed` for each chat a block closed,
//! `UserBanned` for a ban (again for a repeated one), each recent ban once by the ban watch.

use std::collections::HashSet;
use std::sync::Arc;

use confab_domain::{Event, GroupId, UserId};
use mockall::predicate::eq;

use super::{Mocks, NOW, assert_invalid, caller};
use crate::Error;
use crate::store::Blocked;

#[tokio::test]
async fn a_block_publishes_group_closed_for_each_chat_it_closed() {
    let me = caller(false);
    let target = UserId::new();
    let closed = vec![GroupId::new(), GroupId::new()];
    let mut m = Mocks::default();
    let rx = Arc::clone(&m.bus);
    let answer = Blocked {
        changed: true,
        closed: closed.clone(),
    };
    m.blocks
        .expect_block()
        .with(eq(me.user_id), eq(target), eq(NOW))
        .times(1)
        .returning(move |_, _, _| Ok(answer.clone()));
    m.conversations().block(&me, target).await.unwrap();
    for group_id in closed {
        assert_eq!(rx.try_recv(), Some(Event::GroupClosed { group_id }));
    }
    assert!(rx.try_recv().is_none());
}

#[tokio::test]
async fn an_admin_bans_with_a_trimmed_reason_and_the_ban_is_published_after_the_store() {
    let admin = caller(true);
    let target = UserId::new();
    let mut m = Mocks::default();
    let rx = Arc::clone(&m.bus);
    m.users
        .expect_set_banned()
        .withf(move |id, banned, reason, now| {
            *id == target
                && *banned
                && reason.as_ref().map(|r| r.as_str()) == Some("spam")
                && *now == NOW
        })
        .times(1)
        .returning(|_, _, _, _| Ok(false));
    m.accounts()
        .ban(&admin, target, Some("  spam "))
        .await
        .unwrap();
    // Published even though the account was banned already: a socket that outlived the
    // first ban's event ends now.
    assert_eq!(rx.try_recv(), Some(Event::UserBanned { user_id: target }));
    assert!(rx.try_recv().is_none());
}

#[tokio::test]
async fn only_admins_ban_never_themselves_and_a_bad_reason_touches_nothing() {
    let mut m = Mocks::default();
    let rx = Arc::clone(&m.bus);
    m.users.expect_set_banned().never();
    let accounts = m.accounts();
    let user = caller(false);
    for r in [
        accounts.ban(&user, UserId::new(), None).await,
        accounts.unban(&user, UserId::new()).await,
    ] {
        assert!(matches!(r, Err(Error::Forbidden(_))), "{r:?}");
    }
    let admin = caller(true);
    assert_invalid(accounts.ban(&admin, admin.user_id, None).await, "user_id");
    assert_invalid(accounts.unban(&admin, admin.user_id).await, "user_id");
    assert_invalid(
        accounts
            .ban(&admin, UserId::new(), Some("two\nlines"))
            .await,
        "reason",
    );
    assert!(rx.try_recv().is_none());
}

#[tokio::test]
async fn an_unban_publishes_nothing() {
    let admin = caller(true);
    let target = UserId::new();
    let mut m = Mocks::default();
    let rx = Arc::clone(&m.bus);
    m.users
        .expect_set_banned()
        .withf(move |id, banned, reason, _| *id == target && !*banned && reason.is_none())
        .times(1)
        .returning(|_, _, _, _| Ok(true));
    m.accounts().unban(&admin, target).await.unwrap();
    assert!(rx.try_recv().is_none());
}

#[tokio::test]
async fn the_ban_watch_announces_each_recent_ban_once_and_forgets_old_ones() {
    let (a, b, c) = (UserId::new(), UserId::new(), UserId::new());
    let mut m = Mocks::default();
    let rx = Arc::clone(&m.bus);
    let mut answers = vec![vec![a, b], vec![a, b, c], vec![c]].into_iter();
    m.users
        .expect_banned_since()
        .with(eq(NOW - time::Duration::seconds(30)))
        .times(3)
        .returning(move |_| Ok(answers.next().unwrap()));
    let accounts = m.accounts();
    let mut announced = HashSet::new();
    let window = time::Duration::seconds(30);
    assert_eq!(
        accounts
            .announce_recent_bans(window, &mut announced)
            .await
            .unwrap(),
        2
    );
    let mut first: Vec<Event> = std::iter::from_fn(|| rx.try_recv()).collect();
    first.sort_by_key(|e| format!("{e:?}"));
    let mut expected = vec![
        Event::UserBanned { user_id: a },
        Event::UserBanned { user_id: b },
    ];
    expected.sort_by_key(|e| format!("{e:?}"));
    assert_eq!(first, expected);
    assert_eq!(
        accounts
            .announce_recent_bans(window, &mut announced)
            .await
            .unwrap(),
        1
    );
    assert_eq!(rx.try_recv(), Some(Event::UserBanned { user_id: c }));
    assert_eq!(
        accounts
            .announce_recent_bans(window, &mut announced)
            .await
            .unwrap(),
        0
    );
    assert_eq!(announced, HashSet::from([c]));
    assert!(rx.try_recv().is_none());
}
