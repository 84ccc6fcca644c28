//! A client connection's TCP stream as hyper (and, after an upgrade, the WebSocket) sees it:
//! it reports traffic to the idle watch, carries the connection's place in the caps for as
//! long as it lives, and closes with a lingering close. Closing a socket with unread input
//! makes the kernel answer with a reset, which throws away what the client has not read yet —
//! the last answer, a 1009 or 1007 close frame. So on drop the stream sends its FIN, then reads
//! and discards what still comes until the client closes too, for at most [`LINGER`] (what
//! nginx's `lingering_close` does). This must never hold a descriptor past [`LINGER`], nor more
//! than [`MAX_LINGERING`] of them.

use std::io;
use std::pin::Pin;
use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::task::{Context, Poll};
use std::time::Duration;

use tokio::io::{AsyncRead, AsyncReadExt, AsyncWrite, AsyncWriteExt, ReadBuf};
use tokio::net::TcpStream;

use super::admission::Slot;
use super::idle::Activity;

/// Longest a closed connection is read from, waiting for the client to close its side. Many
/// clients read nothing until what they are writing has gone out (tungstenite flushes before
/// it reads), so this is long enough to take a few MiB from a slow client.
const LINGER: Duration = Duration::from_secs(10);
/// Most connections lingering at once; past it, a connection closes at once.
const MAX_LINGERING: usize = 1024;

static LINGERING: AtomicUsize = AtomicUsize::new(0);

/// A connection's stream; see the module's text.
#[derive(Debug)]
pub struct ConnStream {
    /// Always `Some` until dropped.
    inner: Option<TcpStream>,
    activity: Arc<Activity>,
    /// The client closed its side: nothing to linger for.
    eof: bool,
    slot: Option<Slot>,
}

impl ConnStream {
    pub fn new(inner: TcpStream, activity: Arc<Activity>, slot: Slot) -> Self {
        Self {
            inner: Some(inner),
            activity,
            eof: false,
            slot: Some(slot),
        }
    }

    /// Passes a write's outcome on, telling the idle watch when it moved bytes.
    fn note_written(&self, polled: Poll<io::Result<usize>>) -> Poll<io::Result<usize>> {
        if matches!(polled, Poll::Ready(Ok(n)) if n > 0) {
            self.activity.touch();
        }
        polled
    }

    fn stream(&mut self) -> io::Result<Pin<&mut TcpStream>> {
        self.inner
            .as_mut()
            .map(Pin::new)
            .ok_or_else(|| io::ErrorKind::NotConnected.into())
    }
}

impl AsyncRead for ConnStream {
    fn poll_read(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &mut ReadBuf<'_>,
    ) -> Poll<io::Result<()>> {
        let this = self.get_mut();
        let before = buf.filled().len();
        let polled = this.stream()?.poll_read(cx, buf);
        if let Poll::Ready(Ok(())) = polled {
            if buf.filled().len() > before {
                this.activity.touch();
            } else if buf.remaining() > 0 {
                this.eof = true;
            }
        }
        polled
    }
}

impl AsyncWrite for ConnStream {
    fn poll_write(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &[u8],
    ) -> Poll<io::Result<usize>> {
        let this = self.get_mut();
        let polled = this.stream()?.poll_write(cx, buf);
        this.note_written(polled)
    }

    fn poll_write_vectored(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        bufs: &[io::IoSlice<'_>],
    ) -> Poll<io::Result<usize>> {
        let this = self.get_mut();
        let polled = this.stream()?.poll_write_vectored(cx, bufs);
        this.note_written(polled)
    }

    fn is_write_vectored(&self) -> bool {
        true
    }

    fn poll_flush(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        self.get_mut().stream()?.poll_flush(cx)
    }

    fn poll_shutdown(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        self.get_mut().stream()?.poll_shutdown(cx)
    }
}

impl Drop for ConnStream {
    fn drop(&mut self) {
        let (Some(stream), slot) = (self.inner.take(), self.slot.take()) else {
            return;
        };
        if self.eof || tokio::runtime::Handle::try_current().is_err() {
            return;
        }
        if LINGERING.fetch_add(1, Ordering::Relaxed) >= MAX_LINGERING {
            LINGERING.fetch_sub(1, Ordering::Relaxed);
            return;
        }
        tokio::spawn(async move {
            linger(stream).await;
            LINGERING.fetch_sub(1, Ordering::Relaxed);
            // The descriptor is closed now: the place in the caps is free.
            drop(slot);
        });
    }
}

/// Sends FIN, then reads until the client closes (or [`LINGER`] passes).
async fn linger(mut stream: TcpStream) {
    let _ = tokio::time::timeout(LINGER, async {
        if stream.shutdown().await.is_err() {
            return;
        }
        let mut sink = vec![0u8; 16 * 1024];
        while let Ok(1..) = stream.read(&mut sink).await {}
    })
    .await;
}
