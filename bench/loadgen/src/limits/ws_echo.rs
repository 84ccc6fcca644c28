//! The WebSocket side of `limits`: a bare tokio-tungstenite server on 127.0.0.1 that sends
//! every text or binary message straight back, and closed-loop clients each sending a
//! ~200-byte text message and waiting for its echo: the loopback round trips per second this
//! machine allows, with no application in the way.
//!
//! It must never connect anywhere but the echo server it started itself, nor leave that
//! server or its connections running once measured.

use std::net::{Ipv4Addr, SocketAddr};
use std::time::Duration;

use anyhow::{Context, Result, ensure};
use futures::{SinkExt, StreamExt, TryStreamExt, stream};
use tokio::net::{TcpListener, TcpStream};
use tokio::task::JoinSet;
use tokio_tungstenite::tungstenite::{Message, Utf8Bytes};

use super::{RoundTrips, closed_loop, json_of_len};
use crate::ws::{Socket, next_text};

/// The size of each message.
const PAYLOAD_BYTES: usize = 200;
/// Clients connecting at once.
const CONNECT_CONCURRENCY: usize = 64;

/// A client: its socket and the message it sends.
struct Client {
    ws: Socket,
    payload: Utf8Bytes,
}

/// Echo round trips of `clients` closed-loop clients over `window`.
pub(super) async fn measure(window: Duration, clients: usize) -> Result<RoundTrips> {
    let listener = TcpListener::bind((Ipv4Addr::LOCALHOST, 0))
        .await
        .context("binding the echo server")?;
    let addr = listener.local_addr()?;
    let server = tokio::spawn(serve(listener));
    let payload = Utf8Bytes::from(json_of_len(PAYLOAD_BYTES));
    let connected = stream::iter(0..clients)
        .map(|_| connect(addr, payload.clone()))
        .buffer_unordered(CONNECT_CONCURRENCY)
        .try_collect::<Vec<_>>()
        .await;
    let measured = match connected {
        Ok(sockets) => Ok(closed_loop(window, sockets, PAYLOAD_BYTES, echo_once).await),
        Err(e) => Err(e),
    };
    // Ends the server and, with its `JoinSet`, every connection it still serves.
    server.abort();
    measured
}

/// Accepts connections until aborted, echoing on each.
async fn serve(listener: TcpListener) {
    let mut connections = JoinSet::new();
    loop {
        match listener.accept().await {
            Ok((stream, _)) => {
                connections.spawn(echo(stream));
            }
            // Out of file descriptors, say: the client sees its connect fail.
            Err(_) => tokio::time::sleep(Duration::from_millis(10)).await,
        }
        while connections.try_join_next().is_some() {}
    }
}

/// Sends every text or binary message straight back, until the client goes.
async fn echo(stream: TcpStream) {
    let _ = stream.set_nodelay(true);
    let Ok(mut ws) = tokio_tungstenite::accept_async(stream).await else {
        return;
    };
    while let Some(Ok(message)) = ws.next().await {
        let echoed = message.is_text() || message.is_binary();
        if message.is_close() || (echoed && ws.send(message).await.is_err()) {
            return;
        }
    }
}

/// Opens one client socket to the echo server.
async fn connect(addr: SocketAddr, payload: Utf8Bytes) -> Result<Client> {
    let stream = TcpStream::connect(addr)
        .await
        .context("connecting to the echo server")?;
    stream.set_nodelay(true)?;
    let (ws, _) = tokio_tungstenite::client_async(format!("ws://{addr}/"), stream)
        .await
        .context("the WebSocket upgrade failed")?;
    Ok(Client { ws, payload })
}

/// Sends the client's message and waits for its echo.
async fn echo_once(mut client: Client) -> Result<Client> {
    client
        .ws
        .send(Message::Text(client.payload.clone()))
        .await
        .context("sending")?;
    let echoed = next_text(&mut client.ws).await?;
    ensure!(
        echoed.len() == client.payload.len(),
        "the echo has {} bytes, not {}",
        echoed.len(),
        client.payload.len()
    );
    Ok(client)
}
