//! `Messages`' replies, reactions, mentions and pins: what a message carries, the limits the
//! domain sets, who may do what, and that every change takes the group's next `rev`.

use confab_domain::{Emoji, GroupId, Message, MessageId, Role, UserId};
use confab_ports::Error;
use confab_ports::store::{Changed, NewMessage};
use futures::future::join_all;

use crate::fixtures::{Fresh, T0, at, group, message, user};
use crate::messages::{changes, chat, delete, edit, forbidden, gone, not_found, send};

crate::store_cases!(
    a_reply_carries_its_original_and_a_thread_pages_oldest_first,
    a_reply_to_another_groups_message_or_to_nothing_is_invalid,
    a_reply_to_a_deleted_message_works_and_shows_an_empty_excerpt,
    replies_of_an_unknown_message_or_as_a_non_member_are_not_found,
    mentions_are_the_members_named_in_order_and_never_the_sender,
    an_edit_recomputes_mentions_and_mention_count_follows,
    a_delete_clears_reactions_mentions_and_the_pin,
    reactions_keep_first_use_order_and_each_change_takes_a_rev,
    a_reaction_already_there_or_absent_changes_nothing,
    the_twenty_first_distinct_emoji_is_invalid,
    reacting_as_a_non_member_is_not_found_and_to_a_deleted_message_gone,
    concurrent_reactions_are_each_applied_once_with_gapless_revs,
    owners_and_admins_pin_members_may_not,
    either_member_of_a_direct_chat_pins,
    pins_list_most_recently_pinned_first,
    the_fifty_first_pin_is_invalid,
    pinning_another_groups_message_or_in_a_closed_chat_is_refused,
);

fn emoji(e: &str) -> Emoji {
    Emoji::parse(e).unwrap()
}

async fn react(s: &Fresh, who: UserId, m: MessageId, e: &str, on: bool) -> Result<Changed, Error> {
    s.messages.set_reaction(who, m, emoji(e), on, T0).await
}

async fn pin(s: &Fresh, who: UserId, g: GroupId, m: MessageId, on: bool) -> Result<Changed, Error> {
    s.messages.set_pin(who, g, m, on, T0).await
}

/// Sends `body` from `who` to `g` as a reply to `original`.
async fn reply(
    s: &Fresh,
    g: GroupId,
    who: UserId,
    body: &str,
    original: MessageId,
) -> Result<Message, Error> {
    let new = NewMessage {
        reply_to: Some(original),
        ..message(g, who, body, None)
    };
    s.messages.append_message(new).await.map(|a| a.message)
}

/// The message `id` as `who` reads it now.
async fn current(s: &Fresh, who: UserId, g: GroupId, id: MessageId) -> Message {
    let page = s
        .messages
        .history(who, g, confab_ports::store::Cursor::After(0), 100)
        .await
        .unwrap();
    page.messages.into_iter().find(|m| m.id == id).unwrap()
}

/// `(emoji, users)` of each reaction, in order.
fn reactions(m: &Message) -> Vec<(String, Vec<UserId>)> {
    m.reactions
        .iter()
        .map(|r| (r.emoji.as_str().to_owned(), r.user_ids.clone()))
        .collect()
}

async fn mention_count(s: &Fresh, who: UserId, g: GroupId) -> u64 {
    s.groups.group_of(who, g).await.unwrap().my.mention_count
}

fn invalid(r: Result<impl std::fmt::Debug, Error>, field: &str) {
    match r {
        Err(Error::Invalid(i)) if i.field == field => {}
        other => panic!("expected Invalid({field}), got {other:?}"),
    }
}

/// A direct chat of `a` and `b` with one message of `a`'s, then closed by `b`.
async fn chat_with_a_message_then_closed(s: &Fresh, a: UserId, b: UserId) -> (GroupId, MessageId) {
    let d = chat(s, a, b).await;
    let before = send(s, d, a, "before the close").await;
    s.groups.delete_or_close(b, d, at(1)).await.unwrap();
    (d, before.id)
}

/// A team of three: (owner, admin, member, group).
async fn team(s: &Fresh) -> (UserId, UserId, UserId, GroupId) {
    let owner = user(s, "olga").await;
    let admin = user(s, "adam").await;
    let member = user(s, "mia").await;
    let g = group(s, owner, &[admin, member]).await;
    s.groups
        .change_role(owner, g, admin, Role::Admin)
        .await
        .unwrap();
    (owner, admin, member, g)
}

// ---- replies ----

