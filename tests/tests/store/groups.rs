//! `Groups`: named groups, direct chats, views, aliases, read markers, deleting and closing.
//! Members, roles and ownership are in `members.rs`; the helpers both use are here.

use std::fmt::Debug;

use confab_domain::{Alias, GroupId, GroupKind, Message, Role, UserId};
use confab_ports::store::{Closing, GroupView, Joined, NewGroup, PoolJoin};
use confab_ports::{Error, Result};

use crate::fixtures::{Fresh, T0, at, group, message, name, user};

crate::store_cases!(
    missing_groups_answer_not_found_group_from_every_method,
    non_members_answer_not_found_group_from_every_method,
    former_members_answer_not_found_group,
    create_group_makes_the_creator_owner_and_the_others_members,
    create_group_with_an_unknown_member_is_invalid_and_creates_nothing,
    open_direct_creates_once_and_either_user_finds_the_same_chat,
    open_direct_after_a_close_creates_a_new_chat,
    open_direct_ignores_pool_rooms,
    open_direct_racing_from_both_sides_creates_one_chat_per_pair,
    open_direct_with_an_unknown_user_is_not_found_user,
    groups_of_lists_the_most_recent_activity_first,
    groups_of_omits_groups_left_removed_or_deleted_but_keeps_closed_chats,
    group_of_counts_members_and_unread_messages_of_others,
    the_owner_and_an_admin_rename_a_group,
    a_plain_member_may_not_rename,
    a_direct_chat_may_not_be_renamed,
    deleting_a_group_lists_every_member_and_hides_it_from_all,
    only_the_owner_deletes_a_group,
    either_member_closes_a_direct_chat_and_closing_again_changes_nothing,
    an_expired_room_not_yet_swept_is_closed,
    set_alias_sets_and_clears_only_the_callers_alias,
    a_closed_chat_keeps_its_view_members_alias_and_read_marker,
    an_expired_room_keeps_its_view_members_alias_and_read_marker,
    members_are_listed_longest_standing_first,
    mark_read_clamps_to_the_last_seq_and_never_goes_back,
    members_carry_each_members_read_marker,
);

/// Asserts that `$e` (already awaited) failed with an error matching `$p`.
macro_rules! assert_err {
    ($e:expr, $p:pat $(if $guard:expr)?) => {{
        let r = $e;
        assert!(matches!(r, Err($p) $(if $guard)?), "{} answered {:?}", stringify!($e), r);
    }};
}

/// Asserts `Error::NotFound(what)`.
#[track_caller]
pub(crate) fn not_found<T: Debug>(r: Result<T>, what: &str) {
    assert!(matches!(&r, Err(Error::NotFound(w)) if *w == what), "{r:?}");
}

/// Asserts `Error::NotFound("group")`.
#[track_caller]
pub(crate) fn no_group<T: Debug>(r: Result<T>) {
    not_found(r, "group");
}

/// Asserts `Error::Forbidden`.
#[track_caller]
pub(crate) fn forbidden<T: Debug>(r: Result<T>) {
    assert!(matches!(r, Err(Error::Forbidden(_))), "{r:?}");
}

/// Asserts `Error::Invalid` on `field`.
#[track_caller]
pub(crate) fn invalid<T: Debug>(r: Result<T>, field: &str) {
    assert!(
        matches!(&r, Err(Error::Invalid(i)) if i.field == field),
        "{r:?}"
    );
}

/// Users with these names.
pub(crate) async fn users<const N: usize>(s: &Fresh, names: [&str; N]) -> [UserId; N] {
    let mut ids = [UserId::new(); N];
    for (id, n) in ids.iter_mut().zip(names) {
        *id = user(s, n).await;
    }
    ids
}

/// A named group owned by `owner` with `members`, created at `at(secs)`.
pub(crate) fn named(owner: UserId, members: &[UserId], secs: i64) -> NewGroup {
    NewGroup {
        id: GroupId::new(),
        name: name("team"),
        created_by: owner,
        created_at: at(secs),
        members: members.to_vec(),
    }
}

/// The direct chat of `a` and `b` at `at(secs)`, opened by `a`.
pub(crate) async fn direct_at(s: &Fresh, a: UserId, b: UserId, secs: i64) -> (GroupView, bool) {
    s.groups
        .open_direct(a, b, GroupId::new(), at(secs))
        .await
        .unwrap()
}

