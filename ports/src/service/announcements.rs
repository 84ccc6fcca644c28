//! Server-wide announcements: admins announce, every user reads, every socket hears.

use confab_domain::{Announcement, AnnouncementId, Body, Event, may_announce};

use crate::Result;
use crate::service::{Conversations, page_limit};
use crate::store::{AnnouncementPage, NewAnnouncement, Principal};

/// Default and largest page of announcements (as for message history).
pub const ANNOUNCEMENTS_DEFAULT: u32 = 50;
pub const ANNOUNCEMENTS_MAX: u32 = 100;

impl Conversations {
    /// Makes an announcement (server admins only) and tells every connected user.
    pub async fn announce(&self, caller: &Principal, body: &str) -> Result<Announcement> {
        // The role first: a non-admin learns nothing about what a valid body would be.
        may_announce(caller.is_admin)?;
        let body = Body::parse(body)?;
        let announcement = self
            .ports
            .announcements
            .create_announcement(NewAnnouncement {
                id: AnnouncementId::new(),
                sender_id: caller.user_id,
                body,
                now: self.ports.clock.now(),
            })
            .await?;
        self.publish(Event::AnnouncementCreated {
            announcement: announcement.clone(),
        })
        .await;
        Ok(announcement)
    }

    /// A page of announcements, newest first: those older than `before` when given.
    /// Any authenticated user may read them.
    pub async fn announcements(
        &self,
        _caller: &Principal,
        before: Option<AnnouncementId>,
        limit: Option<i64>,
    ) -> Result<AnnouncementPage> {
        let limit = page_limit(limit, ANNOUNCEMENTS_DEFAULT, ANNOUNCEMENTS_MAX)?;
        self.ports.announcements.announcements(before, limit).await
    }
}
