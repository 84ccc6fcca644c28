//! One task per socket. It owns the socket's reading half and its per-group cursors (the
//! highest `rev` delivered): a message event at `cursor + 1` goes out, one at or below is a
//! duplicate and is dropped, and one beyond means a gap, filled from the store before it —
//! so each group's changes arrive in `rev` order with no gap and no duplicate, whatever the
//! bus did. Commands go through the same use cases as HTTP.

use std::collections::HashMap;
use std::sync::Arc;
use std::time::Duration;

use axum::extract::ws::{Message, WebSocket};
use confab_domain::{Event, GroupId, Timestamp, UserId};
use confab_ports::store::Principal;
use futures::StreamExt;
use futures::stream::SplitStream;
use serde_json::Value;
use tokio::sync::{mpsc, oneshot};
use tokio::time::Instant;
use uuid::Uuid;

use super::frames::{ClientFrame, ServerFrame};
use super::hub::Delivery;
use super::writer::{self, Outgoing};
use crate::AppState;
use crate::error::ApiError;
use crate::wire::GroupBody;

/// Most changes read from the store per page when filling a gap or answering `sync`.
const FILL_PAGE: u32 = 500;
/// Longest wait for room in the outbox before the client counts as too slow.
const SEND_WAIT: Duration = Duration::from_secs(5);
/// Longest wait for the client's side of the closing handshake.
const CLOSE_WAIT: Duration = Duration::from_secs(3);

/// Why a session ended, and the close code its socket gets.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum End {
    /// The client closed, or the connection broke: nothing more to say.
    Gone,
    /// The outbox or the hub inbox overflowed: 1013, resume with `sync`.
    Overflow,
    /// A frame over the size limit: 1009.
    TooBig,
    /// No sign of life for two ping intervals.
    Dead,
    /// The access token expired without an `auth`: 4001.
    Expired,
    /// The server is shutting down: 1001.
    Shutdown,
    /// The session could not start (the store failed): 1011.
    Failed,
}

impl End {
    fn close(self) -> Option<(u16, &'static str)> {
        match self {
            End::Gone | End::Dead => None,
            End::Overflow => Some((1013, "too slow: reconnect and sync")),
            End::TooBig => Some((1009, "frame too large")),
            End::Expired => Some((4001, "token expired")),
            End::Shutdown => Some((1001, "server shutting down")),
            End::Failed => Some((1011, "internal error")),
        }
    }
}

type Step = Result<(), End>;

struct Session {
    state: AppState,
    principal: Principal,
    expires_at: Timestamp,
    /// Per group: the highest rev delivered on this socket.
    cursors: HashMap<GroupId, u64>,
    /// Per group: the rev this socket started delivering from. Changes in (floor, cursor] went
    /// out live, so a `sync` skips them: it sends what this socket has not.
    floors: HashMap<GroupId, u64>,
    shutdown: tokio::sync::watch::Receiver<bool>,
    outbox: mpsc::Sender<Outgoing>,
    /// This session's handle in the hub, once attached.
    hub_key: Option<super::hub::SessionKey>,
    /// When the socket connected: a group found on a re-check that was created after this
    /// (less a margin for clocks that differ between instances) is new to the client.
    connected_at: Timestamp,
}

/// How far instances' clocks may differ for [`Session::connected_at`]'s comparison.
const CLOCK_MARGIN: time::Duration = time::Duration::minutes(1);

/// Completes once the server is shutting down, also when it already was (unlike `changed`).
async fn stopping(shutdown: &mut tokio::sync::watch::Receiver<bool>) {
    // The guard `wait_for` returns is dropped here, before anything else awaits.
    let _ = shutdown.wait_for(|stopping| *stopping).await.is_ok();
}

fn me(p: &Principal) -> UserId {
    p.user_id
}

/// Runs a socket for `principal` until it ends; `expires_at` is its access token's expiry.
pub async fn run(socket: WebSocket, state: AppState, principal: Principal, expires_at: Timestamp) {
    let (sink, mut stream) = socket.split();
    let (outbox, queued) = mpsc::channel(state.config.ws_outbox.max(2));
    let (urgent, urgent_rx) = oneshot::channel();
    let writer = tokio::spawn(writer::run(sink, queued, urgent_rx));
    let hub = Arc::clone(&state.hub);
    let shutdown = hub.shutdown_signal();
    let mut session = Session {
        state,
        principal,
        expires_at,
        cursors: HashMap::new(),
        floors: HashMap::new(),
        shutdown,
        outbox,
        hub_key: None,
        connected_at: time::OffsetDateTime::now_utc(),
    };
    let (key, end) = session.serve(&mut stream).await;
    if end == End::Overflow {
        metrics::counter!("ws_outbox_closes_total").increment(1);
    }
    if let Some((code, reason)) = end.close() {
        // In order after what is queued when there is room (acks before a 1001); past the
        // queue when it is full (the 1013 case).
        if session
            .outbox
            .try_send(Outgoing::Close(code, reason))
            .is_err()
        {
            let _ = urgent.send((code, reason));
        }
    }
    drop(session);
    // The closing handshake: read (and drop) what the client still sends until its close
    // arrives. Closing with its data unread would make the kernel reset the connection and
    // throw away what the client had not read yet — the last answers and our close frame.
    if end != End::Gone {
        let _ = tokio::time::timeout(CLOSE_WAIT, async {
            while let Some(Ok(_)) = stream.next().await {}
        })
        .await;
    }
    let mut writer = writer;
    if tokio::time::timeout(Duration::from_secs(40), &mut writer)
        .await
        .is_err()
    {
        writer.abort();
    }
    // Only now: shutdown waits for this, so the 1001 (and the answers before it) went out.
    if let Some(key) = key {
        hub.detach(key);
    }
}

