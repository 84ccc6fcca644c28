//! How sockets end: a client that does not read is closed with 1013 while a reading client on
//! the same group gets everything on time; the server pings idle sockets and drops dead ones;
//! shutdown closes every socket with 1001, after the acks it owes.

use std::collections::HashMap;
use std::time::Duration;

use confab_tests::chat::{id, num};
use confab_tests::ws::kind;
use confab_tests::{Ended, Session, Store, TestServer, Token};
use futures::future::join_all;
use serde_json::json;
use std::time::Instant;

const SENDERS: usize = 4;
/// Enough ~4 KB messages to fill the idle client's (shrunk) receive buffer, the server's send
/// buffer (up to 4 MiB) and the outbox several times over.
const PER_SENDER: usize = 400;

async fn a_client_that_never_reads_is_closed_with_1013_and_slows_no_one(store: Store) {
    let s = TestServer::start_with(
        store,
        &[
            "--ws-outbox",
            "32",
            "--request-burst",
            "100000",
            "--requests-per-second",
            "100000",
        ],
    )
    .await;
    let reader = s.register("reader").await;
    let idle = s.register("idle").await;
    let mut senders = Vec::new();
    for k in 0..SENDERS {
        senders.push(s.register(&format!("sender{k}")).await);
    }
    let mut members: Vec<&Session> = senders.iter().collect();
    members.extend([&reader, &idle]);
    let g = id(&s.create_group(&senders[0], "firehose", &members[1..]).await);

    let mut slow = s
        .ws_open(Token::Bearer(&idle.access), Some(4096))
        .await
        .expect("upgraded");
    slow.expect_ready(&idle).await;
    let mut fast = s.ws(&reader).await;

    let total = SENDERS * PER_SENDER;
    let send_all = async {
        let sent = join_all(senders.iter().enumerate().map(|(k, who)| {
            let g = &g;
            let s = &s;
            async move {
                let mut sent = Vec::new();
                for i in 0..PER_SENDER {
                    let mut body = format!("sender {k} message {i} ");
                    body.push_str(&"x".repeat(4000 - body.len()));
                    let m = s.send(who, g, &body).await;
                    sent.push((num(&m, "seq"), Instant::now()));
                }
                sent
            }
        }))
        .await;
        let done = Instant::now();
        let sent: HashMap<u64, Instant> = sent.into_iter().flatten().collect();
        (sent, done)
    };
    // The reading client runs on a thread of its own, so that it reads as a separate process
    // would, not only when the server's (test) runtime gets round to it.
    let reader = tokio::task::spawn_blocking(move || {
        let runtime = tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()
            .expect("a runtime");
        runtime.block_on(async move {
            let mut got = Vec::new();
            while got.len() < total {
                let f = fast.next().await;
                assert_eq!(kind(&f), "message.created", "{f}");
                got.push((num(&f["message"], "seq"), Instant::now()));
            }
            fast.ping().await;
            got
        })
    });
    let (sent, done) = send_all.await;
    let got = reader.await.expect("the reader");

    // The reader got every message, in order, each soon after its sender's 201.
    let seqs: Vec<u64> = got.iter().map(|(seq, _)| *seq).collect();
    assert_eq!(seqs, (1..=total as u64).collect::<Vec<_>>());
    let worst = got
        .iter()
        .map(|(seq, at)| at.saturating_duration_since(sent[seq]))
        .max()
        .expect("messages");
    assert!(worst < Duration::from_secs(5), "a message took {worst:?}");
    let last = got.last().expect("messages").1;
    assert!(last.saturating_duration_since(done) < Duration::from_secs(5));

    // The idle client, reading at last, finds what fit before its close: 1013.
    let before = slow.expect_close(1013, Duration::from_secs(30)).await;
    // How much fits before the close depends on the kernel's socket buffers (on loopback they
    // can absorb all of it); what matters is the 1013 and that what came is in order.
    assert!(before.len() <= total, "{} of {total} frames", before.len());
    let seqs: Vec<u64> = before.iter().map(|f| num(&f["message"], "seq")).collect();
    assert_eq!(
        seqs,
        (1..=seqs.len() as u64).collect::<Vec<_>>(),
        "in order, no gap"
    );
    eprintln!(
        "the idle client got {} of {total} frames before 1013",
        before.len()
    );
}

/// The client that was closed for being slow resumes with `sync` (API.md) — on a socket with
/// the same small outbox, while it reads as fast as it can. The missed changes must arrive,
/// not another 1013.
async fn a_sync_larger_than_the_outbox_reaches_a_reading_client(store: Store) {
    let s = TestServer::start_with(store, &["--ws-outbox", "8", "--request-burst", "10000"]).await;
    let alice = s.register("alice").await;
    let bob = s.register("bob").await;
    let g = id(&s.create_group(&alice, "team", &[&bob]).await);
    for i in 0..100 {
        s.send(&alice, &g, &format!("missed {i}")).await;
    }
    let mut ws = s.ws(&bob).await;
    ws.send(json!({"type": "sync", "ref": "resume", "since": {g.clone(): 0}}))
        .await;
    let mut frames = Vec::new();
    loop {
        match ws.recv(Duration::from_secs(10)).await {
            Some(f) if kind(&f) == "synced" => break,
            Some(f) => frames.push(f),
            None => panic!(
                "no synced: the socket ended {:?} after {} of 100 changes",
                ws.ended(),
                frames.len()
            ),
        }
    }
    assert_eq!(frames.len(), 100);
}

