//! Replies, reactions, mentions and pins on SQLite, end to end through the store: what each
//! read carries, the revs each change takes, and the rows a delete removes. (The shared store
//! suite in `tests/` checks the contract on both stores.)
#![allow(clippy::unwrap_used, clippy::expect_used)]

use confab_domain::reaction::{MAX_DISTINCT_REACTIONS, MAX_PINS};
use confab_domain::{Body, GroupName, Reaction, ReplyRef, Role, Username};
use confab_ports::hasher::PasswordHash;
use confab_ports::store::{Cursor, Groups, Messages, NewGroup, NewMessage, NewUser, Users};
use time::macros::datetime;

use super::*;
use crate::SqliteStore;

const T0: Timestamp = datetime!(2026-12-01 12:00:00.000 UTC);

struct World {
    _dir: tempfile::TempDir,
    path: std::path::PathBuf,
    store: SqliteStore,
    owner: UserId,
    bob: UserId,
    carol: UserId,
    group: GroupId,
}

async fn user(store: &SqliteStore, name: &str) -> UserId {
    let id = UserId::new();
    store
        .create_user(
            NewUser {
                id,
                username: Username::parse(name).unwrap(),
                display_name: None,
                email: None,
                country: None,
                password_hash: PasswordHash("x".into()),
                is_admin: false,
                created_at: T0,
            },
            None,
        )
        .await
        .unwrap();
    id
}

async fn world() -> World {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("r.db");
    let store = SqliteStore::open(&path, crate::DEFAULT_BUSY_TIMEOUT).unwrap();
    let owner = user(&store, "olga").await;
    let bob = user(&store, "bob").await;
    let carol = user(&store, "carol").await;
    let _outsider = user(&store, "dave").await;
    let group = GroupId::new();
    store
        .create_group(NewGroup {
            id: group,
            name: GroupName::parse("team").unwrap(),
            created_by: owner,
            created_at: T0,
            members: vec![bob, carol],
        })
        .await
        .unwrap();
    World {
        _dir: dir,
        path,
        store,
        owner,
        bob,
        carol,
        group,
    }
}

async fn send(w: &World, from: UserId, body: &str, reply_to: Option<MessageId>) -> Message {
    w.store
        .append_message(NewMessage {
            id: MessageId::new(),
            group_id: w.group,
            sender_id: from,
            body: Body::parse(body).unwrap(),
            client_id: None,
            attachment_ids: Vec::new(),
            reply_to,
            now: T0,
        })
        .await
        .unwrap()
        .message
}

fn emoji(e: &str) -> Emoji {
    Emoji::parse(e).unwrap()
}

fn count(path: &std::path::Path, sql: &str) -> i64 {
    Connection::open(path)
        .unwrap()
        .query_row(sql, [], |r| r.get(0))
        .unwrap()
}

#[tokio::test]
async fn a_reply_shows_its_original_and_is_listed_under_it() {
    let w = world().await;
    let first = send(&w, w.owner, "hello everyone", None).await;
    let reply = send(&w, w.bob, "hi!", Some(first.id)).await;
    let expected = ReplyRef {
        id: first.id,
        seq: first.seq,
        sender_id: w.owner,
        excerpt: "hello everyone".into(),
    };
    assert_eq!(reply.reply_to.as_ref(), Some(&expected));
    let page = w
        .store
        .history(w.carol, w.group, Cursor::Latest, 10)
        .await
        .unwrap();
    assert_eq!(page.messages[0].reply_to.as_ref(), Some(&expected));
    assert_eq!(page.messages[1].reply_to, None);

    let second = send(&w, w.carol, "me too", Some(first.id)).await;
    let replies = w.store.replies(w.bob, first.id, 0, 1).await.unwrap();
    assert_eq!(replies.messages.len(), 1);
    assert_eq!(replies.messages[0].id, reply.id);
    assert!(replies.has_more);
    let rest = w
        .store
        .replies(w.bob, first.id, reply.seq, 10)
        .await
        .unwrap();
    assert_eq!(
        rest.messages.iter().map(|m| m.id).collect::<Vec<_>>(),
        [second.id]
    );
    assert!(!rest.has_more);

    // Deleting the original empties the excerpt; the replies keep their reference.
    w.store.delete_message(w.owner, first.id, T0).await.unwrap();
    let after = w.store.replies(w.bob, first.id, 0, 10).await.unwrap();
    let r = after.messages[0].reply_to.as_ref().unwrap();
    assert_eq!((r.id, r.excerpt.as_str()), (first.id, ""));
}

