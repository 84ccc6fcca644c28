//! `Messages`: appends with gapless `seq` and `rev` and `client_id` retries, history pages,
//! edits, deletions and `changes_since`. Search is in `search.rs`.

use confab_domain::{Body, GroupId, Message, MessageId, Role, Timestamp, UserId};
use confab_ports::Error;
use confab_ports::store::{Appended, Changed, Closing, Cursor, Joined, NewMessage, Page, PoolJoin};
use futures::future::join_all;

use crate::fixtures::{Fresh, T0, at, group, message, user};

crate::store_cases!(
    append_takes_the_next_seq_and_rev_from_one,
    seq_and_rev_are_counted_per_group,
    append_to_an_unknown_group_or_as_a_non_member_is_not_found,
    append_to_a_closed_chat_is_gone,
    append_to_an_expired_room_is_gone,
    a_repeated_client_id_returns_the_first_message_as_a_duplicate,
    a_client_id_belongs_to_one_sender_in_one_group,
    a_retry_returns_the_first_message_as_it_is_now,
    a_retry_after_the_chat_closed_returns_the_first_message,
    racing_retries_store_one_message,
    concurrent_writers_take_gapless_seqs_and_revs,
    changes_never_become_visible_out_of_rev_order,
    the_latest_page_is_newest_first_with_has_more,
    before_pages_walk_back_to_the_first_message,
    after_pages_walk_forward_to_the_newest_message,
    the_history_of_an_empty_group_is_empty,
    the_history_keeps_deleted_messages_as_tombstones_in_place,
    history_of_an_unknown_group_or_as_a_non_member_is_not_found,
    closed_chats_and_expired_rooms_stay_readable,
    edit_replaces_the_body_and_takes_the_next_rev,
    every_edit_takes_a_new_rev,
    editing_someone_elses_message_is_forbidden,
    editing_a_deleted_message_is_gone,
    editing_in_a_closed_chat_or_expired_room_is_gone,
    editing_an_unknown_message_or_as_a_non_member_is_not_found,
    delete_leaves_a_tombstone_with_the_next_rev,
    the_owner_or_an_admin_may_delete_anyones_message,
    a_plain_member_may_not_delete_someone_elses_message,
    in_a_direct_chat_only_the_sender_may_delete,
    deleting_a_deleted_message_changes_nothing,
    racing_deletes_change_a_message_once,
    deleting_in_a_closed_chat_or_expired_room_is_gone,
    deleting_an_unknown_message_or_as_a_non_member_is_not_found,
    changes_since_returns_each_message_once_at_its_latest_change,
    changes_since_pages_by_rev_and_yields_every_change_once,
    changes_since_of_an_unknown_group_or_as_a_non_member_is_not_found,
    concurrent_appends_to_one_group_take_every_seq_once,
    concurrent_appends_to_many_groups_take_every_seq_once_in_each,
    concurrent_retries_of_several_client_ids_store_one_message_each,
    refused_appends_among_concurrent_ones_spoil_none_of_the_others,
);

// ---- helpers (shared with `search.rs` and `social.rs`) ----

/// Sends `body` from `who` to `g` at `T0` and returns the stored message.
pub(crate) async fn send(s: &Fresh, g: GroupId, who: UserId, body: &str) -> Message {
    let appended = s
        .messages
        .append_message(message(g, who, body, None))
        .await
        .unwrap();
    assert!(!appended.duplicate);
    appended.message
}

/// Appends `body` from `who` to `g` at `T0`.
async fn append(
    s: &Fresh,
    g: GroupId,
    who: UserId,
    body: &str,
    client_id: Option<&str>,
) -> Result<Appended, Error> {
    s.messages
        .append_message(message(g, who, body, client_id))
        .await
}

pub(crate) async fn edit(
    s: &Fresh,
    who: UserId,
    id: MessageId,
    text: &str,
    now: Timestamp,
) -> Result<Changed, Error> {
    s.messages.edit_message(who, id, body(text), now).await
}

pub(crate) async fn delete(
    s: &Fresh,
    who: UserId,
    id: MessageId,
    now: Timestamp,
) -> Result<Changed, Error> {
    s.messages.delete_message(who, id, now).await
}

async fn history(
    s: &Fresh,
    who: UserId,
    g: GroupId,
    cursor: Cursor,
    limit: u32,
) -> Result<Page, Error> {
    s.messages.history(who, g, cursor, limit).await
}

pub(crate) async fn changes(
    s: &Fresh,
    who: UserId,
    g: GroupId,
    rev: u64,
    limit: u32,
) -> Result<Vec<Message>, Error> {
    s.messages.changes_since(who, g, rev, limit).await
}

/// `text` as a body.
pub(crate) fn body(text: &str) -> Body {
    Body::parse(text).unwrap()
}

/// The group's `(last_seq, last_rev)` as `who` sees it.
async fn counters(s: &Fresh, who: UserId, g: GroupId) -> (u64, u64) {
    let view = s.groups.group_of(who, g).await.unwrap();
    (view.group.last_seq, view.group.last_rev)
}

/// The direct chat of `a` and `b`, opened at `T0`.
pub(crate) async fn chat(s: &Fresh, a: UserId, b: UserId) -> GroupId {
    let (view, _) = s
        .groups
        .open_direct(a, b, GroupId::new(), T0)
        .await
        .unwrap();
    view.group.id
}

/// A direct chat of `a` and `b`, closed by `a` at `at(1)`.
pub(crate) async fn closed_chat(s: &Fresh, a: UserId, b: UserId) -> GroupId {
    let g = chat(s, a, b).await;
    assert_eq!(
        s.groups.delete_or_close(a, g, at(1)).await.unwrap(),
        Closing::Closed
    );
    g
}