async fn a_reply_carries_its_original_and_a_thread_pages_oldest_first(s: &Fresh) {
    let (o, a, m, g) = team(s).await;
    let long = "é".repeat(150);
    let original = send(s, g, o, &long).await;
    send(s, g, a, "not a reply").await;
    let mut ids = Vec::new();
    for i in 0..3 {
        let r = reply(s, g, m, &format!("re {i}"), original.id)
            .await
            .unwrap();
        let to = r.reply_to.clone().expect("reply_to");
        assert_eq!(
            (to.id, to.seq, to.sender_id, to.excerpt.as_str()),
            (original.id, original.seq, o, "é".repeat(100).as_str())
        );
        ids.push(r.id);
    }
    assert_eq!(original.reply_to, None);

    let first = s.messages.replies(a, original.id, 0, 2).await.unwrap();
    assert_eq!(
        first.messages.iter().map(|m| m.id).collect::<Vec<_>>(),
        ids[..2]
    );
    assert!(first.has_more);
    let rest = s
        .messages
        .replies(a, original.id, first.messages[1].seq, 2)
        .await
        .unwrap();
    assert_eq!(
        rest.messages.iter().map(|m| m.id).collect::<Vec<_>>(),
        ids[2..]
    );
    assert!(!rest.has_more);
    // The excerpt is the original as it is now.
    edit(s, o, original.id, "shorter", at(1)).await.unwrap();
    assert_eq!(
        current(s, a, g, ids[0]).await.reply_to.unwrap().excerpt,
        "shorter"
    );
}

async fn a_reply_to_another_groups_message_or_to_nothing_is_invalid(s: &Fresh) {
    let (o, _a, m, g) = team(s).await;
    let other = group(s, m, &[o]).await;
    let elsewhere = send(s, other, o, "elsewhere").await;
    let before = s.groups.group_of(o, g).await.unwrap().group.last_rev;
    invalid(reply(s, g, m, "re", elsewhere.id).await, "reply_to");
    invalid(reply(s, g, m, "re", MessageId::new()).await, "reply_to");
    assert_eq!(
        s.groups.group_of(o, g).await.unwrap().group.last_rev,
        before
    );
}

async fn a_reply_to_a_deleted_message_works_and_shows_an_empty_excerpt(s: &Fresh) {
    let (o, _a, m, g) = team(s).await;
    let original = send(s, g, o, "soon gone").await;
    let early = reply(s, g, m, "early", original.id).await.unwrap();
    delete(s, o, original.id, at(1)).await.unwrap();
    let late = reply(s, g, m, "late", original.id).await.unwrap();
    assert_eq!(late.reply_to.unwrap().excerpt, "");
    let early = current(s, m, g, early.id).await;
    let to = early.reply_to.unwrap();
    assert_eq!((to.id, to.excerpt.as_str()), (original.id, ""));
    let thread = s.messages.replies(m, original.id, 0, 10).await.unwrap();
    assert_eq!(thread.messages.len(), 2);
}

async fn replies_of_an_unknown_message_or_as_a_non_member_are_not_found(s: &Fresh) {
    let (o, _a, _m, g) = team(s).await;
    let outsider = user(s, "otto").await;
    let original = send(s, g, o, "hello").await;
    not_found(
        s.messages.replies(outsider, original.id, 0, 10).await,
        "message",
    );
    not_found(
        s.messages.replies(o, MessageId::new(), 0, 10).await,
        "message",
    );
}

// ---- mentions ----

async fn mentions_are_the_members_named_in_order_and_never_the_sender(s: &Fresh) {
    let (o, a, m, g) = team(s).await;
    user(s, "otto").await; // a user, but not a member
    let sent = send(
        s,
        g,
        o,
        "@mia and @adam, not @otto, @olga or @nobody; @mia again",
    )
    .await;
    assert_eq!(sent.mentions, vec![m, a]);
    assert_eq!(current(s, a, g, sent.id).await.mentions, vec![m, a]);
    assert_eq!(mention_count(s, m, g).await, 1);
    assert_eq!(mention_count(s, a, g).await, 1);
    assert_eq!(mention_count(s, o, g).await, 0, "one's own message");
    s.groups.mark_read(m, g, sent.seq).await.unwrap();
    assert_eq!(mention_count(s, m, g).await, 0);
    assert_eq!(mention_count(s, a, g).await, 1);
}

async fn an_edit_recomputes_mentions_and_mention_count_follows(s: &Fresh) {
    let (o, a, m, g) = team(s).await;
    let sent = send(s, g, o, "hi @mia").await;
    assert_eq!(mention_count(s, m, g).await, 1);
    let edited = edit(s, o, sent.id, "hi @adam", at(1)).await.unwrap();
    assert_eq!(edited.message.mentions, vec![a]);
    assert_eq!(mention_count(s, m, g).await, 0);
    assert_eq!(mention_count(s, a, g).await, 1);
    let groups = s.groups.groups_of(a).await.unwrap();
    assert_eq!(
        groups
            .iter()
            .find(|v| v.group.id == g)
            .unwrap()
            .my
            .mention_count,
        1
    );
}

