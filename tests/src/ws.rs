//! A WebSocket client for tests: a real tokio-tungstenite socket to `GET /api/v1/ws`, with the
//! few moves a socket test needs — connect (Bearer or `?token=`), read the next JSON frame with
//! a timeout, take the first frame that matches while keeping the others in order, send a
//! frame, expect a close with a code, collect what arrives for a while.
//!
//! Every read has a deadline, so a missing frame fails the test with what did arrive instead
//! of hanging it.
//!
//! `presence` frames are skipped unless a test asks to hear them ([`Ws::hear_presence`]): they
//! follow sockets coming and going, which every other suite does all the time, and they are
//! held to their own rules by `tests/tests/api/presence.rs` and the cluster suite.

use std::collections::VecDeque;
use std::time::Duration;

use futures::{SinkExt, StreamExt};
use serde_json::{Value, json};
use tokio::net::{TcpSocket, TcpStream};
use tokio::time::Instant;
use tokio_tungstenite::WebSocketStream;
use tokio_tungstenite::tungstenite::client::IntoClientRequest;
use tokio_tungstenite::tungstenite::{self, Message};

use crate::{Session, TestServer};

/// The helper user of [`TestServer::settle`].
const SETTLER: &str = "zz.settle";
const SETTLER_PASSWORD: &str = "settle the events, please";

/// How long a read waits for a frame that must come.
pub const WAIT: Duration = Duration::from_secs(10);

/// How the socket presents its token.
#[derive(Debug, Clone, Copy)]
pub enum Token<'a> {
    /// `Authorization: Bearer <token>`.
    Bearer(&'a str),
    /// `?token=<token>`, as browsers do.
    Query(&'a str),
    /// No token at all.
    None,
}

/// The HTTP answer of a refused upgrade.
#[derive(Debug)]
pub struct Refused {
    pub status: u16,
    pub body: Value,
}

/// How a socket ended.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Ended {
    /// A close frame with this code (`None`: a close frame without a code).
    Close(Option<u16>),
    /// The connection ended without a close frame.
    Eof,
    /// The connection failed (e.g. reset) before a close frame was read.
    Failed(String),
}

/// One client socket.
pub struct Ws {
    stream: WebSocketStream<TcpStream>,
    /// Frames read but not yet handed out (left behind by [`Ws::take`]).
    backlog: VecDeque<Value>,
    /// How the socket ended, once it has.
    ended: Option<Ended>,
    /// Whether `presence` frames are handed out (skipped otherwise).
    presence: bool,
}

impl TestServer {
    /// `ws://host:port/api/v1/ws`.
    pub fn ws_url(&self) -> String {
        format!("ws://{}/api/v1/ws", self.addr)
    }

    /// Opens a socket; `recv_buffer` shrinks the client's kernel receive buffer (so that a
    /// client that does not read pushes back on the server sooner). The HTTP answer when the
    /// upgrade is refused.
    pub async fn ws_open(&self, token: Token<'_>, recv_buffer: Option<u32>) -> Result<Ws, Refused> {
        let url = match token {
            Token::Query(t) => format!("{}?token={t}", self.ws_url()),
            _ => self.ws_url(),
        };
        let mut request = url.into_client_request().expect("a ws request");
        if let Token::Bearer(t) = token {
            request.headers_mut().insert(
                "authorization",
                format!("Bearer {t}").parse().expect("a header value"),
            );
        }
        let socket = TcpSocket::new_v4().expect("a TCP socket");
        if let Some(size) = recv_buffer {
            socket.set_recv_buffer_size(size).expect("SO_RCVBUF");
        }
        let tcp = socket.connect(self.addr).await.expect("TCP connect");
        match tokio_tungstenite::client_async(request, tcp).await {
            Ok((stream, _)) => Ok(Ws {
                stream,
                backlog: VecDeque::new(),
                ended: None,
                presence: false,
            }),
            Err(tungstenite::Error::Http(resp)) => {
                let body = resp
                    .body()
                    .as_deref()
                    .and_then(|b| serde_json::from_slice(b).ok())
                    .unwrap_or(Value::Null);
                Err(Refused {
                    status: resp.status().as_u16(),
                    body,
                })
            }
            Err(e) => panic!("WebSocket handshake failed: {e}"),
        }
    }