/// A pool room of `a` and `b`, made at `T0`, that expires at `expires_at`.
pub(crate) async fn room(s: &Fresh, a: UserId, b: UserId, expires_at: Timestamp) -> GroupId {
    let room = GroupId::new();
    let join = |user| PoolJoin {
        user,
        same_country: false,
        now: T0,
        wait_until: at(600),
        room,
        room_expires_at: expires_at,
    };
    assert_eq!(s.pool.join_pool(join(a)).await.unwrap(), Joined::Waiting);
    match s.pool.join_pool(join(b)).await.unwrap() {
        Joined::Matched { room: view, .. } => view.group.id,
        other => panic!("no match: {other:?}"),
    }
}

fn seqs(page: &Page) -> Vec<u64> {
    page.messages.iter().map(|m| m.seq).collect()
}

pub(crate) fn not_found(r: Result<impl std::fmt::Debug, Error>, what: &str) {
    match r {
        Err(Error::NotFound(w)) if w == what => {}
        other => panic!("expected NotFound({what}), got {other:?}"),
    }
}

pub(crate) fn forbidden(r: Result<impl std::fmt::Debug, Error>) {
    assert!(matches!(r, Err(Error::Forbidden(_))), "{r:?}");
}

pub(crate) fn gone(r: Result<impl std::fmt::Debug, Error>) {
    assert!(matches!(r, Err(Error::Gone(_))), "{r:?}");
}

// ---- append ----

/// An append takes the next `seq` and `rev`, stores what it was given, and advances the
/// group's counters.
async fn append_takes_the_next_seq_and_rev_from_one(s: &Fresh) {
    let a = user(s, "alice").await;
    let g = group(s, a, &[]).await;
    assert_eq!(counters(s, a, g).await, (0, 0));
    let new = message(g, a, "hello", Some("c1"));
    let id = new.id;
    let appended = s.messages.append_message(new).await.unwrap();
    assert!(!appended.duplicate);
    let m = appended.message;
    assert_eq!((m.id, m.group_id, m.sender_id), (id, g, a));
    assert_eq!((m.seq, m.rev, m.created_rev), (1, 1, 1));
    assert_eq!(m.body, "hello");
    assert_eq!(m.client_id.as_ref().map(|c| c.as_str()), Some("c1"));
    assert_eq!((m.created_at, m.edited_at, m.deleted), (T0, None, false));
    assert_eq!(counters(s, a, g).await, (1, 1));

    let m2 = send(s, g, a, "again").await;
    assert_eq!((m2.seq, m2.rev, m2.created_rev), (2, 2, 2));
    assert_eq!(m2.client_id, None);
    assert_eq!(counters(s, a, g).await, (2, 2));
}

/// Each group counts from 1 on its own.
async fn seq_and_rev_are_counted_per_group(s: &Fresh) {
    let a = user(s, "alice").await;
    let (g1, g2) = (group(s, a, &[]).await, group(s, a, &[]).await);
    for i in 1..=3 {
        for g in [g1, g2] {
            let m = send(s, g, a, "hi").await;
            assert_eq!((m.seq, m.rev), (i, i));
        }
    }
}

async fn append_to_an_unknown_group_or_as_a_non_member_is_not_found(s: &Fresh) {
    let a = user(s, "alice").await;
    let b = user(s, "bob").await;
    let stranger = user(s, "carol").await;
    let g = group(s, a, &[b]).await;
    let sent = append(s, GroupId::new(), a, "x", None).await;
    not_found(sent, "group");
    not_found(append(s, g, stranger, "x", None).await, "group");
    // A removed member, even retrying a send that was accepted while a member.
    append(s, g, b, "mine", Some("c")).await.unwrap();
    s.groups.remove_member(a, g, b, at(1)).await.unwrap();
    not_found(append(s, g, b, "mine", Some("c")).await, "group");
    // Nothing was taken.
    assert_eq!(counters(s, a, g).await, (1, 1));
    // A stranger learns nothing, not even that a chat is closed.
    let chat = closed_chat(s, a, b).await;
    not_found(append(s, chat, stranger, "x", None).await, "group");
}

async fn append_to_a_closed_chat_is_gone(s: &Fresh) {
    let a = user(s, "alice").await;
    let b = user(s, "bob").await;
    let g = closed_chat(s, a, b).await;
    gone(append(s, g, a, "hi", None).await);
    gone(append(s, g, b, "hi", Some("c")).await);
    assert_eq!(counters(s, a, g).await, (0, 0));
}

/// A room is writable before `expires_at` and gone from `expires_at` on (swept or not).
async fn append_to_an_expired_room_is_gone(s: &Fresh) {
    let a = user(s, "alice").await;
    let b = user(s, "bob").await;
    let g = room(s, a, b, at(60)).await;
    let mut before = message(g, a, "quick", None);
    before.now = at(59);
    s.messages.append_message(before).await.unwrap();
    for now in [at(60), at(61)] {
        let mut late = message(g, b, "late", None);
        late.now = now;
        gone(s.messages.append_message(late).await);
    }
    assert_eq!(counters(s, a, g).await, (1, 1));
}

/// A retry returns the first message unchanged (its id and body, not the retry's) and takes
/// no `seq` or `rev`.
async fn a_repeated_client_id_returns_the_first_message_as_a_duplicate(s: &Fresh) {
    let a = user(s, "alice").await;
    let g = group(s, a, &[]).await;
    let first = append(s, g, a, "one", Some("c")).await.unwrap();
    let retry = message(g, a, "other body", Some("c"));
    let retry_id = retry.id;
    let again = s.messages.append_message(retry).await.unwrap();
    assert!(again.duplicate);
    assert_eq!(again.message, first.message);
    assert_ne!(again.message.id, retry_id);
    assert_eq!(counters(s, a, g).await, (1, 1));
    let page = history(s, a, g, Cursor::Latest, 10).await.unwrap();
    assert_eq!(page.messages, vec![first.message]);
    assert_eq!(send(s, g, a, "next").await.seq, 2);
}

