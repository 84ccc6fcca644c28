//! A session's live changes, in `rev` order. Changes to one group can reach a socket out of
//! order: callers whose writes committed together publish from different threads, and
//! instances publish over Redis independently. A change ahead of its turn is held for a
//! moment ([`HOLD_WAIT`]) for the ones before it, which nearly always arrive within
//! microseconds; only a gap that outlives the wait is filled from the store. Filling at once
//! made every out-of-order pair a store read per socket — at 1,000 sockets, most of the
//! server's time. It must never send a change out of order, twice, or not at all.

use std::collections::{BTreeMap, HashMap};
use std::sync::Arc;
use std::time::Duration;

use confab_domain::{Event, GroupId, Message};
use tokio::time::Instant;

use super::{End, ServerFrame, Session, Step, encode};
use crate::ws::hub::Live;

/// How long a change ahead of its turn waits for the ones before it.
pub(super) const HOLD_WAIT: Duration = Duration::from_millis(100);
/// Most changes held per group; more means the socket is far behind: fill from the store.
const HOLD_MAX: usize = 256;

/// Changes held back until the ones before them arrive.
#[derive(Default)]
pub(super) struct Held {
    by_group: HashMap<GroupId, BTreeMap<u64, Arc<Live>>>,
    /// When the oldest hold gives up waiting; `None` when nothing is held.
    pub(super) deadline: Option<Instant>,
}

impl Held {
    /// Holds `live` (the change at `rev` of `group`); false when the group holds too many.
    fn hold(&mut self, group: GroupId, rev: u64, live: Arc<Live>) -> bool {
        let held = self.by_group.entry(group).or_default();
        if held.len() >= HOLD_MAX {
            return false;
        }
        held.insert(rev, live);
        self.deadline
            .get_or_insert_with(|| Instant::now() + HOLD_WAIT);
        true
    }

    /// The held change of `group` that comes next after `cursor`, dropping the ones at or
    /// below it (sent already, by a fill).
    fn next(&mut self, group: GroupId, cursor: u64) -> Option<Arc<Live>> {
        let held = self.by_group.get_mut(&group)?;
        while let Some(entry) = held.first_entry() {
            match *entry.key() {
                rev if rev <= cursor => {
                    entry.remove();
                }
                rev if rev == cursor + 1 => return Some(entry.remove()),
                _ => return None,
            }
        }
        None
    }

    /// Forgets `group`'s held changes once none is left; keeps a deadline while anything is
    /// held, and none when nothing is.
    fn tidy(&mut self, group: GroupId) {
        if self.by_group.get(&group).is_some_and(BTreeMap::is_empty) {
            self.by_group.remove(&group);
        }
        if self.by_group.is_empty() {
            self.deadline = None;
        } else {
            self.deadline
                .get_or_insert_with(|| Instant::now() + HOLD_WAIT);
        }
    }

    /// Drops what is held for a group the socket no longer has.
    pub(super) fn forget(&mut self, group: GroupId) {
        self.by_group.remove(&group);
        self.tidy(group);
    }

    fn groups(&self) -> Vec<GroupId> {
        self.by_group.keys().copied().collect()
    }
}

/// The message a change event carries.
fn change(event: &Event) -> Option<&Message> {
    match event {
        Event::MessageCreated { message }
        | Event::MessageUpdated { message }
        | Event::MessageDeleted { message } => Some(message),
        _ => None,
    }
}

impl Session {
    /// A change fresh from the hub: sent when it is next for its group (then whatever it was
    /// holding up), held when it is ahead, dropped when it went out already.
    pub(super) async fn deliver_live(&mut self, live: &Arc<Live>, message: &Message) -> Step {
        let group = message.group_id;
        let Some(&cursor) = self.cursors.get(&group) else {
            return Ok(());
        };
        if message.rev <= cursor {
            return Ok(());
        }
        if message.rev > cursor + 1 {
            if self.held.hold(group, message.rev, Arc::clone(live)) {
                return Ok(());
            }
            metrics::counter!("confab_ws_gap_fills_total").increment(1);
            Box::pin(self.fill(group, cursor)).await?;
        } else {
            self.send_in_step(live, message, cursor).await?;
        }
        self.release(group).await
    }

