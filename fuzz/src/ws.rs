//! The WebSocket: `ws_frame` feeds one text frame's payload to the session's decoding
//! (`ws/session/mod.rs`, `on_text`: JSON, then the `ref`, then `ClientFrame`) and each command
//! to the checks its use case makes first (`ws/session/commands.rs`), then encodes the answer
//! the session would send (`ack`, `pong`, `synced` or `error` with the command's `ref`);
//! `ws_socket` feeds raw bytes, as the client side of a connection, to tokio-tungstenite
//! configured as the server configures it (`ws/mod.rs`: 64 KiB frames and messages, 1 KiB read
//! and 4 KiB write buffers, masking required), over an in-memory stream, and runs every text
//! frame that comes out through the same path, writing the answers back.
//!
//! Whatever the bytes: no panic; every answer encodes (a frame that does not would end the
//! session with 1011), is a JSON object of its type, and echoes the client's `ref`; every
//! refusal is a 4xx.

use std::cell::RefCell;

use confab_http::fuzzing::ApiError;
use confab_http::fuzzing::frames::{ClientFrame, ServerFrame};
use confab_ports::Error;
use futures::{SinkExt, StreamExt};
use serde_json::Value;
use tokio::io::{AsyncReadExt, AsyncWriteExt, DuplexStream};
use tokio_tungstenite::WebSocketStream;
use tokio_tungstenite::tungstenite::protocol::{Role, WebSocketConfig};
use tokio_tungstenite::tungstenite::{Error as WsError, Message};

use crate::bodies;

/// The server's socket settings (`adapters/http/src/ws/mod.rs`: `MAX_FRAME`, `READ_BUFFER`,
/// `WRITE_BUFFER`, private there): keep them equal.
pub const MAX_FRAME: usize = 64 * 1024;
pub const READ_BUFFER: usize = 1024;
pub const WRITE_BUFFER: usize = 4 * 1024;

pub fn ws_frame(data: &[u8]) {
    // A text frame's payload is UTF-8 (tungstenite refuses any other), so only that reaches
    // the session.
    if let Ok(text) = std::str::from_utf8(data) {
        on_text(text);
    }
}

/// The session's handling of one text frame: the frames it would send back, encoded.
pub fn on_text(text: &str) -> Vec<String> {
    let value: Value = match serde_json::from_str(text) {
        Ok(v) => v,
        Err(e) => {
            return vec![refuse(
                None,
                ApiError::bad_request(format!("not JSON: {e}")),
            )];
        }
    };
    let reference = value.get("ref").cloned();
    let frame: ClientFrame = match serde_json::from_value(value) {
        Ok(f) => f,
        Err(e) => {
            return vec![refuse(
                reference,
                ApiError::bad_request(format!("bad frame: {e}")),
            )];
        }
    };
    assert!(!frame.kind().is_empty());
    command(frame)
}

/// `Session::on_frame`: each command's checks, then its answer.
fn command(frame: ClientFrame) -> Vec<String> {
    let answer = |reference: Value, checked: Result<(), ApiError>| match checked {
        Ok(()) => encode(&ServerFrame::ack(reference.clone()), Some(&reference)),
        Err(e) => refuse(Some(reference), e),
    };
    // Typing and read are answered only when they fail.
    let quiet = |reference: Option<Value>, checked: Result<(), ApiError>| match checked {
        Ok(()) => Vec::new(),
        Err(e) => vec![refuse(reference, e)],
    };
    match frame {
        ClientFrame::MessageSend {
            reference,
            body,
            client_id,
            ..
        } => vec![answer(
            reference,
            bodies::send_message(&body, client_id.as_deref()),
        )],
        ClientFrame::MessageEdit {
            reference, body, ..
        } => vec![answer(reference, bodies::send_message(&body, None))],
        ClientFrame::MessageDelete { reference, .. }
        | ClientFrame::GroupDelete { reference, .. }
        | ClientFrame::MemberRemove { reference, .. } => vec![answer(reference, Ok(()))],
        ClientFrame::GroupCreate {
            reference,
            name,
            member_ids,
        } => {
            let checked = confab_domain::GroupName::parse(&name)
                .map_err(|e| ApiError::from(Error::from(e)))
                .and_then(|_| {
                    if member_ids.unwrap_or_default().len()
                        > confab_ports::service::MAX_INITIAL_MEMBERS
                    {
                        Err(ApiError::from(Error::invalid("member_ids", "too many")))
                    } else {
                        Ok(())
                    }
                });
            vec![answer(reference, checked)]
        }
        ClientFrame::GroupUpdate {
            reference, name, ..
        } => {
            let checked = confab_domain::GroupName::parse(&name)
                .map(|_| ())
                .map_err(|e| ApiError::from(Error::from(e)));
            vec![answer(reference, checked)]
        }
        ClientFrame::MemberAdd {
            reference, role, ..
        } => vec![answer(reference, bodies::add_member(role.as_deref()))],
        // `Conversations::react`: one emoji, or 422, before the store is asked.
        ClientFrame::ReactionAdd {
            reference, emoji, ..
        }
        | ClientFrame::ReactionRemove {
            reference, emoji, ..
        } => {
            let checked = confab_domain::Emoji::parse(&emoji)
                .map(|_| ())
                .map_err(|e| ApiError::from(Error::from(e)));
            vec![answer(reference, checked)]
        }
        ClientFrame::Typing { reference, .. } => quiet(reference, Ok(())),
        ClientFrame::Read { reference, seq, .. } => quiet(reference, bodies::read(seq)),
        ClientFrame::Ping { reference } => {
            vec![encode(
                &ServerFrame::Pong {
                    reference: reference.clone(),
                },
                reference.as_ref(),
            )]
        }
        ClientFrame::Auth { reference, token } => {
            // `Session::renew` → `Accounts::authenticate_until` → the verifier.
            let checked = match crate::jwt::verify(&token) {
                Some(_) => Ok(()),
                None => Err(ApiError::from(Error::Unauthorized(
                    confab_ports::AuthFailure::InvalidToken,
                ))),
            };
            vec![answer(reference, checked)]
        }
        ClientFrame::Sync { reference, since } => {
            // Each group's changes after `since` come from the store; then `synced`.
            assert!(since.len() <= MAX_FRAME);
            vec![encode(
                &ServerFrame::Synced {
                    reference: reference.clone(),
                },
                Some(&reference),
            )]
        }
    }
}