async fn a_client_id_belongs_to_one_sender_in_one_group(s: &Fresh) {
    let a = user(s, "alice").await;
    let b = user(s, "bob").await;
    let g1 = group(s, a, &[b]).await;
    let g2 = group(s, a, &[]).await;
    let first = append(s, g1, a, "a", Some("c")).await.unwrap();
    let by_other = append(s, g1, b, "b", Some("c")).await.unwrap();
    let elsewhere = append(s, g2, a, "a", Some("c")).await.unwrap();
    assert!(!by_other.duplicate && !elsewhere.duplicate);
    assert_ne!(by_other.message.id, first.message.id);
    assert_eq!((by_other.message.seq, elsewhere.message.seq), (2, 1));
}

/// The first message is returned as it is now: edited, then a tombstone.
async fn a_retry_returns_the_first_message_as_it_is_now(s: &Fresh) {
    let a = user(s, "alice").await;
    let g = group(s, a, &[]).await;
    let first = append(s, g, a, "one", Some("c")).await.unwrap();
    let id = first.message.id;
    let edited = edit(s, a, id, "two", at(1)).await.unwrap();
    let again = append(s, g, a, "one", Some("c")).await.unwrap();
    assert!(again.duplicate);
    assert_eq!(again.message, edited.message);
    let deleted = delete(s, a, id, at(2)).await.unwrap();
    let again = append(s, g, a, "one", Some("c")).await.unwrap();
    assert!(again.duplicate);
    assert_eq!(again.message, deleted.message);
    assert_eq!(counters(s, a, g).await, (1, 3));
}

/// The send a retry repeats was accepted: it is answered even after the chat closed.
async fn a_retry_after_the_chat_closed_returns_the_first_message(s: &Fresh) {
    let a = user(s, "alice").await;
    let b = user(s, "bob").await;
    let g = chat(s, a, b).await;
    let first = append(s, g, a, "bye", Some("c")).await.unwrap();
    s.groups.delete_or_close(b, g, at(1)).await.unwrap();
    let again = append(s, g, a, "bye", Some("c")).await.unwrap();
    assert!(again.duplicate);
    assert_eq!(again.message, first.message);
    gone(append(s, g, a, "bye", Some("d")).await);
}

/// MUST hold under racing retries: one message per `client_id`.
async fn racing_retries_store_one_message(s: &Fresh) {
    let a = user(s, "alice").await;
    let g = group(s, a, &[]).await;
    let answers = join_all((0..20).map(|i| {
        s.messages
            .append_message(message(g, a, &format!("try {i}"), Some("c")))
    }))
    .await;
    let answers: Vec<_> = answers.into_iter().map(Result::unwrap).collect();
    assert_eq!(answers.iter().filter(|x| !x.duplicate).count(), 1);
    let first = &answers.iter().find(|x| !x.duplicate).unwrap().message;
    assert!(answers.iter().all(|x| &x.message == first));
    assert_eq!((first.seq, first.rev), (1, 1));
    assert_eq!(counters(s, a, g).await, (1, 1));
}

/// MUST hold under concurrent writers: 20 writers, each sending 10 messages and editing or
/// deleting some of them, take seqs 1..=200 and revs 1..=320, each exactly once.
async fn concurrent_writers_take_gapless_seqs_and_revs(s: &Fresh) {
    let mut users = Vec::new();
    for i in 0..5 {
        users.push(user(s, &format!("writer{i}")).await);
    }
    let g = group(s, users[0], &users[1..]).await;
    let writer = |w: usize| {
        let who = users[w % users.len()];
        async move {
            // (seq, every rev taken), in this writer's order.
            let (mut seqs, mut revs) = (Vec::new(), Vec::new());
            for i in 0..10 {
                let cid = format!("w{w}-{i}");
                let m = append(s, g, who, "x", Some(&cid)).await;
                let m = m.unwrap().message;
                seqs.push(m.seq);
                revs.push(m.rev);
                if i % 3 == 0 {
                    let e = edit(s, who, m.id, "y", T0).await.unwrap();
                    assert!(e.message.rev > m.rev);
                    revs.push(e.message.rev);
                }
                if i % 5 == 0 {
                    let d = delete(s, who, m.id, T0).await.unwrap();
                    assert!(d.changed);
                    revs.push(d.message.rev);
                }
            }
            (seqs, revs)
        }
    };
    let done = join_all((0..20).map(writer)).await;
    let (mut all_seqs, mut all_revs) = (Vec::new(), Vec::new());
    for (seqs, revs) in done {
        assert!(
            seqs.is_sorted() && revs.is_sorted(),
            "a writer's own changes are ordered"
        );
        all_seqs.extend(seqs);
        all_revs.extend(revs);
    }
    all_seqs.sort_unstable();
    all_revs.sort_unstable();
    assert_eq!(all_seqs, (1..=200).collect::<Vec<_>>());
    assert_eq!(all_revs, (1..=320).collect::<Vec<_>>());
    assert_eq!(counters(s, users[0], g).await, (200, 320));
    // Each message once, at its latest change; seq order is creation order.
    let changes = changes(s, users[0], g, 0, 1000).await.unwrap();
    assert_eq!(changes.len(), 200);
    assert!(changes.windows(2).all(|w| w[0].rev < w[1].rev));
    let mut by_seq = changes.clone();
    by_seq.sort_by_key(|m| m.seq);
    assert!(
        by_seq
            .windows(2)
            .all(|w| w[0].created_rev < w[1].created_rev)
    );
    assert_eq!(changes.iter().filter(|m| m.deleted).count(), 40);
    assert_eq!(changes.iter().filter(|m| m.edited_at.is_some()).count(), 60);
}

