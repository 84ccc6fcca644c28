//! Named groups: `create_group` (the name and the member count checked first, the caller's own
//! id and duplicates dropped, the caller the creator at the clock's time), `rename_group`,
//! `delete_group` (deleted or closed at the clock's time) and `set_alias` (the caller's own
//! name for a group, trimmed or cleared).

use confab_domain::{Alias, GroupId, UserId};

use super::{Seen, bad_labels, created_view, named_view};
use crate::service::MAX_INITIAL_MEMBERS;
use crate::service::tests::{Mocks, NOW, assert_invalid, caller};
use crate::store::{Closing, GroupView, NewGroup};

// ---------------------------------------------------------------------------------------------
// create_group
// ---------------------------------------------------------------------------------------------

/// Expects one `create_group`, answered like a store would, and keeps what it was given.
fn capture_create_group(m: &mut Mocks) -> Seen<NewGroup> {
    let seen = Seen::default();
    let keep = seen.clone();
    m.groups.expect_create_group().times(1).returning(move |g| {
        let out = created_view(&g);
        keep.put(g);
        Ok(out)
    });
    seen
}

#[tokio::test]
async fn create_group_with_an_invalid_name_is_invalid_name_before_any_store_call() {
    for bad in bad_labels() {
        let mut m = Mocks::default();
        m.groups.expect_create_group().never();
        let res = m
            .conversations()
            .create_group(&caller(false), &bad, vec![UserId::new()])
            .await;
        assert_invalid(res, "name");
    }
}

#[tokio::test]
async fn create_group_checks_the_name_before_the_member_count() {
    let mut m = Mocks::default();
    m.groups.expect_create_group().never();
    let many = (0..=MAX_INITIAL_MEMBERS).map(|_| UserId::new()).collect();
    let res = m
        .conversations()
        .create_group(&caller(false), "", many)
        .await;
    assert_invalid(res, "name");
}

#[tokio::test]
async fn create_group_trims_the_name_and_accepts_100_characters() {
    let mut m = Mocks::default();
    let seen = capture_create_group(&mut m);
    let name = format!(" \t{}\n ", "é".repeat(100));
    m.conversations()
        .create_group(&caller(false), &name, vec![])
        .await
        .unwrap();
    assert_eq!(seen.take().name.as_str(), "é".repeat(100));
}

#[tokio::test]
async fn create_group_drops_the_callers_own_id_and_duplicates_from_member_ids_in_order() {
    let me = caller(false);
    let (a, b, c) = (UserId::new(), UserId::new(), UserId::new());
    let mut m = Mocks::default();
    let seen = capture_create_group(&mut m);
    m.conversations()
        .create_group(
            &me,
            "Rust fans",
            vec![b, me.user_id, a, b, me.user_id, c, a],
        )
        .await
        .unwrap();
    assert_eq!(seen.take().members, vec![b, a, c]);
}

#[tokio::test]
async fn create_group_of_the_caller_alone_creates_it_without_members() {
    let me = caller(false);
    let mut m = Mocks::default();
    let seen = capture_create_group(&mut m);
    let out = m
        .conversations()
        .create_group(&me, "Just me", vec![me.user_id])
        .await
        .unwrap();
    assert!(seen.take().members.is_empty());
    assert_eq!(out.member_count, 1);
}

#[tokio::test]
async fn create_group_with_more_than_1000_member_ids_is_invalid_member_ids_without_a_store_call() {
    assert_eq!(MAX_INITIAL_MEMBERS, 1000);
    let mut m = Mocks::default();
    m.groups.expect_create_group().never();
    let many = (0..1001).map(|_| UserId::new()).collect();
    let res = m
        .conversations()
        .create_group(&caller(false), "Crowd", many)
        .await;
    assert_invalid(res, "member_ids");
}

#[tokio::test]
async fn create_group_counts_member_ids_as_sent_before_dropping_duplicates() {
    let me = caller(false);
    let mut m = Mocks::default();
    m.groups.expect_create_group().never();
    let res = m
        .conversations()
        .create_group(&me, "Echo", vec![me.user_id; 1001])
        .await;
    assert_invalid(res, "member_ids");
}

#[tokio::test]
async fn create_group_with_exactly_1000_member_ids_creates_it() {
    let mut m = Mocks::default();
    let seen = capture_create_group(&mut m);
    let ids: Vec<UserId> = (0..1000).map(|_| UserId::new()).collect();
    m.conversations()
        .create_group(&caller(false), "Crowd", ids.clone())
        .await
        .unwrap();
    assert_eq!(seen.take().members, ids);
}

