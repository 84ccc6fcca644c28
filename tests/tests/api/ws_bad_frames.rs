//! Frames the server cannot use: each gets an `error` frame (with the frame's `ref` when it had
//! one) and the socket stays open; a frame over 64 KiB closes the socket with 1009, and a text
//! frame that is not UTF-8 with 1007 (RFC 6455) — delivered also to a client that keeps
//! sending, not reset away.

use std::time::Duration;

use confab_tests::chat::id;
use confab_tests::ws::kind;
use confab_tests::{TestServer, Ws};
use futures::{SinkExt, StreamExt};
use serde_json::{Value, json};
use tokio_tungstenite::tungstenite::client::IntoClientRequest;
use tokio_tungstenite::tungstenite::protocol::frame::Frame;
use tokio_tungstenite::tungstenite::protocol::frame::coding::{Data, OpCode};
use tokio_tungstenite::tungstenite::{self, Message};

/// Sends `raw` as a text frame and expects one `error` frame, with `reference` as its ref
/// (`None`: no ref, or a null one), then proves the socket still answers.
async fn refused(ws: &mut Ws, raw: &str, reference: Option<Value>) {
    ws.send_raw(Message::Text(raw.to_owned().into())).await;
    let e = ws.next().await;
    assert_eq!(kind(&e), "error", "{raw} was answered {e}");
    assert_eq!(e["code"], "bad_request", "{raw} was answered {e}");
    assert!(
        e["message"].as_str().is_some_and(|m| !m.is_empty()),
        "{raw} was answered {e}"
    );
    match reference {
        Some(r) => assert_eq!(e["ref"], r, "{raw} was answered {e}"),
        None => assert!(
            e.get("ref").is_none_or(Value::is_null),
            "{raw} was answered {e}"
        ),
    }
    ws.ping().await;
}

