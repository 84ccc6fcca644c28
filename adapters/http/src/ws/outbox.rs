//! A socket's outbox: the frames its session has queued and its writer has not yet written.
//!
//! A queue bounded in frames and in bytes, with one producer (the session) and one consumer
//! (the writer), built for many idle sockets: an empty outbox holds no buffer (the writer takes the queued frames as a
//! whole and the next frame starts a fresh one), so an idle socket costs a few words here, not
//! a preallocated channel block. A close can be put past the queue: a full outbox is exactly
//! when the 1013 must still get out. It must never block the session without a time limit.

use std::collections::VecDeque;
use std::sync::{Arc, Mutex, MutexGuard};
use std::time::Duration;

use axum::extract::ws::Utf8Bytes;
use tokio::sync::Notify;

/// What the writer sends.
#[derive(Debug)]
pub enum Outgoing {
    /// A frame's JSON; shared bytes, so a frame sent to many sockets is held once.
    Text(Utf8Bytes),
    Ping,
    /// Close after everything queued before it.
    Close(u16, &'static str),
}

impl Outgoing {
    /// The bytes it holds (a shared frame counts whole for every socket it waits in, though
    /// its bytes exist once: the bound is what a socket may pin, not what it allocated).
    fn size(&self) -> usize {
        match self {
            Outgoing::Text(text) => text.len(),
            Outgoing::Ping | Outgoing::Close(..) => 0,
        }
    }
}

/// The outbox is full (or its writer is gone): the client is too slow.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Full;

/// What the writer gets when it asks for work.
#[derive(Debug)]
pub enum Work {
    /// Frames to write, in order.
    Frames(VecDeque<Outgoing>),
    /// Close now with this code, whatever is still queued.
    CloseNow(u16, &'static str),
    /// The session is gone and everything it queued was taken: the writer is done.
    Done,
}

#[derive(Default)]
struct Queue {
    items: VecDeque<Outgoing>,
    /// The text bytes of `items`.
    bytes: usize,
    urgent: Option<(u16, &'static str)>,
    /// The session dropped its end.
    finished: bool,
    /// The writer stopped: nothing queued from now on is written.
    writer_gone: bool,
}

struct Shared {
    queue: Mutex<Queue>,
    capacity: usize,
    /// Most text bytes queued; one frame is let in whatever its size when the queue is empty.
    max_bytes: usize,
    /// Wakes the writer: something was queued, or the session finished.
    work: Notify,
    /// Wakes the session: the writer took what was queued.
    room: Notify,
}

impl Shared {
    fn lock(&self) -> MutexGuard<'_, Queue> {
        self.queue.lock().unwrap_or_else(|p| p.into_inner())
    }
}

/// The session's end: queues frames.
pub struct Outbox {
    shared: Arc<Shared>,
}

/// The writer's end: takes what was queued.
pub struct Taker {
    shared: Arc<Shared>,
}

/// An outbox holding at most `capacity` frames and `max_bytes` bytes of text, and the writer's
/// end of it.
pub fn outbox(capacity: usize, max_bytes: usize) -> (Outbox, Taker) {
    let shared = Arc::new(Shared {
        queue: Mutex::new(Queue::default()),
        capacity: capacity.max(1),
        max_bytes,
        work: Notify::new(),
        room: Notify::new(),
    });
    (
        Outbox {
            shared: Arc::clone(&shared),
        },
        Taker { shared },
    )
}

/// Why a frame was not queued.
enum Refused {
    /// No room now; the frame comes back.
    Full(Outgoing),
    /// The writer is gone; nothing will be written.
    Gone,
}

impl Outbox {
    fn offer(&self, item: Outgoing) -> Result<(), Refused> {
        let mut queue = self.shared.lock();
        if queue.writer_gone {
            return Err(Refused::Gone);
        }
        let size = item.size();
        let over_bytes = !queue.items.is_empty() && queue.bytes + size > self.shared.max_bytes;
        if queue.items.len() >= self.shared.capacity || over_bytes {
            return Err(Refused::Full(item));
        }
        queue.bytes += size;
        queue.items.push_back(item);
        drop(queue);
        self.shared.work.notify_one();
        Ok(())
    }

    /// Queues `item` if there is room now.
    pub fn try_push(&self, item: Outgoing) -> Result<(), Full> {
        self.offer(item).map_err(|_| Full)
    }

    /// Queues `item`, waiting at most `wait` for room.
    pub async fn push(&self, item: Outgoing, wait: Duration) -> Result<(), Full> {
        let deadline = tokio::time::Instant::now() + wait;
        let mut item = item;
        loop {
            // `notify_one` keeps a wake-up for a waiter that comes later, so a take between
            // the offer and the wait is not missed.
            match self.offer(item) {
                Ok(()) => return Ok(()),
                Err(Refused::Gone) => return Err(Full),
                Err(Refused::Full(back)) => item = back,
            }
            if tokio::time::timeout_at(deadline, self.shared.room.notified())
                .await
                .is_err()
            {
                return Err(Full);
            }
        }
    }

