//! A client socket that survives its server's death: every send and read says how it went
//! instead of panicking (the harness's `Ws` fails the test on a send to a dead server), and a
//! close from the server is answered as a client should, so the server's closing handshake
//! does not wait for it.

use std::net::SocketAddr;
use std::time::Duration;

use confab_tests::Ended;
use futures::{SinkExt, StreamExt};
use serde_json::Value;
use tokio::net::TcpStream;
use tokio_tungstenite::WebSocketStream;
use tokio_tungstenite::tungstenite::Message;
use tokio_tungstenite::tungstenite::client::IntoClientRequest;

/// What a read brought.
#[derive(Debug)]
pub enum Got {
    Frame(Value),
    /// The socket ended (then every later read says so again).
    Ended(Ended),
    /// Nothing within the wait.
    Quiet,
}

pub struct Sock {
    stream: WebSocketStream<TcpStream>,
    ended: Option<Ended>,
}

impl Sock {
    /// Opens a socket with `token` and reads its `ready`.
    pub async fn open(addr: SocketAddr, token: &str) -> Self {
        let mut request = format!("ws://{addr}/api/v1/ws")
            .into_client_request()
            .expect("a ws request");
        request.headers_mut().insert(
            "authorization",
            format!("Bearer {token}").parse().expect("a header value"),
        );
        let tcp = TcpStream::connect(addr).await.expect("TCP connect");
        tcp.set_nodelay(true).expect("TCP_NODELAY");
        let (stream, _) = tokio_tungstenite::client_async(request, tcp)
            .await
            .expect("WebSocket handshake");
        let mut sock = Self {
            stream,
            ended: None,
        };
        match sock.recv(Duration::from_secs(10)).await {
            Got::Frame(f) if f["type"] == "ready" => sock,
            other => panic!("the first frame must be ready: {other:?}"),
        }
    }

    /// Sends a JSON text frame; false when the socket can no longer send.
    pub async fn send(&mut self, frame: &Value) -> bool {
        self.ended.is_none()
            && self
                .stream
                .send(Message::Text(frame.to_string().into()))
                .await
                .is_ok()
    }

    /// The next text frame within `wait`.
    pub async fn recv(&mut self, wait: Duration) -> Got {
        if let Some(end) = &self.ended {
            return Got::Ended(end.clone());
        }
        let deadline = tokio::time::Instant::now() + wait;
        loop {
            let end = match tokio::time::timeout_at(deadline, self.stream.next()).await {
                Err(_) => return Got::Quiet,
                Ok(Some(Ok(Message::Text(t)))) => {
                    return Got::Frame(
                        serde_json::from_str(t.as_str())
                            .unwrap_or_else(|e| panic!("a text frame that is not JSON ({e}): {t}")),
                    );
                }
                Ok(Some(Ok(Message::Close(frame)))) => {
                    Ended::Close(frame.map(|f| u16::from(f.code)))
                }
                Ok(Some(Ok(Message::Binary(b)))) => panic!("a binary frame: {b:?}"),
                Ok(Some(Ok(_))) => continue,
                Ok(Some(Err(e))) => Ended::Failed(e.to_string()),
                Ok(None) => Ended::Eof,
            };
            if matches!(end, Ended::Close(_)) {
                // Our side of the closing handshake (tungstenite queued the reply): it goes out
                // on the next poll, which then sees the end.
                let _ = tokio::time::timeout(Duration::from_secs(2), async {
                    while let Some(Ok(_)) = self.stream.next().await {}
                })
                .await;
            }
            self.ended = Some(end.clone());
            return Got::Ended(end);
        }
    }
}