/// The id of the direct chat of `a` and `b`.
pub(crate) async fn direct(s: &Fresh, a: UserId, b: UserId) -> GroupId {
    direct_at(s, a, b, 0).await.0.group.id
}

/// Every member of `g` with their role, in `members` order, as `viewer` sees them.
pub(crate) async fn roles(s: &Fresh, viewer: UserId, g: GroupId) -> Vec<(UserId, Role)> {
    let members = s.groups.members(viewer, g).await.unwrap();
    members.into_iter().map(|m| (m.user.id, m.role)).collect()
}

/// `sender` sends a message to `g` at `at(secs)`.
pub(crate) async fn send(s: &Fresh, g: GroupId, sender: UserId, secs: i64) -> Message {
    let mut m = message(g, sender, "hello", None);
    m.now = at(secs);
    s.messages.append_message(m).await.unwrap().message
}

/// A pool room of `a` and `b`, made at `T0` and expiring at `at(expires)`.
async fn room(s: &Fresh, a: UserId, b: UserId, expires: i64) -> GroupId {
    let join = |u: UserId| PoolJoin {
        user: u,
        same_country: false,
        now: T0,
        wait_until: at(600),
        room: GroupId::new(),
        room_expires_at: at(expires),
    };
    assert_eq!(s.pool.join_pool(join(a)).await.unwrap(), Joined::Waiting);
    match s.pool.join_pool(join(b)).await.unwrap() {
        Joined::Matched { room, .. } => room.group.id,
        other => panic!("no match: {other:?}"),
    }
}

fn alias(a: &str) -> Option<Alias> {
    Some(Alias::parse(a).unwrap())
}

fn ids(views: Vec<GroupView>) -> Vec<GroupId> {
    views.into_iter().map(|v| v.group.id).collect()
}

/// MUST answer `Error::NotFound("group")` when the group does not exist.
async fn missing_groups_answer_not_found_group_from_every_method(s: &Fresh) {
    let [o, m] = users(s, ["owner", "member"]).await;
    group(s, o, &[m]).await;
    let (gs, g) = (&s.groups, GroupId::new());
    no_group(gs.group_of(o, g).await);
    no_group(gs.rename_group(o, g, name("x")).await);
    no_group(gs.delete_or_close(o, g, T0).await);
    no_group(gs.set_alias(o, g, alias("x")).await);
    no_group(gs.members(o, g).await);
    no_group(gs.add_member(o, g, m, Role::Member, T0).await);
    no_group(gs.change_role(o, g, m, Role::Admin).await);
    no_group(gs.remove_member(o, g, m, T0).await);
    no_group(gs.remove_member(o, g, o, T0).await);
    no_group(gs.mark_read(o, g, 1).await);
}

/// MUST answer `Error::NotFound("group")` to a non-member, before any other check.
async fn non_members_answer_not_found_group_from_every_method(s: &Fresh) {
    let [o, m, x] = users(s, ["owner", "member", "stranger"]).await;
    let gs = &s.groups;
    for g in [group(s, o, &[m]).await, direct(s, o, m).await] {
        no_group(gs.group_of(x, g).await);
        no_group(gs.rename_group(x, g, name("x")).await);
        no_group(gs.delete_or_close(x, g, T0).await);
        no_group(gs.set_alias(x, g, alias("x")).await);
        no_group(gs.members(x, g).await);
        // Even what a member would be refused otherwise (owner role, unknown target).
        no_group(gs.add_member(x, g, x, Role::Owner, T0).await);
        no_group(gs.add_member(x, g, o, Role::Member, T0).await);
        no_group(gs.change_role(x, g, UserId::new(), Role::Admin).await);
        no_group(gs.change_role(x, g, o, Role::Member).await);
        no_group(gs.remove_member(x, g, UserId::new(), T0).await);
        no_group(gs.remove_member(x, g, o, T0).await);
        no_group(gs.remove_member(x, g, x, T0).await);
        no_group(gs.mark_read(x, g, 1).await);
    }
    assert!(gs.groups_of(x).await.unwrap().is_empty());
}