/// MUST hold while writers run: what a reader sees of a group is always every change up to
/// some rev, never a later change without an earlier one.
async fn changes_never_become_visible_out_of_rev_order(s: &Fresh) {
    let a = user(s, "alice").await;
    let g = group(s, a, &[]).await;
    let writers = join_all((0..10).map(|w| async move {
        for i in 0..10 {
            let cid = format!("w{w}-{i}");
            append(s, g, a, "x", Some(&cid)).await.unwrap();
        }
    }));
    let reader = async {
        let mut snapshots = 0;
        loop {
            let seen = changes(s, a, g, 0, 1000).await.unwrap();
            let revs: Vec<u64> = seen.iter().map(|m| m.rev).collect();
            let seqs: Vec<u64> = seen.iter().map(|m| m.seq).collect();
            let all: Vec<u64> = (1..=seen.len() as u64).collect();
            assert_eq!(revs, all, "a gap in what a reader sees");
            assert_eq!(seqs, all, "a gap in what a reader sees");
            snapshots += 1;
            if seen.len() == 100 {
                return snapshots;
            }
            tokio::task::yield_now().await;
        }
    };
    let (_, snapshots) = tokio::join!(writers, reader);
    assert!(snapshots >= 1);
}

// ---- history ----

/// Sends `n` messages "m1".."mn" from `who` to `g`, and as many to another group of `who`
/// (which no page of `g` may show).
async fn fill(s: &Fresh, g: GroupId, who: UserId, n: u64) {
    let other = group(s, who, &[]).await;
    for i in 1..=n {
        assert_eq!(send(s, g, who, &format!("m{i}")).await.seq, i);
        send(s, other, who, "elsewhere").await;
    }
}

async fn the_latest_page_is_newest_first_with_has_more(s: &Fresh) {
    let a = user(s, "alice").await;
    let g = group(s, a, &[]).await;
    fill(s, g, a, 5).await;
    let page = history(s, a, g, Cursor::Latest, 3).await.unwrap();
    assert_eq!((seqs(&page), page.has_more), (vec![5, 4, 3], true));
    assert!(page.messages.iter().all(|m| m.group_id == g));
    assert_eq!(page.messages[0].body, "m5");
    for limit in [5, 6, 100] {
        let page = history(s, a, g, Cursor::Latest, limit).await.unwrap();
        assert_eq!((seqs(&page), page.has_more), (vec![5, 4, 3, 2, 1], false));
    }
    let page = history(s, a, g, Cursor::Latest, 1).await.unwrap();
    assert_eq!((seqs(&page), page.has_more), (vec![5], true));
}

async fn before_pages_walk_back_to_the_first_message(s: &Fresh) {
    let a = user(s, "alice").await;
    let g = group(s, a, &[]).await;
    fill(s, g, a, 7).await;
    let page = history(s, a, g, Cursor::Before(6), 2).await.unwrap();
    assert_eq!((seqs(&page), page.has_more), (vec![5, 4], true));
    // From the latest page to the first message, each once.
    let mut page = history(s, a, g, Cursor::Latest, 3).await.unwrap();
    let mut walked = seqs(&page);
    while page.has_more {
        let oldest = page.messages.last().unwrap().seq;
        page = history(s, a, g, Cursor::Before(oldest), 3).await.unwrap();
        walked.extend(seqs(&page));
    }
    assert_eq!(walked, vec![7, 6, 5, 4, 3, 2, 1]);
    let page = history(s, a, g, Cursor::Before(3), 2).await.unwrap();
    assert_eq!((seqs(&page), page.has_more), (vec![2, 1], false));
    let page = history(s, a, g, Cursor::Before(1), 2).await.unwrap();
    assert_eq!((seqs(&page), page.has_more), (vec![], false));
}

async fn after_pages_walk_forward_to_the_newest_message(s: &Fresh) {
    let a = user(s, "alice").await;
    let g = group(s, a, &[]).await;
    fill(s, g, a, 7).await;
    let page = history(s, a, g, Cursor::After(2), 2).await.unwrap();
    assert_eq!((seqs(&page), page.has_more), (vec![3, 4], true));
    let mut page = history(s, a, g, Cursor::After(0), 3).await.unwrap();
    let mut walked = seqs(&page);
    while page.has_more {
        let newest = page.messages.last().unwrap().seq;
        page = history(s, a, g, Cursor::After(newest), 3).await.unwrap();
        walked.extend(seqs(&page));
    }
    assert_eq!(walked, vec![1, 2, 3, 4, 5, 6, 7]);
    let page = history(s, a, g, Cursor::After(5), 2).await.unwrap();
    assert_eq!((seqs(&page), page.has_more), (vec![6, 7], false));
    let page = history(s, a, g, Cursor::After(7), 2).await.unwrap();
    assert_eq!((seqs(&page), page.has_more), (vec![], false));
}

async fn the_history_of_an_empty_group_is_empty(s: &Fresh) {
    let a = user(s, "alice").await;
    let g = group(s, a, &[]).await;
    for cursor in [Cursor::Latest, Cursor::Before(10), Cursor::After(0)] {
        let page = history(s, a, g, cursor, 50).await.unwrap();
        assert_eq!(
            page,
            Page {
                messages: vec![],
                has_more: false
            }
        );
    }
}

async fn the_history_keeps_deleted_messages_as_tombstones_in_place(s: &Fresh) {
    let a = user(s, "alice").await;
    let g = group(s, a, &[]).await;
    fill(s, g, a, 3).await;
    let middle = history(s, a, g, Cursor::Latest, 3).await.unwrap().messages[1].clone();
    delete(s, a, middle.id, at(1)).await.unwrap();
    let page = history(s, a, g, Cursor::After(0), 10).await.unwrap();
    assert_eq!(seqs(&page), vec![1, 2, 3]);
    let tomb = &page.messages[1];
    assert_eq!(
        (tomb.id, tomb.deleted, tomb.body.as_str()),
        (middle.id, true, "")
    );
}

