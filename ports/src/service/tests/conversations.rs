//! Conversation use cases: groups, direct chats, members and roles, read markers, and messages.
//!
//! Every use case validates its input with the domain rules before touching a store, hands the
//! store exactly what it validated (with the caller's id and the clock's time), and passes the
//! store's answer, success or failure, through unchanged.

use std::sync::{Arc, Mutex};

use confab_domain::{
    Alias, Body, ClientId, Group, GroupId, GroupKind, GroupName, Message, MessageId, Role, UserId,
};

use super::{
    Mocks, NOW, assert_invalid, assert_not_found, caller, member, owner_membership, user_named,
};
use crate::service::{
    DirectWith, MAX_INITIAL_MEMBERS, MESSAGES_DEFAULT, MESSAGES_MAX, search_terms,
};
use crate::store::{
    Appended, Changed, Closing, Cursor, GroupView, MyMembership, NewGroup, NewMessage, Page,
    Removal, RoleChanged,
};
use crate::{Error, Result};

// ---------------------------------------------------------------------------------------------
// Fixtures
// ---------------------------------------------------------------------------------------------

/// What a mock was called with, kept to look at after the call.
struct Seen<T>(Arc<Mutex<Option<T>>>);

impl<T> Default for Seen<T> {
    fn default() -> Self {
        Self(Arc::new(Mutex::new(None)))
    }
}

impl<T> Clone for Seen<T> {
    fn clone(&self) -> Self {
        Self(Arc::clone(&self.0))
    }
}

impl<T> Seen<T> {
    fn put(&self, value: T) {
        *self.0.lock().unwrap() = Some(value);
    }

    #[track_caller]
    fn take(&self) -> T {
        self.0
            .lock()
            .unwrap()
            .take()
            .expect("the store was not called")
    }
}

fn group(kind: GroupKind, name: Option<&str>, created_by: UserId) -> Group {
    Group {
        id: GroupId::new(),
        kind,
        name: name.map(|n| GroupName::parse(n).unwrap()),
        created_by,
        created_at: NOW,
        expires_at: None,
        closed_at: None,
        last_seq: 0,
        last_rev: 0,
    }
}

fn view(group: Group, role: Role) -> GroupView {
    GroupView {
        group,
        member_count: 2,
        my: MyMembership {
            role,
            alias: None,
            last_read_seq: 0,
            unread_count: 0,
        },
    }
}

/// A named group `me` owns.
fn named_view(me: UserId) -> GroupView {
    view(group(GroupKind::Group, Some("Rust fans"), me), Role::Owner)
}

/// A direct chat `me` started.
fn direct_view(me: UserId) -> GroupView {
    view(group(GroupKind::Direct, None, me), Role::Member)
}

/// What a store answers to `create_group`.
fn created_view(g: &NewGroup) -> GroupView {
    GroupView {
        group: Group {
            id: g.id,
            kind: GroupKind::Group,
            name: Some(g.name.clone()),
            created_by: g.created_by,
            created_at: g.created_at,
            expires_at: None,
            closed_at: None,
            last_seq: 0,
            last_rev: 0,
        },
        member_count: u64::try_from(g.members.len()).unwrap() + 1,
        my: owner_membership(),
    }
}

fn message(group: GroupId, seq: u64, body: &str) -> Message {
    Message {
        id: MessageId::new(),
        group_id: group,
        seq,
        rev: seq,
        created_rev: seq,
        sender_id: UserId::new(),
        body: body.to_owned(),
        client_id: None,
        created_at: NOW,
        edited_at: None,
        deleted: false,
    }
}

/// What a store answers to `append_message`.
fn appended(m: &NewMessage, duplicate: bool) -> Appended {
    Appended {
        message: Message {
            id: m.id,
            group_id: m.group_id,
            seq: 1,
            rev: 1,
            created_rev: 1,
            sender_id: m.sender_id,
            body: m.body.as_str().to_owned(),
            client_id: m.client_id.clone(),
            created_at: m.now,
            edited_at: None,
            deleted: false,
        },
        duplicate,
    }
}

/// What a store answers to an edit or delete.
fn changed(group: GroupId, body: &str, changed: bool) -> Changed {
    Changed {
        message: message(group, 3, body),
        changed,
    }
}

