//! The matching pool (anonymous 1:1 rooms) and the expiry of the rooms it makes.

use std::sync::Arc;
use std::time::Duration;

use confab_domain::{Event, GroupId, Timestamp};

use crate::store::{GroupView, Joined, PoolJoin, Principal, Swept};
use crate::{Error, Ports, Result};

/// How long things last in the pool.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct PoolSettings {
    /// How long a waiting entry waits for a match before it is dropped.
    pub wait: Duration,
    /// How long a matched room stays open before it expires.
    pub room_lifetime: Duration,
}

impl Default for PoolSettings {
    fn default() -> Self {
        Self {
            wait: Duration::from_secs(10 * 60),
            room_lifetime: Duration::from_secs(24 * 60 * 60),
        }
    }
}

/// What joining the pool gave the caller.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum PoolOutcome {
    /// Matched at once: the new room as the caller sees it.
    Matched(GroupView),
    /// Nobody fitting waits; the caller waits until matched, leaving, or the wait ends.
    Waiting,
}

/// Pool use cases. Cheap to clone; shared by every transport and the expiry sweep.
#[derive(Clone)]
pub struct Matchmaking {
    /// Shared: every request clones the use cases, and a clone must cost one count.
    ports: Arc<Ports>,
    settings: PoolSettings,
}

fn later(now: Timestamp, by: Duration) -> Result<Timestamp> {
    let by = time::Duration::try_from(by).map_err(|e| Error::Internal(e.to_string()))?;
    now.checked_add(by)
        .ok_or_else(|| Error::Internal("a pool lifetime overflows the calendar".into()))
}

impl Matchmaking {
    /// Builds the use cases over the given ports.
    pub fn new(ports: Ports, settings: PoolSettings) -> Self {
        Self {
            ports: Arc::new(ports),
            settings,
        }
    }

    /// Joins the pool: matched with the oldest fitting waiting user, or waiting. A match
    /// announces the room to both users (`GroupCreated`, then `PoolMatched`).
    pub async fn join(&self, caller: &Principal, same_country: bool) -> Result<PoolOutcome> {
        let now = self.ports.clock.now();
        let joined = self
            .ports
            .pool
            .join_pool(PoolJoin {
                user: caller.user_id,
                same_country,
                now,
                wait_until: later(now, self.settings.wait)?,
                room: GroupId::new(),
                room_expires_at: later(now, self.settings.room_lifetime)?,
            })
            .await?;
        match joined {
            Joined::Waiting => Ok(PoolOutcome::Waiting),
            Joined::Matched { room, partner } => {
                let members = vec![partner, caller.user_id];
                // GroupCreated first: it puts both users' sockets on the room's routing and
                // gives every client the room the same way as any new chat.
                self.ports
                    .bus
                    .publish(Event::GroupCreated {
                        group_id: room.group.id,
                        members: members.clone(),
                    })
                    .await;
                self.ports
                    .bus
                    .publish(Event::PoolMatched {
                        group_id: room.group.id,
                        members,
                    })
                    .await;
                Ok(PoolOutcome::Matched(room))
            }
        }
    }

    /// Leaves the pool; nothing happens when the caller was not waiting.
    pub async fn leave(&self, caller: &Principal) -> Result<()> {
        self.ports.pool.leave_pool(caller.user_id).await?;
        Ok(())
    }

    /// Closes the rooms whose time is up and drops expired waiting entries; each closed room
    /// is announced (`GroupClosed`) once, by the sweep that closed it.
    pub async fn sweep(&self) -> Result<Swept> {
        let now = self.ports.clock.now();
        let swept = self.ports.pool.sweep_expired(now).await?;
        for group_id in &swept.closed {
            self.ports
                .bus
                .publish(Event::GroupClosed {
                    group_id: *group_id,
                })
                .await;
        }
        Ok(swept)
    }
}