    /// Returns once every event published so far has been routed to the sockets it concerns:
    /// a helper user posts into a group of its own and waits for the message on a fresh
    /// socket (the server routes events one at a time, in order).
    ///
    /// A socket opened right after some HTTP writes could otherwise still be handed their
    /// events (a race in the server, see the report of issue 5): tests that open sockets after
    /// setting the scene settle first, so each socket hears only what happens after it opened.
    pub async fn settle(&self) {
        let mut helper = self.settler.lock().await;
        if helper.is_none() {
            let who = match self
                .post(
                    "/auth/register",
                    None,
                    json!({"username": SETTLER, "password": SETTLER_PASSWORD}),
                )
                .await
            {
                r if r.status == 201 => crate::client::session_of(&r.json),
                // A restarted server still has the helper.
                _ => self.login(SETTLER, SETTLER_PASSWORD).await,
            };
            let group = match self.groups(&who).await.first() {
                Some(g) => crate::chat::id(g),
                None => crate::chat::id(&self.create_group(&who, "settle", &[]).await),
            };
            *helper = Some((who, group));
        }
        let (who, group) = helper.as_mut().expect("set above");
        let mut ws = match self.ws_open(Token::Bearer(&who.access), None).await {
            Ok(ws) => ws,
            // Its token expired (short token lifetimes): log in again.
            Err(_) => {
                *who = self.login(SETTLER, SETTLER_PASSWORD).await;
                self.ws_open(Token::Bearer(&who.access), None)
                    .await
                    .unwrap_or_else(|r| panic!("the settle helper is refused: {r:?}"))
            }
        };
        ws.expect_ready(who).await;
        ws.fence(self, who, group).await;
        ws.close().await;
    }

    /// A socket of `who` (Bearer), past its `ready` frame, which must be the first and name
    /// `who`. Settles first (see [`TestServer::settle`]).
    pub async fn ws(&self, who: &Session) -> Ws {
        self.ws_as(who, Token::Bearer(&who.access)).await
    }

    /// A socket of `who` opened with `token`, past its `ready` frame; settles first.
    pub async fn ws_as(&self, who: &Session, token: Token<'_>) -> Ws {
        self.settle().await;
        let mut ws = match self.ws_open(token, None).await {
            Ok(ws) => ws,
            Err(r) => panic!("upgrade refused: {} {}", r.status, r.body),
        };
        ws.expect_ready(who).await;
        // The session answers pings once it has caught up on the user's groups: from then
        // on, what it sends follows the order events happen in (see [`Ws::fence`]).
        ws.ping().await;
        ws
    }

    /// `n` sockets of `who`, each past `ready`.
    pub async fn sockets(&self, who: &Session, n: usize) -> Vec<Ws> {
        let mut all = Vec::new();
        for _ in 0..n {
            all.push(self.ws(who).await);
        }
        all
    }
}

/// The `type` of a frame (`""` when it has none).
pub fn kind(frame: &Value) -> &str {
    frame["type"].as_str().unwrap_or("")
}

impl Ws {
    /// Reads the first frame and asserts it is `ready {user_id}` of `who`.
    pub async fn expect_ready(&mut self, who: &Session) {
        let f = self.next().await;
        assert_eq!(kind(&f), "ready", "the first frame must be ready: {f}");
        assert_eq!(f["user_id"], who.user_id.as_str(), "{f}");
    }

    /// Sends a JSON text frame.
    pub async fn send(&mut self, frame: Value) {
        self.send_raw(Message::Text(frame.to_string().into())).await;
    }

    /// Sends any frame as it is.
    pub async fn send_raw(&mut self, message: Message) {
        self.stream.send(message).await.expect("frame sent");
    }

