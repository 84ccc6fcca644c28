//! A session's catch-up from the store: `sync`, gap fills, and the re-check after a loss on the
//! bus. It keeps the per-group cursors honest: each group's changes go out in `rev` order,
//! none twice, none skipped. It must never send a change the client cannot place (a change of
//! a message created before the client's `seen` goes out as an update, after as a creation).

use std::collections::{HashMap, HashSet};

use confab_domain::GroupId;
use serde_json::Value;
use uuid::Uuid;

use confab_ports::store::GroupView;

use super::{CLOCK_MARGIN, End, FILL_PAGE, ServerFrame, Session, Shape, Step, me};
use crate::wire::GroupBody;

impl Session {
    pub(super) async fn sync(&mut self, reference: Value, since: HashMap<Uuid, u64>) -> Step {
        for (group, seen) in since {
            let group = GroupId::from_uuid(group);
            let floor = self.floors.get(&group).copied();
            let cursor = self.cursors.get(&group).copied();
            // What went out live on this socket is not sent again.
            let skip = match (floor, cursor) {
                (Some(f), Some(c)) if f < c => Some((f, c)),
                _ => None,
            };
            // A group the caller is not in is skipped, exactly as if it had no changes.
            if let Ok(last) = self.send_changes(group, seen, skip).await? {
                let now = cursor.unwrap_or(0).max(last);
                self.cursors.insert(group, now);
                self.floors.insert(group, now);
            }
        }
        self.send(&ServerFrame::Synced { reference }).await
    }

    /// Sends every change of `group` after `seen`, each as the client that saw `seen` needs
    /// it; the outer error ends the session, the inner says the group could not be read.
    /// Returns the last rev sent (or `seen`).
    pub(super) async fn send_changes(
        &mut self,
        group: GroupId,
        seen: u64,
        skip: Option<(u64, u64)>,
    ) -> Result<Result<u64, ()>, End> {
        let mut last = seen;
        loop {
            let page = match self
                .state
                .conversations
                .changes_since(&self.principal, group, last, FILL_PAGE)
                .await
            {
                Ok(page) => page,
                Err(confab_ports::Error::NotFound(_)) => return Ok(Err(())),
                // Any other failure would leave a gap: end the session (1011); the client
                // reconnects and syncs.
                Err(_) => return Err(End::Failed),
            };
            for m in &page {
                // Went out live — unless it was created before this socket started and after
                // `seen`: then the live frame (updated/deleted) told of a message the client
                // never got, and the sync must send it whole.
                let delivered = skip.is_some_and(|(floor, cursor)| {
                    m.rev > floor
                        && m.rev <= cursor
                        && !(m.created_rev > seen && m.created_rev <= floor)
                });
                if !delivered {
                    self.send(&ServerFrame::for_change(m, seen)).await?;
                }
                last = m.rev;
            }
            if page.len() < FILL_PAGE as usize {
                return Ok(Ok(last));
            }
        }
    }

    /// After a loss on the bus: re-reads this user's groups, routes the hub by them, tells the
    /// client of groups it gained (`group.created`) or lost (`member.left`), and brings every
    /// group up to date from the store — so nothing published during the loss is missed.
    pub(super) async fn recheck(&mut self) -> Step {
        if let Some(key) = self.hub_key {
            self.state.hub.recheck_started(key);
        }
        let views = match self.state.conversations.list_groups(&self.principal).await {
            Ok(v) => v,
            Err(_) => return Err(End::Failed),
        };
        let now: HashSet<GroupId> = views.iter().map(|v| v.group.id).collect();
        let gone: Vec<GroupId> = self
            .cursors
            .keys()
            .filter(|g| !now.contains(g))
            .copied()
            .collect();
        if let Some(key) = self.hub_key {
            self.state.hub.reroute(key, now.iter().copied(), &gone);
        }
        let mine = me(&self.principal);
        for group in gone {
            self.forget(group);
            self.send(&ServerFrame::MemberLeft {
                group_id: group.as_uuid(),
                user_id: mine.as_uuid(),
            })
            .await?;
        }
        let known: HashSet<GroupId> = self.cursors.keys().copied().collect();
        self.announce_changed(views.iter().filter(|v| known.contains(&v.group.id)))
            .await?;
        for view in views.iter().filter(|v| !known.contains(&v.group.id)) {
            self.shapes.insert(view.group.id, Shape::of(view));
            // A group made since this socket connected is new to the client: all of it goes
            // out. One it was added to keeps its history for HTTP, as a live join does.
            let start = if view.group.created_at + CLOCK_MARGIN >= self.connected_at {
                0
            } else {
                view.group.last_rev
            };
            self.cursors.insert(view.group.id, start);
            self.floors.insert(view.group.id, start);
            self.send(&ServerFrame::GroupCreated {
                group: GroupBody::from(view),
            })
            .await?;
        }
        self.catch_up_all().await
    }

    /// Tells the client of groups whose name, members or closing changed since this socket
    /// last looked (`group.updated`, and `group.closed` for a group that closed): the events
    /// that said so may be among what the bus lost. A change the client heard live anyway is
    /// told again, which `group.updated` allows (it carries the whole group).
    async fn announce_changed(&mut self, views: impl Iterator<Item = &GroupView>) -> Step {
        for view in views {
            let now = Shape::of(view);
            let before = self.shapes.insert(view.group.id, now.clone());
            if before.as_ref() == Some(&now) {
                continue;
            }
            self.send(&ServerFrame::GroupUpdated {
                group: GroupBody::from(view),
            })
            .await?;
            if now.closed_at.is_some() && before.is_some_and(|b| b.closed_at.is_none()) {
                self.send(&ServerFrame::GroupClosed {
                    group_id: view.group.id.as_uuid(),
                })
                .await?;
            }
        }
        Ok(())
    }

    /// Routes `group` to this session in the hub: a re-check that read the groups just before
    /// this join may have routed the session without it.
    pub(super) fn route(&self, group: GroupId) {
        if let Some(key) = self.hub_key {
            self.state.hub.add_groups(key, [group]);
        }
    }

    pub(super) async fn catch_up_all(&mut self) -> Step {
        let groups: Vec<(GroupId, u64)> = self.cursors.iter().map(|(g, r)| (*g, *r)).collect();
        for (group, cursor) in groups {
            self.fill(group, cursor).await?;
        }
        Ok(())
    }

    /// Brings `group` from `cursor` up to date from the store.
    pub(super) async fn fill(&mut self, group: GroupId, cursor: u64) -> Step {
        match self.send_changes(group, cursor, None).await? {
            Ok(last) => {
                self.cursors.insert(group, last);
            }
            // No longer a member: forget the group.
            Err(()) => {
                self.forget(group);
            }
        }
        Ok(())
    }

    pub(super) fn forget(&mut self, group: GroupId) {
        self.cursors.remove(&group);
        self.floors.remove(&group);
        self.shapes.remove(&group);
        self.held.forget(group);
    }
}