    /// Sends what was held for `group` while it is next in line.
    async fn release(&mut self, group: GroupId) -> Step {
        while let Some(&cursor) = self.cursors.get(&group) {
            let Some(live) = self.held.next(group, cursor) else {
                break;
            };
            if let Some(message) = change(&live.event) {
                self.send_in_step(&live, message, cursor).await?;
            }
        }
        self.held.tidy(group);
        Ok(())
    }

    /// The holds waited long enough: what is still missing is read from the store.
    pub(super) async fn on_hold_expired(&mut self) -> Step {
        self.held.deadline = None;
        for group in self.held.groups() {
            if let Some(&cursor) = self.cursors.get(&group) {
                metrics::counter!("confab_ws_gap_fills_total").increment(1);
                Box::pin(self.fill(group, cursor)).await?;
            }
            self.release(group).await?;
        }
        Ok(())
    }

    /// Sends the change right after `cursor`, as the frame every in-step recipient of it
    /// shares (encoded once for all of them).
    async fn send_in_step(&mut self, live: &Live, message: &Message, cursor: u64) -> Step {
        // Only the first recipient builds and encodes the frame.
        let (text, kind) = live
            .shared_frame(|| {
                let frame = ServerFrame::for_change(message, cursor);
                Some((encode(&frame).ok()?, frame.kind()))
            })
            .ok_or(End::Failed)?;
        self.send_text(text, kind).await?;
        self.cursors.insert(message.group_id, message.rev);
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use confab_domain::{MessageId, UserId};

    fn live(group: GroupId, rev: u64) -> Arc<Live> {
        Arc::new(Live::new(Arc::new(Event::MessageCreated {
            message: Message {
                id: MessageId::new(),
                group_id: group,
                seq: rev,
                rev,
                created_rev: rev,
                sender_id: UserId::new(),
                body: "hi".into(),
                client_id: None,
                created_at: time::OffsetDateTime::UNIX_EPOCH,
                edited_at: None,
                deleted: false,
                attachments: Vec::new(),
                reply_to: None,
                reactions: Vec::new(),
                mentions: Vec::new(),
                pinned: false,
            },
        })))
    }

    fn rev_of(live: &Live) -> u64 {
        change(&live.event).map(|m| m.rev).unwrap_or_default()
    }

    #[test]
    fn held_changes_come_out_in_rev_order_once_the_gap_closes() {
        let g = GroupId::new();
        let mut held = Held::default();
        assert!(held.hold(g, 4, live(g, 4)));
        assert!(held.hold(g, 3, live(g, 3)));
        assert!(held.deadline.is_some(), "a hold starts the wait");
        // rev 2 has not come: nothing is next after 1.
        assert!(held.next(g, 1).is_none());
        // rev 2 went out: 3, then 4.
        assert_eq!(held.next(g, 2).map(|l| rev_of(&l)), Some(3));
        assert_eq!(held.next(g, 3).map(|l| rev_of(&l)), Some(4));
        assert!(held.next(g, 4).is_none());
        held.tidy(g);
        assert!(held.deadline.is_none(), "nothing held, nothing to wait for");
    }

    #[test]
    fn changes_a_fill_already_sent_are_dropped_and_a_group_holds_a_bounded_number() {
        let g = GroupId::new();
        let mut held = Held::default();
        for rev in 3..=6 {
            assert!(held.hold(g, rev, live(g, rev)));
        }
        // A fill brought the cursor to 5: 3..=5 are stale, 6 is next.
        assert_eq!(held.next(g, 5).map(|l| rev_of(&l)), Some(6));
        for rev in 10..10 + HOLD_MAX as u64 {
            assert!(held.hold(g, rev, live(g, rev)));
        }
        assert!(
            !held.hold(g, 9_999, live(g, 9_999)),
            "past the bound: fill instead"
        );
        held.forget(g);
        assert!(held.deadline.is_none());
        assert!(held.groups().is_empty());
    }
}