    /// Closes the socket with `code` at once, past whatever is queued.
    pub fn close_now(&self, code: u16, reason: &'static str) {
        self.shared.lock().urgent = Some((code, reason));
        self.shared.work.notify_one();
    }
}

impl Drop for Outbox {
    fn drop(&mut self) {
        self.shared.lock().finished = true;
        self.shared.work.notify_one();
    }
}

impl Taker {
    /// Waits for work: an urgent close first, else everything queued, else the end.
    pub async fn take(&self) -> Work {
        loop {
            let work = self.shared.work.notified();
            {
                let mut queue = self.shared.lock();
                if let Some((code, reason)) = queue.urgent.take() {
                    return Work::CloseNow(code, reason);
                }
                if !queue.items.is_empty() {
                    let frames = std::mem::take(&mut queue.items);
                    queue.bytes = 0;
                    drop(queue);
                    self.shared.room.notify_one();
                    return Work::Frames(frames);
                }
                if queue.finished {
                    return Work::Done;
                }
            }
            work.await;
        }
    }
}

impl Taker {
    /// Completes when the session asks for an urgent close (taking it): a writer stuck on a
    /// client that does not read stops writing at once and tries to say why.
    pub async fn urgent(&self) -> (u16, &'static str) {
        loop {
            let work = self.shared.work.notified();
            if let Some(close) = self.shared.lock().urgent.take() {
                return close;
            }
            work.await;
        }
    }
}

impl Drop for Taker {
    fn drop(&mut self) {
        self.shared.lock().writer_gone = true;
        self.shared.room.notify_one();
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn text(s: &str) -> Outgoing {
        Outgoing::Text(Utf8Bytes::from(s.to_owned()))
    }

    fn texts(work: Work) -> Vec<String> {
        match work {
            Work::Frames(frames) => frames
                .into_iter()
                .map(|f| match f {
                    Outgoing::Text(t) => t.as_str().to_owned(),
                    Outgoing::Ping => "ping".to_owned(),
                    Outgoing::Close(code, _) => format!("close {code}"),
                })
                .collect(),
            other => panic!("expected frames, got {other:?}"),
        }
    }

    #[tokio::test]
    async fn the_writer_takes_everything_queued_in_order_and_then_the_end() {
        let (outbox, taker) = outbox(8, 1 << 20);
        outbox.try_push(text("a")).unwrap();
        outbox.try_push(Outgoing::Ping).unwrap();
        outbox.try_push(text("b")).unwrap();
        assert_eq!(texts(taker.take().await), ["a", "ping", "b"]);
        outbox.try_push(text("c")).unwrap();
        drop(outbox);
        // What was queued before the session ended still goes out, then the end.
        assert_eq!(texts(taker.take().await), ["c"]);
        assert!(matches!(taker.take().await, Work::Done));
    }

    #[tokio::test]
    async fn a_full_outbox_refuses_at_once_and_a_push_waits_only_its_time() {
        let (outbox, taker) = outbox(2, 1 << 20);
        outbox.try_push(text("a")).unwrap();
        outbox.try_push(text("b")).unwrap();
        assert_eq!(outbox.try_push(text("c")), Err(Full));
        let started = tokio::time::Instant::now();
        let waited = outbox.push(text("c"), Duration::from_millis(50)).await;
        assert_eq!(waited, Err(Full));
        assert!(started.elapsed() >= Duration::from_millis(50));
        // Room made while a push waits lets it in.
        let pushing = tokio::spawn(async move {
            let r = outbox.push(text("c"), Duration::from_secs(5)).await;
            (outbox, r)
        });
        tokio::time::sleep(Duration::from_millis(20)).await;
        assert_eq!(texts(taker.take().await), ["a", "b"]);
        let (outbox, pushed) = pushing.await.unwrap();
        assert_eq!(pushed, Ok(()));
        assert_eq!(texts(taker.take().await), ["c"]);
        drop(outbox);
    }

    #[tokio::test]
    async fn the_bytes_queued_are_bounded_but_one_frame_always_fits() {
        let (outbox, taker) = outbox(1000, 10);
        let big = "x".repeat(25);
        outbox.try_push(text(&big)).unwrap();
        assert_eq!(outbox.try_push(text("a")), Err(Full), "over the bytes");
        assert_eq!(texts(taker.take().await), [big.as_str()]);
        outbox.try_push(text("12345")).unwrap();
        outbox.try_push(text("67890")).unwrap();
        assert_eq!(outbox.try_push(text("!")), Err(Full));
        outbox.try_push(Outgoing::Ping).unwrap();
        assert_eq!(texts(taker.take().await), ["12345", "67890", "ping"]);
        outbox.try_push(text("0123456789")).unwrap();
    }

    #[tokio::test]
    async fn an_urgent_close_goes_past_the_queue() {
        let (outbox, taker) = outbox(2, 1 << 20);
        outbox.try_push(text("a")).unwrap();
        outbox.try_push(text("b")).unwrap();
        outbox.close_now(1013, "too slow");
        assert!(matches!(taker.take().await, Work::CloseNow(1013, _)));
    }

    #[tokio::test]
    async fn nothing_is_queued_once_the_writer_is_gone() {
        let (outbox, taker) = outbox(2, 1 << 20);
        drop(taker);
        assert_eq!(outbox.try_push(text("a")), Err(Full));
        assert_eq!(
            outbox.push(text("a"), Duration::from_secs(5)).await,
            Err(Full),
            "a push does not wait for a writer that is gone"
        );
    }

    #[tokio::test]
    async fn an_empty_outbox_holds_no_buffer() {
        let (outbox, taker) = outbox(8, 1 << 20);
        for _ in 0..8 {
            outbox.try_push(text("x")).unwrap();
        }
        let _ = taker.take().await;
        assert_eq!(outbox.shared.lock().items.capacity(), 0);
    }
}
