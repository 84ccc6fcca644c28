//! Conversations: named groups and direct chats, and the rules about writing to them.

use crate::{Invalid, Timestamp, UserId, parse_label};

/// What kind of conversation a group is.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum GroupKind {
    /// Named, many members, with roles.
    Group,
    /// Exactly two members, no name.
    Direct,
}

impl GroupKind {
    /// The name on the wire and in storage.
    pub fn as_str(self) -> &'static str {
        match self {
            GroupKind::Group => "group",
            GroupKind::Direct => "direct",
        }
    }

    /// Parses a stored kind.
    pub fn parse(raw: &str) -> Option<Self> {
        match raw {
            "group" => Some(GroupKind::Group),
            "direct" => Some(GroupKind::Direct),
            _ => None,
        }
    }
}

/// A group's name: trimmed, 1–100 characters, no control characters.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct GroupName(String);

crate::string_newtype!(GroupName);

impl GroupName {
    /// Longest name, in characters.
    pub const MAX: usize = 100;

    /// Trims and checks a group name.
    pub fn parse(raw: &str) -> Result<Self, Invalid> {
        parse_label(raw, "name", Self::MAX).map(Self)
    }
}

/// A member's own name for a group: trimmed, 1–100 characters, no control characters.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Alias(String);

crate::string_newtype!(Alias);

impl Alias {
    /// Longest alias, in characters.
    pub const MAX: usize = 100;

    /// Trims and checks an alias.
    pub fn parse(raw: &str) -> Result<Self, Invalid> {
        parse_label(raw, "alias", Self::MAX).map(Self)
    }
}

/// A conversation as stored.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Group {
    pub id: crate::GroupId,
    pub kind: GroupKind,
    /// `None` for direct chats.
    pub name: Option<GroupName>,
    pub created_by: UserId,
    pub created_at: Timestamp,
    /// When a room made by matching expires.
    pub expires_at: Option<Timestamp>,
    /// When a direct chat was closed (it stays readable).
    pub closed_at: Option<Timestamp>,
    /// Seq of the newest message (0 when none).
    pub last_seq: u64,
    /// The group's latest change to its messages (0 when none).
    pub last_rev: u64,
}

/// Writing to a closed or expired group.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{0}")]
pub struct Closed(pub &'static str);

impl Group {
    /// Whether messages may be written (sent, edited, deleted) at `now`.
    pub fn check_writable(&self, now: Timestamp) -> Result<(), Closed> {
        if self.closed_at.is_some() {
            return Err(Closed("this chat is closed"));
        }
        if self.expires_at.is_some_and(|at| at <= now) {
            return Err(Closed("this chat has expired"));
        }
        Ok(())
    }
}

/// The canonical key of a pair of users, the same whichever of them asks.
pub fn pair_key(a: UserId, b: UserId) -> String {
    let (lo, hi) = if a <= b { (a, b) } else { (b, a) };
    format!("{lo}:{hi}")
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::GroupId;

    fn group() -> Group {
        Group {
            id: GroupId::new(),
            kind: GroupKind::Direct,
            name: None,
            created_by: UserId::new(),
            created_at: Timestamp::UNIX_EPOCH,
            expires_at: None,
            closed_at: None,
            last_seq: 0,
            last_rev: 0,
        }
    }

    #[test]
    fn an_open_group_is_writable() {
        assert!(group().check_writable(Timestamp::UNIX_EPOCH).is_ok());
    }

    #[test]
    fn a_closed_group_is_not_writable() {
        let g = Group {
            closed_at: Some(Timestamp::UNIX_EPOCH),
            ..group()
        };
        assert!(g.check_writable(Timestamp::UNIX_EPOCH).is_err());
    }

    #[test]
    fn an_expired_group_is_not_writable_even_before_it_is_closed() {
        let at = Timestamp::UNIX_EPOCH + time::Duration::hours(24);
        let g = Group {
            expires_at: Some(at),
            ..group()
        };
        assert!(g.check_writable(at - time::Duration::seconds(1)).is_ok());
        assert!(g.check_writable(at).is_err());
    }

    #[test]
    fn the_pair_key_ignores_order() {
        let (a, b) = (UserId::new(), UserId::new());
        assert_eq!(pair_key(a, b), pair_key(b, a));
        assert_ne!(pair_key(a, b), pair_key(a, UserId::new()));
    }

    #[test]
    fn names_and_aliases_are_trimmed_and_checked() {
        assert_eq!(
            GroupName::parse("  Rust fans ").unwrap().as_str(),
            "Rust fans"
        );
        assert!(GroupName::parse(" ").is_err());
        assert!(GroupName::parse(&"x".repeat(101)).is_err());
        assert!(GroupName::parse("a\0b").is_err());
        assert_eq!(Alias::parse("work").unwrap().as_str(), "work");
        assert_eq!(Alias::parse(&"x".repeat(101)).unwrap_err().field, "alias");
    }

    #[test]
    fn kinds_round_trip() {
        for k in [GroupKind::Group, GroupKind::Direct] {
            assert_eq!(GroupKind::parse(k.as_str()), Some(k));
        }
        assert_eq!(GroupKind::parse("channel"), None);
    }
}
