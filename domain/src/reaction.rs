//! Reactions, mentions, pins and replies: what a reaction may be, who a `@name` is, how many
//! pins and distinct reactions a message or group holds, and what a reply shows of its
//! original. Pure rules; both stores load what they need and ask these.

use std::collections::BTreeSet;

use unicode_segmentation::UnicodeSegmentation;

use crate::{Closed, Group, Invalid, Timestamp, UserId, Username};

/// Most distinct emoji on one message.
pub const MAX_DISTINCT_REACTIONS: usize = 20;

/// Most pinned messages in one group.
pub const MAX_PINS: usize = 50;

/// Characters of the replied-to body a reply shows.
pub const EXCERPT_CHARS: usize = 100;

/// One emoji, as a reaction: a single grapheme cluster that Unicode's emoji list knows
/// (skin tones, ZWJ sequences and flags included), at most [`Emoji::MAX_BYTES`] bytes.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct Emoji(String);

crate::string_newtype!(Emoji);

impl Emoji {
    /// Longest emoji in bytes of UTF-8 (the longest ZWJ family sequences are about 35).
    pub const MAX_BYTES: usize = 64;

    /// Checks a reaction. The text form (without U+FE0F) and the emoji form of the same
    /// emoji are one reaction: kept as Unicode's fully qualified form.
    pub fn parse(raw: &str) -> Result<Self, Invalid> {
        let invalid = || Invalid::new("emoji", "must be exactly one emoji");
        // Plain ASCII is never an emoji, although `1`, `#` and `*` begin keycap sequences.
        if raw.is_ascii() || raw.len() > Self::MAX_BYTES || raw.graphemes(true).count() != 1 {
            return Err(invalid());
        }
        let known = emojis::get(raw)
            .or_else(|| emojis::get(&format!("{raw}\u{FE0F}")))
            .or_else(|| emojis::get(&raw.replace('\u{FE0F}', "")))
            .ok_or_else(invalid)?;
        Ok(Self(known.as_str().to_owned()))
    }
}

/// Refuses a reaction that would be the message's 21st distinct emoji. `present` are the
/// message's distinct emoji now; reacting with one of them is always allowed.
pub fn check_reaction(present: &[Emoji], emoji: &Emoji) -> Result<(), Invalid> {
    if present.contains(emoji) || present.len() < MAX_DISTINCT_REACTIONS {
        return Ok(());
    }
    Err(Invalid::new(
        "emoji",
        format!("a message has at most {MAX_DISTINCT_REACTIONS} different reactions"),
    ))
}

/// Whether a message may gain or lose a reaction or a pin at `now`: its group must still take
/// writes, and the message must not be deleted (a tombstone carries neither).
pub fn check_live(group: &Group, deleted: bool, now: Timestamp) -> Result<(), Closed> {
    group.check_writable(now)?;
    if deleted {
        return Err(Closed("the message was deleted"));
    }
    Ok(())
}

/// Refuses a pin past [`MAX_PINS`]; `pinned` is how many the group has now.
pub fn check_pin(pinned: usize) -> Result<(), Invalid> {
    if pinned >= MAX_PINS {
        return Err(Invalid::new(
            "message_id",
            format!("a group has at most {MAX_PINS} pinned messages; unpin one first"),
        ));
    }
    Ok(())
}

/// The usernames a body mentions: `@name` where `name` is a valid username (3–32 of
/// `[a-z0-9_.-]`, any case) standing alone — not inside a word or an email address, not
/// followed by more name characters (a 33-character name mentions nobody). Lower-cased, each
/// once, in order of first mention. Whether each is a member is the store's to check.
pub fn mentioned_usernames(body: &str) -> Vec<Username> {
    let mut seen = BTreeSet::new();
    let mut out = Vec::new();
    let is_name_char = |c: char| c.is_ascii_alphanumeric() || matches!(c, '_' | '.' | '-');
    let mut previous: Option<char> = None;
    for (at, c) in body.char_indices() {
        let starts_mention =
            c == '@' && previous.is_none_or(|p| !(p.is_alphanumeric() || p == '_' || p == '@'));
        previous = Some(c);
        if !starts_mention {
            continue;
        }
        let rest = &body[at + 1..];
        let len = rest
            .find(|ch: char| !is_name_char(ch))
            .unwrap_or(rest.len());
        // A trailing dot or dash ends the sentence, not the name ("thanks @bob.").
        let name = rest[..len].trim_end_matches(['.', '-']);
        if let Ok(username) = Username::parse(name)
            && seen.insert(username.as_str().to_owned())
        {
            out.push(username);
        }
    }
    out
}

/// The users a body mentions: of `names` (what [`mentioned_usernames`] found, in order), those
/// `member` finds among the group's members, in that order, and never `sender` — one's own
/// name mentions nobody, so one's own messages never count for oneself.
pub fn mentions(
    names: &[Username],
    sender: UserId,
    member: impl Fn(&Username) -> Option<UserId>,
) -> Vec<UserId> {
    names
        .iter()
        .filter_map(member)
        .filter(|&user| user != sender)
        .collect()
}

/// What a reply shows of the message it answers: its first [`EXCERPT_CHARS`] characters, or
/// `""` once it is deleted.
pub fn excerpt(body: &str, deleted: bool) -> String {
    if deleted {
        return String::new();
    }
    body.chars().take(EXCERPT_CHARS).collect()
}

#[cfg(test)]
mod tests;