async fn history_of_an_unknown_group_or_as_a_non_member_is_not_found(s: &Fresh) {
    let a = user(s, "alice").await;
    let b = user(s, "bob").await;
    let g = group(s, a, &[b]).await;
    send(s, g, a, "hi").await;
    not_found(
        history(s, a, GroupId::new(), Cursor::Latest, 10).await,
        "group",
    );
    let stranger = user(s, "carol").await;
    not_found(history(s, stranger, g, Cursor::Latest, 10).await, "group");
    s.groups.remove_member(a, g, b, at(1)).await.unwrap();
    not_found(history(s, b, g, Cursor::After(0), 10).await, "group");
}

async fn closed_chats_and_expired_rooms_stay_readable(s: &Fresh) {
    let a = user(s, "alice").await;
    let b = user(s, "bob").await;
    let chat = chat(s, a, b).await;
    let r = room(s, a, b, at(60)).await;
    for g in [chat, r] {
        send(s, g, a, "hi").await;
    }
    s.groups.delete_or_close(a, chat, at(1)).await.unwrap();
    s.pool.sweep_expired(at(61)).await.unwrap();
    for g in [chat, r] {
        for who in [a, b] {
            let page = history(s, who, g, Cursor::Latest, 10).await.unwrap();
            assert_eq!(seqs(&page), vec![1]);
            assert_eq!(changes(s, who, g, 0, 10).await.unwrap().len(), 1);
        }
    }
}

// ---- edit ----

async fn edit_replaces_the_body_and_takes_the_next_rev(s: &Fresh) {
    let a = user(s, "alice").await;
    let g = group(s, a, &[]).await;
    let m = append(s, g, a, "helo", Some("c")).await.unwrap().message;
    send(s, g, a, "later").await;
    let edited = edit(s, a, m.id, "hello", at(5)).await.unwrap();
    assert!(edited.changed);
    let e = &edited.message;
    assert_eq!(
        (e.body.as_str(), e.edited_at, e.rev, e.deleted),
        ("hello", Some(at(5)), 3, false)
    );
    assert_eq!((e.id, e.seq, e.created_rev, e.created_at), (m.id, 1, 1, T0));
    assert_eq!((e.sender_id, &e.client_id), (a, &m.client_id));
    assert_eq!(counters(s, a, g).await, (2, 3));
    let page = history(s, a, g, Cursor::After(0), 1).await.unwrap();
    assert_eq!(page.messages, vec![e.clone()]);
}

/// Every edit is a change, even to the same body.
async fn every_edit_takes_a_new_rev(s: &Fresh) {
    let a = user(s, "alice").await;
    let g = group(s, a, &[]).await;
    let m = send(s, g, a, "one").await;
    for (rev, text) in [(2, "two"), (3, "two"), (4, "three")] {
        let e = edit(s, a, m.id, text, at(rev)).await.unwrap();
        assert_eq!(
            (e.changed, e.message.rev, e.message.body.as_str()),
            (true, rev as u64, text)
        );
    }
    assert_eq!(counters(s, a, g).await, (1, 4));
}

async fn editing_someone_elses_message_is_forbidden(s: &Fresh) {
    let owner = user(s, "alice").await;
    let admin = user(s, "bob").await;
    let member = user(s, "carol").await;
    let g = group(s, owner, &[admin, member]).await;
    s.groups
        .change_role(owner, g, admin, Role::Admin)
        .await
        .unwrap();
    let m = send(s, g, member, "mine").await;
    let theirs = send(s, g, owner, "the owner's").await;
    for actor in [owner, admin] {
        forbidden(edit(s, actor, m.id, "x", at(1)).await);
    }
    forbidden(edit(s, member, theirs.id, "x", at(1)).await);
    let page = history(s, owner, g, Cursor::After(0), 10).await.unwrap();
    assert_eq!(page.messages, vec![m, theirs]);
    assert_eq!(counters(s, owner, g).await, (2, 2));
}

async fn editing_a_deleted_message_is_gone(s: &Fresh) {
    let a = user(s, "alice").await;
    let g = group(s, a, &[]).await;
    let m = send(s, g, a, "oops").await;
    let tomb = delete(s, a, m.id, at(1)).await.unwrap().message;
    gone(edit(s, a, m.id, "fixed", at(2)).await);
    let page = history(s, a, g, Cursor::Latest, 10).await.unwrap();
    assert_eq!(page.messages, vec![tomb]);
    assert_eq!(counters(s, a, g).await, (1, 2));
}

async fn editing_in_a_closed_chat_or_expired_room_is_gone(s: &Fresh) {
    let a = user(s, "alice").await;
    let b = user(s, "bob").await;
    let chat = chat(s, a, b).await;
    let in_chat = send(s, chat, a, "hi").await;
    s.groups.delete_or_close(b, chat, at(1)).await.unwrap();
    gone(edit(s, a, in_chat.id, "edited", at(2)).await);

    let r = room(s, a, b, at(60)).await;
    let in_room = send(s, r, a, "hi").await;
    edit(s, a, in_room.id, "in time", at(59)).await.unwrap();
    gone(edit(s, a, in_room.id, "late", at(60)).await);
    assert_eq!(counters(s, a, chat).await, (1, 1));
    assert_eq!(counters(s, a, r).await, (1, 2));
}

/// An unknown message, a stranger's, and the own message of a removed member are all
/// `NotFound("message")` (a stranger in a closed chat: see the delete case).
async fn editing_an_unknown_message_or_as_a_non_member_is_not_found(s: &Fresh) {
    let a = user(s, "alice").await;
    let b = user(s, "bob").await;
    let stranger = user(s, "carol").await;
    let g = group(s, a, &[b]).await;
    let m = send(s, g, a, "hi").await;
    let bs = send(s, g, b, "bye").await;
    not_found(edit(s, a, MessageId::new(), "x", at(1)).await, "message");
    not_found(edit(s, stranger, m.id, "x", at(1)).await, "message");
    s.groups.remove_member(a, g, b, at(1)).await.unwrap();
    not_found(edit(s, b, bs.id, "x", at(2)).await, "message");
    let page = history(s, a, g, Cursor::After(0), 10).await.unwrap();
    assert_eq!(page.messages, vec![m, bs]);
}

