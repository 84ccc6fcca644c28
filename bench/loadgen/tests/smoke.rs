//! The load generator's smoke test, so it cannot rot: each scenario once, at a tiny size,
//! against a real server started in process (`limits` against none), with its summary checked
//! for sanity.

use confab_bench::{
    FanoutConfig, IdleConfig, LimitsConfig, Over, PresenceConfig, SendsConfig, StormConfig,
    Summary, fanout, idle, limits, presence, sends, storm,
};
use confab_tests::{Store, TestServer};

async fn server() -> TestServer {
    TestServer::start_with(
        Store::Sqlite,
        &[
            "--request-burst",
            "100000",
            "--requests-per-second",
            "100000",
        ],
    )
    .await
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn sends_over_http_and_over_the_socket() {
    let server = server().await;
    for over in [Over::Http, Over::Ws] {
        let cfg = SendsConfig {
            url: format!("http://{}", server.addr),
            senders: 2,
            groups: 1,
            seconds: 1.0,
            warmup: 0.2,
            over,
            // Over the socket on a schedule, over HTTP closed-loop: both paths run.
            rate: (over == Over::Ws).then_some(40.0),
        };
        let summary = sends(&cfg).await.unwrap();
        println!("{}", summary.line());
        assert!(summary.acked > 0, "{summary:?}");
        assert_eq!(summary.errors, 0, "{summary:?}");
        assert_eq!(summary.ack_latency.count as u64, summary.acked);
        assert!(summary.ack_latency.p50_ms <= summary.ack_latency.max_ms);
        // The commit counter is reported when the server has one, and never invented.
        assert_eq!(
            summary.commits.is_some(),
            !summary.commit_metrics.is_empty()
        );
        serde_json::to_string(&summary).unwrap();
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn fanout_delivers_every_message_once() {
    let server = server().await;
    let cfg = FanoutConfig {
        urls: vec![format!("http://{}", server.addr)],
        sockets: 5,
        senders: 2,
        rate: 20.0,
        seconds: 1.0,
        groups: 1,
        over: Over::Http,
        drain: 5.0,
    };
    let summary = fanout(&cfg).await.unwrap();
    println!("{}", summary.line());
    assert_eq!(summary.sent, 20, "{summary:?}");
    assert_eq!(summary.expected, 100);
    assert_eq!(summary.delivered_ratio, 1.0, "{summary:?}");
    assert_eq!(summary.duplicates, 0);
    assert_eq!(summary.missing + summary.unexpected + summary.foreign, 0);
    assert_eq!(summary.lost_sockets, 0);
    assert_eq!(summary.delivery_latency.count, 100);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn fanout_over_the_socket_into_two_groups() {
    let server = server().await;
    let cfg = FanoutConfig {
        urls: vec![format!("http://{}", server.addr)],
        sockets: 4,
        senders: 2,
        rate: 20.0,
        seconds: 1.0,
        groups: 2,
        over: Over::Ws,
        drain: 5.0,
    };
    let summary = fanout(&cfg).await.unwrap();
    println!("{}", summary.line());
    // Each group's 10 messages reach its 2 sockets.
    assert_eq!(summary.sent, 20, "{summary:?}");
    assert_eq!(summary.expected, 40);
    assert_eq!(summary.delivered_ratio, 1.0, "{summary:?}");
    assert_eq!(summary.duplicates + summary.missing + summary.unexpected, 0);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn idle_sockets_stay_open_and_rss_is_read() {
    let server = server().await;
    let cfg = IdleConfig {
        url: format!("http://{}", server.addr),
        sockets: 5,
        users: Some(2),
        // The server runs in this process.
        pid: Some(std::process::id()),
        settle: 0.2,
        concurrency: 4,
    };
    let summary = idle(&cfg).await.unwrap();
    println!("{}", summary.line());
    assert_eq!(summary.still_open, 5, "{summary:?}");
    assert!(summary.rss_before_kib.is_some_and(|kib| kib > 0));
    assert!(summary.rss_per_socket_bytes.is_some());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn storm_catches_every_client_up_exactly() {
    let server = server().await;
    let cfg = StormConfig {
        url: format!("http://{}", server.addr),
        // Two users for three clients: one user's two sockets each catch up on their own.
        clients: 3,
        users: Some(2),
        groups: 1,
        messages: 5,
        timeout: 15.0,
    };
    let summary = storm(&cfg).await.unwrap();
    println!("{}", summary.line());
    assert_eq!(summary.failed, 0, "{summary:?}");
    assert_eq!(summary.caught_up, 3, "{summary:?}");
    assert_eq!(summary.missing + summary.duplicates + summary.unexpected, 0);
    assert!(summary.all_synced_seconds.is_some());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn limits_measures_the_disk_and_loopback() {
    let dir = std::env::temp_dir();
    let cfg = LimitsConfig {
        dir: dir.clone(),
        seconds: 0.3,
        clients: 2,
    };
    let summary = limits(&cfg).await.unwrap();
    println!("{}", summary.line());
    let disk = &summary.disk;
    for writes in [&disk.o_dsync, &disk.fdatasync] {
        assert!(writes.writes > 0 && writes.writes_per_sec > 0.0, "{disk:?}");
        assert!(writes.mb_per_sec > 0.0);
    }
    for trips in [&summary.ws_echo, &summary.http] {
        assert_eq!(trips.failed_clients, 0, "{trips:?}");
        assert!(trips.round_trips > 0 && trips.per_sec > 0.0, "{trips:?}");
        assert_eq!(trips.latency.count as u64, trips.round_trips);
        assert!(trips.latency.p50_ms <= trips.latency.p99_ms);
    }
    assert!(summary.machine.cpus.is_some_and(|n| n > 0));
    assert_eq!(summary.machine.runtime_workers, 4);
    // Its temporary files are gone.
    let left = std::fs::read_dir(&dir)
        .unwrap()
        .filter(|e| {
            let name = e.as_ref().unwrap().file_name();
            let name = name.to_string_lossy();
            name.starts_with(&format!(".confab-bench-limits-{}-", std::process::id()))
        })
        .count();
    assert_eq!(left, 0);
    serde_json::to_string(&summary).unwrap();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn presence_is_heard_once_per_change_and_never_for_a_reload() {
    let server = TestServer::start_with(
        Store::Sqlite,
        &[
            "--request-burst",
            "100000",
            "--requests-per-second",
            "100000",
            "--presence-grace",
            "300ms",
            "--presence-gap",
            "300ms",
        ],
    )
    .await;
    let cfg = PresenceConfig {
        url: format!("http://{}", server.addr),
        sockets: 6,
        group_size: 3,
        rounds: 2,
        hold: 1.5,
        // The server runs in this process.
        pid: Some(std::process::id()),
        redis: None,
        concurrency: 4,
    };
    let summary = presence(&cfg).await.unwrap();
    println!("{}", summary.line());
    assert_eq!(summary.failed, 0, "{summary:?}");
    assert_eq!(summary.groups, 2);
    assert_eq!(summary.online_heard, 12, "{summary:?}");
    assert_eq!(summary.offline_heard, 12, "{summary:?}");
    assert_eq!(summary.reload_frames, 0, "{summary:?}");
    assert_eq!(summary.observers_lost, 0);
    assert_eq!(summary.phases.len(), 6);
    assert!(summary.per_connect.server_cpu_ms.is_some());
    // Each change is one announcement, to its observer and the churner's other group members.
    assert!(
        summary
            .per_connect
            .presence_frames_out
            .is_some_and(|n| n > 0.0)
    );
    assert!(
        summary.per_connect.presence_board_calls > 0.0,
        "{summary:?}"
    );
    serde_json::to_string(&summary).unwrap();
}
