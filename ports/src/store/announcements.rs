use async_trait::async_trait;
use confab_domain::{Announcement, AnnouncementId, Body, Timestamp, UserId};

use crate::Result;

/// An announcement to record.
#[derive(Debug, Clone)]
pub struct NewAnnouncement {
    pub id: AnnouncementId,
    pub sender_id: UserId,
    pub body: Body,
    pub now: Timestamp,
}

/// A page of announcements, newest first.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AnnouncementPage {
    pub announcements: Vec<Announcement>,
    /// Whether older announcements lie beyond this page.
    pub has_more: bool,
}

/// Server-wide announcements.
#[cfg_attr(test, mockall::automock)]
#[async_trait]
pub trait Announcements: Send + Sync {
    /// Records an announcement, in one transaction with a fresh check that the sender is
    /// still a server admin ([`confab_domain::may_announce`]), and answers it as stored: its
    /// id, sender and body, and `created_at = announcement.now` (to the millisecond).
    /// MUST answer, writing nothing, `Error::Forbidden` when the sender is not a server admin
    /// (a role revoked a moment ago included), and
    /// `Error::Unauthorized(AuthFailure::InvalidToken)` when the sender does not exist.
    async fn create_announcement(&self, announcement: NewAnnouncement) -> Result<Announcement>;

    /// MUST answer up to `limit` announcements with an id below `before` (all when `None`),
    /// highest id first (ids are UUID v7: newest first), compared as the UUIDs' bytes.
    /// `before` need not name a stored announcement: it is only a bound. `has_more` MUST be
    /// `true` exactly when announcements below `before` remain beyond the page, so that
    /// paging with the last id as `before` lists each announcement once.
    async fn announcements(
        &self,
        before: Option<AnnouncementId>,
        limit: u32,
    ) -> Result<AnnouncementPage>;
}