// ---- delete ----

async fn delete_leaves_a_tombstone_with_the_next_rev(s: &Fresh) {
    let a = user(s, "alice").await;
    let g = group(s, a, &[]).await;
    let m = append(s, g, a, "one", Some("c")).await.unwrap().message;
    edit(s, a, m.id, "two", at(1)).await.unwrap();
    let d = delete(s, a, m.id, at(2)).await.unwrap();
    assert!(d.changed);
    let t = &d.message;
    assert_eq!(
        (t.deleted, t.body.as_str(), t.edited_at, t.rev),
        (true, "", None, 3)
    );
    assert_eq!((t.id, t.seq, t.created_rev, t.created_at), (m.id, 1, 1, T0));
    assert_eq!((t.sender_id, &t.client_id), (a, &m.client_id));
    assert_eq!(counters(s, a, g).await, (1, 3));
    let page = history(s, a, g, Cursor::Latest, 10).await.unwrap();
    assert_eq!(page.messages, vec![t.clone()]);
}

async fn the_owner_or_an_admin_may_delete_anyones_message(s: &Fresh) {
    let owner = user(s, "alice").await;
    let admin = user(s, "bob").await;
    let member = user(s, "carol").await;
    let g = group(s, owner, &[admin, member]).await;
    s.groups
        .change_role(owner, g, admin, Role::Admin)
        .await
        .unwrap();
    let by_member = send(s, g, member, "spam").await;
    let by_owner = send(s, g, owner, "hmm").await;
    let d = delete(s, owner, by_member.id, at(1)).await.unwrap();
    assert!(d.changed && d.message.deleted);
    let d = delete(s, admin, by_owner.id, at(1)).await.unwrap();
    assert!(d.changed && d.message.deleted);
    assert_eq!(d.message.sender_id, owner);
}

async fn a_plain_member_may_not_delete_someone_elses_message(s: &Fresh) {
    let owner = user(s, "alice").await;
    let b = user(s, "bob").await;
    let c = user(s, "carol").await;
    let g = group(s, owner, &[b, c]).await;
    let by_owner = send(s, g, owner, "rules").await;
    let by_c = send(s, g, c, "hi").await;
    forbidden(delete(s, b, by_owner.id, at(1)).await);
    forbidden(delete(s, b, by_c.id, at(1)).await);
    let page = history(s, b, g, Cursor::After(0), 10).await.unwrap();
    assert_eq!(page.messages, vec![by_owner, by_c]);
    assert_eq!(counters(s, b, g).await, (2, 2));
}

async fn in_a_direct_chat_only_the_sender_may_delete(s: &Fresh) {
    let a = user(s, "alice").await;
    let b = user(s, "bob").await;
    let direct = chat(s, a, b).await;
    let r = room(s, a, b, at(60)).await;
    for g in [direct, r] {
        let m = send(s, g, a, "hi").await;
        forbidden(delete(s, b, m.id, at(1)).await);
        assert!(delete(s, a, m.id, at(1)).await.unwrap().changed);
    }
}

/// A second delete answers the tombstone with `changed: false` and takes no `rev`.
async fn deleting_a_deleted_message_changes_nothing(s: &Fresh) {
    let owner = user(s, "alice").await;
    let b = user(s, "bob").await;
    let g = group(s, owner, &[b]).await;
    let m = send(s, g, b, "hi").await;
    let first = delete(s, b, m.id, at(1)).await.unwrap();
    for actor in [b, owner] {
        let again = delete(s, actor, m.id, at(2)).await.unwrap();
        assert!(!again.changed);
        assert_eq!(again.message, first.message);
    }
    assert_eq!(counters(s, owner, g).await, (1, 2));
    assert_eq!(send(s, g, owner, "next").await.rev, 3);
}

/// MUST hold under racing deletes: one of them changes the message.
async fn racing_deletes_change_a_message_once(s: &Fresh) {
    let owner = user(s, "alice").await;
    let b = user(s, "bob").await;
    let g = group(s, owner, &[b]).await;
    let m = send(s, g, b, "hi").await;
    let answers = join_all((0..10).map(|i| {
        let actor = if i % 2 == 0 { b } else { owner };
        delete(s, actor, m.id, at(1))
    }))
    .await;
    let answers: Vec<_> = answers.into_iter().map(Result::unwrap).collect();
    assert_eq!(answers.iter().filter(|d| d.changed).count(), 1);
    assert!(
        answers
            .iter()
            .all(|d| d.message.deleted && d.message.rev == 2)
    );
    assert_eq!(counters(s, owner, g).await, (1, 2));
}

async fn deleting_in_a_closed_chat_or_expired_room_is_gone(s: &Fresh) {
    let a = user(s, "alice").await;
    let b = user(s, "bob").await;
    let chat = chat(s, a, b).await;
    let m = send(s, chat, a, "hi").await;
    let gone_before = send(s, chat, a, "bye").await;
    delete(s, a, gone_before.id, T0).await.unwrap();
    s.groups.delete_or_close(b, chat, at(1)).await.unwrap();
    gone(delete(s, a, m.id, at(2)).await);
    // Even a message already deleted: the chat refuses every write.
    gone(delete(s, a, gone_before.id, at(2)).await);

    let r = room(s, a, b, at(60)).await;
    let in_room = send(s, r, a, "hi").await;
    gone(delete(s, a, in_room.id, at(60)).await);
    assert_eq!(counters(s, a, chat).await, (2, 3));
    assert_eq!(counters(s, a, r).await, (1, 1));
    let page = history(s, a, chat, Cursor::After(0), 1).await.unwrap();
    assert_eq!(page.messages, vec![m]);
}