impl Session {
    /// Queues a frame, waiting for room at most [`SEND_WAIT`]: a client that reads gets even
    /// a sync bigger than the outbox; one that does not is too slow (1013).
    async fn send(&self, frame: &ServerFrame) -> Step {
        let text = serde_json::to_string(frame).map_err(|_| End::Failed)?;
        self.outbox
            .send_timeout(Outgoing::Text(text), SEND_WAIT)
            .await
            .map_err(|_| End::Overflow)?;
        metrics::counter!("ws_frames_out_total", "type" => frame.kind()).increment(1);
        Ok(())
    }

    async fn error(&self, reference: Option<Value>, e: ApiError) -> Step {
        self.send(&ServerFrame::Error {
            reference,
            code: e.code,
            message: e.message,
            field: e.field,
        })
        .await
    }

    fn deadline(&self) -> Instant {
        let left = self.expires_at - time::OffsetDateTime::now_utc();
        Instant::now() + Duration::try_from(left).unwrap_or(Duration::ZERO)
    }

    async fn serve(
        &mut self,
        stream: &mut SplitStream<WebSocket>,
    ) -> (Option<super::hub::SessionKey>, End) {
        // Join the hub as this user first: a group this user joins from now on reaches the
        // session (its event waits in the inbox), even while the group list is being read.
        let hub = Arc::clone(&self.state.hub);
        let (key, mut inbox) = hub.attach(me(&self.principal), []);
        self.hub_key = Some(key);
        let views = match self.state.conversations.list_groups(&self.principal).await {
            Ok(v) => v,
            Err(_) => return (Some(key), End::Failed),
        };
        self.cursors = views
            .iter()
            .map(|v| (v.group.id, v.group.last_rev))
            .collect();
        self.floors = self.cursors.clone();
        hub.add_groups(key, self.cursors.keys().copied());
        let end = match self.start().await {
            Ok(()) => self.event_loop(stream, &mut inbox).await,
            Err(end) => end,
        };
        (Some(key), end)
    }

    async fn start(&mut self) -> Step {
        self.send(&ServerFrame::Ready {
            user_id: me(&self.principal).as_uuid(),
        })
        .await?;
        // Whatever committed between reading the groups and joining the hub.
        self.catch_up_all().await?;
        let stopping = *self.shutdown.borrow();
        if stopping {
            return Err(End::Shutdown);
        }
        Ok(())
    }

    async fn event_loop(
        &mut self,
        stream: &mut SplitStream<WebSocket>,
        inbox: &mut mpsc::Receiver<Delivery>,
    ) -> End {
        let interval = self.state.config.ws_ping_interval;
        let mut ping = tokio::time::interval_at(Instant::now() + interval, interval);
        let mut shutdown = self.shutdown.clone();
        let mut last_heard = Instant::now();
        loop {
            let step = tokio::select! {
                incoming = stream.next() => {
                    last_heard = Instant::now();
                    self.on_incoming(incoming).await
                }
                delivery = inbox.recv() => match delivery {
                    Some(Delivery::Event(event)) => self.on_event(&event).await,
                    Some(Delivery::Resync) => self.recheck().await,
                    None => Err(End::Overflow),
                },
                _ = ping.tick() => {
                    self.outbox.try_send(Outgoing::Ping).map_err(|_| End::Overflow)
                }
                () = tokio::time::sleep_until(last_heard + interval * 2) => Err(End::Dead),
                () = tokio::time::sleep_until(self.deadline()) => Err(End::Expired),
                () = stopping(&mut shutdown) => Err(End::Shutdown),
            };
            if let Err(end) = step {
                return end;
            }
        }
    }