/// MUST answer `Error::NotFound("group")` to a user who is no longer a member.
async fn former_members_answer_not_found_group(s: &Fresh) {
    let [o, left, removed] = users(s, ["owner", "left", "removed"]).await;
    let (gs, g) = (&s.groups, group(s, o, &[left, removed]).await);
    gs.remove_member(left, g, left, T0).await.unwrap();
    gs.remove_member(o, g, removed, T0).await.unwrap();
    for x in [left, removed] {
        no_group(gs.group_of(x, g).await);
        no_group(gs.members(x, g).await);
        no_group(gs.set_alias(x, g, alias("x")).await);
        no_group(gs.mark_read(x, g, 0).await);
        no_group(gs.remove_member(x, g, x, T0).await);
        assert!(gs.groups_of(x).await.unwrap().is_empty());
    }
}

async fn create_group_makes_the_creator_owner_and_the_others_members(s: &Fresh) {
    let [o, a, b] = users(s, ["owner", "alice", "bob"]).await;
    let new = named(o, &[a, b], 5);
    let id = new.id;
    let view = s.groups.create_group(new).await.unwrap();
    let g = &view.group;
    assert_eq!(
        (g.id, g.kind, g.created_by, g.created_at),
        (id, GroupKind::Group, o, at(5))
    );
    assert_eq!(g.name, Some(name("team")));
    assert_eq!(
        (g.expires_at, g.closed_at, g.last_seq, g.last_rev),
        (None, None, 0, 0)
    );
    let my = &view.my;
    assert_eq!(
        (my.role, my.alias.clone(), my.last_read_seq, my.unread_count),
        (Role::Owner, None, 0, 0)
    );
    assert_eq!(view.member_count, 3);
    assert_eq!(s.groups.group_of(o, id).await.unwrap(), view);
    let members = s.groups.members(a, id).await.unwrap();
    let owners: Vec<_> = members.iter().filter(|m| m.role == Role::Owner).collect();
    assert_eq!((owners.len(), owners[0].user.id), (1, o));
    assert!(members.iter().all(|m| m.joined_at == at(5)));
    let others = members.iter().filter(|m| m.user.id != o);
    assert!(others.map(|m| m.role).eq([Role::Member; 2]));
    assert_eq!(
        s.groups.group_of(b, id).await.unwrap().my.role,
        Role::Member
    );
}

/// MUST return `Error::Invalid` on field `member_ids` when an initial member does not exist,
/// and then create nothing.
async fn create_group_with_an_unknown_member_is_invalid_and_creates_nothing(s: &Fresh) {
    let [o, a] = users(s, ["owner", "alice"]).await;
    let new = named(o, &[a, UserId::new()], 0);
    let id = new.id;
    invalid(s.groups.create_group(new).await, "member_ids");
    no_group(s.groups.group_of(o, id).await);
    assert!(s.groups.groups_of(o).await.unwrap().is_empty());
    assert!(s.groups.groups_of(a).await.unwrap().is_empty());
}

/// Either user asking MUST find the same chat.
async fn open_direct_creates_once_and_either_user_finds_the_same_chat(s: &Fresh) {
    let [a, b] = users(s, ["alice", "bob"]).await;
    let id = GroupId::new();
    let (view, created) = s.groups.open_direct(a, b, id, at(3)).await.unwrap();
    let g = &view.group;
    assert!(created);
    assert_eq!(
        (g.id, g.kind, g.name.clone()),
        (id, GroupKind::Direct, None)
    );
    assert_eq!((g.created_by, g.created_at, g.closed_at), (a, at(3), None));
    assert_eq!((view.member_count, view.my.role), (2, Role::Member));
    let (again, created) = direct_at(s, a, b, 4).await;
    assert_eq!((again.group.id, created), (id, false));
    let (theirs, created) = direct_at(s, b, a, 5).await;
    assert_eq!(
        (theirs.group.id, created, theirs.my.role),
        (id, false, Role::Member)
    );
    assert_eq!(roles(s, b, id).await.len(), 2);
    assert!(
        roles(s, b, id)
            .await
            .iter()
            .all(|(_, r)| *r == Role::Member)
    );
}

/// Asking after a close MUST create a new chat.
async fn open_direct_after_a_close_creates_a_new_chat(s: &Fresh) {
    let [a, b] = users(s, ["alice", "bob"]).await;
    let first = direct(s, a, b).await;
    s.groups.delete_or_close(b, first, at(1)).await.unwrap();
    let (view, created) = direct_at(s, b, a, 2).await;
    assert!(created);
    assert_ne!(view.group.id, first);
    assert_eq!(view.group.closed_at, None);
    let (again, created) = direct_at(s, a, b, 3).await;
    assert_eq!((again.group.id, created), (view.group.id, false));
}

