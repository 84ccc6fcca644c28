//! Announcements: server-wide broadcasts by an admin, heard by every connected user.

use crate::policy::Refusal;
use crate::{AnnouncementId, Timestamp, UserId};

/// An announcement as stored. Its body follows the rules of a message body ([`crate::Body`]).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Announcement {
    /// Time-ordered (UUID v7): the list pages by it.
    pub id: AnnouncementId,
    pub sender_id: UserId,
    pub body: String,
    pub created_at: Timestamp,
}

/// Whether a user may announce: only server admins may, since an announcement reaches
/// everyone, members of no group included.
pub fn may_announce(is_admin: bool) -> Result<(), Refusal> {
    if is_admin {
        Ok(())
    } else {
        Err(Refusal::Forbidden("only admins may make announcements"))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_admins_may_announce() {
        assert_eq!(may_announce(true), Ok(()));
        assert!(matches!(may_announce(false), Err(Refusal::Forbidden(_))));
    }
}
