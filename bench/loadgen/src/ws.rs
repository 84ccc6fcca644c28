//! WebSocket clients: connecting to `GET /api/v1/ws` with a bearer token, waiting for `ready`,
//! and reading server frames while parsing no more of them than a scenario needs. Connections
//! to a loopback server are spread over the source addresses 127.0.0.x, so that tens of
//! thousands of sockets fit in the ephemeral port range.

use std::borrow::Cow;
use std::io;
use std::net::{IpAddr, Ipv4Addr, SocketAddr};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::Duration;

use anyhow::{Context, Result, anyhow, bail};
use futures::{SinkExt, StreamExt, TryStreamExt, stream};
use serde::Deserialize;
use tokio::net::{TcpSocket, TcpStream};
use tokio_tungstenite::WebSocketStream;
use tokio_tungstenite::tungstenite::client::IntoClientRequest;
use tokio_tungstenite::tungstenite::http::{HeaderValue, header::AUTHORIZATION};
use tokio_tungstenite::tungstenite::protocol::WebSocketConfig;
use tokio_tungstenite::tungstenite::{Message, Utf8Bytes};
use uuid::Uuid;

/// One client socket.
pub type Socket = WebSocketStream<TcpStream>;

/// The read buffer of a socket that receives a lot, and of one that mostly idles.
pub const BUSY_BUFFER: usize = 16 * 1024;
pub const IDLE_BUFFER: usize = 4 * 1024;
/// How long a socket may take from connecting to its `ready` frame.
pub const READY_TIMEOUT: Duration = Duration::from_secs(60);

/// Loopback connections per source address before the next one is used (the default
/// ephemeral port range holds about 28,000).
const PER_SOURCE: usize = 20_000;
static NEXT_SLOT: AtomicUsize = AtomicUsize::new(0);

/// Where a server's sockets are: its address and its WebSocket URL.
#[derive(Clone, Debug)]
pub struct Target {
    addr: SocketAddr,
    url: String,
}

impl Target {
    /// The WebSocket endpoint of the server at `base` (`http://host:port`).
    pub fn resolve(base: &reqwest::Url) -> Result<Self> {
        if base.scheme() != "http" {
            bail!("{base}: only http:// URLs are supported (the bench speaks no TLS)");
        }
        let addr = base
            .socket_addrs(|| None)
            .with_context(|| format!("resolving {base}"))?
            .into_iter()
            .next()
            .with_context(|| format!("{base} resolves to no address"))?;
        Ok(Self {
            addr,
            url: format!("ws://{addr}/api/v1/ws"),
        })
    }
}

/// Opens a socket with `token` (not yet past `ready`).
pub async fn connect(target: &Target, token: &str, read_buffer: usize) -> Result<Socket> {
    let socket = match target.addr {
        SocketAddr::V4(_) => TcpSocket::new_v4(),
        SocketAddr::V6(_) => TcpSocket::new_v6(),
    }
    .map_err(opening)?;
    if let IpAddr::V4(ip) = target.addr.ip() {
        let n = (NEXT_SLOT.fetch_add(1, Ordering::Relaxed) / PER_SOURCE) % 250;
        if ip.is_loopback() && n > 0 {
            let source = Ipv4Addr::new(127, 0, 0, 1 + n as u8);
            socket
                .bind(SocketAddr::new(source.into(), 0))
                .map_err(opening)?;
        }
    }
    let stream = socket.connect(target.addr).await.map_err(opening)?;
    stream.set_nodelay(true)?;
    let mut request = target.url.as_str().into_client_request()?;
    request.headers_mut().insert(
        AUTHORIZATION,
        HeaderValue::from_str(&format!("Bearer {token}"))?,
    );
    let config = WebSocketConfig::default()
        .read_buffer_size(read_buffer)
        .write_buffer_size(0);
    let (ws, _) = tokio_tungstenite::client_async_with_config(request, stream, Some(config))
        .await
        .context("the WebSocket upgrade failed")?;
    Ok(ws)
}

/// Opens a socket and waits for its `ready` frame.
pub async fn connect_ready(target: &Target, token: &str, read_buffer: usize) -> Result<Socket> {
    let mut ws = connect(target, token, read_buffer).await?;
    tokio::time::timeout(READY_TIMEOUT, async {
        loop {
            let text = next_text(&mut ws).await?;
            if kind(&text) == "ready" {
                return Ok::<_, anyhow::Error>(());
            }
        }
    })
    .await
    .context("no `ready` frame in time")??;
    Ok(ws)
}