/// A room made by the match pool MUST be neither returned nor in the way.
async fn open_direct_ignores_pool_rooms(s: &Fresh) {
    let [a, b] = users(s, ["alice", "bob"]).await;
    let r = room(s, a, b, 3600).await;
    let (view, created) = direct_at(s, a, b, 0).await;
    assert!(created);
    assert_ne!(view.group.id, r);
    assert_eq!(view.group.expires_at, None);
    let (again, created) = direct_at(s, b, a, 0).await;
    assert_eq!((again.group.id, created), (view.group.id, false));
}

/// MUST create at most one open direct chat per pair even when both ask at the same instant.
async fn open_direct_racing_from_both_sides_creates_one_chat_per_pair(s: &Fresh) {
    let us = users(
        s,
        [
            "anna", "bert", "cleo", "dirk", "emma", "finn", "gina", "hugo",
        ],
    )
    .await;
    let pairs: Vec<(UserId, UserId)> = us.chunks(2).map(|p| (p[0], p[1])).collect();
    for round in 0..3 {
        let asks = pairs
            .iter()
            .flat_map(|&(a, b)| [(a, b), (b, a), (a, b), (b, a), (a, b)]);
        let answers = futures::future::join_all(
            asks.map(|(me, other)| s.groups.open_direct(me, other, GroupId::new(), at(round))),
        )
        .await;
        let answers: Vec<_> = answers.into_iter().map(Result::unwrap).collect();
        for (i, pair) in answers.chunks(5).enumerate() {
            assert_eq!(
                pair.iter().filter(|(_, created)| *created).count(),
                1,
                "{pair:?}"
            );
            let id = pair[0].0.group.id;
            assert!(pair.iter().all(|(v, _)| v.group.id == id));
            s.groups
                .delete_or_close(pairs[i].0, id, at(round))
                .await
                .unwrap();
        }
    }
    for (a, b) in pairs {
        let chats = s.groups.groups_of(a).await.unwrap();
        assert_eq!(chats.len(), 3, "one chat per round");
        assert_eq!(ids(chats), ids(s.groups.groups_of(b).await.unwrap()));
    }
}

/// MUST return `Error::NotFound("user")` when `other` does not exist.
async fn open_direct_with_an_unknown_user_is_not_found_user(s: &Fresh) {
    let a = user(s, "alice").await;
    let answer = s
        .groups
        .open_direct(a, UserId::new(), GroupId::new(), T0)
        .await;
    not_found(answer, "user");
    assert!(s.groups.groups_of(a).await.unwrap().is_empty());
}

async fn groups_of_lists_the_most_recent_activity_first(s: &Fresh) {
    let [o, b] = users(s, ["owner", "bob"]).await;
    let mut g = Vec::new();
    for secs in [0, 10, 20] {
        let new = named(o, &[b], secs);
        g.push(new.id);
        s.groups.create_group(new).await.unwrap();
    }
    let d = direct_at(s, b, o, 15).await.0.group.id;
    assert_eq!(
        ids(s.groups.groups_of(o).await.unwrap()),
        [g[2], d, g[1], g[0]]
    );
    send(s, g[0], b, 30).await;
    let after = [g[0], g[2], d, g[1]];
    assert_eq!(ids(s.groups.groups_of(o).await.unwrap()), after);
    let views = s.groups.groups_of(b).await.unwrap();
    assert_eq!(
        (views[0].my.role, views[0].my.unread_count),
        (Role::Member, 0),
        "as b sees it"
    );
    assert_eq!(ids(views), after);
}

/// Groups the user left or was removed from, and deleted groups, MUST NOT appear.
async fn groups_of_omits_groups_left_removed_or_deleted_but_keeps_closed_chats(s: &Fresh) {
    let [o, b] = users(s, ["owner", "bob"]).await;
    let left = group(s, o, &[b]).await;
    let removed = group(s, o, &[b]).await;
    let deleted = group(s, o, &[b]).await;
    let kept = group(s, o, &[b]).await;
    let closed = direct(s, o, b).await;
    s.groups.remove_member(b, left, b, T0).await.unwrap();
    s.groups.remove_member(o, removed, b, T0).await.unwrap();
    s.groups.delete_or_close(o, deleted, T0).await.unwrap();
    s.groups.delete_or_close(o, closed, T0).await.unwrap();
    let mut mine = ids(s.groups.groups_of(b).await.unwrap());
    mine.sort();
    let mut expected = vec![kept, closed];
    expected.sort();
    assert_eq!(mine, expected);
    assert_eq!(s.groups.groups_of(o).await.unwrap().len(), 4);
}

