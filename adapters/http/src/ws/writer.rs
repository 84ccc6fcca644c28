//! The writing half of a socket: what the session queued in its [`outbox`](super::outbox) goes
//! out in order; an urgent close goes out past the queue, also in the middle of a write that
//! the client is not reading. A write the client does not take within [`WRITE_TIMEOUT`] drops
//! the socket (after a 1013, if the transport still takes one). It never reads from the socket,
//! and never holds more than one batch of the outbox.

use std::collections::VecDeque;
use std::time::Duration;

use axum::extract::ws::{CloseFrame, Message, WebSocket};
use futures::SinkExt;
use futures::stream::SplitSink;

use super::outbox::{Outgoing, Taker, Work};

/// How long a close may take to go out to a client that does not read.
const CLOSE_TIMEOUT: Duration = Duration::from_secs(5);
/// How long one write may take to go out; a client that reads nothing for this long is gone.
const WRITE_TIMEOUT: Duration = Duration::from_secs(10);
/// The close a stuck write ends with.
const TOO_SLOW: (u16, &str) = (1013, "too slow: reconnect and sync");

/// How a batch's write ended.
enum Written {
    Done,
    /// The socket failed: nothing more can go out.
    Failed,
    /// Stopped for this close: an urgent one, or [`TOO_SLOW`] after [`WRITE_TIMEOUT`].
    Stopped(u16, &'static str),
}

/// Writes until the session is done and everything it queued is written, a close is sent, or
/// the socket fails. Frames that queued while a write was under way go out together, with
/// one flush (one system call), instead of one each.
pub async fn run(mut sink: SplitSink<WebSocket, Message>, outbox: Taker) {
    loop {
        match outbox.take().await {
            Work::Frames(frames) => {
                let (frames, close) = messages(frames);
                match write_all(&mut sink, frames, &outbox).await {
                    Written::Done => {}
                    Written::Failed => break,
                    Written::Stopped(code, reason) => {
                        send_close(&mut sink, code, reason).await;
                        break;
                    }
                }
                if let Some((code, reason)) = close {
                    send_close(&mut sink, code, reason).await;
                    break;
                }
            }
            Work::CloseNow(code, reason) => {
                send_close(&mut sink, code, reason).await;
                break;
            }
            Work::Done => break,
        }
    }
    let _ = tokio::time::timeout(CLOSE_TIMEOUT, sink.close()).await;
}

async fn send_close(sink: &mut SplitSink<WebSocket, Message>, code: u16, reason: &'static str) {
    let frame = CloseFrame {
        code,
        reason: reason.into(),
    };
    let _ = tokio::time::timeout(CLOSE_TIMEOUT, sink.send(Message::Close(Some(frame)))).await;
}

/// The queued frames as messages, up to a close, which ends them and is returned apart (to go
/// out after them; anything queued after a close is not sent).
fn messages(queued: VecDeque<Outgoing>) -> (Vec<Message>, Option<(u16, &'static str)>) {
    let mut frames = Vec::with_capacity(queued.len());
    for item in queued {
        match item {
            Outgoing::Text(text) => frames.push(Message::Text(text)),
            Outgoing::Ping => frames.push(Message::Ping(Default::default())),
            Outgoing::Close(code, reason) => return (frames, Some((code, reason))),
        }
    }
    (frames, None)
}

/// Writes `frames` and flushes once, unless the socket fails, the client stops reading for
/// [`WRITE_TIMEOUT`], or the session asks for an urgent close meanwhile.
async fn write_all(
    sink: &mut SplitSink<WebSocket, Message>,
    frames: Vec<Message>,
    outbox: &Taker,
) -> Written {
    if frames.is_empty() {
        return Written::Done;
    }
    let write = tokio::time::timeout(WRITE_TIMEOUT, async {
        for frame in frames {
            sink.feed(frame).await?;
        }
        sink.flush().await
    });
    // A cancelled write leaves whole frames in the WebSocket's buffer, never half of one on
    // the wire, so a close can still follow it.
    tokio::select! {
        written = write => match written {
            Ok(Ok(())) => Written::Done,
            Ok(Err(_)) => Written::Failed,
            Err(_) => Written::Stopped(TOO_SLOW.0, TOO_SLOW.1),
        },
        (code, reason) = outbox.urgent() => Written::Stopped(code, reason),
    }
}
