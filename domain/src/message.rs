//! Messages: bodies, client ids, and what a stored message is.

use crate::{Attachment, Emoji, GroupId, Invalid, MessageId, Timestamp, UserId};

/// A message body: trimmed, 1–4000 characters; line breaks and tabs are kept, other control
/// characters (NUL included) are refused.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Body(String);

impl Body {
    /// Longest body, in characters, after trimming.
    pub const MAX: usize = 4000;

    /// Trims and checks a body.
    pub fn parse(raw: &str) -> Result<Self, Invalid> {
        parse_text(raw, "body", Self::MAX).map(Self)
    }

    /// A body of a message that carries `attachments` files: with at least one, it may be
    /// empty (blank is empty), otherwise as [`Body::parse`].
    pub fn parse_with_attachments(raw: &str, attachments: usize) -> Result<Self, Invalid> {
        if attachments > 0 && raw.chars().all(is_blank) {
            return Ok(Self(String::new()));
        }
        Self::parse(raw)
    }

    /// The text.
    pub fn as_str(&self) -> &str {
        &self.0
    }

    /// The text, owned.
    pub fn into_string(self) -> String {
        self.0
    }
}

/// Free text as people write it (a message body, a report's reason): trimmed, 1–`max`
/// characters (Unicode scalar values) of which at least one shows (see [`is_blank`]); line
/// breaks and tabs are kept, other control characters (NUL included) are refused. `field` names
/// the field in the refusal.
pub(crate) fn parse_text(raw: &str, field: &'static str, max: usize) -> Result<String, Invalid> {
    let trimmed = raw.trim();
    if trimmed.chars().all(is_blank) {
        return Err(Invalid::new(field, "must not be empty"));
    }
    if trimmed.chars().count() > max {
        return Err(Invalid::new(
            field,
            format!("must be at most {max} characters"),
        ));
    }
    if trimmed
        .chars()
        .any(|c| c.is_control() && !matches!(c, '\n' | '\r' | '\t'))
    {
        return Err(Invalid::new(field, "must not contain control characters"));
    }
    Ok(trimmed.to_owned())
}

/// White space, and characters that show nothing (zero-width and filler characters): a body of
/// only these looks empty, so it is empty.
fn is_blank(c: char) -> bool {
    c.is_whitespace()
        || matches!(
            c,
            '\u{00AD}'
                | '\u{034F}'
                | '\u{115F}'
                | '\u{1160}'
                | '\u{180E}'
                | '\u{200B}'..='\u{200F}'
                | '\u{2060}'..='\u{2064}'
                | '\u{2800}'
                | '\u{3164}'
                | '\u{FEFF}'
                | '\u{FFA0}'
        )
}

/// A client's idempotency key for a send: 1–64 printable characters.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct ClientId(String);

crate::string_newtype!(ClientId);

impl ClientId {
    /// Longest client id.
    pub const MAX: usize = 64;

    /// Checks a client id (not trimmed: it is an opaque key).
    pub fn parse(raw: &str) -> Result<Self, Invalid> {
        let len = raw.chars().count();
        if len == 0 || len > Self::MAX {
            return Err(Invalid::new(
                "client_id",
                format!("must be 1–{} characters", Self::MAX),
            ));
        }
        if raw.chars().any(char::is_control) {
            return Err(Invalid::new(
                "client_id",
                "must not contain control characters",
            ));
        }
        Ok(Self(raw.to_owned()))
    }
}

/// A message as stored. A deleted message keeps its id and seq, with an empty body.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Message {
    pub id: MessageId,
    pub group_id: GroupId,
    /// Position in the group, from 1, gapless.
    pub seq: u64,
    /// The group's change counter at this message's latest change.
    pub rev: u64,
    /// The group's change counter when the message was created: a client that has seen up to
    /// rev N knows this message iff `created_rev <= N`.
    pub created_rev: u64,
    pub sender_id: UserId,
    pub body: String,
    pub client_id: Option<ClientId>,
    pub created_at: Timestamp,
    pub edited_at: Option<Timestamp>,
    pub deleted: bool,
    /// The files it carries, in the order they were sent; none once it is deleted.
    pub attachments: Vec<Attachment>,
    /// The message it answers (in the same group), as it is now.
    pub reply_to: Option<ReplyRef>,
    /// Reactions, in the order each emoji was first used; none once it is deleted.
    pub reactions: Vec<Reaction>,
    /// Members its body mentions (`@username`), in order of first mention; none once deleted.
    pub mentions: Vec<UserId>,
    /// Whether it is pinned in its group (never once deleted).
    pub pinned: bool,
}

/// What a reply shows of the message it answers.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ReplyRef {
    pub id: MessageId,
    pub seq: u64,
    pub sender_id: UserId,
    /// `crate::reaction::excerpt` of its body: the first 100 characters, `""` once deleted.
    pub excerpt: String,
}

/// One emoji on a message and who reacted with it, in the order they did.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Reaction {
    pub emoji: Emoji,
    pub user_ids: Vec<UserId>,
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    #[test]
    fn a_body_is_trimmed_and_keeps_inner_line_breaks() {
        assert_eq!(Body::parse("  hi\nthere\t ").unwrap().as_str(), "hi\nthere");
    }

    #[test]
    fn empty_whitespace_long_and_nul_bodies_are_refused() {
        for bad in [
            "",
            "   ",
            "\n\t ",
            "a\0b",
            "bell\u{7}",
            "\u{200B}",
            "\u{2800}\u{3164}",
            " \u{FEFF} ",
        ] {
            assert_eq!(Body::parse(bad).unwrap_err().field, "body", "{bad:?}");
        }
        assert!(Body::parse(&"x".repeat(4000)).is_ok());
        assert!(Body::parse(&format!("  {}  ", "x".repeat(4000))).is_ok());
        assert!(Body::parse(&"x".repeat(4001)).is_err());
        assert!(Body::parse(&"é".repeat(4000)).is_ok());
    }

    #[test]
    fn a_body_may_be_empty_only_when_files_come_with_it() {
        assert_eq!(
            Body::parse_with_attachments(" \u{200B} ", 1)
                .unwrap()
                .as_str(),
            ""
        );
        assert!(Body::parse_with_attachments("", 0).is_err());
        assert_eq!(
            Body::parse_with_attachments(" hi ", 2).unwrap().as_str(),
            "hi"
        );
        assert!(Body::parse_with_attachments(&"x".repeat(4001), 1).is_err());
    }

    #[test]
    fn client_ids_are_opaque_but_bounded() {
        assert!(ClientId::parse("0190c0ff-ee00-7000-8000-000000000000").is_ok());
        assert!(ClientId::parse(" spaced ").is_ok());
        assert!(ClientId::parse("").is_err());
        assert!(ClientId::parse(&"x".repeat(65)).is_err());
        assert!(ClientId::parse("a\nb").is_err());
    }

    proptest! {
        #[test]
        fn accepted_bodies_are_trimmed_and_bounded(s in "\\PC{0,50}|[ a-z\\n\\t\\u{0}]{0,50}") {
            if let Ok(b) = Body::parse(&s) {
                prop_assert_eq!(b.as_str().trim(), b.as_str());
                prop_assert!((1..=Body::MAX).contains(&b.as_str().chars().count()));
                prop_assert!(!b.as_str().contains('\0'));
            }
        }
    }
}