async fn group_of_counts_members_and_unread_messages_of_others(s: &Fresh) {
    let [o, a, b] = users(s, ["owner", "alice", "bob"]).await;
    let g = group(s, o, &[a, b]).await;
    send(s, g, o, 1).await;
    let gone = send(s, g, o, 2).await;
    send(s, g, o, 3).await;
    send(s, g, a, 4).await;
    s.messages.delete_message(o, gone.id, at(5)).await.unwrap();
    let of = |u| s.groups.group_of(u, g);
    let (vo, va, vb) = (
        of(o).await.unwrap(),
        of(a).await.unwrap(),
        of(b).await.unwrap(),
    );
    assert_eq!(
        (vo.member_count, va.member_count, vb.member_count),
        (3, 3, 3)
    );
    assert_eq!(vo.group.last_seq, 4);
    assert_eq!(
        vo.my.unread_count, 1,
        "only alice's message: one's own never counts"
    );
    assert_eq!(va.my.unread_count, 2, "the owner's, less the deleted one");
    assert_eq!((vb.my.unread_count, vb.my.role), (3, Role::Member));
    s.groups.mark_read(b, g, 2).await.unwrap();
    assert_eq!(of(b).await.unwrap().my.unread_count, 2);
}

async fn the_owner_and_an_admin_rename_a_group(s: &Fresh) {
    let [o, a] = users(s, ["owner", "admin"]).await;
    let g = group(s, o, &[]).await;
    s.groups.add_member(o, g, a, Role::Admin, T0).await.unwrap();
    let view = s.groups.rename_group(o, g, name("renamed")).await.unwrap();
    assert_eq!(
        (view.group.name, view.my.role),
        (Some(name("renamed")), Role::Owner)
    );
    let view = s.groups.rename_group(a, g, name("again")).await.unwrap();
    assert_eq!(
        (view.group.name, view.my.role),
        (Some(name("again")), Role::Admin)
    );
    let name_now = s.groups.group_of(o, g).await.unwrap().group.name;
    assert_eq!(name_now, Some(name("again")));
}

/// MUST return `Error::Forbidden` when `actor` is a plain `member`.
async fn a_plain_member_may_not_rename(s: &Fresh) {
    let [o, m] = users(s, ["owner", "member"]).await;
    let g = group(s, o, &[m]).await;
    forbidden(s.groups.rename_group(m, g, name("mine")).await);
    let name_now = s.groups.group_of(o, g).await.unwrap().group.name;
    assert_eq!(name_now, Some(name("team")));
}

/// MUST return `Error::Forbidden` in a direct chat.
async fn a_direct_chat_may_not_be_renamed(s: &Fresh) {
    let [a, b] = users(s, ["alice", "bob"]).await;
    let d = direct(s, a, b).await;
    forbidden(s.groups.rename_group(a, d, name("ours")).await);
    assert_eq!(s.groups.group_of(b, d).await.unwrap().group.name, None);
}

/// Deleting MUST remove the group with its members and messages and list every member.
async fn deleting_a_group_lists_every_member_and_hides_it_from_all(s: &Fresh) {
    let [o, a, b] = users(s, ["owner", "alice", "bob"]).await;
    let g = group(s, o, &[a, b]).await;
    let sent = send(s, g, a, 1).await;
    let closing = s.groups.delete_or_close(o, g, at(2)).await.unwrap();
    let Closing::Deleted { mut members } = closing else {
        panic!("a named group is deleted, not {closing:?}");
    };
    members.sort();
    let mut everyone = vec![o, a, b];
    everyone.sort();
    assert_eq!(members, everyone);
    for u in everyone {
        no_group(s.groups.group_of(u, g).await);
        assert!(s.groups.groups_of(u).await.unwrap().is_empty());
    }
    assert_err!(
        s.messages.delete_message(a, sent.id, at(3)).await,
        Error::NotFound(_)
    );
}

