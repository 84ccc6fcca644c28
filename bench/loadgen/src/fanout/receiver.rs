//! A fan-out receiver: one socket that notes, for each `message.created` of this run, the
//! delivery latency (now minus the send time carried in the body) and how often it came, and
//! counts a message id seen twice as a duplicate.

use std::collections::HashSet;
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::Instant;

use tokio::sync::watch;
use uuid::Uuid;

use crate::stats::micros;
use crate::ws::{self, Carrying, Socket};

/// What one receiver needs.
pub(super) struct Receiver {
    pub socket: Socket,
    /// The clock the senders' timestamps count from.
    pub epoch: Instant,
    /// Messages in the run (numbered `0..total`), and how many of them are for this socket.
    pub total: usize,
    pub mine: usize,
    /// First deliveries over every receiver, so the run knows when all have arrived.
    pub delivered: Arc<AtomicU64>,
    pub stop: watch::Receiver<bool>,
}

/// What one receiver got.
pub(super) struct Received {
    /// Delivery latency of each first delivery, in microseconds.
    pub latencies: Vec<u32>,
    /// How many distinct messages arrived carrying each number (saturating).
    pub got: Vec<u8>,
    /// Deliveries of a message id this socket had already had.
    pub duplicates: u64,
    /// `message.created` frames that are not this run's.
    pub foreign: u64,
    /// Why the socket ended before the run did.
    pub lost: Option<String>,
}

/// Reads until told to stop (or the socket ends).
pub(super) async fn receive(mut r: Receiver) -> Received {
    let mut out = Received {
        latencies: Vec::with_capacity(r.mine),
        got: vec![0; r.total],
        duplicates: 0,
        foreign: 0,
        lost: None,
    };
    let mut seen: HashSet<Uuid> = HashSet::with_capacity(r.mine);
    loop {
        let text = tokio::select! {
            biased;
            _ = r.stop.changed() => break,
            text = ws::next_text(&mut r.socket) => text,
        };
        let text = match text {
            Ok(text) => text,
            Err(e) => {
                out.lost = Some(e.to_string());
                return out;
            }
        };
        let now = micros(r.epoch.elapsed());
        if ws::kind(&text) != "message.created" {
            continue;
        }
        let Some((sent, number, id)) = parse(&text).filter(|(_, n, _)| *n < r.total) else {
            out.foreign += 1;
            continue;
        };
        if !seen.insert(id) {
            out.duplicates += 1;
            continue;
        }
        let got = &mut out.got[number];
        if *got == 0 {
            r.delivered.fetch_add(1, Ordering::Relaxed);
            out.latencies.push(now.saturating_sub(sent));
        }
        *got = got.saturating_add(1);
    }
    ws::close(r.socket).await;
    out
}

/// The send time (µs after the epoch), number and id of a `message.created` of this run.
fn parse(text: &str) -> Option<(u32, usize, Uuid)> {
    let frame: Carrying<'_> = serde_json::from_str(text).ok()?;
    let (sent, number) = frame.message.body.split_once(' ')?;
    Some((sent.parse().ok()?, number.parse().ok()?, frame.message.id))
}