    /// The next text frame from the wire within `wait`; `None` when none came in time or the
    /// socket has ended (see [`Ws::ended`]). Server pings are answered by tungstenite itself.
    async fn read_wire(&mut self, wait: Duration) -> Option<Value> {
        if self.ended.is_some() {
            return None;
        }
        let deadline = Instant::now() + wait;
        loop {
            let next = tokio::time::timeout_at(deadline, self.stream.next()).await;
            let msg = match next {
                Err(_) => return None,
                Ok(None) => {
                    self.ended = Some(Ended::Eof);
                    return None;
                }
                Ok(Some(Err(e))) => {
                    self.ended.get_or_insert(Ended::Failed(e.to_string()));
                    return None;
                }
                Ok(Some(Ok(m))) => m,
            };
            match msg {
                Message::Text(t) => {
                    let frame: Value = serde_json::from_str(t.as_str()).unwrap_or_else(|e| {
                        panic!("the server sent a text frame that is not JSON ({e}): {t}")
                    });
                    if self.presence || kind(&frame) != "presence" {
                        return Some(frame);
                    }
                }
                Message::Close(frame) => {
                    self.ended = Some(Ended::Close(frame.map(|f| u16::from(f.code))));
                    return None;
                }
                Message::Binary(b) => panic!("the server sent a binary frame: {b:?}"),
                Message::Ping(_) | Message::Pong(_) | Message::Frame(_) => {}
            }
        }
    }

    /// From now on, `presence` frames are handed out like any other.
    pub fn hear_presence(&mut self) {
        self.presence = true;
    }

    /// How the socket ended, if it has.
    pub fn ended(&self) -> Option<&Ended> {
        self.ended.as_ref()
    }

    /// The next frame within `wait`, or `None`.
    pub async fn recv(&mut self, wait: Duration) -> Option<Value> {
        match self.backlog.pop_front() {
            Some(f) => Some(f),
            None => self.read_wire(wait).await,
        }
    }

    /// The next frame; fails the test when none comes within [`WAIT`].
    pub async fn next(&mut self) -> Value {
        match self.recv(WAIT).await {
            Some(f) => f,
            None => panic!("no frame within {WAIT:?}; socket ended: {:?}", self.ended),
        }
    }

    /// The next frame, which must be of type `ty`.
    pub async fn next_of(&mut self, ty: &str) -> Value {
        let f = self.next().await;
        assert_eq!(kind(&f), ty, "expected a {ty} frame, got {f}");
        f
    }

    /// The first frame that matches `want`, within [`WAIT`]; every other frame stays, in
    /// order, for later reads.
    pub async fn take(&mut self, want: impl Fn(&Value) -> bool) -> Value {
        if let Some(i) = self.backlog.iter().position(&want) {
            return self.backlog.remove(i).expect("in the backlog");
        }
        let deadline = Instant::now() + WAIT;
        let mut passed = Vec::new();
        loop {
            let left = deadline.saturating_duration_since(Instant::now());
            match self.read_wire(left).await {
                Some(f) if want(&f) => {
                    self.backlog.extend(passed);
                    return f;
                }
                Some(f) => passed.push(f),
                None => panic!(
                    "no matching frame within {WAIT:?} (socket ended: {:?}); got {passed:?}",
                    self.ended
                ),
            }
        }
    }

    /// The first frame of type `ty`, others kept (see [`Ws::take`]).
    pub async fn take_of(&mut self, ty: &str) -> Value {
        self.take(|f| kind(f) == ty).await
    }

    /// Reads (and consumes) frames until one of type `ty`: `(the frames before it, it)`.
    pub async fn until(&mut self, ty: &str) -> (Vec<Value>, Value) {
        self.until_match(|f| kind(f) == ty).await
    }

    /// Reads (and consumes) frames until one matches `want`: `(the frames before it, it)`.
    pub async fn until_match(&mut self, want: impl Fn(&Value) -> bool) -> (Vec<Value>, Value) {
        let deadline = Instant::now() + WAIT;
        let mut before = Vec::new();
        loop {
            let left = deadline.saturating_duration_since(Instant::now());
            match self.recv(left).await {
                Some(f) if want(&f) => return (before, f),
                Some(f) => before.push(f),
                None => panic!(
                    "no matching frame within {WAIT:?} (socket ended: {:?}); got {before:?}",
                    self.ended
                ),
            }
        }
    }

    /// Every frame that arrives within `wait` (and what was left behind before).
    pub async fn collect(&mut self, wait: Duration) -> Vec<Value> {
        let mut all: Vec<Value> = self.backlog.drain(..).collect();
        let deadline = Instant::now() + wait;
        loop {
            let left = deadline.saturating_duration_since(Instant::now());
            if left.is_zero() {
                return all;
            }
            match self.read_wire(left).await {
                Some(f) => all.push(f),
                None => return all,
            }
        }
    }