/// MUST return `Error::Forbidden` when an admin or member tries to delete a named group.
async fn only_the_owner_deletes_a_group(s: &Fresh) {
    let [o, a, m] = users(s, ["owner", "admin", "member"]).await;
    let g = group(s, o, &[m]).await;
    s.groups.add_member(o, g, a, Role::Admin, T0).await.unwrap();
    forbidden(s.groups.delete_or_close(a, g, T0).await);
    forbidden(s.groups.delete_or_close(m, g, T0).await);
    assert_eq!(s.groups.group_of(m, g).await.unwrap().member_count, 3);
}

/// Closing MUST set `closed_at` and answer `Closed`; again, `AlreadyClosed`, changing nothing.
async fn either_member_closes_a_direct_chat_and_closing_again_changes_nothing(s: &Fresh) {
    let [a, b, c] = users(s, ["alice", "bob", "carol"]).await;
    let (ab, ac) = (direct(s, a, b).await, direct(s, a, c).await);
    let gs = &s.groups;
    assert_eq!(
        gs.delete_or_close(b, ab, at(5)).await.unwrap(),
        Closing::Closed
    );
    assert_eq!(
        gs.delete_or_close(a, ac, at(6)).await.unwrap(),
        Closing::Closed
    );
    assert_eq!(
        gs.delete_or_close(a, ab, at(9)).await.unwrap(),
        Closing::AlreadyClosed
    );
    assert_eq!(
        gs.delete_or_close(b, ab, at(9)).await.unwrap(),
        Closing::AlreadyClosed
    );
    assert_eq!(
        gs.group_of(a, ab).await.unwrap().group.closed_at,
        Some(at(5))
    );
    assert_eq!(
        gs.group_of(c, ac).await.unwrap().group.closed_at,
        Some(at(6))
    );
    assert_eq!(
        gs.members(a, ab).await.unwrap().len(),
        2,
        "closed, not left"
    );
}

/// Closing MUST close a pool room past its `expires_at` that the sweep has not closed yet.
async fn an_expired_room_not_yet_swept_is_closed(s: &Fresh) {
    let [a, b] = users(s, ["alice", "bob"]).await;
    let r = room(s, a, b, 60).await;
    assert_eq!(
        s.groups.delete_or_close(b, r, at(120)).await.unwrap(),
        Closing::Closed
    );
    let g = s.groups.group_of(a, r).await.unwrap().group;
    assert_eq!((g.expires_at, g.closed_at), (Some(at(60)), Some(at(120))));
    let again = s.groups.delete_or_close(a, r, at(130)).await.unwrap();
    assert_eq!(again, Closing::AlreadyClosed);
}

/// Other members' aliases MUST NOT change.
async fn set_alias_sets_and_clears_only_the_callers_alias(s: &Fresh) {
    let [o, a] = users(s, ["owner", "alice"]).await;
    let (gs, g) = (&s.groups, group(s, o, &[a]).await);
    let view = gs.set_alias(a, g, alias("work")).await.unwrap();
    assert_eq!((view.my.alias, view.my.role), (alias("work"), Role::Member));
    assert_eq!(gs.group_of(a, g).await.unwrap().my.alias, alias("work"));
    assert_eq!(gs.group_of(o, g).await.unwrap().my.alias, None);
    gs.set_alias(o, g, alias("mine")).await.unwrap();
    assert_eq!(gs.set_alias(a, g, None).await.unwrap().my.alias, None);
    assert_eq!(gs.group_of(a, g).await.unwrap().my.alias, None);
    assert_eq!(gs.group_of(o, g).await.unwrap().my.alias, alias("mine"));
}

/// A closed chat refuses message writes, but its view, members, alias and read marker stay.
async fn a_closed_chat_keeps_its_view_members_alias_and_read_marker(s: &Fresh) {
    let [a, b] = users(s, ["alice", "bob"]).await;
    let d = direct(s, a, b).await;
    send(s, d, a, 1).await;
    send(s, d, a, 2).await;
    s.groups.delete_or_close(a, d, at(3)).await.unwrap();
    let late = message(d, b, "late", None);
    assert_err!(s.messages.append_message(late).await, Error::Gone(_));
    still_readable(s, b, d).await;
}