/// Failures a store may answer with, each made fresh (errors are not `Clone`).
fn failures() -> [fn() -> Error; 5] {
    [
        || Error::NotFound("group"),
        || Error::Forbidden("only the owner may change roles".into()),
        || Error::Gone("this chat is closed".into()),
        || Error::Conflict { field: "user_id" },
        || Error::Unavailable("database is down".into()),
    ]
}

/// The store's failure came back as it was.
#[track_caller]
fn assert_passed_through<T: std::fmt::Debug>(res: Result<T>, expected: Error) {
    match res {
        Err(got) => assert_eq!(format!("{got:?}"), format!("{expected:?}")),
        Ok(v) => panic!("expected {expected:?}, got Ok({v:?})"),
    }
}

/// Names a group may not have (nor an alias): empty once trimmed, over 100 characters, or
/// holding a control character.
fn bad_labels() -> Vec<String> {
    vec![
        String::new(),
        "   ".into(),
        "\t\n ".into(),
        "x".repeat(101),
        "é".repeat(101),
        format!("  {}  ", "x".repeat(101)),
        "nul\0byte".into(),
        "line\nbreak".into(),
        "bell\u{7}".into(),
        "esc\u{1b}[31m".into(),
        "del\u{7f}ete".into(),
        "next\u{85}line".into(),
    ]
}

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

#[tokio::test]
async fn create_group_passes_an_unknown_member_from_the_store_through_as_invalid_member_ids() {
    let mut m = Mocks::default();
    m.groups
        .expect_create_group()
        .times(1)
        .returning(|_| Err(Error::invalid("member_ids", "no such user")));
    let res = m
        .conversations()
        .create_group(&caller(false), "Rust fans", vec![UserId::new()])
        .await;
    assert_invalid(res, "member_ids");
}

#[tokio::test]
async fn create_group_passes_store_failures_through_unchanged() {
    for fail in failures() {
        let mut m = Mocks::default();
        m.groups
            .expect_create_group()
            .times(1)
            .returning(move |_| Err(fail()));
        let res = m
            .conversations()
            .create_group(&caller(false), "Rust fans", vec![])
            .await;
        assert_passed_through(res, fail());
    }
}

// ---------------------------------------------------------------------------------------------
// open_direct
// ---------------------------------------------------------------------------------------------

/// Expects one `open_direct` of `me` with `other` at `NOW`, answering a chat and `created`.
fn expect_open_direct(m: &mut Mocks, me: UserId, other: UserId, created: bool) -> GroupView {
    let chat = direct_view(me);
    let answer = chat.clone();
    m.groups
        .expect_open_direct()
        .times(1)
        .withf(move |a, b, _, now| *a == me && *b == other && *now == NOW)
        .returning(move |_, _, _, _| Ok((answer.clone(), created)));
    chat
}

#[tokio::test]
async fn open_direct_with_oneself_by_id_is_invalid_user_id_without_a_store_call() {
    let me = caller(false);
    let mut m = Mocks::default();
    m.groups.expect_open_direct().never();
    let res = m
        .conversations()
        .open_direct(&me, DirectWith::Id(me.user_id))
        .await;
    assert_invalid(res, "user_id");
}

#[tokio::test]
async fn open_direct_with_ones_own_username_is_invalid_username_without_opening_a_chat() {
    let me = caller(false);
    let mut own = user_named("alice");
    own.id = me.user_id;
    let mut m = Mocks::default();
    m.users
        .expect_user_by_username()
        .times(1)
        .returning(move |_| Ok(Some(own.clone())));
    m.groups.expect_open_direct().never();
    let res = m
        .conversations()
        .open_direct(&me, DirectWith::Username("alice".into()))
        .await;
    assert_invalid(res, "username");
}

#[tokio::test]
async fn open_direct_by_id_opens_the_chat_of_the_pair_and_passes_the_created_flag_through() {
    for created in [true, false] {
        let me = caller(false);
        let bob = UserId::new();
        let mut m = Mocks::default();
        let chat = expect_open_direct(&mut m, me.user_id, bob, created);
        let out = m
            .conversations()
            .open_direct(&me, DirectWith::Id(bob))
            .await
            .unwrap();
        assert_eq!(out, (chat, created));
    }
}

