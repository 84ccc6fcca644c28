//! Senders and what they kept: every message each one sent (with its `client_id`), when it went
//! out, and the answer it got, if any. The tests compare this ledger with the store after a
//! crash or a shutdown.
//!
//! A sender sends as fast as its answers come: over HTTP one request at a time, over a socket
//! with up to [`WINDOW`] commands in flight (as a client that does not wait for each ack does,
//! so that a crash or a shutdown always finds commands the server has not answered yet).

use std::collections::{HashMap, HashSet};
use std::net::SocketAddr;
use std::time::Duration;

use confab_tests::chat::{id, num, text};
use confab_tests::{Ended, Session, TestServer};
use futures::future::join_all;
use serde_json::{Value, json};
use tokio::time::Instant;

use crate::sock::{Got, Sock};

/// Commands a socket sender keeps in flight.
pub const WINDOW: usize = 4;
/// Longest anything here waits for the server before giving up on it.
const PATIENCE: Duration = Duration::from_secs(20);

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Via {
    Http,
    Socket,
}

/// An answer: the message (an `ack`, a 201 or 200), or a refusal (an `error` frame, another
/// status).
#[derive(Debug, Clone)]
pub enum Answer {
    Ack(Value),
    Refused(String),
}

/// One message sent.
#[derive(Debug)]
pub struct Sent {
    pub client_id: String,
    pub body: String,
    /// When it had gone out: the frame written (socket), or the request started (HTTP). `None`:
    /// the socket could not take it.
    pub out_at: Option<Instant>,
    pub answer: Option<Answer>,
    /// The round (or phase) it was sent in.
    pub round: usize,
}

impl Sent {
    pub fn acked(&self) -> Option<&Value> {
        match &self.answer {
            Some(Answer::Ack(m)) => Some(m),
            _ => None,
        }
    }
}

/// A user sending into one group over one transport.
pub struct Sender {
    pub user: Session,
    pub group: String,
    pub via: Via,
    pub sent: Vec<Sent>,
    /// How its last run ended: the socket's end, or the HTTP error that stopped it.
    pub end: Option<String>,
    /// The socket's end, as such (socket senders).
    pub ended: Option<Ended>,
    /// When the last run's socket ended.
    pub ended_at: Option<Instant>,
}

impl Sender {
    pub fn new(user: Session, group: &str, via: Via) -> Self {
        Self {
            user,
            group: group.to_owned(),
            via,
            sent: Vec::new(),
            end: None,
            ended: None,
            ended_at: None,
        }
    }

    /// Records a new message of `round`; its index.
    fn next(&mut self, round: usize) -> usize {
        let n = self.sent.len();
        let client_id = format!("{}-{round}-{n}", self.user.username);
        self.sent.push(Sent {
            body: format!("{client_id} says hello"),
            client_id,
            out_at: None,
            answer: None,
            round,
        });
        n
    }

    /// Sends over `sock` until it ends (or [`PATIENCE`] passes), [`WINDOW`] in flight;
    /// answers are matched by `ref` (the client id), events are read and dropped.
    pub async fn run_socket(&mut self, mut sock: Sock, round: usize) {
        let give_up = Instant::now() + PATIENCE;
        let mut waiting: HashMap<String, usize> = HashMap::new();
        // Until a send fails: then only the answers still to come are read.
        let mut writable = true;
        let end = loop {
            while writable && waiting.len() < WINDOW && Instant::now() < give_up {
                let i = self.next(round);
                let frame = json!({
                    "type": "message.send",
                    "ref": self.sent[i].client_id,
                    "group_id": self.group,
                    "body": self.sent[i].body,
                    "client_id": self.sent[i].client_id,
                });
                if !sock.send(&frame).await {
                    writable = false;
                    break;
                }
                self.sent[i].out_at = Some(Instant::now());
                waiting.insert(self.sent[i].client_id.clone(), i);
            }
            match sock.recv(PATIENCE).await {
                Got::Frame(f) => {
                    let answer = match f["type"].as_str() {
                        Some("ack") => Answer::Ack(f["message"].clone()),
                        Some("error") => Answer::Refused(f.to_string()),
                        _ => continue,
                    };
                    let i = f["ref"]
                        .as_str()
                        .and_then(|r| waiting.remove(r))
                        .unwrap_or_else(|| panic!("an answer to nothing in flight: {f}"));
                    self.sent[i].answer = Some(answer);
                }
                Got::Ended(end) => break end,
                Got::Quiet => panic!(
                    "{}: nothing from the server for {PATIENCE:?} with {} in flight",
                    self.user.username,
                    waiting.len()
                ),
            }
        };
        self.ended_at = Some(Instant::now());
        self.end = Some(format!("{end:?}"));
        self.ended = Some(end);
    }

