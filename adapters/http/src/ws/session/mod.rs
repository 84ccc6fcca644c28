//! One task per socket. It owns the socket's reading half and its per-group cursors (the
//! highest `rev` delivered): a message event at `cursor + 1` goes out, one at or below is a
//! duplicate and is dropped, and one beyond means a gap, filled from the store before it —
//! so each group's changes arrive in `rev` order with no gap and no duplicate, whatever the
//! bus did. Commands go through the same use cases as HTTP.

use std::collections::HashMap;
use std::sync::Arc;
use std::time::Duration;

use axum::extract::ws::{Message, Utf8Bytes, WebSocket};
use confab_domain::{GroupId, Timestamp, UserId};
use confab_ports::store::Principal;
use futures::StreamExt;
use futures::stream::SplitStream;
use serde_json::Value;
use tokio::sync::mpsc;
use tokio::time::Instant;

mod catch_up;
mod commands;
mod events;
mod reorder;
mod shutdown;

use super::frames::{ClientFrame, ServerFrame};
use super::hub::Delivery;
use super::outbox::{Outbox, Outgoing, outbox};
use super::writer;
use crate::AppState;
use crate::error::ApiError;

/// Most changes read from the store per page when filling a gap or answering `sync`.
const FILL_PAGE: u32 = 500;
/// Most deliveries handled in one turn of a session's loop.
const DELIVERY_BATCH: usize = 32;
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
    /// A text frame that is not UTF-8: 1007.
    NotUtf8,
    /// No sign of life for two ping intervals.
    Dead,
    /// The access token expired without an `auth`: 4001.
    Expired,
    /// An admin banned the user: 4003, on every socket of theirs.
    Banned,
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
            End::NotUtf8 => Some((1007, "text frame is not UTF-8")),
            End::Expired => Some((4001, "token expired")),
            End::Banned => Some((4003, "banned")),
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
    outbox: Outbox,
    /// Per group: what a re-check compares to tell the client of changes the bus may have lost.
    shapes: HashMap<GroupId, Shape>,
    /// Changes that arrived ahead of their turn, waiting for the ones before them.
    held: reorder::Held,
    /// This session's handle in the hub, once attached.
    hub_key: Option<super::hub::SessionKey>,
    /// When the socket connected: a group found on a re-check that was created after this
    /// (less a margin for clocks that differ between instances) is new to the client.
    connected_at: Timestamp,
}

/// What of a group a re-check compares: the parts other members' events change.
#[derive(Debug, Clone, PartialEq)]
struct Shape {
    name: Option<String>,
    closed_at: Option<Timestamp>,
    member_count: u64,
}

impl Shape {
    fn of(view: &confab_ports::store::GroupView) -> Self {
        Self {
            name: view.group.name.as_ref().map(|n| n.as_str().to_owned()),
            closed_at: view.group.closed_at,
            member_count: view.member_count,
        }
    }
}

/// How far instances' clocks may differ for [`Session::connected_at`]'s comparison.
const CLOCK_MARGIN: time::Duration = time::Duration::minutes(1);

/// Completes once the server is shutting down, also when it already was (unlike `changed`).
async fn stopping(shutdown: &mut tokio::sync::watch::Receiver<bool>) {
    // The guard `wait_for` returns is dropped here, before anything else awaits.
    let _ = shutdown.wait_for(|stopping| *stopping).await.is_ok();
}

/// A frame's JSON text. Our frames always serialize; a failure would be a bug, and ends the
/// session (1011) rather than sending something else.
fn encode(frame: &ServerFrame) -> Result<Utf8Bytes, End> {
    serde_json::to_string(frame)
        .map(Utf8Bytes::from)
        .map_err(|_| End::Failed)
}

fn me(p: &Principal) -> UserId {
    p.user_id
}