#[tokio::test]
async fn open_direct_by_username_looks_the_folded_name_up_and_opens_the_chat_with_that_user() {
    let me = caller(false);
    let bob = user_named("bob");
    let bob_id = bob.id;
    let mut m = Mocks::default();
    m.users
        .expect_user_by_username()
        .times(1)
        .withf(|u| u.as_str() == "bob")
        .returning(move |_| Ok(Some(bob.clone())));
    let chat = expect_open_direct(&mut m, me.user_id, bob_id, true);
    let out = m
        .conversations()
        .open_direct(&me, DirectWith::Username("BoB".into()))
        .await
        .unwrap();
    assert_eq!(out, (chat, true));
}

#[tokio::test]
async fn open_direct_with_an_unknown_username_is_not_found_user_without_opening_a_chat() {
    let mut m = Mocks::default();
    m.users
        .expect_user_by_username()
        .times(1)
        .withf(|u| u.as_str() == "ghost")
        .returning(|_| Ok(None));
    m.groups.expect_open_direct().never();
    let res = m
        .conversations()
        .open_direct(&caller(false), DirectWith::Username("ghost".into()))
        .await;
    assert_not_found(res, "user");
}

#[tokio::test]
async fn open_direct_with_a_malformed_username_is_invalid_username_without_a_store_call() {
    let long = "x".repeat(33);
    for bad in ["", "ab", "no such name!", "\u{0430}lice", long.as_str()] {
        let mut m = Mocks::default();
        m.users.expect_user_by_username().never();
        m.groups.expect_open_direct().never();
        let res = m
            .conversations()
            .open_direct(&caller(false), DirectWith::Username(bad.into()))
            .await;
        assert_invalid(res, "username");
    }
}

#[tokio::test]
async fn open_direct_passes_a_failed_user_lookup_through_without_opening_a_chat() {
    let mut m = Mocks::default();
    m.users
        .expect_user_by_username()
        .times(1)
        .returning(|_| Err(Error::Unavailable("database is down".into())));
    m.groups.expect_open_direct().never();
    let res = m
        .conversations()
        .open_direct(&caller(false), DirectWith::Username("bob".into()))
        .await;
    assert_passed_through(res, Error::Unavailable("database is down".into()));
}

#[tokio::test]
async fn open_direct_passes_store_failures_through_unchanged() {
    let mut all = failures().to_vec();
    all.push(|| Error::NotFound("user"));
    for fail in all {
        let mut m = Mocks::default();
        m.groups
            .expect_open_direct()
            .times(1)
            .returning(move |_, _, _, _| Err(fail()));
        let res = m
            .conversations()
            .open_direct(&caller(false), DirectWith::Id(UserId::new()))
            .await;
        assert_passed_through(res, fail());
    }
}

// ---------------------------------------------------------------------------------------------
// list_groups, group, members
// ---------------------------------------------------------------------------------------------

#[tokio::test]
async fn list_groups_returns_the_callers_groups_as_the_store_orders_them() {
    let me = caller(false);
    let id = me.user_id;
    let groups = vec![direct_view(id), named_view(id)];
    let answer = groups.clone();
    let mut m = Mocks::default();
    m.groups
        .expect_groups_of()
        .times(1)
        .withf(move |user| *user == id)
        .returning(move |_| Ok(answer.clone()));
    assert_eq!(m.conversations().list_groups(&me).await.unwrap(), groups);
}

#[tokio::test]
async fn list_groups_passes_store_failures_through_unchanged() {
    for fail in failures() {
        let mut m = Mocks::default();
        m.groups
            .expect_groups_of()
            .times(1)
            .returning(move |_| Err(fail()));
        let res = m.conversations().list_groups(&caller(false)).await;
        assert_passed_through(res, fail());
    }
}

#[tokio::test]
async fn group_returns_the_group_as_the_caller_sees_it() {
    let me = caller(false);
    let id = me.user_id;
    let g = named_view(id);
    let gid = g.group.id;
    let answer = g.clone();
    let mut m = Mocks::default();
    m.groups
        .expect_group_of()
        .times(1)
        .withf(move |user, group| *user == id && *group == gid)
        .returning(move |_, _| Ok(answer.clone()));
    assert_eq!(m.conversations().group(&me, gid).await.unwrap(), g);
}

