//! The writing half of a socket: frames queue in a bounded outbox and go out in order. A close
//! can also be sent past the queue (a full outbox is exactly when the 1013 must still get out).

use axum::extract::ws::{CloseFrame, Message, WebSocket};
use futures::SinkExt;
use futures::stream::SplitSink;
use std::time::Duration;
use tokio::sync::{mpsc, oneshot};

/// What the writer sends.
#[derive(Debug)]
pub enum Outgoing {
    Text(String),
    Ping,
    /// Close after everything queued before it.
    Close(u16, &'static str),
}

/// How long a close may take to go out to a client that does not read.
const CLOSE_TIMEOUT: Duration = Duration::from_secs(5);
/// How long one frame may take to go out; a client that reads nothing for this long is gone.
const WRITE_TIMEOUT: Duration = Duration::from_secs(30);

/// Writes until the outbox closes, a close is sent, or the socket fails.
pub async fn run(
    mut sink: SplitSink<WebSocket, Message>,
    mut outbox: mpsc::Receiver<Outgoing>,
    urgent: oneshot::Receiver<(u16, &'static str)>,
) {
    let mut urgent = Some(urgent);
    loop {
        let next = match urgent.as_mut() {
            Some(close) => tokio::select! {
                biased;
                asked = close => {
                    urgent = None;
                    match asked {
                        Ok((code, reason)) => Outgoing::Close(code, reason),
                        // Nobody will ask for an urgent close any more.
                        Err(_) => continue,
                    }
                }
                item = outbox.recv() => match item {
                    Some(item) => item,
                    None => break,
                },
            },
            None => match outbox.recv().await {
                Some(item) => item,
                None => break,
            },
        };
        let sent = match next {
            Outgoing::Text(text) => {
                tokio::time::timeout(WRITE_TIMEOUT, sink.send(Message::Text(text.into()))).await
            }
            Outgoing::Ping => {
                tokio::time::timeout(WRITE_TIMEOUT, sink.send(Message::Ping(Default::default())))
                    .await
            }
            Outgoing::Close(code, reason) => {
                let frame = CloseFrame {
                    code,
                    reason: reason.into(),
                };
                let _ = tokio::time::timeout(CLOSE_TIMEOUT, sink.send(Message::Close(Some(frame))))
                    .await;
                break;
            }
        };
        if !matches!(sent, Ok(Ok(()))) {
            break;
        }
    }
    let _ = tokio::time::timeout(CLOSE_TIMEOUT, sink.close()).await;
}