#[tokio::test]
async fn a_reply_to_another_groups_message_or_an_unknown_one_is_refused() {
    let w = world().await;
    let elsewhere = GroupId::new();
    w.store
        .create_group(NewGroup {
            id: elsewhere,
            name: GroupName::parse("other").unwrap(),
            created_by: w.owner,
            created_at: T0,
            members: Vec::new(),
        })
        .await
        .unwrap();
    let foreign = w
        .store
        .append_message(NewMessage {
            id: MessageId::new(),
            group_id: elsewhere,
            sender_id: w.owner,
            body: Body::parse("x").unwrap(),
            client_id: None,
            attachment_ids: Vec::new(),
            reply_to: None,
            now: T0,
        })
        .await
        .unwrap()
        .message;
    for target in [foreign.id, MessageId::new()] {
        let r = w
            .store
            .append_message(NewMessage {
                id: MessageId::new(),
                group_id: w.group,
                sender_id: w.owner,
                body: Body::parse("x").unwrap(),
                client_id: None,
                attachment_ids: Vec::new(),
                reply_to: Some(target),
                now: T0,
            })
            .await;
        assert!(
            matches!(&r, Err(Error::Invalid(i)) if i.field == "reply_to"),
            "{r:?}"
        );
    }
    let view = w.store.group_of(w.owner, w.group).await.unwrap();
    assert_eq!((view.group.last_seq, view.group.last_rev), (0, 0));
}

#[tokio::test]
async fn mentions_are_members_in_order_and_count_until_read() {
    let w = world().await;
    let m = send(
        &w,
        w.owner,
        "@Carol @dave @olga and @bob, and @carol again",
        None,
    )
    .await;
    assert_eq!(m.mentions, [w.carol, w.bob]);
    let page = w
        .store
        .history(w.bob, w.group, Cursor::Latest, 10)
        .await
        .unwrap();
    assert_eq!(page.messages[0].mentions, [w.carol, w.bob]);
    let mention_count = |u| {
        let store = &w.store;
        let group = w.group;
        async move { store.group_of(u, group).await.unwrap().my.mention_count }
    };
    assert_eq!(mention_count(w.bob).await, 1);
    assert_eq!(mention_count(w.owner).await, 0);
    let all = w.store.groups_of(w.carol).await.unwrap();
    assert_eq!(all[0].my.mention_count, 1);

    // An edit recomputes them.
    let edited = w
        .store
        .edit_message(w.owner, m.id, Body::parse("only @bob").unwrap(), T0)
        .await
        .unwrap();
    assert_eq!(edited.message.mentions, [w.bob]);
    assert_eq!(mention_count(w.carol).await, 0);
    assert_eq!(mention_count(w.bob).await, 1);

    w.store.mark_read(w.bob, w.group, m.seq).await.unwrap();
    assert_eq!(mention_count(w.bob).await, 0);
    let again = send(&w, w.carol, "@bob?", None).await;
    assert_eq!(mention_count(w.bob).await, 1);
    w.store.delete_message(w.carol, again.id, T0).await.unwrap();
    assert_eq!(mention_count(w.bob).await, 0);
}