#[tokio::test]
async fn create_group_makes_the_caller_its_creator_at_the_clocks_time_and_returns_the_store_view() {
    let me = caller(false);
    let bob = UserId::new();
    let mut m = Mocks::default();
    let seen = capture_create_group(&mut m);
    let out = m
        .conversations()
        .create_group(&me, "Rust fans", vec![bob])
        .await
        .unwrap();
    let g = seen.take();
    assert_eq!(g.created_by, me.user_id);
    assert_eq!(g.created_at, NOW);
    assert_eq!(g.name.as_str(), "Rust fans");
    assert_eq!(g.members, vec![bob]);
    assert_eq!(g.id.as_uuid().get_version_num(), 7);
    assert_eq!(out, created_view(&g));
}

// ---------------------------------------------------------------------------------------------
// rename_group
// ---------------------------------------------------------------------------------------------

#[tokio::test]
async fn rename_group_with_an_invalid_name_is_invalid_name_without_a_store_call() {
    for bad in bad_labels() {
        let mut m = Mocks::default();
        m.groups.expect_rename_group().never();
        let res = m
            .conversations()
            .rename_group(&caller(false), GroupId::new(), &bad)
            .await;
        assert_invalid(res, "name");
    }
}

#[tokio::test]
async fn rename_group_renames_the_group_to_the_trimmed_name_as_the_caller() {
    let me = caller(false);
    let id = me.user_id;
    let g = named_view(id);
    let gid = g.group.id;
    let answer = g.clone();
    let mut m = Mocks::default();
    m.groups
        .expect_rename_group()
        .times(1)
        .withf(move |actor, group, name| {
            *actor == id && *group == gid && name.as_str() == "Rustaceans"
        })
        .returning(move |_, _, _| Ok(answer.clone()));
    let out = m
        .conversations()
        .rename_group(&me, gid, "  Rustaceans\t")
        .await
        .unwrap();
    assert_eq!(out, g);
}

// ---------------------------------------------------------------------------------------------
// delete_group
// ---------------------------------------------------------------------------------------------

#[tokio::test]
async fn delete_group_deletes_or_closes_at_the_clocks_time_and_says_which() {
    for closing in [
        Closing::Deleted {
            members: vec![UserId::new()],
        },
        Closing::Closed,
        Closing::AlreadyClosed,
    ] {
        let me = caller(false);
        let id = me.user_id;
        let gid = GroupId::new();
        let mut m = Mocks::default();
        m.groups
            .expect_delete_or_close()
            .times(1)
            .withf(move |actor, group, now| *actor == id && *group == gid && *now == NOW)
            .returning({
                let closing = closing.clone();
                move |_, _, _| Ok(closing.clone())
            });
        let out = m.conversations().delete_group(&me, gid).await.unwrap();
        assert_eq!(out, closing);
    }
}

// ---------------------------------------------------------------------------------------------
// set_alias
// ---------------------------------------------------------------------------------------------

/// Expects one `set_alias` by `me` in `gid` with `alias`, answering `answer`.
fn expect_set_alias(m: &mut Mocks, me: UserId, gid: GroupId, alias: Option<&str>) -> GroupView {
    let expected = alias.map(|a| Alias::parse(a).unwrap());
    let mut out = named_view(me);
    out.my.alias.clone_from(&expected);
    let answer = out.clone();
    m.groups
        .expect_set_alias()
        .times(1)
        .withf(move |user, group, got| *user == me && *group == gid && *got == expected)
        .returning(move |_, _, _| Ok(answer.clone()));
    out
}

#[tokio::test]
async fn set_alias_sets_the_trimmed_alias_for_the_caller() {
    let me = caller(false);
    let gid = GroupId::new();
    let mut m = Mocks::default();
    let g = expect_set_alias(&mut m, me.user_id, gid, Some("work"));
    let out = m
        .conversations()
        .set_alias(&me, gid, Some("  work \n"))
        .await
        .unwrap();
    assert_eq!(out, g);
}

#[tokio::test]
async fn set_alias_with_none_clears_the_alias() {
    let me = caller(false);
    let gid = GroupId::new();
    let mut m = Mocks::default();
    let g = expect_set_alias(&mut m, me.user_id, gid, None);
    let out = m.conversations().set_alias(&me, gid, None).await.unwrap();
    assert_eq!(out, g);
}

#[tokio::test]
async fn set_alias_with_an_invalid_alias_is_invalid_alias_without_a_store_call() {
    for bad in bad_labels() {
        let mut m = Mocks::default();
        m.groups.expect_set_alias().never();
        let res = m
            .conversations()
            .set_alias(&caller(false), GroupId::new(), Some(&bad))
            .await;
        assert_invalid(res, "alias");
    }
}