    /// Sends over HTTP, one request at a time, until a request fails without an answer (or
    /// [`PATIENCE`] passes).
    pub async fn run_http(&mut self, http: &reqwest::Client, addr: SocketAddr, round: usize) {
        let give_up = Instant::now() + PATIENCE;
        let url = format!("http://{addr}/api/v1/groups/{}/messages", self.group);
        while Instant::now() < give_up {
            let i = self.next(round);
            let body = json!({"body": self.sent[i].body, "client_id": self.sent[i].client_id});
            self.sent[i].out_at = Some(Instant::now());
            let sent = http
                .post(&url)
                .bearer_auth(&self.user.access)
                .json(&body)
                .send()
                .await;
            let answer = match sent {
                Ok(r) => {
                    let status = r.status().as_u16();
                    match r.text().await {
                        Ok(text) if matches!(status, 200 | 201) => {
                            Answer::Ack(serde_json::from_str(&text).expect("a message"))
                        }
                        Ok(text) => Answer::Refused(format!("{status} {text}")),
                        Err(e) => {
                            self.end = Some(format!("the answer broke off: {e}"));
                            return;
                        }
                    }
                }
                Err(e) => {
                    self.end = Some(format!("{e:?}"));
                    return;
                }
            };
            self.sent[i].answer = Some(answer);
        }
        self.end = Some("gave up".into());
    }

    /// Sends every message that has no `ack` again, with its `client_id`, over HTTP (a client
    /// back after a crash): 200 (it was stored after all) or 201 (it was not). Returns the
    /// counts `(stored before, stored now)`.
    pub async fn resend(&mut self, s: &TestServer) -> (usize, usize) {
        let (mut found, mut new) = (0, 0);
        for sent in self.sent.iter_mut().filter(|m| m.acked().is_none()) {
            let r = s
                .try_send(
                    &self.user,
                    &self.group,
                    json!({"body": sent.body, "client_id": sent.client_id}),
                )
                .await;
            match r.status {
                200 => found += 1,
                201 => new += 1,
                other => panic!(
                    "a resend of {} was answered {other}: {}",
                    sent.client_id, r.text
                ),
            }
            assert_eq!(r.json["client_id"], sent.client_id.as_str(), "{}", r.text);
            assert_eq!(r.json["body"], sent.body.as_str(), "{}", r.text);
            sent.answer = Some(Answer::Ack(r.json.clone()));
        }
        (found, new)
    }

    /// Sends the last acknowledged message again: the same `client_id` must be answered 200
    /// with the message first stored (a retry across the crash doubles nothing).
    pub async fn repeat_last_ack(&self, s: &TestServer) {
        let Some((sent, first)) = self
            .sent
            .iter()
            .rev()
            .find_map(|m| m.acked().map(|a| (m, a)))
        else {
            return;
        };
        let r = s
            .try_send(
                &self.user,
                &self.group,
                json!({"body": sent.body, "client_id": sent.client_id}),
            )
            .await;
        r.expect(200);
        assert_eq!(id(&r.json), id(first), "a retry of {}", sent.client_id);
        assert_eq!(num(&r.json, "seq"), num(first, "seq"));
    }
}

