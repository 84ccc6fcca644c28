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
    /// still a server admin ([`confab_domain::may_announce`]): a role revoked a moment ago
    /// MUST answer `Error::Forbidden`, and an unknown sender `Error::Unauthorized`.
    async fn create_announcement(&self, announcement: NewAnnouncement) -> Result<Announcement>;

    /// Up to `limit` announcements with an id below `before` (all when `None`), newest
    /// (highest id) first. `before` need not name a stored announcement: it is only a bound.
    async fn announcements(
        &self,
        before: Option<AnnouncementId>,
        limit: u32,
    ) -> Result<AnnouncementPage>;
}