async fn a_delete_clears_reactions_mentions_and_the_pin(s: &Fresh) {
    let (o, a, m, g) = team(s).await;
    let sent = send(s, g, m, "look @adam").await;
    react(s, a, sent.id, "👍", true).await.unwrap();
    pin(s, o, g, sent.id, true).await.unwrap();
    assert_eq!(mention_count(s, a, g).await, 1);
    let gone_now = delete(s, m, sent.id, at(1)).await.unwrap();
    for msg in [gone_now.message, current(s, o, g, sent.id).await] {
        assert!(msg.deleted);
        assert!(msg.reactions.is_empty() && msg.mentions.is_empty() && !msg.pinned);
    }
    assert_eq!(mention_count(s, a, g).await, 0);
    assert!(s.messages.pins(o, g).await.unwrap().is_empty());
}

// ---- reactions ----

async fn reactions_keep_first_use_order_and_each_change_takes_a_rev(s: &Fresh) {
    let (o, a, m, g) = team(s).await;
    let sent = send(s, g, o, "react to me").await;
    let mut rev = sent.rev;
    for (who, e) in [(a, "🎉"), (m, "👍"), (o, "🎉")] {
        let c = react(s, who, sent.id, e, true).await.unwrap();
        assert!(c.changed);
        rev += 1;
        assert_eq!(c.message.rev, rev);
    }
    let now = current(s, m, g, sent.id).await;
    assert_eq!(
        reactions(&now),
        [("🎉".to_owned(), vec![a, o]), ("👍".to_owned(), vec![m])]
    );
    // Order is by first use among the reactions there now: once its first user takes 🎉
    // back, 🎉 counts from olga's, which came after 👍.
    let c = react(s, a, sent.id, "🎉", false).await.unwrap();
    assert_eq!((c.changed, c.message.rev), (true, rev + 1));
    assert_eq!(
        reactions(&c.message),
        [("👍".to_owned(), vec![m]), ("🎉".to_owned(), vec![o])]
    );
    // A reaction change is a change `changes_since` answers.
    let since = changes(s, o, g, rev, 10).await.unwrap();
    assert_eq!(since.iter().map(|m| m.id).collect::<Vec<_>>(), [sent.id]);
    assert_eq!(since[0].rev, rev + 1);
}

async fn a_reaction_already_there_or_absent_changes_nothing(s: &Fresh) {
    let (o, a, _m, g) = team(s).await;
    let sent = send(s, g, o, "once").await;
    assert!(react(s, a, sent.id, "❤️", true).await.unwrap().changed);
    let last = s.groups.group_of(o, g).await.unwrap().group.last_rev;
    // The text form is the same reaction.
    let again = react(s, a, sent.id, "❤", true).await.unwrap();
    assert!(!again.changed);
    assert!(!react(s, o, sent.id, "❤️", false).await.unwrap().changed);
    assert_eq!(s.groups.group_of(o, g).await.unwrap().group.last_rev, last);
}

async fn the_twenty_first_distinct_emoji_is_invalid(s: &Fresh) {
    let (o, a, _m, g) = team(s).await;
    let sent = send(s, g, o, "many").await;
    let all: Vec<&str> = vec![
        "😀", "😃", "😄", "😁", "😆", "😅", "😂", "🤣", "😊", "😇", "🙂", "🙃", "😉", "😌", "😍",
        "🥰", "😘", "😗", "😙", "😚", "😋",
    ];
    for e in &all[..20] {
        react(s, o, sent.id, e, true).await.unwrap();
    }
    invalid(react(s, a, sent.id, all[20], true).await, "emoji");
    // One already there may still be added by someone else.
    assert!(react(s, a, sent.id, all[0], true).await.unwrap().changed);
}

async fn reacting_as_a_non_member_is_not_found_and_to_a_deleted_message_gone(s: &Fresh) {
    let (o, a, _m, g) = team(s).await;
    let outsider = user(s, "otto").await;
    let sent = send(s, g, o, "hi").await;
    not_found(react(s, outsider, sent.id, "👍", true).await, "message");
    not_found(react(s, a, MessageId::new(), "👍", true).await, "message");
    delete(s, o, sent.id, at(1)).await.unwrap();
    gone(react(s, a, sent.id, "👍", true).await);
    let (_, before) = chat_with_a_message_then_closed(s, o, a).await;
    gone(react(s, a, before, "👍", true).await);
    not_found(react(s, outsider, before, "👍", true).await, "message");
}