/// An expired room refuses message writes, but its view, members, alias and read marker stay.
async fn an_expired_room_keeps_its_view_members_alias_and_read_marker(s: &Fresh) {
    let [a, b] = users(s, ["alice", "bob"]).await;
    let r = room(s, a, b, 10).await;
    send(s, r, a, 1).await;
    send(s, r, a, 2).await;
    let mut late = message(r, b, "late", None);
    late.now = at(10);
    assert_err!(s.messages.append_message(late).await, Error::Gone(_));
    still_readable(s, b, r).await;
}

/// What `b` may still do in `g`, which holds two messages of the other member.
async fn still_readable(s: &Fresh, b: UserId, g: GroupId) {
    let gs = &s.groups;
    assert_eq!(gs.group_of(b, g).await.unwrap().my.unread_count, 2);
    assert_eq!(gs.members(b, g).await.unwrap().len(), 2);
    assert_eq!(
        gs.set_alias(b, g, alias("old")).await.unwrap().my.alias,
        alias("old")
    );
    assert_eq!(gs.mark_read(b, g, 1).await.unwrap(), 1);
    let view = gs.group_of(b, g).await.unwrap();
    assert_eq!((view.my.last_read_seq, view.my.unread_count), (1, 1));
    assert!(ids(gs.groups_of(b).await.unwrap()).contains(&g));
}

/// Longest-standing first, ties by user id.
async fn members_are_listed_longest_standing_first(s: &Fresh) {
    let [o, x, y, late, early] = users(s, ["owner", "xavier", "yvonne", "late", "early"]).await;
    let new = named(o, &[x, y], 0);
    let g = new.id;
    s.groups.create_group(new).await.unwrap();
    s.groups
        .add_member(o, g, late, Role::Admin, at(20))
        .await
        .unwrap();
    s.groups
        .add_member(o, g, early, Role::Member, at(10))
        .await
        .unwrap();
    let members = s.groups.members(late, g).await.unwrap();
    let mut founders = vec![o, x, y];
    founders.sort();
    let order: Vec<UserId> = members.iter().map(|m| m.user.id).collect();
    assert_eq!(order, [founders, vec![early, late]].concat());
    let joined: Vec<_> = members.iter().map(|m| m.joined_at).collect();
    assert_eq!(joined, [T0, T0, T0, at(10), at(20)]);
    let newest = &members[4];
    assert_eq!(
        (newest.user.username.to_string(), newest.role),
        ("late".into(), Role::Admin)
    );
}

/// The marker MUST become `max(current, min(seq, last_seq))`.
async fn mark_read_clamps_to_the_last_seq_and_never_goes_back(s: &Fresh) {
    let [o, b] = users(s, ["owner", "bob"]).await;
    let (gs, g) = (&s.groups, group(s, o, &[b]).await);
    assert_eq!(gs.mark_read(b, g, 5).await.unwrap(), 0, "no messages yet");
    for secs in 1..=3 {
        send(s, g, o, secs).await;
    }
    assert_eq!(gs.mark_read(b, g, 2).await.unwrap(), 2);
    assert_eq!(gs.group_of(b, g).await.unwrap().my.unread_count, 1);
    assert_eq!(gs.mark_read(b, g, 1).await.unwrap(), 2, "never backwards");
    assert_eq!(gs.mark_read(b, g, 0).await.unwrap(), 2);
    assert_eq!(gs.mark_read(b, g, u64::MAX).await.unwrap(), 3, "clamped");
    let view = gs.group_of(b, g).await.unwrap();
    assert_eq!((view.my.last_read_seq, view.my.unread_count), (3, 0));
    assert_eq!(
        gs.group_of(o, g).await.unwrap().my.last_read_seq,
        0,
        "only the caller's"
    );
}

async fn members_carry_each_members_read_marker(s: &Fresh) {
    let [o, b, c] = users(s, ["owner", "bob", "carol"]).await;
    let (gs, g) = (&s.groups, group(s, o, &[b, c]).await);
    for secs in 1..=3 {
        send(s, g, o, secs).await;
    }
    gs.mark_read(b, g, 2).await.unwrap();
    let markers: Vec<_> = gs
        .members(c, g)
        .await
        .unwrap()
        .iter()
        .map(|m| (m.user.id, m.last_read_seq))
        .collect();
    assert!(markers.contains(&(b, 2)), "{markers:?}");
    assert!(markers.contains(&(c, 0)), "{markers:?}");
}
