//! Instances leaving the Redis bus: one that stops gracefully (`close`) hands over everything
//! it published and says so, and the others do not wait for it; one that dies (or loses Redis
//! alone) goes silent, and the others re-check against the store every poll interval, since it
//! may have committed events nobody heard.

use std::time::Duration;

use confab_ports::bus::Notice;
use tokio::time::{Instant, timeout};

use super::{event, next, next_event, redis};

/// Events published right before the close.
const LAST: u64 = 2000;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn redis_close_hands_over_everything_published_before_and_says_bye() {
    let mut inst = redis().await;
    let mut other = inst.buses[1].subscribe();
    // Long enough for each to have heard the other's heartbeat.
    tokio::time::sleep(Duration::from_secs(1)).await;
    let leaving = inst.buses.remove(0);
    for seq in 0..LAST {
        leaving.publish(event(0, seq)).await;
    }
    leaving.close().await;
    drop(leaving);
    for seq in 0..LAST {
        assert_eq!(
            next_event(&mut other, Duration::from_secs(10)).await,
            event(0, seq)
        );
    }
    // It said goodbye: no re-checks for a peer gone silent.
    let quiet_until = Instant::now() + Duration::from_secs(4);
    while let Ok(notice) = tokio::time::timeout_at(quiet_until, other.next()).await {
        assert_ne!(
            notice,
            Some(Notice::Missed),
            "re-check for a peer that said bye"
        );
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn redis_a_peer_that_goes_silent_makes_the_others_recheck_every_poll() {
    let mut inst = redis().await;
    let mut other = inst.buses[1].subscribe();
    tokio::time::sleep(Duration::from_secs(1)).await;
    // Drain what the subscription said at its start.
    while timeout(Duration::from_millis(200), other.next())
        .await
        .is_ok()
    {}
    // A crash: no close, no bye.
    drop(inst.buses.remove(0));
    let gone = Instant::now();
    next(&mut other, Duration::from_secs(6), true).await;
    let first = gone.elapsed();
    assert!(
        first >= Duration::from_secs(2) && first <= Duration::from_secs(5),
        "first re-check {first:?} after the peer went silent"
    );
    next(&mut other, Duration::from_secs(3), true).await;
    next(&mut other, Duration::from_secs(3), true).await;
}