async fn malformed_frames_get_an_error_and_the_socket_stays_open(s: &TestServer) {
    let alice = s.register("alice").await;
    let g = id(&s.create_group(&alice, "team", &[]).await);
    let mut ws = s.ws(&alice).await;
    // Not JSON, or JSON that is not an object.
    for raw in [
        "{nope",
        "",
        "   ",
        "[1,2]",
        "\"ping\"",
        "42",
        "null",
        "{\"type\":",
    ] {
        refused(&mut ws, raw, None).await;
    }
    // No type, or one nobody knows: the ref still comes back.
    refused(&mut ws, r#"{"ref": "r1"}"#, Some(json!("r1"))).await;
    refused(&mut ws, r#"{"type": "shout", "ref": 7}"#, Some(json!(7))).await;
    refused(&mut ws, r#"{"type": 5, "ref": "t"}"#, Some(json!("t"))).await;
    refused(
        &mut ws,
        r#"{"type": "MESSAGE.SEND", "ref": "c"}"#,
        Some(json!("c")),
    )
    .await;
    // Missing fields.
    let missing = [
        json!({"type": "message.send", "ref": "m1", "body": "hi"}),
        json!({"type": "message.send", "ref": "m2", "group_id": g}),
        json!({"type": "message.edit", "ref": "m3", "body": "x"}),
        json!({"type": "message.delete", "ref": "m4"}),
        json!({"type": "group.create", "ref": "m5"}),
        json!({"type": "group.update", "ref": "m6", "group_id": g}),
        json!({"type": "group.delete", "ref": "m7"}),
        json!({"type": "member.add", "ref": "m8", "group_id": g}),
        json!({"type": "member.remove", "ref": "m9", "user_id": alice.user_id}),
        json!({"type": "read", "ref": "m10", "group_id": g}),
        json!({"type": "auth", "ref": "m11"}),
        json!({"type": "typing", "ref": "m12"}),
    ];
    // Mistyped fields.
    let mistyped = [
        json!({"type": "message.send", "ref": "t1", "group_id": "not-a-uuid", "body": "hi"}),
        json!({"type": "message.send", "ref": "t2", "group_id": g, "body": 5}),
        json!({"type": "message.send", "ref": "t3", "group_id": g, "body": null}),
        json!({"type": "read", "ref": "t4", "group_id": g, "seq": "3"}),
        json!({"type": "read", "ref": "t5", "group_id": g, "seq": 1.5}),
        json!({"type": "sync", "ref": "t6", "since": [g]}),
        json!({"type": "sync", "ref": "t7", "since": {g.clone(): -1}}),
        json!({"type": "group.create", "ref": "t8", "name": "x", "member_ids": "all"}),
        json!({"type": "auth", "ref": "t9", "token": 12}),
        json!({"type": "message.delete", "ref": "t10", "id": {"id": g}}),
    ];
    for frame in missing.iter().chain(&mistyped) {
        refused(&mut ws, &frame.to_string(), Some(frame["ref"].clone())).await;
    }
    // A command without its ref cannot be answered with one, but is still answered.
    refused(
        &mut ws,
        &json!({"type": "message.send", "group_id": g, "body": "hi"}).to_string(),
        None,
    )
    .await;
    // Binary frames are not accepted, whatever they hold.
    let ping = json!({"type": "ping", "ref": "bin"}).to_string();
    for bytes in [ping.into_bytes(), vec![0, 159, 146, 150], Vec::new()] {
        ws.send_raw(Message::Binary(bytes.into())).await;
        let e = ws.next_of("error").await;
        assert_eq!(e["code"], "bad_request", "{e}");
        ws.ping().await;
    }
    // Nothing was written by any of it.
    assert!(s.all_messages(&alice, &g).await.is_empty());
    ws.ok(json!({"type": "message.send", "ref": "fine", "group_id": g, "body": "still here"}))
        .await;
}

async fn a_frame_of_64_kib_is_read_and_one_over_closes_with_1009(s: &TestServer) {
    let alice = s.register("alice").await;
    let g = id(&s.create_group(&alice, "team", &[]).await);
    let mut ws = s.ws(&alice).await;
    let frame_of = |size: usize| {
        let shell =
            json!({"type": "message.send", "ref": "big", "group_id": g, "body": ""}).to_string();
        let body = "x".repeat(size - shell.len());
        json!({"type": "message.send", "ref": "big", "group_id": g, "body": body}).to_string()
    };
    // Exactly 64 KiB: read and answered (the body is too long for a message).
    let at_limit = frame_of(64 * 1024);
    assert_eq!(at_limit.len(), 64 * 1024);
    ws.send_raw(Message::Text(at_limit.into())).await;
    let e = ws.next_of("error").await;
    assert_eq!(e["code"], "validation_failed", "{e}");
    assert_eq!(e["ref"], "big");
    ws.ping().await;
    // One byte more: the socket is closed with 1009.
    ws.send_raw(Message::Text(frame_of(64 * 1024 + 1).into()))
        .await;
    let before = ws.expect_close(1009, Duration::from_secs(10)).await;
    assert!(before.is_empty(), "{before:?}");
    // Other sockets are unaffected.
    let mut other = s.ws(&alice).await;
    other.ping().await;
}

async fn a_text_frame_that_is_not_utf8_closes_with_1007(s: &TestServer) {
    let alice = s.register("alice").await;
    let mut ws = s.ws(&alice).await;
    let bad = Frame::message(vec![b'{', 0xff, 0xfe, b'}'], OpCode::Data(Data::Text), true);
    ws.send_raw(Message::Frame(bad)).await;
    let before = ws.expect_close(1007, Duration::from_secs(10)).await;
    assert!(before.is_empty(), "{before:?}");
    let mut other = s.ws(&alice).await;
    other.ping().await;
}

/// How a flooding client's socket ended: the close code it read (`None`: none), and the
/// network error its sending half hit before that, if any.
type Flooded = (Option<u16>, Option<String>);

/// Opens a socket, sends one 1 MiB frame and keeps sending more while reading. A client whose
/// connection is reset while it writes loses what it had not read yet (many client libraries
/// drop the whole connection on a failed write), so a reset before the close counts as a loss.
async fn flood_after_an_oversized_frame(s: &TestServer, token: &str) -> Flooded {
    let mut request = s.ws_url().into_client_request().unwrap();
    request
        .headers_mut()
        .insert("authorization", format!("Bearer {token}").parse().unwrap());
    let (socket, _) = tokio_tungstenite::connect_async(request).await.unwrap();
    let (mut tx, mut rx) = socket.split();
    let big = "x".repeat(1024 * 1024);
    let reset = std::sync::Mutex::new(None);
    let flood = async {
        for _ in 0..8 {
            match tx.send(Message::Text(big.clone().into())).await {
                Ok(()) => {}
                Err(tungstenite::Error::Io(e)) => {
                    *reset.lock().unwrap() = Some(e.to_string());
                    break;
                }
                // The client library refusing to send after the close: not the network.
                Err(_) => break,
            }
        }
        std::future::pending::<()>().await;
    };
    let read = async {
        while let Some(frame) = rx.next().await {
            match frame {
                Ok(Message::Close(close)) => return close.map(|c| u16::from(c.code)),
                Ok(_) => {}
                Err(_) => return None,
            }
        }
        None
    };
    let code = tokio::select! {
        code = read => code,
        () = flood => None,
        () = tokio::time::sleep(Duration::from_secs(30)) => panic!("no close within 30 s"),
    };
    let reset = reset.lock().unwrap().take();
    (code, reset)
}

async fn clients_that_keep_sending_after_an_oversized_frame_still_get_1009(s: &TestServer) {
    let alice = s.register("alice").await;
    s.settle().await;
    let ends = futures::future::join_all(
        (0..20).map(|_| flood_after_an_oversized_frame(s, &alice.access)),
    )
    .await;
    assert!(
        ends.iter().all(|end| *end == (Some(1009), None)),
        "how 20 flooding clients' sockets ended (close code, reset while sending): {ends:?}"
    );
}

confab_tests::store_tests!(
    malformed_frames_get_an_error_and_the_socket_stays_open,
    a_frame_of_64_kib_is_read_and_one_over_closes_with_1009,
    a_text_frame_that_is_not_utf8_closes_with_1007,
    clients_that_keep_sending_after_an_oversized_frame_still_get_1009,
);