    async fn on_incoming(&mut self, incoming: Option<Result<Message, axum::Error>>) -> Step {
        match incoming {
            Some(Ok(Message::Text(text))) => self.on_text(text.as_str()).await,
            Some(Ok(Message::Binary(_))) => {
                self.error(
                    None,
                    ApiError::bad_request("binary frames are not accepted; send JSON text frames"),
                )
                .await
            }
            Some(Ok(Message::Ping(_) | Message::Pong(_))) => Ok(()),
            Some(Ok(Message::Close(_))) | None => Err(End::Gone),
            Some(Err(e)) => {
                let too_big = matches!(
                    e.into_inner().downcast_ref::<tungstenite::Error>(),
                    Some(tungstenite::Error::Capacity(_))
                );
                Err(if too_big { End::TooBig } else { End::Gone })
            }
        }
    }

    async fn on_text(&mut self, text: &str) -> Step {
        let value: Value = match serde_json::from_str(text) {
            Ok(v) => v,
            Err(e) => {
                metrics::counter!("ws_frames_in_total", "type" => "invalid").increment(1);
                return self
                    .error(None, ApiError::bad_request(format!("not JSON: {e}")))
                    .await;
            }
        };
        let reference = value.get("ref").cloned();
        let frame: ClientFrame = match serde_json::from_value(value) {
            Ok(f) => f,
            Err(e) => {
                metrics::counter!("ws_frames_in_total", "type" => "invalid").increment(1);
                return self
                    .error(reference, ApiError::bad_request(format!("bad frame: {e}")))
                    .await;
            }
        };
        metrics::counter!("ws_frames_in_total", "type" => frame.kind()).increment(1);
        // Pings are free, typing has its own limit; every other command spends the same
        // per-user request budget as HTTP.
        if !matches!(frame, ClientFrame::Ping { .. } | ClientFrame::Typing { .. })
            && let Err(e) = self.state.accounts.admit_user(me(&self.principal)).await
        {
            return self.error(reference, ApiError::from(e)).await;
        }
        self.on_frame(frame).await
    }

    /// Sends the answer to a command: `ok` as it is, or an `error` frame with the command's ref.
    async fn answer(&self, reference: Value, result: confab_ports::Result<ServerFrame>) -> Step {
        match result {
            Ok(frame) => self.send(&frame).await,
            Err(e) => self.error(Some(reference), ApiError::from(e)).await,
        }
    }

    async fn on_frame(&mut self, frame: ClientFrame) -> Step {
        let c = self.state.conversations.clone();
        let p = self.principal;
        let gid = GroupId::from_uuid;
        let ack = |reference: &Value| ServerFrame::ack(reference.clone());
        match frame {
            ClientFrame::MessageSend {
                reference,
                group_id,
                body,
                client_id,
            } => {
                let r = c
                    .send_message(&p, gid(group_id), &body, client_id.as_deref())
                    .await
                    .map(|a| ServerFrame::ack_message(reference.clone(), &a.message));
                self.answer(reference, r).await
            }
            ClientFrame::MessageEdit {
                reference,
                id,
                body,
            } => {
                let r = c
                    .edit_message(&p, confab_domain::MessageId::from_uuid(id), &body)
                    .await
                    .map(|e| ServerFrame::ack_message(reference.clone(), &e.message));
                self.answer(reference, r).await
            }
            ClientFrame::MessageDelete { reference, id } => {
                let r = c
                    .delete_message(&p, confab_domain::MessageId::from_uuid(id))
                    .await
                    .map(|_| ack(&reference));
                self.answer(reference, r).await
            }
            ClientFrame::GroupCreate {
                reference,
                name,
                member_ids,
            } => {
                let members = member_ids
                    .unwrap_or_default()
                    .into_iter()
                    .map(UserId::from_uuid)
                    .collect();
                let r = c
                    .create_group(&p, &name, members)
                    .await
                    .map(|v| ServerFrame::ack_group(reference.clone(), &v));
                self.answer(reference, r).await
            }
            ClientFrame::GroupUpdate {
                reference,
                group_id,
                name,
            } => {
                let r = c
                    .rename_group(&p, gid(group_id), &name)
                    .await
                    .map(|v| ServerFrame::ack_group(reference.clone(), &v));
                self.answer(reference, r).await
            }
            ClientFrame::GroupDelete {
                reference,
                group_id,
            } => {
                let r = c
                    .delete_group(&p, gid(group_id))
                    .await
                    .map(|_| ack(&reference));
                self.answer(reference, r).await
            }
            ClientFrame::MemberAdd {
                reference,
                group_id,
                user_id,
                role,
            } => {
                let r = c
                    .add_member(
                        &p,
                        gid(group_id),
                        UserId::from_uuid(user_id),
                        role.as_deref(),
                    )
                    .await
                    .map(|_| ack(&reference));
                self.answer(reference, r).await
            }
            ClientFrame::MemberRemove {
                reference,
                group_id,
                user_id,
            } => {
                let r = c
                    .remove_member(&p, gid(group_id), UserId::from_uuid(user_id))
                    .await
                    .map(|_| ack(&reference));
                self.answer(reference, r).await
            }
            ClientFrame::Typing {
                reference,
                group_id,
            } => match c.typing(&p, gid(group_id)).await {
                Ok(()) => Ok(()),
                Err(e) => self.error(reference, ApiError::from(e)).await,
            },
            ClientFrame::Read {
                reference,
                group_id,
                seq,
            } => match c.mark_read(&p, gid(group_id), seq).await {
                Ok(_) => Ok(()),
                Err(e) => self.error(reference, ApiError::from(e)).await,
            },
            ClientFrame::Ping { reference } => self.send(&ServerFrame::Pong { reference }).await,
            ClientFrame::Auth { reference, token } => self.renew(reference, &token).await,
            ClientFrame::Sync { reference, since } => self.sync(reference, since).await,
        }
    }

