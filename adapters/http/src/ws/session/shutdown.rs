//! What a session does when the server shuts down: it answers the commands its client had
//! already sent (read off the socket now) before its 1001 goes out. Without this, a command
//! waiting unread when the signal came would be dropped by the closing handshake unanswered,
//! though its client had every reason to expect an answer. It must never wait on a client
//! that keeps sending: it stops at a short quiet gap, a time cap or a frame cap.

use std::time::Duration;

use axum::extract::ws::WebSocket;
use futures::StreamExt;
use futures::stream::SplitStream;
use tokio::time::Instant;

use super::{End, Session};

/// A gap this long with nothing to read means the client's earlier commands are all in. Not
/// shorter: on a busy machine a frame already on its way can take a few milliseconds to be
/// read (CI saw commands sent before the signal left unanswered with 5 ms).
const QUIET: Duration = Duration::from_millis(25);
/// Longest a session spends answering before it closes, whatever the client does.
const MOST_TIME: Duration = Duration::from_millis(500);
/// Most commands answered after the signal.
const MOST_FRAMES: usize = 1024;

impl Session {
    /// Answers what the client sent before the shutdown, in order; the end to close with
    /// (1001, unless a frame itself ended the session).
    pub(super) async fn answer_before_closing(
        &mut self,
        stream: &mut SplitStream<WebSocket>,
    ) -> End {
        let until = Instant::now() + MOST_TIME;
        for _ in 0..MOST_FRAMES {
            // Checked here, not left to the timeout: a timeout whose future is ready returns
            // it even past its deadline, so a client that never stops sending would keep us.
            let now = Instant::now();
            if now >= until {
                break;
            }
            let quiet_until = (now + QUIET).min(until);
            let Ok(incoming) = tokio::time::timeout_at(quiet_until, stream.next()).await else {
                break;
            };
            if let Err(end) = Box::pin(self.on_incoming(incoming)).await {
                return end;
            }
        }
        End::Shutdown
    }
}