/// Runs a socket for `principal` until it ends; `expires_at` is its access token's expiry.
pub async fn run(socket: WebSocket, state: AppState, principal: Principal, expires_at: Timestamp) {
    let (sink, mut stream) = socket.split();
    let (outbox, taker) = outbox(state.config.ws_outbox.max(2), state.config.ws_outbox_bytes);
    let writer = tokio::spawn(writer::run(sink, taker));
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
        shapes: HashMap::new(),
        held: reorder::Held::default(),
        hub_key: None,
        connected_at: time::OffsetDateTime::now_utc(),
    };
    let (key, end) = session.serve(&mut stream).await;
    // Presence counts the socket from its attach to the end of its session, not to the end
    // of its closing handshake.
    if key.is_some() {
        session.state.presence.disconnected(me(&session.principal));
    }
    if end == End::Overflow {
        metrics::counter!("confab_ws_outbox_closes_total").increment(1);
    }
    if let Some((code, reason)) = end.close() {
        // In order after what is queued when there is room (acks before a 1001); past the
        // queue when it is full (the 1013 case).
        if session
            .outbox
            .try_push(Outgoing::Close(code, reason))
            .is_err()
        {
            session.outbox.close_now(code, reason);
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
        self.send_text(encode(frame)?, frame.kind()).await
    }

    /// Queues a frame already encoded (one shared by every recipient of an event).
    async fn send_text(&self, text: Utf8Bytes, kind: &'static str) -> Step {
        self.outbox
            .push(Outgoing::Text(text), SEND_WAIT)
            .await
            .map_err(|_| End::Overflow)?;
        metrics::counter!("confab_ws_frames_out_total", "type" => kind).increment(1);
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
        self.state.presence.connected(me(&self.principal));
        // The start-up futures are boxed: they are done before the socket idles, and an idle
        // socket's task must not keep room for them.
        let views = match Box::pin(self.state.conversations.list_groups(&self.principal)).await {
            Ok(v) => v,
            Err(_) => return (Some(key), End::Failed),
        };
        self.cursors = views
            .iter()
            .map(|v| (v.group.id, v.group.last_rev))
            .collect();
        self.floors = self.cursors.clone();
        self.shapes = views.iter().map(|v| (v.group.id, Shape::of(v))).collect();
        hub.add_groups(key, self.cursors.keys().copied());
        let end = match Box::pin(self.start()).await {
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
        // The timers live across iterations and are moved, not made anew: a loop turn per
        // delivered event must not register and cancel timers each time.
        let silence = tokio::time::sleep(interval * 2);
        let mut expires_at = self.expires_at;
        let expiry = tokio::time::sleep_until(self.deadline());
        let stop = stopping(&mut shutdown);
        let mut hold_until = None;
        let hold = tokio::time::sleep(reorder::HOLD_WAIT);
        tokio::pin!(silence, expiry, stop, hold);
        loop {
            let step = tokio::select! {
                incoming = stream.next() => {
                    silence.as_mut().reset(Instant::now() + interval * 2);
                    // Boxed: a command's future is large, and an idle socket must not carry
                    // room for one.
                    Box::pin(self.on_incoming(incoming)).await
                }
                delivery = inbox.recv() => self.on_deliveries(delivery, inbox).await,
                _ = ping.tick() => {
                    self.outbox.try_push(Outgoing::Ping).map_err(|_| End::Overflow)
                }
                () = &mut silence => Err(End::Dead),
                () = &mut expiry => Err(End::Expired),
                () = &mut stop => Err(End::Shutdown),
                () = &mut hold, if hold_until.is_some() => {
                    Box::pin(self.on_hold_expired()).await
                }
            };
            match step {
                Ok(()) => {}
                Err(End::Shutdown) => return Box::pin(self.answer_before_closing(stream)).await,
                Err(end) => return end,
            }
            if self.held.deadline != hold_until {
                hold_until = self.held.deadline;
                if let Some(at) = hold_until {
                    hold.as_mut().reset(at);
                }
            }
            // An `auth` renewed the token.
            if self.expires_at != expires_at {
                expires_at = self.expires_at;
                expiry.as_mut().reset(self.deadline());
            }
        }
    }

    /// Handles `first` and whatever else the hub has queued (up to [`DELIVERY_BATCH`]): one
    /// turn of the loop for a burst, not one each (every turn polls the socket too).
    async fn on_deliveries(
        &mut self,
        first: Option<Delivery>,
        inbox: &mut mpsc::Receiver<Delivery>,
    ) -> Step {
        let mut next = first;
        for handled in 1.. {
            match next {
                Some(Delivery::Event(live)) => Box::pin(self.on_event(&live)).await?,
                Some(Delivery::Resync) => Box::pin(self.recheck()).await?,
                None => return Err(End::Overflow),
            }
            if handled == DELIVERY_BATCH {
                break;
            }
            match inbox.try_recv() {
                Ok(delivery) => next = Some(delivery),
                Err(_) => break,
            }
        }
        Ok(())
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
            // The frame reader stops at its first error; the close handshake is left to the
            // connection's lingering close (the server's accept loop), which reads and drops
            // what the client still sends so that the close frame is not reset away.
            Some(Err(e)) => Err(match e.into_inner().downcast_ref::<tungstenite::Error>() {
                Some(tungstenite::Error::Capacity(_)) => End::TooBig,
                Some(tungstenite::Error::Utf8(_)) => End::NotUtf8,
                _ => End::Gone,
            }),
        }
    }

    async fn on_text(&mut self, text: &str) -> Step {
        let value: Value = match serde_json::from_str(text) {
            Ok(v) => v,
            Err(e) => {
                metrics::counter!("confab_ws_frames_in_total", "type" => "invalid").increment(1);
                return self
                    .error(None, ApiError::bad_request(format!("not JSON: {e}")))
                    .await;
            }
        };
        let reference = value.get("ref").cloned();
        let frame: ClientFrame = match serde_json::from_value(value) {
            Ok(f) => f,
            Err(e) => {
                metrics::counter!("confab_ws_frames_in_total", "type" => "invalid").increment(1);
                return self
                    .error(reference, ApiError::bad_request(format!("bad frame: {e}")))
                    .await;
            }
        };
        metrics::counter!("confab_ws_frames_in_total", "type" => frame.kind()).increment(1);
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
}
