//! Reading a group: `history` (`before` or `after`, never both, mapped to the store's cursor;
//! the limit defaulted and capped) and `mark_read` (a non-negative seq; the marker the store
//! keeps comes back).

use confab_domain::{GroupId, UserId};

use super::message;
use crate::Error;
use crate::service::tests::{Mocks, assert_invalid, caller};
use crate::service::{MESSAGES_DEFAULT, MESSAGES_MAX};
use crate::store::{Cursor, Page};

// ---------------------------------------------------------------------------------------------
// history
// ---------------------------------------------------------------------------------------------

/// Expects one `history` page read by `me` in `gid` from `cursor`, at most `limit`.
fn expect_history(m: &mut Mocks, me: UserId, gid: GroupId, cursor: Cursor, limit: u32) -> Page {
    let page = Page {
        messages: vec![message(gid, 2, "two"), message(gid, 1, "one")],
        has_more: true,
    };
    let answer = page.clone();
    m.messages
        .expect_history()
        .times(1)
        .withf(move |user, group, c, l| *user == me && *group == gid && *c == cursor && *l == limit)
        .returning(move |_, _, _, _| Ok(answer.clone()));
    page
}

#[tokio::test]
async fn history_with_both_before_and_after_is_a_bad_request_without_a_store_call() {
    for (before, after) in [(1, 2), (0, 0), (-1, -1)] {
        let mut m = Mocks::default();
        m.messages.expect_history().never();
        let res = m
            .conversations()
            .history(
                &caller(false),
                GroupId::new(),
                Some(before),
                Some(after),
                None,
            )
            .await;
        assert!(matches!(res, Err(Error::BadRequest(_))), "{res:?}");
    }
}

#[tokio::test]
async fn history_with_a_negative_before_or_after_is_invalid_without_a_store_call() {
    for bad in [-1, i64::MIN] {
        let mut m = Mocks::default();
        m.messages.expect_history().never();
        let c = m.conversations();
        let me = caller(false);
        assert_invalid(
            c.history(&me, GroupId::new(), Some(bad), None, None).await,
            "before",
        );
        assert_invalid(
            c.history(&me, GroupId::new(), None, Some(bad), None).await,
            "after",
        );
    }
}

#[tokio::test]
async fn history_maps_before_and_after_to_the_cursor() {
    for (before, after, cursor) in [
        (None, None, Cursor::Latest),
        (Some(7), None, Cursor::Before(7)),
        (None, Some(7), Cursor::After(7)),
        (Some(0), None, Cursor::Before(0)),
        (None, Some(0), Cursor::After(0)),
        (
            Some(i64::MAX),
            None,
            Cursor::Before(i64::MAX.unsigned_abs()),
        ),
    ] {
        let me = caller(false);
        let gid = GroupId::new();
        let mut m = Mocks::default();
        let page = expect_history(&mut m, me.user_id, gid, cursor, 50);
        let out = m
            .conversations()
            .history(&me, gid, before, after, None)
            .await
            .unwrap();
        assert_eq!(out, page, "{cursor:?}");
    }
}

#[tokio::test]
async fn history_limit_defaults_to_50_and_is_capped_at_100() {
    assert_eq!((MESSAGES_DEFAULT, MESSAGES_MAX), (50, 100));
    for (raw, limit) in [
        (None, 50),
        (Some(1), 1),
        (Some(50), 50),
        (Some(100), 100),
        (Some(101), 100),
        (Some(i64::from(u32::MAX) + 1), 100),
        (Some(i64::MAX), 100),
    ] {
        let me = caller(false);
        let gid = GroupId::new();
        let mut m = Mocks::default();
        expect_history(&mut m, me.user_id, gid, Cursor::Latest, limit);
        m.conversations()
            .history(&me, gid, None, None, raw)
            .await
            .unwrap();
    }
}

#[tokio::test]
async fn history_with_a_limit_below_one_is_invalid_limit_without_a_store_call() {
    for bad in [0, -1, i64::MIN] {
        let mut m = Mocks::default();
        m.messages.expect_history().never();
        let res = m
            .conversations()
            .history(&caller(false), GroupId::new(), None, Some(3), Some(bad))
            .await;
        assert_invalid(res, "limit");
    }
}

// ---------------------------------------------------------------------------------------------
// mark_read
// ---------------------------------------------------------------------------------------------

#[tokio::test]
async fn mark_read_with_a_negative_seq_is_invalid_seq_without_a_store_call() {
    for bad in [-1, -42, i64::MIN] {
        let mut m = Mocks::default();
        m.groups.expect_mark_read().never();
        let res = m
            .conversations()
            .mark_read(&caller(false), GroupId::new(), bad)
            .await;
        assert_invalid(res, "seq");
    }
}

#[tokio::test]
async fn mark_read_passes_the_seq_as_u64_and_returns_the_marker_in_force() {
    for (raw, seq) in [(0, 0), (42, 42), (i64::MAX, i64::MAX.unsigned_abs())] {
        let me = caller(false);
        let id = me.user_id;
        let gid = GroupId::new();
        let mut m = Mocks::default();
        m.groups
            .expect_mark_read()
            .times(1)
            .withf(move |user, group, s| *user == id && *group == gid && *s == seq)
            // The store clamps to the group's last message.
            .returning(|_, _, _| Ok(7));
        let out = m.conversations().mark_read(&me, gid, raw).await.unwrap();
        assert_eq!(out, 7);
    }
}