#[tokio::test]
async fn reactions_keep_first_use_order_and_take_a_rev_only_when_they_change() {
    let w = world().await;
    let m = send(&w, w.owner, "vote", None).await;
    let up = emoji("👍");
    let heart = emoji("❤️");
    let r = w
        .store
        .set_reaction(w.bob, m.id, up.clone(), true, T0)
        .await
        .unwrap();
    assert!(r.changed);
    assert_eq!(r.message.rev, m.rev + 1);
    w.store
        .set_reaction(w.carol, m.id, heart.clone(), true, T0)
        .await
        .unwrap();
    let last = w
        .store
        .set_reaction(w.carol, m.id, up.clone(), true, T0)
        .await
        .unwrap();
    assert_eq!(last.message.rev, m.rev + 3);
    let expected = vec![
        Reaction {
            emoji: up.clone(),
            user_ids: vec![w.bob, w.carol],
        },
        Reaction {
            emoji: heart.clone(),
            user_ids: vec![w.carol],
        },
    ];
    assert_eq!(last.message.reactions, expected);

    let same = w
        .store
        .set_reaction(w.carol, m.id, up.clone(), true, T0)
        .await
        .unwrap();
    assert!(!same.changed);
    assert_eq!(same.message.rev, last.message.rev);
    let absent = w
        .store
        .set_reaction(w.owner, m.id, heart.clone(), false, T0)
        .await
        .unwrap();
    assert!(!absent.changed);
    let view = w.store.group_of(w.owner, w.group).await.unwrap();
    assert_eq!(view.group.last_rev, last.message.rev);

    let changes = w
        .store
        .changes_since(w.owner, w.group, m.rev, 10)
        .await
        .unwrap();
    assert_eq!(changes.len(), 1);
    assert_eq!(changes[0].reactions, expected);

    // The order is that of the reactions there now: once bob's 👍 is gone, carol's ❤️ is
    // the oldest.
    let removed = w
        .store
        .set_reaction(w.bob, m.id, up.clone(), false, T0)
        .await
        .unwrap();
    assert!(removed.changed);
    assert_eq!(removed.message.rev, last.message.rev + 1);
    let order: Vec<_> = removed
        .message
        .reactions
        .iter()
        .map(|r| r.emoji.clone())
        .collect();
    assert_eq!(order, [heart, up]);
    assert_eq!(removed.message.reactions[1].user_ids, [w.carol]);
}

#[tokio::test]
async fn a_twenty_first_emoji_is_refused_and_outsiders_find_nothing() {
    let w = world().await;
    let m = send(&w, w.owner, "react", None).await;
    let many: Vec<Emoji> = [
        "😀", "😃", "😄", "😁", "😆", "😅", "😂", "🤣", "😊", "😇", "🙂", "🙃", "😉", "😌", "😍",
        "🥰", "😘", "😗", "😙", "😚", "😋",
    ]
    .into_iter()
    .map(emoji)
    .collect();
    assert_eq!(many.len(), MAX_DISTINCT_REACTIONS + 1);
    for e in &many[..MAX_DISTINCT_REACTIONS] {
        w.store
            .set_reaction(w.bob, m.id, e.clone(), true, T0)
            .await
            .unwrap();
    }
    let r = w
        .store
        .set_reaction(w.bob, m.id, many[MAX_DISTINCT_REACTIONS].clone(), true, T0)
        .await;
    assert!(
        matches!(&r, Err(Error::Invalid(i)) if i.field == "emoji"),
        "{r:?}"
    );
    // One already there is still allowed.
    w.store
        .set_reaction(w.carol, m.id, many[0].clone(), true, T0)
        .await
        .unwrap();
    let dave = w
        .store
        .user_by_username(&Username::parse("dave").unwrap())
        .await;
    let dave = dave.unwrap().unwrap().id;
    let r = w
        .store
        .set_reaction(dave, m.id, many[0].clone(), true, T0)
        .await;
    assert!(matches!(r, Err(Error::NotFound("message"))), "{r:?}");
    let r = w.store.replies(dave, m.id, 0, 10).await;
    assert!(matches!(r, Err(Error::NotFound("message"))), "{r:?}");
    let r = w.store.pins(dave, w.group).await;
    assert!(matches!(r, Err(Error::NotFound("group"))), "{r:?}");
}