    /// Sends a command and returns its answer: the first `ack` or `error` whose `ref` is the
    /// command's. Other frames stay for later reads.
    pub async fn request(&mut self, frame: Value) -> Value {
        let reference = frame["ref"].clone();
        self.send(frame).await;
        self.take(|f| matches!(kind(f), "ack" | "error") && f["ref"] == reference)
            .await
    }

    /// Sends a command that must succeed and returns its `ack`.
    pub async fn ok(&mut self, frame: Value) -> Value {
        let answer = self.request(frame.clone()).await;
        assert_eq!(kind(&answer), "ack", "{frame} was answered {answer}");
        answer
    }

    /// Sends a command that must fail with `code` and returns the `error` frame.
    pub async fn fails(&mut self, frame: Value, code: &str) -> Value {
        let answer = self.request(frame.clone()).await;
        assert_eq!(kind(&answer), "error", "{frame} was answered {answer}");
        assert_eq!(answer["code"], code, "{frame} was answered {answer}");
        assert!(
            answer["message"].as_str().is_some_and(|m| !m.is_empty()),
            "an error without a message: {answer}"
        );
        answer
    }

    /// `ping` with a fresh ref, and its `pong`: proof that the socket is open and reads.
    /// Other frames stay for later reads.
    pub async fn ping(&mut self) {
        let reference = format!("ping-{}", uuid::Uuid::now_v7());
        self.send(json!({"type": "ping", "ref": reference})).await;
        self.take(|f| kind(f) == "pong" && f["ref"] == reference.as_str())
            .await;
    }

    /// A fence: `who` posts a marker message over HTTP into `group` (one this socket's user is
    /// in) and the socket reads until the marker's `message.created`. Events go out in the
    /// order they were published, so every event published before the marker has reached the
    /// socket by then: the frames returned (all those before the marker) are everything the
    /// socket got. Proves that something did *not* arrive without waiting for it.
    ///
    /// Only once the session has started (a `pong` came back, as [`TestServer::ws`] ensures):
    /// while it catches up on the user's groups after `ready`, it sends what it reads from the
    /// store group by group, so a marker can overtake events of other groups.
    pub async fn fence(&mut self, s: &TestServer, who: &Session, group: &str) -> Vec<Value> {
        let marker = format!("fence {}", uuid::Uuid::now_v7());
        s.send(who, group, &marker).await;
        let (before, _) = self
            .until_match(|f| {
                kind(f) == "message.created" && f["message"]["body"] == marker.as_str()
            })
            .await;
        before
    }

    /// Reads until the server closes the socket, within `wait`; asserts the close code and
    /// returns the frames that came before it.
    pub async fn expect_close(&mut self, code: u16, wait: Duration) -> Vec<Value> {
        let mut before: Vec<Value> = self.backlog.drain(..).collect();
        let deadline = Instant::now() + wait;
        while self.ended.is_none() {
            let left = deadline.saturating_duration_since(Instant::now());
            if left.is_zero() {
                panic!(
                    "not closed within {wait:?}; {} frames came, the last: {:?}",
                    before.len(),
                    before.last()
                );
            }
            if let Some(f) = self.read_wire(left).await {
                before.push(f);
            }
        }
        assert_eq!(
            self.ended,
            Some(Ended::Close(Some(code))),
            "the socket ended otherwise than with close code {code}"
        );
        before
    }

    /// Reads until the socket ends or `wait` passes: the frames read, and how it ended
    /// (`None`: still open).
    pub async fn read_to_end(&mut self, wait: Duration) -> (Vec<Value>, Option<Ended>) {
        let mut frames: Vec<Value> = self.backlog.drain(..).collect();
        let deadline = Instant::now() + wait;
        while self.ended.is_none() {
            let left = deadline.saturating_duration_since(Instant::now());
            if left.is_zero() {
                break;
            }
            if let Some(f) = self.read_wire(left).await {
                frames.push(f);
            }
        }
        (frames, self.ended.clone())
    }

    /// Whether the socket is still open after `wait` of reading (frames read are kept).
    pub async fn open_after(&mut self, wait: Duration) -> bool {
        let frames = self.collect(wait).await;
        self.backlog.extend(frames);
        self.ended.is_none()
    }

    /// Closes the socket politely (a close frame, then the end).
    pub async fn close(mut self) {
        let _ = self.stream.close(None).await;
    }
}