async fn concurrent_reactions_are_each_applied_once_with_gapless_revs(s: &Fresh) {
    let o = user(s, "olga").await;
    let mut people = Vec::new();
    for i in 0..12 {
        people.push(user(s, &format!("user{i}")).await);
    }
    let g = group(s, o, &people).await;
    let sent = send(s, g, o, "race").await;
    let results = join_all(people.iter().flat_map(|&p| {
        [
            react(s, p, sent.id, "👍", true),
            react(s, p, sent.id, "🎉", true),
        ]
    }))
    .await;
    let mut revs: Vec<u64> = results
        .into_iter()
        .map(|r| r.unwrap().message.rev)
        .collect();
    revs.sort_unstable();
    let expected: Vec<u64> = (sent.rev + 1..=sent.rev + 24).collect();
    assert_eq!(revs, expected);
    let now = current(s, o, g, sent.id).await;
    for r in &now.reactions {
        assert_eq!(r.user_ids.len(), 12, "{r:?}");
    }
    assert_eq!(now.rev, sent.rev + 24);
}

// ---- pins ----

async fn owners_and_admins_pin_members_may_not(s: &Fresh) {
    let (o, a, m, g) = team(s).await;
    let first = send(s, g, m, "first").await;
    let second = send(s, g, m, "second").await;
    forbidden(pin(s, m, g, first.id, true).await);
    let c = pin(s, o, g, first.id, true).await.unwrap();
    assert!(c.changed && c.message.pinned);
    assert_eq!(c.message.rev, second.rev + 1);
    assert!(pin(s, a, g, second.id, true).await.unwrap().changed);
    assert!(!pin(s, a, g, second.id, true).await.unwrap().changed);
    forbidden(pin(s, m, g, first.id, false).await);
    let c = pin(s, a, g, first.id, false).await.unwrap();
    assert!(c.changed && !c.message.pinned);
    assert!(!pin(s, a, g, first.id, false).await.unwrap().changed);
}

async fn either_member_of_a_direct_chat_pins(s: &Fresh) {
    let a = user(s, "ann").await;
    let b = user(s, "ben").await;
    let d = chat(s, a, b).await;
    let sent = send(s, d, a, "pin me").await;
    assert!(pin(s, b, d, sent.id, true).await.unwrap().changed);
    assert!(pin(s, a, d, sent.id, false).await.unwrap().changed);
}

async fn pins_list_most_recently_pinned_first(s: &Fresh) {
    let (o, _a, m, g) = team(s).await;
    let mut sent = Vec::new();
    for i in 0..3 {
        sent.push(send(s, g, m, &format!("m{i}")).await);
    }
    for (i, msg) in [&sent[1], &sent[0], &sent[2]].into_iter().enumerate() {
        s.messages
            .set_pin(o, g, msg.id, true, at(i as i64 + 1))
            .await
            .unwrap();
    }
    let pins = s.messages.pins(m, g).await.unwrap();
    assert_eq!(
        pins.iter().map(|p| p.id).collect::<Vec<_>>(),
        [sent[2].id, sent[0].id, sent[1].id]
    );
    assert!(pins.iter().all(|p| p.pinned));
    let outsider = user(s, "otto").await;
    not_found(s.messages.pins(outsider, g).await, "group");
}

async fn the_fifty_first_pin_is_invalid(s: &Fresh) {
    let (o, _a, m, g) = team(s).await;
    let mut sent = Vec::new();
    for i in 0..51 {
        sent.push(send(s, g, m, &format!("m{i}")).await);
    }
    for msg in &sent[..50] {
        pin(s, o, g, msg.id, true).await.unwrap();
    }
    invalid(pin(s, o, g, sent[50].id, true).await, "message_id");
    // Repinning one that is pinned is no new pin.
    assert!(!pin(s, o, g, sent[0].id, true).await.unwrap().changed);
    pin(s, o, g, sent[0].id, false).await.unwrap();
    assert!(pin(s, o, g, sent[50].id, true).await.unwrap().changed);
}

async fn pinning_another_groups_message_or_in_a_closed_chat_is_refused(s: &Fresh) {
    let (o, a, _m, g) = team(s).await;
    let outsider = user(s, "otto").await;
    let other = group(s, o, &[]).await;
    let elsewhere = send(s, other, o, "elsewhere").await;
    not_found(pin(s, o, g, elsewhere.id, true).await, "message");
    let here = send(s, g, o, "here").await;
    not_found(pin(s, outsider, g, here.id, true).await, "group");
    delete(s, o, here.id, at(1)).await.unwrap();
    gone(pin(s, o, g, here.id, true).await);
    let (d, before) = chat_with_a_message_then_closed(s, o, a).await;
    gone(pin(s, a, d, before, true).await);
}