/// Opens one socket past `ready` per `(target, token)`, `concurrency` at a time, in order.
pub async fn open_all(
    targets: &[Target],
    who: Vec<(usize, String)>,
    read_buffer: usize,
    concurrency: usize,
) -> Result<Vec<Socket>> {
    stream::iter(who)
        .map(|(t, token)| {
            let target = &targets[t % targets.len()];
            async move { connect_ready(target, &token, read_buffer).await }
        })
        .buffered(concurrency.max(1))
        .try_collect()
        .await
}

/// The next text frame; an error once the socket is closed or broken. Pings are answered by
/// tungstenite itself on the next read or write.
pub async fn next_text(ws: &mut Socket) -> Result<Utf8Bytes> {
    while let Some(message) = ws.next().await {
        match message.context("the socket failed")? {
            Message::Text(text) => return Ok(text),
            Message::Close(frame) => {
                let code = frame.map(|f| u16::from(f.code));
                bail!("the server closed the socket (code {code:?})");
            }
            _ => {}
        }
    }
    Err(anyhow!("the socket ended without a close frame"))
}

/// Sends one text frame.
pub async fn send_text(ws: &mut Socket, text: String) -> Result<()> {
    ws.send(Message::text(text))
        .await
        .context("sending on the socket")
}

/// Closes a socket politely (1000); errors do not matter any more.
pub async fn close(mut ws: Socket) {
    let _ = ws.close(None).await;
}

/// A frame's `type`, read from the front of the text when it starts there (as the server
/// writes it), else parsed.
pub fn kind(text: &str) -> Cow<'_, str> {
    const HEAD: &str = "{\"type\":\"";
    let quick = text
        .strip_prefix(HEAD)
        .and_then(|rest| rest.find('"').map(|end| &rest[..end]));
    if let Some(kind) = quick {
        return Cow::Borrowed(kind);
    }
    #[derive(Deserialize)]
    struct Kind<'a> {
        #[serde(rename = "type", borrow)]
        kind: Cow<'a, str>,
    }
    serde_json::from_str::<Kind<'_>>(text).map_or(Cow::Borrowed(""), |k| k.kind)
}

/// A frame carrying a message: `message.created {message}` or `ack {ref, message}`.
#[derive(Debug, Deserialize)]
pub struct Carrying<'a> {
    #[serde(rename = "ref")]
    pub reference: Option<u64>,
    #[serde(borrow)]
    pub message: MessageView<'a>,
}

/// The parts of a `message` the scenarios read.
#[derive(Debug, Deserialize)]
pub struct MessageView<'a> {
    pub id: Uuid,
    pub group_id: Uuid,
    pub rev: u64,
    #[serde(borrow)]
    pub body: Cow<'a, str>,
}

/// A frame answering a `ref`: `synced`, `error`, `ack` without a message.
#[derive(Debug, Deserialize)]
pub struct Answer<'a> {
    #[serde(rename = "ref")]
    pub reference: Option<u64>,
    #[serde(borrow, default)]
    pub code: Option<Cow<'a, str>>,
}

/// The `message.send` frame of message `reference`; `body` and `client_id` must need no JSON
/// escaping (the bench's own are digits, letters, `-` and spaces).
pub fn send_frame(
    reference: u64,
    group: &str,
    body: std::fmt::Arguments<'_>,
    client_id: std::fmt::Arguments<'_>,
) -> String {
    format!(
        "{{\"type\":\"message.send\",\"ref\":{reference},\"group_id\":\"{group}\",\"body\":\"{body}\",\"client_id\":\"{client_id}\"}}"
    )
}

/// Turns a failed socket open into an error that says what to do about it.
fn opening(e: io::Error) -> anyhow::Error {
    match e.raw_os_error() {
        Some(23 | 24) => anyhow!(
            "cannot open another socket ({e}): raise the limit, e.g. `ulimit -n 65536`, \
             and run again"
        ),
        Some(99) => anyhow!("out of local ports ({e}): use fewer sockets or more source addresses"),
        _ => anyhow::Error::new(e).context("connecting"),
    }
}
