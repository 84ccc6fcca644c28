//! A first end-to-end check of the socket: ready, send, ack, event to another member.

use confab_tests::TestServer;
use futures::{SinkExt, StreamExt};
use serde_json::{Value, json};
use tokio_tungstenite::tungstenite::Message;

async fn next_json(
    ws: &mut tokio_tungstenite::WebSocketStream<
        tokio_tungstenite::MaybeTlsStream<tokio::net::TcpStream>,
    >,
) -> Value {
    loop {
        let msg = tokio::time::timeout(std::time::Duration::from_secs(5), ws.next())
            .await
            .expect("a frame within 5 s")
            .expect("socket open")
            .expect("frame");
        if let Message::Text(t) = msg {
            let frame: Value = serde_json::from_str(t.as_str()).unwrap();
            // Sockets coming and going are the presence suite's business.
            if frame["type"] != "presence" {
                return frame;
            }
        }
    }
}

async fn smoke(s: &TestServer) {
    let alice = s.register("alice").await;
    let bob = s.register("bob").await;
    let g = s
        .post(
            "/groups",
            Some(&alice.access),
            json!({"name": "g", "member_ids": [bob.user_id]}),
        )
        .await;
    let gid = g.json["id"].as_str().unwrap().to_owned();
    let url = format!("ws://{}/api/v1/ws?token={}", s.addr, bob.access);
    let (mut b, _) = tokio_tungstenite::connect_async(url).await.unwrap();
    assert_eq!(next_json(&mut b).await["type"], "ready");
    let url = format!("ws://{}/api/v1/ws?token={}", s.addr, alice.access);
    let (mut a, _) = tokio_tungstenite::connect_async(url).await.unwrap();
    assert_eq!(next_json(&mut a).await["type"], "ready");
    a.send(Message::Text(
        json!({"type": "message.send", "ref": "r1", "group_id": gid, "body": "hi"})
            .to_string()
            .into(),
    ))
    .await
    .unwrap();
    let mut got_ack = false;
    let mut got_event = false;
    for _ in 0..2 {
        let f = next_json(&mut a).await;
        match f["type"].as_str() {
            Some("ack") => got_ack = f["ref"] == "r1" && f["message"]["seq"] == 1,
            Some("message.created") => got_event = true,
            other => panic!("unexpected {other:?}: {f}"),
        }
    }
    assert!(got_ack && got_event);
    let f = next_json(&mut b).await;
    assert_eq!(f["type"], "message.created", "{f}");
    assert_eq!(f["message"]["body"], "hi");
    // HTTP writes reach sockets too.
    s.post(
        &format!("/groups/{gid}/messages"),
        Some(&bob.access),
        json!({"body": "yo"}),
    )
    .await
    .expect(201);
    let f = next_json(&mut a).await;
    assert_eq!(f["message"]["seq"], 2, "{f}");
    // /metrics shows the sockets at work.
    let m = s
        .call(
            reqwest::Method::GET,
            "/metrics",
            None,
            confab_tests::Body::None,
        )
        .await;
    for series in [
        "confab_ws_sockets_connected",
        "confab_ws_frames_in_total{type=\"message.send\"}",
        "confab_ws_frames_out_total{type=\"ready\"}",
        "confab_ws_frames_out_total{type=\"message.created\"}",
        "confab_ws_events_fanned_out_total",
    ] {
        assert!(m.text.contains(series), "{series} missing:\n{}", m.text);
    }
}

confab_tests::store_tests!(smoke);