#[tokio::test]
async fn pins_are_for_the_owner_and_admins_and_at_most_fifty() {
    let w = world().await;
    let m = send(&w, w.bob, "pin me", None).await;
    let r = w.store.set_pin(w.bob, w.group, m.id, true, T0).await;
    assert!(matches!(r, Err(Error::Forbidden(_))), "{r:?}");
    let r = w
        .store
        .set_pin(w.owner, w.group, MessageId::new(), true, T0)
        .await;
    assert!(matches!(r, Err(Error::NotFound("message"))), "{r:?}");
    let pinned = w
        .store
        .set_pin(w.owner, w.group, m.id, true, T0)
        .await
        .unwrap();
    assert!(pinned.changed && pinned.message.pinned);
    assert_eq!(pinned.message.rev, m.rev + 1);
    let again = w
        .store
        .set_pin(w.owner, w.group, m.id, true, T0)
        .await
        .unwrap();
    assert!(!again.changed);

    w.store
        .change_role(w.owner, w.group, w.bob, Role::Admin)
        .await
        .unwrap();
    let mut later = Vec::new();
    for i in 1..MAX_PINS {
        let n = send(&w, w.carol, &format!("n{i}"), None).await;
        let at = T0 + time::Duration::milliseconds(i as i64);
        w.store
            .set_pin(w.bob, w.group, n.id, true, at)
            .await
            .unwrap();
        later.push(n.id);
    }
    let extra = send(&w, w.carol, "one too many", None).await;
    let r = w.store.set_pin(w.bob, w.group, extra.id, true, T0).await;
    assert!(matches!(r, Err(Error::Invalid(_))), "{r:?}");

    let pins = w.store.pins(w.carol, w.group).await.unwrap();
    assert_eq!(pins.len(), MAX_PINS);
    assert_eq!(pins[0].id, *later.last().unwrap());
    assert_eq!(pins[MAX_PINS - 1].id, m.id);
    assert!(pins.iter().all(|p| p.pinned));

    // A deleted message loses its pin; unpinning then is gone.
    let deleted = w.store.delete_message(w.bob, m.id, T0).await.unwrap();
    assert!(!deleted.message.pinned);
    assert_eq!(
        w.store.pins(w.carol, w.group).await.unwrap().len(),
        MAX_PINS - 1
    );
    let r = w.store.set_pin(w.owner, w.group, m.id, false, T0).await;
    assert!(matches!(r, Err(Error::Gone(_))), "{r:?}");
}

#[tokio::test]
async fn a_delete_removes_reactions_mentions_and_pin_and_a_group_goes_whole() {
    let w = world().await;
    let first = send(&w, w.owner, "hi @bob", None).await;
    let reply = send(&w, w.bob, "hey @olga", Some(first.id)).await;
    w.store
        .set_reaction(w.carol, first.id, emoji("🎉"), true, T0)
        .await
        .unwrap();
    w.store
        .set_pin(w.owner, w.group, first.id, true, T0)
        .await
        .unwrap();
    let d = w.store.delete_message(w.owner, first.id, T0).await.unwrap();
    assert!(d.changed);
    assert!(d.message.reactions.is_empty() && d.message.mentions.is_empty());
    assert!(!d.message.pinned);
    let r = w
        .store
        .set_reaction(w.carol, first.id, emoji("🎉"), true, T0)
        .await;
    assert!(matches!(r, Err(Error::Gone(_))), "{r:?}");
    assert_eq!(
        count(&w.path, "SELECT count(*) FROM reactions"),
        0,
        "the reactions are removed"
    );
    assert_eq!(count(&w.path, "SELECT count(*) FROM mentions"), 1);
    w.store
        .set_reaction(w.carol, reply.id, emoji("🎉"), true, T0)
        .await
        .unwrap();

    // Deleting the group takes messages, replies, reactions and mentions with it.
    w.store.delete_or_close(w.owner, w.group, T0).await.unwrap();
    for table in ["messages", "reactions", "mentions"] {
        assert_eq!(count(&w.path, &format!("SELECT count(*) FROM {table}")), 0);
    }
}