async fn deleting_an_unknown_message_or_as_a_non_member_is_not_found(s: &Fresh) {
    let a = user(s, "alice").await;
    let b = user(s, "bob").await;
    let stranger = user(s, "carol").await;
    let g = group(s, a, &[b]).await;
    let m = send(s, g, a, "hi").await;
    let bs = send(s, g, b, "bye").await;
    not_found(delete(s, a, MessageId::new(), at(1)).await, "message");
    not_found(delete(s, stranger, m.id, at(1)).await, "message");
    s.groups.remove_member(a, g, b, at(1)).await.unwrap();
    not_found(delete(s, b, bs.id, at(2)).await, "message");
    // A stranger in a closed chat: NotFound, not Gone.
    let d = user(s, "dave").await;
    let direct = chat(s, d, a).await;
    let in_chat = send(s, direct, a, "hi").await;
    s.groups.delete_or_close(a, direct, at(1)).await.unwrap();
    not_found(delete(s, stranger, in_chat.id, at(2)).await, "message");
    not_found(edit(s, stranger, in_chat.id, "x", at(2)).await, "message");
    assert_eq!(counters(s, a, g).await, (2, 2));
}

// ---- changes_since ----

async fn changes_since_returns_each_message_once_at_its_latest_change(s: &Fresh) {
    let a = user(s, "alice").await;
    let g = group(s, a, &[]).await;
    let m1 = send(s, g, a, "one").await; // rev 1
    let m2 = send(s, g, a, "two").await; // rev 2
    let m3 = send(s, g, a, "three").await; // rev 3
    edit(s, a, m1.id, "one!", at(1)).await.unwrap(); // rev 4
    delete(s, a, m2.id, at(2)).await.unwrap(); // rev 5
    edit(s, a, m1.id, "one!!", at(3)).await.unwrap(); // rev 6
    let noise = group(s, a, &[]).await;
    send(s, noise, a, "elsewhere").await;

    let all = changes(s, a, g, 0, 100).await.unwrap();
    let shape: Vec<_> = all.iter().map(|m| (m.id, m.rev, m.created_rev)).collect();
    assert_eq!(shape, vec![(m3.id, 3, 3), (m2.id, 5, 2), (m1.id, 6, 1)]);
    assert_eq!((all[1].deleted, all[1].body.as_str()), (true, ""));
    assert_eq!(all[2].body, "one!!");
    // Only what changed after the given rev; m3's creation (rev 3) is not after 3.
    let after = changes(s, a, g, 3, 100).await.unwrap();
    assert_eq!(after, all[1..].to_vec());
    let after = changes(s, a, g, 5, 100).await.unwrap();
    assert_eq!(after, all[2..].to_vec());
    assert!(changes(s, a, g, 6, 100).await.unwrap().is_empty());
    assert!(changes(s, a, g, 99, 100).await.unwrap().is_empty());
}

/// Paging as the socket's catch-up does: pass the last rev got until a short page.
async fn changes_since_pages_by_rev_and_yields_every_change_once(s: &Fresh) {
    let a = user(s, "alice").await;
    let g = group(s, a, &[]).await;
    let mut ids = Vec::new();
    for i in 0..10 {
        ids.push(send(s, g, a, &format!("m{i}")).await.id);
    }
    for id in ids.iter().step_by(3) {
        edit(s, a, *id, "edited", at(1)).await.unwrap();
    }
    let whole = changes(s, a, g, 0, 100).await.unwrap();
    assert_eq!(whole.len(), 10);
    let (mut last, mut paged) = (0, Vec::new());
    loop {
        let page = changes(s, a, g, last, 3).await.unwrap();
        assert!(page.len() <= 3);
        if let Some(m) = page.last() {
            last = m.rev;
        }
        let short = page.len() < 3;
        paged.extend(page);
        if short {
            break;
        }
    }
    assert_eq!(paged, whole);
    assert_eq!(last, 14);
}

async fn changes_since_of_an_unknown_group_or_as_a_non_member_is_not_found(s: &Fresh) {
    let a = user(s, "alice").await;
    let b = user(s, "bob").await;
    let stranger = user(s, "carol").await;
    let g = group(s, a, &[b]).await;
    send(s, g, a, "hi").await;
    not_found(changes(s, a, GroupId::new(), 0, 10).await, "group");
    not_found(changes(s, stranger, g, 0, 10).await, "group");
    s.groups.remove_member(a, g, b, at(1)).await.unwrap();
    not_found(changes(s, b, g, 0, 10).await, "group");
}

// ---- many appends at once (stores may commit them together) ----

/// Runs every append at once, each on a task of its own (so they race across threads and queue
/// up together), and returns the answers in the order given.
async fn append_all(s: &Fresh, all: Vec<NewMessage>) -> Vec<Result<Appended, Error>> {
    let tasks: Vec<_> = all
        .into_iter()
        .map(|m| {
            let messages = s.messages.clone();
            tokio::spawn(async move { messages.append_message(m).await })
        })
        .collect();
    let mut answers = Vec::new();
    for t in tasks {
        answers.push(t.await.unwrap());
    }
    answers
}

/// Each answer is the message its own request sent, as stored, with `created_rev` = `rev`.
fn answered_as_sent(sent: &[NewMessage], answers: &[Result<Appended, Error>]) -> Vec<Message> {
    sent.iter()
        .zip(answers)
        .map(|(new, answer)| {
            let a = answer.as_ref().unwrap();
            assert!(!a.duplicate);
            let m = &a.message;
            assert_eq!(
                (m.id, m.group_id, m.sender_id),
                (new.id, new.group_id, new.sender_id)
            );
            assert_eq!(
                (m.body.as_str(), &m.client_id),
                (new.body.as_str(), &new.client_id)
            );
            assert_eq!((m.created_rev, m.created_at), (m.rev, new.now));
            m.clone()
        })
        .collect()
}

