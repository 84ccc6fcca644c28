//! A session's live events: each event the hub hands over becomes the frame this user should
//! see, if any. Routing can be stale for a moment, so an event speaks only for a group the
//! socket holds — except the ones that bring a group or end it.

use std::sync::Arc;

use confab_domain::presence::may_see;
use confab_domain::{Event, GroupId};

use super::{End, ServerFrame, Session, Step, encode, me};
use crate::wire::GroupBody;
use crate::ws::hub::Live;

impl Session {
    /// The group as this user sees it now, made into a frame, with its last rev; `None` when
    /// the user is no longer in it (the event is then old news). Any other failure ends the
    /// session (1011): skipping the frame would leave the client without the group until it
    /// reconnected, and reconnecting is how it catches up.
    pub(super) async fn group_frame(
        &self,
        group: GroupId,
        make: fn(GroupBody) -> ServerFrame,
    ) -> Result<Option<(ServerFrame, u64)>, End> {
        match self.state.conversations.group(&self.principal, group).await {
            Ok(view) => Ok(Some((make(GroupBody::from(&view)), view.group.last_rev))),
            Err(confab_ports::Error::NotFound(_)) => Ok(None),
            Err(_) => Err(End::Failed),
        }
    }

    pub(super) async fn on_event(&mut self, live: &Arc<Live>) -> Step {
        let event = live.event.as_ref();
        let mine = me(&self.principal);
        // Routing can be stale for a moment (a leave racing a connect): only a group this
        // socket holds may speak to it — except the events that bring a group or end it.
        let brings_or_ends = matches!(
            event,
            Event::GroupCreated { .. } | Event::GroupDeleted { .. } | Event::PoolMatched { .. }
        ) || matches!(event, Event::MemberJoined { user_id, .. } if *user_id == mine);
        // Server-wide events (no group) speak to every socket.
        if !brings_or_ends
            && event
                .group_id()
                .is_some_and(|group| !self.cursors.contains_key(&group))
        {
            return Ok(());
        }
        match event {
            Event::MessageCreated { message }
            | Event::MessageUpdated { message }
            | Event::MessageDeleted { message } => self.deliver_live(live, message).await,
            Event::GroupCreated { .. }
            | Event::GroupUpdated { .. }
            | Event::GroupClosed { .. }
            | Event::GroupDeleted { .. }
            // Boxed, like everything that may read the store: an idle socket's task must not
            // keep room for these futures.
            | Event::PoolMatched { .. } => Box::pin(self.on_group_event(event)).await,
            Event::MemberJoined { .. }
            | Event::MemberLeft { .. }
            | Event::MemberRoleChanged { .. } => Box::pin(self.on_member_event(event)).await,
            Event::Typing { .. } | Event::Read { .. } | Event::AnnouncementCreated { .. } => {
                self.on_relayed_event(event).await
            }
            Event::UserBanned { user_id } if *user_id == mine => Err(End::Banned),
            Event::UserBanned { .. } => Ok(()),
            Event::Presence { .. } => self.on_presence(live).await,
        }
    }

    /// Someone came online or went offline: told if they are this user, or share a group this
    /// socket holds (routing can be stale for a moment) with no block between them. The frame
    /// is encoded once for all.
    async fn on_presence(&mut self, live: &Live) -> Step {
        let Event::Presence {
            user_id,
            online,
            last_seen_at,
            groups,
            hidden_from,
        } = live.event.as_ref()
        else {
            return Ok(());
        };
        let mine = me(&self.principal);
        let shares = groups.iter().any(|g| self.cursors.contains_key(g));
        if !may_see(mine, *user_id, shares, hidden_from.contains(&mine)) {
            return Ok(());
        }
        let (text, kind) = live
            .shared_frame(|| {
                let frame = ServerFrame::Presence {
                    user_id: user_id.as_uuid(),
                    online: *online,
                    last_seen_at: last_seen_at.map(crate::wire::rfc3339_ms),
                };
                Some((encode(&frame).ok()?, frame.kind()))
            })
            .ok_or(End::Failed)?;
        self.send_text(text, kind).await
    }