    async fn renew(&mut self, reference: Value, token: &str) -> Step {
        match self.state.accounts.authenticate_until(token).await {
            Ok((principal, expires_at)) if principal.user_id == self.principal.user_id => {
                self.principal = principal;
                self.expires_at = expires_at;
                self.send(&ServerFrame::ack(reference)).await
            }
            Ok(_) => {
                self.error(
                    Some(reference),
                    ApiError::unauthorized("the token belongs to another user"),
                )
                .await
            }
            Err(e) => self.error(Some(reference), ApiError::from(e)).await,
        }
    }

    async fn sync(&mut self, reference: Value, since: HashMap<Uuid, u64>) -> Step {
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
    async fn send_changes(
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
    async fn recheck(&mut self) -> Step {
        let views = match self.state.conversations.list_groups(&self.principal).await {
            Ok(v) => v,
            Err(_) => return Err(End::Failed),
        };
        if let Some(key) = self.hub_key {
            self.state
                .hub
                .set_groups(key, views.iter().map(|v| v.group.id));
        }
        let now: std::collections::HashSet<GroupId> = views.iter().map(|v| v.group.id).collect();
        let gone: Vec<GroupId> = self
            .cursors
            .keys()
            .filter(|g| !now.contains(g))
            .copied()
            .collect();
        let mine = me(&self.principal);
        for group in gone {
            self.forget(group);
            self.send(&ServerFrame::MemberLeft {
                group_id: group.as_uuid(),
                user_id: mine.as_uuid(),
            })
            .await?;
        }
        let known: std::collections::HashSet<GroupId> = self.cursors.keys().copied().collect();
        for view in views.iter().filter(|v| !known.contains(&v.group.id)) {
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

    /// Routes `group` to this session in the hub: a re-check that read the groups just before
    /// this join may have routed the session without it.
    fn route(&self, group: GroupId) {
        if let Some(key) = self.hub_key {
            self.state.hub.add_groups(key, [group]);
        }
    }

    async fn catch_up_all(&mut self) -> Step {
        let groups: Vec<(GroupId, u64)> = self.cursors.iter().map(|(g, r)| (*g, *r)).collect();
        for (group, cursor) in groups {
            self.fill(group, cursor).await?;
        }
        Ok(())
    }

    /// Brings `group` from `cursor` up to date from the store.
    async fn fill(&mut self, group: GroupId, cursor: u64) -> Step {
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

    fn forget(&mut self, group: GroupId) {
        self.cursors.remove(&group);
        self.floors.remove(&group);
    }

    async fn deliver_change(&mut self, message: &confab_domain::Message) -> Step {
        let group = message.group_id;
        let Some(&cursor) = self.cursors.get(&group) else {
            return Ok(());
        };
        if message.rev <= cursor {
            return Ok(());
        }
        if message.rev == cursor + 1 {
            self.send(&ServerFrame::for_change(message, cursor)).await?;
            self.cursors.insert(group, message.rev);
            return Ok(());
        }
        metrics::counter!("ws_gap_fills_total").increment(1);
        self.fill(group, cursor).await
    }

    /// The group as this user sees it now, made into a frame, with its last rev; `None` when
    /// the user is no longer in it (the event is then old news). Any other failure ends the
    /// session (1011): skipping the frame would leave the client without the group until it
    /// reconnected, and reconnecting is how it catches up.
    async fn group_frame(
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

    async fn on_event(&mut self, event: &Event) -> Step {
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
        let id = |g: GroupId| g.as_uuid();
        match event {
            Event::MessageCreated { message }
            | Event::MessageUpdated { message }
            | Event::MessageDeleted { message } => self.deliver_change(message).await,
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
            Event::GroupDeleted { group_id, .. } => {
                self.forget(*group_id);
                self.send(&ServerFrame::GroupDeleted {
                    group_id: id(*group_id),
                })
                .await
            }
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
        }
    }
}