async fn idle_sockets_are_pinged_and_dead_ones_dropped(store: Store) {
    let s = TestServer::start_with(store, &["--ws-ping-interval", "200ms"]).await;
    let alice = s.register("alice").await;
    let mut alive = s.ws(&alice).await;
    let mut dead = s.ws(&alice).await;
    // Reading (and so answering the server's pings) keeps a silent client alive through
    // several intervals...
    assert!(alive.open_after(Duration::from_millis(1500)).await);
    alive.ping().await;
    // ...while one that never reads nor answers is dropped after about two. (Reading now
    // only finds out.)
    assert!(alive.open_after(Duration::from_millis(1500)).await);
    let frames = dead.collect(Duration::from_secs(10)).await;
    assert!(frames.is_empty(), "{frames:?}");
    assert!(
        matches!(
            dead.ended(),
            Some(Ended::Close(None) | Ended::Eof | Ended::Failed(_))
        ),
        "{:?}",
        dead.ended()
    );
    assert!(alive.open_after(Duration::from_millis(100)).await);
}

async fn shutdown_closes_every_socket_with_1001(store: Store) {
    let mut s = TestServer::start(store).await;
    let alice = s.register("alice").await;
    let bob = s.register("bob").await;
    let g = id(&s.create_group(&alice, "team", &[&bob]).await);
    let mut a1 = s.ws(&alice).await;
    let mut a2 = s.ws(&alice).await;
    let mut b = s.ws(&bob).await;
    a1.ok(json!({"type": "message.send", "ref": 1, "group_id": g, "body": "last words"}))
        .await;
    for ws in [&mut a1, &mut a2, &mut b] {
        ws.ping().await;
    }
    let wait = Duration::from_secs(15);
    let (_, (_, e1), (_, e2), (_, e3)) = tokio::join!(
        s.stop(),
        a1.read_to_end(wait),
        a2.read_to_end(wait),
        b.read_to_end(wait),
    );
    let ends = [e1, e2, e3];
    assert!(
        ends.iter().all(|e| *e == Some(Ended::Close(Some(1001)))),
        "alice's sockets and bob's ended {ends:?}"
    );
}

/// A client still sending when the server shuts down: the acks the server sends are for
/// stored messages, and the socket still ends with 1001 — not with a TCP reset (which the
/// kernel sends when a socket is closed with client data unread, and which discards what
/// the client had not read yet: the last acks and the close frame).
async fn shutdown_of_a_busy_socket_sends_the_acks_it_owes_then_1001(store: Store) {
    let mut s = TestServer::start(store).await;
    let alice = s.register("alice").await;
    let g = id(&s.create_group(&alice, "team", &[]).await);
    let mut ws = s.ws(&alice).await;
    ws.ping().await;
    // ~150 KB of commands: more than the server reads ahead, so some is still unread when it
    // stops.
    for i in 0..50 {
        let body = format!("m{i} {}", "x".repeat(3000));
        ws.send(json!({"type": "message.send", "ref": i, "group_id": g, "body": body}))
            .await;
    }
    s.stop().await;
    // A client that reads a moment later (as any busy client may) must still find it all.
    tokio::time::sleep(Duration::from_millis(300)).await;
    let (frames, end) = ws.read_to_end(Duration::from_secs(15)).await;
    let acked: Vec<_> = frames
        .iter()
        .filter(|f| kind(f) == "ack")
        .map(|f| f["message"].clone())
        .collect();
    // Every ack that went out is for a stored message (whatever was not acked may or may
    // not have been written, as after any crash).
    let s = s.restart().await;
    let stored = s.all_messages(&alice, &g).await;
    for m in &acked {
        assert!(stored.contains(m), "acked but not stored: {m}");
    }
    assert_eq!(
        end,
        Some(Ended::Close(Some(1001))),
        "after {} acks ({} messages stored)",
        acked.len(),
        stored.len()
    );
}

/// A socket whose `ready` has just gone out (the session is still catching up on the user's
/// groups) when the server shuts down is closed with 1001 like any other.
async fn a_socket_that_just_opened_is_closed_by_shutdown_too(store: Store) {
    let mut s = TestServer::start_with(store, &["--shutdown-grace", "2s"]).await;
    let alice = s.register("alice").await;
    let bob = s.register("bob").await;
    // Many groups make the session's start (one read per group after `ready`) take a while.
    for n in 0..200 {
        s.create_group(&alice, &format!("g{n}"), &[&bob]).await;
    }
    s.settle().await;
    let mut ws = s
        .ws_open(Token::Bearer(&bob.access), None)
        .await
        .expect("upgraded");
    ws.expect_ready(&bob).await;
    let (_, (_, end)) = tokio::join!(s.stop(), ws.read_to_end(Duration::from_secs(5)));
    assert_eq!(end, Some(Ended::Close(Some(1001))));
}

confab_tests::store_tests!(; own_server:
    a_client_that_never_reads_is_closed_with_1013_and_slows_no_one,
    a_sync_larger_than_the_outbox_reaches_a_reading_client,
    idle_sockets_are_pinged_and_dead_ones_dropped,
    shutdown_closes_every_socket_with_1001,
    shutdown_of_a_busy_socket_sends_the_acks_it_owes_then_1001,
    a_socket_that_just_opened_is_closed_by_shutdown_too,
);