    /// A group came, changed, closed or went (a pool match brings one).
    async fn on_group_event(&mut self, event: &Event) -> Step {
        let id = |g: GroupId| g.as_uuid();
        match event {
            // Already known from the group list read at connect: the client has it.
            Event::GroupCreated { group_id, .. } if self.cursors.contains_key(group_id) => Ok(()),
            Event::GroupCreated { group_id, .. } => {
                if let Some((frame, _)) = self
                    .group_frame(*group_id, |group| ServerFrame::GroupCreated { group })
                    .await?
                {
                    // A new group: nothing of it has been seen yet.
                    self.route(*group_id);
                    self.cursors.entry(*group_id).or_insert(0);
                    self.floors.entry(*group_id).or_insert(0);
                    self.send(&frame).await?;
                }
                Ok(())
            }
            Event::GroupUpdated { group_id } => {
                match self
                    .group_frame(*group_id, |group| ServerFrame::GroupUpdated { group })
                    .await?
                {
                    Some((frame, _)) => self.send(&frame).await,
                    None => Ok(()),
                }
            }
            Event::GroupClosed { group_id } => {
                self.send(&ServerFrame::GroupClosed {
                    group_id: id(*group_id),
                })
                .await
            }
            // A group this socket does not hold — left before (its routing may outlive the
            // leave for a moment), or never shown — has nothing here to end.
            Event::GroupDeleted { group_id, .. } if !self.cursors.contains_key(group_id) => Ok(()),
            Event::GroupDeleted { group_id, .. } => {
                self.forget(*group_id);
                self.send(&ServerFrame::GroupDeleted {
                    group_id: id(*group_id),
                })
                .await
            }
            Event::PoolMatched { group_id, .. } => {
                if let Some((frame, _)) = self
                    .group_frame(*group_id, |group| ServerFrame::PoolMatched { group })
                    .await?
                {
                    // Normally group.created came first; if not, the room starts here, unseen.
                    self.route(*group_id);
                    self.cursors.entry(*group_id).or_insert(0);
                    self.floors.entry(*group_id).or_insert(0);
                    self.send(&frame).await?;
                }
                Ok(())
            }
            _ => Ok(()),
        }
    }

    /// Someone joined, left or changed role; this user's own join brings the group.
    async fn on_member_event(&mut self, event: &Event) -> Step {
        let mine = me(&self.principal);
        let id = |g: GroupId| g.as_uuid();
        match event {
            Event::MemberJoined {
                group_id,
                user_id,
                role,
            } => {
                if *user_id == mine
                    && !self.cursors.contains_key(group_id)
                    && let Some((frame, last_rev)) = self
                        .group_frame(*group_id, |group| ServerFrame::GroupCreated { group })
                        .await?
                {
                    // Its history is read over HTTP; live delivery starts from here.
                    self.route(*group_id);
                    self.cursors.insert(*group_id, last_rev);
                    self.floors.insert(*group_id, last_rev);
                    self.send(&frame).await?;
                }
                self.send(&ServerFrame::MemberJoined {
                    group_id: id(*group_id),
                    user_id: user_id.as_uuid(),
                    role: role.as_str(),
                })
                .await
            }
            Event::MemberLeft { group_id, user_id } => {
                if *user_id == mine {
                    self.forget(*group_id);
                }
                self.send(&ServerFrame::MemberLeft {
                    group_id: id(*group_id),
                    user_id: user_id.as_uuid(),
                })
                .await
            }
            Event::MemberRoleChanged {
                group_id,
                user_id,
                role,
            } => {
                self.send(&ServerFrame::MemberRoleChanged {
                    group_id: id(*group_id),
                    user_id: user_id.as_uuid(),
                    role: role.as_str(),
                })
                .await
            }
            _ => Ok(()),
        }
    }

    /// Typing, read markers and announcements, relayed as they are (never one's own).
    async fn on_relayed_event(&mut self, event: &Event) -> Step {
        let mine = me(&self.principal);
        let id = |g: GroupId| g.as_uuid();
        match event {
            Event::Typing { group_id, user_id } if *user_id != mine => {
                self.send(&ServerFrame::Typing {
                    group_id: id(*group_id),
                    user_id: user_id.as_uuid(),
                })
                .await
            }
            Event::Read {
                group_id,
                user_id,
                seq,
            } if *user_id != mine => {
                self.send(&ServerFrame::Read {
                    group_id: id(*group_id),
                    user_id: user_id.as_uuid(),
                    seq: *seq,
                })
                .await
            }
            Event::Typing { .. } | Event::Read { .. } => Ok(()),
            Event::AnnouncementCreated { announcement } => {
                self.send(&ServerFrame::AnnouncementCreated {
                    announcement: announcement.into(),
                })
                .await
            }
            _ => Ok(()),
        }
    }
}