/// MUST hold for many appends at once into one group: seqs and revs 1..=n, each once, and
/// what each sender is answered is what is stored.
async fn concurrent_appends_to_one_group_take_every_seq_once(s: &Fresh) {
    let mut users = Vec::new();
    for i in 0..4 {
        users.push(user(s, &format!("sender{i}")).await);
    }
    let g = group(s, users[0], &users[1..]).await;
    let sent: Vec<_> = (0..300)
        .map(|i| {
            let cid = format!("c{i}");
            let cid = (i % 2 == 0).then_some(cid.as_str());
            message(g, users[i % users.len()], &format!("m{i}"), cid)
        })
        .collect();
    let answers = append_all(s, sent.clone()).await;
    let mut stored = answered_as_sent(&sent, &answers);
    stored.sort_by_key(|m| m.seq);
    let seqs: Vec<u64> = stored.iter().map(|m| m.seq).collect();
    assert_eq!(seqs, (1..=300).collect::<Vec<_>>());
    assert!(stored.iter().all(|m| m.rev == m.seq));
    assert_eq!(counters(s, users[0], g).await, (300, 300));
    let page = history(s, users[0], g, Cursor::After(0), 1000)
        .await
        .unwrap();
    assert_eq!(page.messages, stored);
}

/// MUST hold for many appends at once into several groups: each group counts on its own.
async fn concurrent_appends_to_many_groups_take_every_seq_once_in_each(s: &Fresh) {
    let a = user(s, "alice").await;
    let b = user(s, "bob").await;
    let mut groups = Vec::new();
    for _ in 0..8 {
        groups.push(group(s, a, &[b]).await);
    }
    let sent: Vec<_> = (0..240)
        .map(|i| {
            let who = if i % 3 == 0 { b } else { a };
            message(
                groups[i % groups.len()],
                who,
                &format!("m{i}"),
                Some(&format!("c{i}")),
            )
        })
        .collect();
    let answers = append_all(s, sent.clone()).await;
    let stored = answered_as_sent(&sent, &answers);
    for g in groups {
        let mut seqs: Vec<u64> = stored
            .iter()
            .filter(|m| m.group_id == g)
            .map(|m| m.seq)
            .collect();
        seqs.sort_unstable();
        assert_eq!(seqs, (1..=30).collect::<Vec<_>>());
        assert_eq!(counters(s, a, g).await, (30, 30));
        let changed = changes(s, b, g, 0, 100).await.unwrap();
        assert_eq!(changed.len(), 30);
        assert!(changed.iter().all(|m| stored.contains(m)));
    }
}

/// MUST hold for retries racing each other and their originals, several client ids and
/// senders at once: one message per sender and client id, and every try answered with it.
async fn concurrent_retries_of_several_client_ids_store_one_message_each(s: &Fresh) {
    let a = user(s, "alice").await;
    let b = user(s, "bob").await;
    let g = group(s, a, &[b]).await;
    let tries: Vec<_> = (0..60)
        .map(|i| {
            let who = if i % 2 == 0 { a } else { b };
            message(g, who, &format!("try {i}"), Some(&format!("c{}", i % 5)))
        })
        .collect();
    let answers = append_all(s, tries.clone()).await;
    let mut firsts: Vec<Message> = Vec::new();
    for who in [a, b] {
        for c in 0..5 {
            let cid = format!("c{c}");
            let mine: Vec<&Appended> = tries
                .iter()
                .zip(&answers)
                .filter(|(t, _)| {
                    t.sender_id == who && t.client_id.as_ref().map(|c| c.as_str()) == Some(&cid)
                })
                .map(|(_, answer)| answer.as_ref().unwrap())
                .collect();
            assert_eq!(mine.len(), 6);
            let new: Vec<_> = mine.iter().filter(|x| !x.duplicate).collect();
            assert_eq!(new.len(), 1, "{cid} of one sender stored once");
            assert!(mine.iter().all(|x| x.message == new[0].message));
            firsts.push(new[0].message.clone());
        }
    }
    let mut seqs: Vec<u64> = firsts.iter().map(|m| m.seq).collect();
    seqs.sort_unstable();
    assert_eq!(seqs, (1..=10).collect::<Vec<_>>());
    assert_eq!(counters(s, a, g).await, (10, 10));
}

/// A refused append (a stranger, an unknown group, a closed chat, an expired room) racing
/// accepted ones is refused alone: the others are stored, each counter advanced only by them.
async fn refused_appends_among_concurrent_ones_spoil_none_of_the_others(s: &Fresh) {
    let a = user(s, "alice").await;
    let b = user(s, "bob").await;
    let stranger = user(s, "carol").await;
    let g = group(s, a, &[b]).await;
    let closed = closed_chat(s, a, b).await;
    let r = room(s, a, b, at(60)).await;
    let mut sent = Vec::new();
    for i in 0..60 {
        let mut m = match i % 6 {
            0 => message(g, stranger, "no", Some("s")),
            1 => message(GroupId::new(), a, "no", None),
            2 => message(closed, a, "no", Some(&format!("x{i}"))),
            3 => message(r, a, "late", None),
            _ => message(g, if i % 2 == 0 { a } else { b }, &format!("m{i}"), None),
        };
        if i % 6 == 3 {
            m.now = at(61);
        }
        sent.push(m);
    }
    let answers = append_all(s, sent.clone()).await;
    let mut accepted = Vec::new();
    for (i, (new, answer)) in sent.iter().zip(answers).enumerate() {
        match i % 6 {
            0 | 1 => not_found(answer, "group"),
            2 | 3 => gone(answer),
            _ => {
                let m = answer.unwrap().message;
                assert_eq!((m.id, m.body.as_str()), (new.id, new.body.as_str()));
                accepted.push(m.seq);
            }
        }
    }
    accepted.sort_unstable();
    assert_eq!(accepted, (1..=20).collect::<Vec<_>>());
    assert_eq!(counters(s, a, g).await, (20, 20));
    assert_eq!(counters(s, a, closed).await, (0, 0));
    assert_eq!(counters(s, a, r).await, (0, 0));
}