/// A member of group `g` to read it as: its first sender.
pub fn reader_of<'a>(senders: &'a [Sender], g: &str) -> &'a Session {
    &senders
        .iter()
        .find(|s| s.group == g)
        .expect("a sender in the group")
        .user
}

/// Opens a socket for each socket sender (`None` for the HTTP ones), in `senders`' order.
pub async fn open_sockets(senders: &[Sender], addr: SocketAddr) -> Vec<Option<Sock>> {
    join_all(senders.iter().map(|s| async move {
        match s.via {
            Via::Socket => Some(Sock::open(addr, &s.user.access).await),
            Via::Http => None,
        }
    }))
    .await
}

/// Runs every sender of `round` on its socket (from [`open_sockets`]) or over HTTP, until its
/// socket closes or a request fails.
pub async fn send_all(
    senders: &mut [Sender],
    socks: Vec<Option<Sock>>,
    addr: SocketAddr,
    round: usize,
) {
    let http = reqwest::Client::builder()
        .timeout(Duration::from_secs(20))
        .build()
        .expect("client");
    join_all(senders.iter_mut().zip(socks).map(|(s, sock)| {
        let http = &http;
        async move {
            match sock {
                Some(sock) => s.run_socket(sock, round).await,
                None => s.run_http(http, addr, round).await,
            }
        }
    }))
    .await;
}

/// The store's messages of `group` (read by `reader`, a member) by `(sender, client_id)`,
/// checked: seqs 1, 2, 3… with no gap and no repeat, ids distinct, each client id of a sender
/// once.
pub async fn stored(
    s: &TestServer,
    reader: &Session,
    group: &str,
) -> HashMap<(String, String), Value> {
    let all = s.all_messages(reader, group).await;
    let mut ids = HashSet::new();
    let mut by_client = HashMap::new();
    for (i, m) in all.iter().enumerate() {
        assert_eq!(
            num(m, "seq"),
            i as u64 + 1,
            "seqs of group {group} are not 1..{}: a gap or a repeat before {m}",
            all.len()
        );
        assert!(ids.insert(id(m)), "message stored twice: {m}");
        let key = (text(m, "sender_id"), text(m, "client_id"));
        if let Some(before) = by_client.insert(key, m.clone()) {
            panic!("one client_id stored twice:\n{before}\n{m}");
        }
    }
    by_client
}

/// After every sender of `group` has resent what had no ack: the store holds exactly the
/// messages sent, each once, and each acknowledged one as it was acknowledged. Returns the
/// ids in seq order.
pub async fn check_group(
    s: &TestServer,
    reader: &Session,
    group: &str,
    senders: &[Sender],
) -> Vec<String> {
    let mut stored = stored(s, reader, group).await;
    let mut order: Vec<(u64, String)> = Vec::new();
    for sender in senders.iter().filter(|x| x.group == group) {
        for sent in &sender.sent {
            let acked = sent
                .acked()
                .unwrap_or_else(|| panic!("{} was never acknowledged", sent.client_id));
            let key = (sender.user.user_id.clone(), sent.client_id.clone());
            let m = stored.remove(&key).unwrap_or_else(|| {
                panic!(
                    "acknowledged but not in the store: {} (round {}) {acked}",
                    sent.client_id, sent.round
                )
            });
            assert_eq!(
                id(&m),
                id(acked),
                "{} stored as another message",
                sent.client_id
            );
            assert_eq!(num(&m, "seq"), num(acked, "seq"), "{}", sent.client_id);
            assert_eq!(text(&m, "body"), sent.body);
            order.push((num(&m, "seq"), id(&m)));
        }
    }
    assert!(
        stored.is_empty(),
        "the store has messages nobody sent: {:?}",
        stored.values().collect::<Vec<_>>()
    );
    order.sort();
    order.into_iter().map(|(_, id)| id).collect()
}
