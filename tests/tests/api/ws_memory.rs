//! Memory under sockets that stop reading, against the real binary: 500 sockets that never read,
//! in a group that gets 8 MB of messages (four times what the kernel's buffers take per socket). Each socket may pin at most about twice
//! `--ws-outbox-bytes` (its queue and the batch its writer is stuck on) before it is closed
//! (1013 when the transport still takes it); the server's resident memory must stay within
//! that bound, and come back down once they are gone. SQLite only: the bound is the socket
//! layer's, not the store's.

use std::sync::atomic::{AtomicU64, Ordering};
use std::time::{Duration, Instant};

use confab_tests::chat::id;
use confab_tests::{Store, TestServer, Token};
use futures::future::join_all;

const NODE: &str = env!("CARGO_BIN_EXE_confab-node");
const SILENT: usize = 500;
const SENDERS: usize = 4;
const PER_SENDER: usize = 175;
/// Characters per message: the most a body may have, each of three bytes (12 KB frames).
const BODY: usize = 4_000;
/// What one silent socket may pin: its outbox (40 KiB by default) and its writer's batch.
const PER_SOCKET: u64 = 2 * 40 * 1024;
/// Allocator and runtime slack on top of that.
const SLACK: u64 = 64 * 1024 * 1024;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn five_hundred_sockets_that_stop_reading_keep_memory_within_the_outbox_bound() {
    let dir = tempfile::tempdir().unwrap();
    let url = format!("sqlite://{}", dir.path().join("confab.db").display());
    let flags = [
        "--request-burst",
        "100000",
        "--requests-per-second",
        "100000",
    ];
    let s = TestServer::spawn(std::path::Path::new(NODE), Store::Sqlite, &url, &flags).await;
    let silent = s.register("silent").await;
    let mut senders = Vec::new();
    for k in 0..SENDERS {
        senders.push(s.register(&format!("sender{k}")).await);
    }
    let mut members: Vec<_> = senders.iter().skip(1).collect();
    members.push(&silent);
    let g = id(&s.create_group(&senders[0], "firehose", &members).await);

    let mut sockets = Vec::with_capacity(SILENT);
    for _ in 0..SILENT {
        let ws = s
            .ws_open(Token::Bearer(&silent.access), Some(4096))
            .await
            .expect("upgraded");
        sockets.push(ws);
    }
    tokio::time::sleep(Duration::from_millis(500)).await;
    let before = s.rss();

    // The group is flooded while the server's memory is sampled; then the last sends'
    // fan-out, the 1013s and the writers' timeouts play out, still sampled.
    let peak = AtomicU64::new(before);
    let sample = async {
        loop {
            peak.fetch_max(s.rss(), Ordering::Relaxed);
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
    };
    let flood = join_all(senders.iter().enumerate().map(|(k, who)| {
        let (s, g) = (&s, &g);
        async move {
            for i in 0..PER_SENDER {
                let mut body = format!("sender {k} message {i} ");
                body.push_str(&"€".repeat(BODY - body.chars().count()));
                s.send(who, g, &body).await;
            }
        }
    }));
    // Then every silent socket is let go: reading at last, each finds what fit in the kernel's
    // buffers and then its end (a 1013 only where the transport still took it).
    let ends = async {
        for ws in &mut sockets {
            let (frames, ended) = ws.read_to_end(Duration::from_secs(5)).await;
            // One that is still open took everything into the kernel's buffers and its
            // outbox, and has now caught up.
            assert!(
                ended.is_some() || frames.len() > SENDERS * PER_SENDER,
                "a silent socket is still open with {} frames read",
                frames.len()
            );
        }
    };
    let started = Instant::now();
    let flood_took = tokio::select! {
        took = async {
            flood.await;
            let took = started.elapsed();
            ends.await;
            took
        } => took,
        () = sample => unreachable!("sampling never ends"),
    };
    let peak = peak.load(Ordering::Relaxed);
    let bound = SILENT as u64 * PER_SOCKET + SLACK;
    eprintln!(
        "RSS before {} MiB, peak {} MiB (bound: +{} MiB), flood took {flood_took:?}",
        before >> 20,
        peak >> 20,
        bound >> 20,
    );
    assert!(
        peak.saturating_sub(before) <= bound,
        "RSS grew by {} MiB under {SILENT} silent sockets; the bound is {} MiB",
        peak.saturating_sub(before) >> 20,
        bound >> 20
    );

    drop(sockets);
    let after = s.rss();
    eprintln!("RSS after the sockets are gone: {} MiB", after >> 20);
    assert!(
        after.saturating_sub(before) <= SLACK,
        "memory was not returned: {} MiB before, {} MiB after",
        before >> 20,
        after >> 20
    );
}