/// The `error` frame for a refusal, which must be a client error.
fn refuse(reference: Option<Value>, e: ApiError) -> String {
    assert!(
        e.status.is_client_error(),
        "a frame was answered {}: {}",
        e.status,
        e.message
    );
    let frame = ServerFrame::Error {
        reference: reference.clone(),
        code: e.code,
        message: e.message.clone(),
        field: e.field,
    };
    let text = encode(&frame, reference.as_ref());
    crate::check_client_error(e);
    text
}

/// `session::encode`: a frame's JSON text, which must be an object of its type carrying the
/// client's `ref` (absent when it had none, for the frames that may omit it).
fn encode(frame: &ServerFrame, reference: Option<&Value>) -> String {
    let text = serde_json::to_string(frame)
        .unwrap_or_else(|e| panic!("a {} frame does not encode: {e}", frame.kind()));
    let back: Value = serde_json::from_str(&text)
        .unwrap_or_else(|e| panic!("a {} frame is not JSON ({e}): {text}", frame.kind()));
    assert_eq!(back["type"], frame.kind(), "{text}");
    match reference {
        Some(r) => assert!(
            back.get("ref") == Some(r),
            "{text} does not echo the ref {r}"
        ),
        None => assert!(back.get("ref").is_none_or(Value::is_null), "{text}"),
    }
    text
}

thread_local! {
    static RUNTIME: RefCell<Option<tokio::runtime::Runtime>> = const { RefCell::new(None) };
}

/// Raw bytes from a client, through the server's WebSocket layer.
pub fn ws_socket(data: &[u8]) {
    RUNTIME.with(|cell| {
        let mut slot = cell.borrow_mut();
        let runtime = slot.get_or_insert_with(|| {
            tokio::runtime::Builder::new_current_thread()
                .build()
                .unwrap_or_else(|e| panic!("a current-thread runtime: {e}"))
        });
        runtime.block_on(socket(data));
    });
}

async fn socket(data: &[u8]) {
    let (client, server) = tokio::io::duplex(16 * 1024);
    let config = WebSocketConfig::default()
        .read_buffer_size(READ_BUFFER)
        .write_buffer_size(WRITE_BUFFER)
        .max_message_size(Some(MAX_FRAME))
        .max_frame_size(Some(MAX_FRAME));
    let ws = WebSocketStream::from_raw_socket(server, Role::Server, Some(config)).await;
    let (mut from_client, mut to_client) = tokio::io::split(client);
    let send = async move {
        // The server may stop reading (a protocol error) and go away: the rest is refused.
        if to_client.write_all(data).await.is_ok() {
            let _ = to_client.shutdown().await;
        }
    };
    let receive = async move {
        let mut sink = Vec::new();
        let _ = from_client.read_to_end(&mut sink).await;
    };
    tokio::join!(send, receive, serve(ws));
}

/// `Session::on_incoming`: text frames are commands, binary ones are refused, control frames
/// are tungstenite's business, a close or an error ends the session.
async fn serve(mut ws: WebSocketStream<DuplexStream>) {
    while let Some(incoming) = ws.next().await {
        let answers = match incoming {
            Ok(Message::Text(text)) => on_text(text.as_str()),
            Ok(Message::Binary(_)) => vec![refuse(
                None,
                ApiError::bad_request("binary frames are not accepted; send JSON text frames"),
            )],
            Ok(Message::Ping(_) | Message::Pong(_) | Message::Frame(_)) => Vec::new(),
            Ok(Message::Close(_)) => break,
            Err(e) => {
                // Over the limit is 1009; anything else ends the session quietly.
                if let WsError::Capacity(_) = e {
                    let _ = ws.close(None).await;
                }
                break;
            }
        };
        for text in answers {
            if ws.send(Message::Text(text.into())).await.is_err() {
                return;
            }
        }
    }
}