#[tokio::test]
async fn group_passes_store_failures_through_unchanged() {
    for fail in failures() {
        let mut m = Mocks::default();
        m.groups
            .expect_group_of()
            .times(1)
            .returning(move |_, _| Err(fail()));
        let res = m
            .conversations()
            .group(&caller(false), GroupId::new())
            .await;
        assert_passed_through(res, fail());
    }
}

#[tokio::test]
async fn members_returns_the_members_of_the_callers_group() {
    let me = caller(false);
    let id = me.user_id;
    let gid = GroupId::new();
    let members = vec![member(Role::Owner), member(Role::Member)];
    let answer = members.clone();
    let mut m = Mocks::default();
    m.groups
        .expect_members()
        .times(1)
        .withf(move |user, group| *user == id && *group == gid)
        .returning(move |_, _| Ok(answer.clone()));
    assert_eq!(m.conversations().members(&me, gid).await.unwrap(), members);
}

#[tokio::test]
async fn members_passes_store_failures_through_unchanged() {
    for fail in failures() {
        let mut m = Mocks::default();
        m.groups
            .expect_members()
            .times(1)
            .returning(move |_, _| Err(fail()));
        let res = m
            .conversations()
            .members(&caller(false), GroupId::new())
            .await;
        assert_passed_through(res, fail());
    }
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

#[tokio::test]
async fn rename_group_passes_store_failures_through_unchanged() {
    for fail in failures() {
        let mut m = Mocks::default();
        m.groups
            .expect_rename_group()
            .times(1)
            .returning(move |_, _, _| Err(fail()));
        let res = m
            .conversations()
            .rename_group(&caller(false), GroupId::new(), "Rustaceans")
            .await;
        assert_passed_through(res, fail());
    }
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

#[tokio::test]
async fn delete_group_passes_store_failures_through_unchanged() {
    for fail in failures() {
        let mut m = Mocks::default();
        m.groups
            .expect_delete_or_close()
            .times(1)
            .returning(move |_, _, _| Err(fail()));
        let res = m
            .conversations()
            .delete_group(&caller(false), GroupId::new())
            .await;
        assert_passed_through(res, fail());
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

#[tokio::test]
async fn set_alias_passes_store_failures_through_unchanged() {
    for fail in failures() {
        let mut m = Mocks::default();
        m.groups
            .expect_set_alias()
            .times(1)
            .returning(move |_, _, _| Err(fail()));
        let res = m
            .conversations()
            .set_alias(&caller(false), GroupId::new(), None)
            .await;
        assert_passed_through(res, fail());
    }
}

// ---------------------------------------------------------------------------------------------
// add_member
// ---------------------------------------------------------------------------------------------

#[tokio::test]
async fn add_member_adds_the_target_with_the_given_role_defaulting_to_member_at_the_clocks_time() {
    for (raw, role) in [
        (None, Role::Member),
        (Some("member"), Role::Member),
        (Some("admin"), Role::Admin),
    ] {
        let me = caller(false);
        let id = me.user_id;
        let (gid, target) = (GroupId::new(), UserId::new());
        let added = member(role);
        let answer = added.clone();
        let mut m = Mocks::default();
        m.groups
            .expect_add_member()
            .times(1)
            .withf(move |actor, group, t, r, now| {
                *actor == id && *group == gid && *t == target && *r == role && *now == NOW
            })
            .returning(move |_, _, _, _, _| Ok(answer.clone()));
        let out = m
            .conversations()
            .add_member(&me, gid, target, raw)
            .await
            .unwrap();
        assert_eq!(out, added, "{raw:?}");
    }
}

#[tokio::test]
async fn add_member_as_owner_is_invalid_role_without_a_store_call() {
    let mut m = Mocks::default();
    m.groups.expect_add_member().never();
    let res = m
        .conversations()
        .add_member(&caller(false), GroupId::new(), UserId::new(), Some("owner"))
        .await;
    assert_invalid(res, "role");
}

#[tokio::test]
async fn add_member_with_an_unknown_role_is_invalid_role_without_a_store_call() {
    for bad in ["", "Admin", "MEMBER", " admin", "moderator", "owner "] {
        let mut m = Mocks::default();
        m.groups.expect_add_member().never();
        let res = m
            .conversations()
            .add_member(&caller(false), GroupId::new(), UserId::new(), Some(bad))
            .await;
        assert_invalid(res, "role");
    }
}

#[tokio::test]
async fn add_member_passes_store_failures_through_unchanged() {
    let mut all = failures().to_vec();
    all.push(|| Error::NotFound("user"));
    for fail in all {
        let mut m = Mocks::default();
        m.groups
            .expect_add_member()
            .times(1)
            .returning(move |_, _, _, _, _| Err(fail()));
        let res = m
            .conversations()
            .add_member(&caller(false), GroupId::new(), UserId::new(), None)
            .await;
        assert_passed_through(res, fail());
    }
}

// ---------------------------------------------------------------------------------------------
// change_role
// ---------------------------------------------------------------------------------------------

#[tokio::test]
async fn change_role_passes_the_parsed_role_for_the_target_to_the_store() {
    for (raw, role) in [
        ("owner", Role::Owner),
        ("admin", Role::Admin),
        ("member", Role::Member),
    ] {
        let me = caller(false);
        let id = me.user_id;
        let (gid, target) = (GroupId::new(), UserId::new());
        let updated = member(role);
        let answer = updated.clone();
        let mut m = Mocks::default();
        m.groups
            .expect_change_role()
            .times(1)
            .withf(move |actor, group, t, r| {
                *actor == id && *group == gid && *t == target && *r == role
            })
            .returning(move |_, _, _, _| Ok(RoleChanged::Set(answer.clone())));
        let out = m
            .conversations()
            .change_role(&me, gid, target, raw)
            .await
            .unwrap();
        assert_eq!(out, updated, "{raw}");
    }
}

#[tokio::test]
async fn change_role_with_an_unknown_role_is_invalid_role_without_a_store_call() {
    for bad in ["", "Owner", "ADMIN", "member ", "moderator"] {
        let mut m = Mocks::default();
        m.groups.expect_change_role().never();
        let res = m
            .conversations()
            .change_role(&caller(false), GroupId::new(), UserId::new(), bad)
            .await;
        assert_invalid(res, "role");
    }
}

#[tokio::test]
async fn change_role_passes_store_failures_through_unchanged() {
    let mut all = failures().to_vec();
    all.push(|| Error::NotFound("member"));
    for fail in all {
        let mut m = Mocks::default();
        m.groups
            .expect_change_role()
            .times(1)
            .returning(move |_, _, _, _| Err(fail()));
        let res = m
            .conversations()
            .change_role(&caller(false), GroupId::new(), UserId::new(), "admin")
            .await;
        assert_passed_through(res, fail());
    }
}

// ---------------------------------------------------------------------------------------------
// remove_member
// ---------------------------------------------------------------------------------------------

#[tokio::test]
async fn remove_member_removes_the_target_at_the_clocks_time_and_says_what_happened() {
    for removal in [
        Removal::Removed,
        Removal::Left { new_owner: None },
        Removal::Left {
            new_owner: Some(UserId::new()),
        },
        Removal::GroupDeleted,
    ] {
        let me = caller(false);
        let id = me.user_id;
        let (gid, target) = (GroupId::new(), UserId::new());
        let mut m = Mocks::default();
        m.groups
            .expect_remove_member()
            .times(1)
            .withf(move |actor, group, t, now| {
                *actor == id && *group == gid && *t == target && *now == NOW
            })
            .returning(move |_, _, _, _| Ok(removal));
        let out = m
            .conversations()
            .remove_member(&me, gid, target)
            .await
            .unwrap();
        assert_eq!(out, removal);
    }
}

#[tokio::test]
async fn remove_member_passes_store_failures_through_unchanged() {
    let mut all = failures().to_vec();
    all.push(|| Error::NotFound("member"));
    for fail in all {
        let mut m = Mocks::default();
        m.groups
            .expect_remove_member()
            .times(1)
            .returning(move |_, _, _, _| Err(fail()));
        let res = m
            .conversations()
            .remove_member(&caller(false), GroupId::new(), UserId::new())
            .await;
        assert_passed_through(res, fail());
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

#[tokio::test]
async fn mark_read_passes_store_failures_through_unchanged() {
    for fail in failures() {
        let mut m = Mocks::default();
        m.groups
            .expect_mark_read()
            .times(1)
            .returning(move |_, _, _| Err(fail()));
        let res = m
            .conversations()
            .mark_read(&caller(false), GroupId::new(), 1)
            .await;
        assert_passed_through(res, fail());
    }
}

// ---------------------------------------------------------------------------------------------
// send_message
// ---------------------------------------------------------------------------------------------

/// Expects one `append_message`, answered like a store would, and keeps what it was given.
fn capture_append(m: &mut Mocks, duplicate: bool) -> Seen<NewMessage> {
    let seen = Seen::default();
    let keep = seen.clone();
    m.messages
        .expect_append_message()
        .times(1)
        .returning(move |msg| {
            let out = appended(&msg, duplicate);
            keep.put(msg);
            Ok(out)
        });
    seen
}

#[tokio::test]
async fn send_message_with_an_invalid_body_is_invalid_body_before_the_store() {
    for bad in [
        String::new(),
        " ".into(),
        " \n\t\r ".into(),
        "x".repeat(4001),
        "é".repeat(4001),
        format!(" {} ", "x".repeat(4001)),
        "nul\0byte".into(),
        "\0".into(),
        "bell\u{7}".into(),
        "esc\u{1b}[2J".into(),
    ] {
        let mut m = Mocks::default();
        m.messages.expect_append_message().never();
        let res = m
            .conversations()
            .send_message(&caller(false), GroupId::new(), &bad, Some("c1"))
            .await;
        assert_invalid(res, "body");
    }
}

#[tokio::test]
async fn send_message_with_an_invalid_client_id_is_invalid_client_id_before_the_store() {
    for bad in [String::new(), "x".repeat(65), "a\nb".into(), "nul\0".into()] {
        let mut m = Mocks::default();
        m.messages.expect_append_message().never();
        let res = m
            .conversations()
            .send_message(&caller(false), GroupId::new(), "hello", Some(&bad))
            .await;
        assert_invalid(res, "client_id");
    }
}

#[tokio::test]
async fn send_message_checks_the_body_before_the_client_id() {
    let mut m = Mocks::default();
    m.messages.expect_append_message().never();
    let res = m
        .conversations()
        .send_message(&caller(false), GroupId::new(), "   ", Some(""))
        .await;
    assert_invalid(res, "body");
}

#[tokio::test]
async fn send_message_appends_the_trimmed_body_from_the_caller_at_the_clocks_time() {
    let me = caller(false);
    let gid = GroupId::new();
    let mut m = Mocks::default();
    let seen = capture_append(&mut m, false);
    let out = m
        .conversations()
        .send_message(&me, gid, " \n hello\n\tworld \r\n", Some("c-1"))
        .await
        .unwrap();
    let msg = seen.take();
    assert_eq!(msg.body, Body::parse("hello\n\tworld").unwrap());
    assert_eq!(msg.body.as_str(), "hello\n\tworld");
    assert_eq!(msg.group_id, gid);
    assert_eq!(msg.sender_id, me.user_id);
    assert_eq!(msg.now, NOW);
    assert_eq!(msg.client_id, Some(ClientId::parse("c-1").unwrap()));
    assert_eq!(msg.id.as_uuid().get_version_num(), 7);
    assert_eq!(out, appended(&msg, false));
}

#[tokio::test]
async fn send_message_accepts_4000_characters_after_trimming() {
    let mut m = Mocks::default();
    let seen = capture_append(&mut m, false);
    let body = format!("  {}\n", "é".repeat(4000));
    m.conversations()
        .send_message(&caller(false), GroupId::new(), &body, None)
        .await
        .unwrap();
    assert_eq!(seen.take().body.as_str(), "é".repeat(4000));
}

#[tokio::test]
async fn send_message_passes_the_client_id_untrimmed_and_none_as_none() {
    let spaced = format!(" {} ", "k".repeat(62));
    for client_id in [Some(spaced.as_str()), Some("x"), None] {
        let mut m = Mocks::default();
        let seen = capture_append(&mut m, false);
        m.conversations()
            .send_message(&caller(false), GroupId::new(), "hi", client_id)
            .await
            .unwrap();
        assert_eq!(
            seen.take().client_id.as_ref().map(ClientId::as_str),
            client_id
        );
    }
}

#[tokio::test]
async fn send_message_passes_the_duplicate_flag_through() {
    for duplicate in [true, false] {
        let mut m = Mocks::default();
        capture_append(&mut m, duplicate);
        let out = m
            .conversations()
            .send_message(&caller(false), GroupId::new(), "hi", Some("c-1"))
            .await
            .unwrap();
        assert_eq!(out.duplicate, duplicate);
    }
}

#[tokio::test]
async fn send_message_passes_store_failures_through_unchanged() {
    for fail in failures() {
        let mut m = Mocks::default();
        m.messages
            .expect_append_message()
            .times(1)
            .returning(move |_| Err(fail()));
        let res = m
            .conversations()
            .send_message(&caller(false), GroupId::new(), "hi", None)
            .await;
        assert_passed_through(res, fail());
    }
}

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

#[tokio::test]
async fn history_passes_store_failures_through_unchanged() {
    for fail in failures() {
        let mut m = Mocks::default();
        m.messages
            .expect_history()
            .times(1)
            .returning(move |_, _, _, _| Err(fail()));
        let res = m
            .conversations()
            .history(&caller(false), GroupId::new(), None, None, None)
            .await;
        assert_passed_through(res, fail());
    }
}

// ---------------------------------------------------------------------------------------------
// edit_message, delete_message
// ---------------------------------------------------------------------------------------------

#[tokio::test]
async fn edit_message_with_an_invalid_body_is_invalid_body_without_a_store_call() {
    for bad in [
        String::new(),
        " \t ".into(),
        "x".repeat(4001),
        "nul\0".into(),
    ] {
        let mut m = Mocks::default();
        m.messages.expect_edit_message().never();
        let res = m
            .conversations()
            .edit_message(&caller(false), MessageId::new(), &bad)
            .await;
        assert_invalid(res, "body");
    }
}

#[tokio::test]
async fn edit_message_replaces_the_body_with_the_trimmed_one_as_the_caller_at_the_clocks_time() {
    let me = caller(false);
    let id = me.user_id;
    let mid = MessageId::new();
    let out = changed(GroupId::new(), "fixed\ntypo", true);
    let answer = out.clone();
    let mut m = Mocks::default();
    m.messages
        .expect_edit_message()
        .times(1)
        .withf(move |actor, message, body, now| {
            *actor == id && *message == mid && body.as_str() == "fixed\ntypo" && *now == NOW
        })
        .returning(move |_, _, _, _| Ok(answer.clone()));
    let got = m
        .conversations()
        .edit_message(&me, mid, "  fixed\ntypo \n")
        .await
        .unwrap();
    assert_eq!(got, out);
}

#[tokio::test]
async fn edit_message_passes_store_failures_through_unchanged() {
    for fail in failures() {
        let mut m = Mocks::default();
        m.messages
            .expect_edit_message()
            .times(1)
            .returning(move |_, _, _, _| Err(fail()));
        let res = m
            .conversations()
            .edit_message(&caller(false), MessageId::new(), "hi")
            .await;
        assert_passed_through(res, fail());
    }
}

#[tokio::test]
async fn delete_message_deletes_as_the_caller_at_the_clocks_time_and_says_whether_it_changed() {
    for was_live in [true, false] {
        let me = caller(false);
        let id = me.user_id;
        let mid = MessageId::new();
        let out = changed(GroupId::new(), "", was_live);
        let answer = out.clone();
        let mut m = Mocks::default();
        m.messages
            .expect_delete_message()
            .times(1)
            .withf(move |actor, message, now| *actor == id && *message == mid && *now == NOW)
            .returning(move |_, _, _| Ok(answer.clone()));
        let got = m.conversations().delete_message(&me, mid).await.unwrap();
        assert_eq!(got, out);
    }
}

#[tokio::test]
async fn delete_message_passes_store_failures_through_unchanged() {
    for fail in failures() {
        let mut m = Mocks::default();
        m.messages
            .expect_delete_message()
            .times(1)
            .returning(move |_, _, _| Err(fail()));
        let res = m
            .conversations()
            .delete_message(&caller(false), MessageId::new())
            .await;
        assert_passed_through(res, fail());
    }
}

// ---------------------------------------------------------------------------------------------
// search_terms, search
// ---------------------------------------------------------------------------------------------

fn words(terms: &[&str]) -> Vec<String> {
    terms.iter().map(|&t| t.to_owned()).collect()
}

#[test]
fn search_terms_are_the_domains_search_words() {
    // What a word is (folding, splitting, operators) is tested in domain::search.
    assert_eq!(
        search_terms("Hello, WORLD! Grüße-ÄRGER v2").unwrap(),
        confab_domain::search_words("Hello, WORLD! Grüße-ÄRGER v2")
    );
    assert_eq!(search_terms("Café ﬁne").unwrap(), words(&["cafe", "fine"]));
}

#[test]
fn search_terms_keeps_at_most_the_first_16_words() {
    let q: Vec<String> = (0..20).map(|i| format!("w{i}")).collect();
    let terms = search_terms(&q.join(" ")).unwrap();
    assert_eq!(terms, q[..16].to_vec());
}

#[test]
fn search_terms_of_a_query_over_256_characters_is_invalid_q() {
    assert_eq!(
        search_terms(&"x".repeat(256)).unwrap(),
        vec!["x".repeat(256)]
    );
    assert_eq!(
        search_terms(&"É".repeat(256)).unwrap(),
        vec!["e".repeat(256)]
    );
    assert_invalid(search_terms(&"x".repeat(257)), "q");
    assert_invalid(search_terms(&" ".repeat(257)), "q");
}

#[test]
fn search_terms_of_a_query_without_a_word_is_invalid_q() {
    for bad in ["", "   ", "!!! --- ***", "\"\"", "_"] {
        assert_invalid(search_terms(bad), "q");
    }
}

#[tokio::test]
async fn search_with_a_query_without_a_word_or_over_256_characters_is_invalid_q_without_a_store_call()
 {
    let long = "a ".repeat(129);
    for bad in ["", " ", "?!", "--", long.as_str()] {
        let mut m = Mocks::default();
        m.messages.expect_search_messages().never();
        let res = m
            .conversations()
            .search(&caller(false), bad, None, None)
            .await;
        assert_invalid(res, "q");
    }
}

#[tokio::test]
async fn search_passes_the_terms_group_and_limit_and_returns_the_matches() {
    for group in [None, Some(GroupId::new())] {
        let me = caller(false);
        let id = me.user_id;
        let found = vec![message(GroupId::new(), 9, "Rust is fun")];
        let answer = found.clone();
        let mut m = Mocks::default();
        m.messages
            .expect_search_messages()
            .times(1)
            .withf(move |user, terms, g, limit| {
                *user == id && *terms == words(&["rust", "fun"]) && *g == group && *limit == 10
            })
            .returning(move |_, _, _, _| Ok(answer.clone()));
        let out = m
            .conversations()
            .search(&me, "Rust; FUN!", group, Some(10))
            .await
            .unwrap();
        assert_eq!(out, found);
    }
}

#[tokio::test]
async fn search_limit_defaults_to_50_and_is_capped_at_100() {
    for (raw, limit) in [(None, 50), (Some(1), 1), (Some(100), 100), (Some(101), 100)] {
        let mut m = Mocks::default();
        m.messages
            .expect_search_messages()
            .times(1)
            .withf(move |_, _, _, l| *l == limit)
            .returning(|_, _, _, _| Ok(vec![]));
        m.conversations()
            .search(&caller(false), "rust", None, raw)
            .await
            .unwrap();
    }
}

#[tokio::test]
async fn search_with_a_limit_below_one_is_invalid_limit_without_a_store_call() {
    for bad in [0, -5] {
        let mut m = Mocks::default();
        m.messages.expect_search_messages().never();
        let res = m
            .conversations()
            .search(&caller(false), "rust", None, Some(bad))
            .await;
        assert_invalid(res, "limit");
    }
}

#[tokio::test]
async fn search_passes_store_failures_through_unchanged() {
    for fail in failures() {
        let mut m = Mocks::default();
        m.messages
            .expect_search_messages()
            .times(1)
            .returning(move |_, _, _, _| Err(fail()));
        let res = m
            .conversations()
            .search(&caller(false), "rust", Some(GroupId::new()), None)
            .await;
        assert_passed_through(res, fail());
    }
}
