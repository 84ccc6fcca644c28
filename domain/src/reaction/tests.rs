use super::*;

fn emoji(s: &str) -> Emoji {
    Emoji::parse(s).unwrap()
}

#[test]
fn one_emoji_of_any_kind_is_a_reaction() {
    for ok in ["👍", "👍🏽", "❤️", "🏳️‍🌈", "👨‍👩‍👧‍👦", "🇩🇪", "1️⃣"]
    {
        assert_eq!(emoji(ok).as_str(), ok, "{ok:?}");
    }
    // The text form of an emoji is the same reaction as its emoji form.
    assert_eq!(emoji("❤"), emoji("❤️"));
}

#[test]
fn text_two_emoji_and_oversized_input_are_not_reactions() {
    let long = "x".repeat(10_000);
    for bad in [
        "",
        "a",
        "ok",
        "👍👍",
        "👍 ",
        ":+1:",
        "\u{FE0F}",
        "1",
        long.as_str(),
        "👍a",
    ] {
        assert!(Emoji::parse(bad).is_err(), "{bad:?}");
    }
}

#[test]
fn a_message_holds_at_most_twenty_distinct_reactions() {
    let all: Vec<Emoji> = emojis::iter()
        .take(MAX_DISTINCT_REACTIONS)
        .map(|e| emoji(e.as_str()))
        .collect();
    assert!(check_reaction(&all[..19], &emoji("🦀")).is_ok());
    assert!(check_reaction(&all, &emoji("🦀")).is_err());
    assert!(
        check_reaction(&all, &all[3]).is_ok(),
        "an existing one may still be added"
    );
}

#[test]
fn a_group_holds_at_most_fifty_pins() {
    assert!(check_pin(49).is_ok());
    assert_eq!(check_pin(50).unwrap_err().field, "message_id");
}

fn names(body: &str) -> Vec<String> {
    mentioned_usernames(body)
        .into_iter()
        .map(|u| u.as_str().to_owned())
        .collect()
}

#[test]
fn mentions_are_standalone_at_names_once_each_in_order() {
    assert_eq!(names("hi @Bob and @carol, @bob again"), ["bob", "carol"]);
    assert_eq!(names("@alice: look"), ["alice"]);
    assert_eq!(names("thanks @dave."), ["dave"]);
    assert_eq!(names("(@e.v-e_1)"), ["e.v-e_1"]);
}

#[test]
fn addresses_short_long_and_broken_names_mention_nobody() {
    assert!(names("mail bob@example.com").is_empty());
    assert!(names("@ab is too short").is_empty());
    assert!(names(&format!("@{}", "a".repeat(33))).is_empty());
    assert!(names("@@bob @ @é").is_empty());
    assert_eq!(names(&format!("@{}", "a".repeat(32))), ["a".repeat(32)]);
}

#[test]
fn an_excerpt_is_the_first_hundred_characters_or_nothing_once_deleted() {
    let long = "é".repeat(150);
    assert_eq!(excerpt(&long, false).chars().count(), 100);
    assert_eq!(excerpt("short", false), "short");
    assert_eq!(excerpt("gone", true), "");
}

#[test]
fn a_reaction_or_pin_needs_a_live_message_in_a_writable_group() {
    use crate::{GroupId, GroupKind, UserId};
    let now = time::macros::datetime!(2026-12-01 12:00:00 UTC);
    let open = Group {
        id: GroupId::new(),
        kind: GroupKind::Direct,
        name: None,
        created_by: UserId::new(),
        created_at: now,
        expires_at: None,
        closed_at: None,
        last_seq: 1,
        last_rev: 1,
    };
    assert_eq!(check_live(&open, false, now), Ok(()));
    assert_eq!(
        check_live(&open, true, now),
        Err(Closed("the message was deleted"))
    );
    let closed = Group {
        closed_at: Some(now),
        ..open.clone()
    };
    // The chat's state is what a client is told first.
    assert_eq!(
        check_live(&closed, true, now),
        Err(Closed("this chat is closed"))
    );
    let expired = Group {
        expires_at: Some(now),
        ..open
    };
    assert_eq!(
        check_live(&expired, false, now),
        Err(Closed("this chat has expired"))
    );
}

#[test]
fn mentions_are_members_in_order_and_never_the_sender() {
    use crate::UserId;
    let (me, ann, ben) = (UserId::new(), UserId::new(), UserId::new());
    let names = mentioned_usernames("@ben @me @stranger @ann @ben");
    let member = |n: &Username| match n.as_str() {
        "ann" => Some(ann),
        "ben" => Some(ben),
        "me" => Some(me),
        _ => None,
    };
    assert_eq!(mentions(&names, me, member), vec![ben, ann]);
    assert_eq!(mentions(&[], me, member), Vec::<UserId>::new());
}
