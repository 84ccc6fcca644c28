//! Several instances on one Redis (`presence_board::several::…`): connected anywhere wins, the
//! latest away time wins, a silent instance is adopted exactly once (its connected users away
//! since it was last alive, its own away users keeping their time) and learns it was given up
//! at its next keep-alive, an adopter keeps its own connected entry, every key but an online
//! announcement expires or is deleted, and an unreachable Redis fails within the timeout.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::sync::Arc;
use std::time::{Duration, Instant};

use confab_domain::UserId;
use confab_domain::presence::Sighting;
use confab_ports::Error;
use confab_ports::presence::{Outcome, PresenceBoard};
use confab_tests::RedisServer;

use super::{SETTINGS, claim, just_before, read, redis_board};

async fn server() -> RedisServer {
    tokio::task::spawn_blocking(RedisServer::start)
        .await
        .unwrap()
}

/// `n` registered instances on `server`.
async fn instances(server: &RedisServer, n: usize) -> Vec<Arc<dyn PresenceBoard>> {
    let mut boards = Vec::new();
    for _ in 0..n {
        let board = redis_board(server, SETTINGS).await;
        board.keep_alive().await.unwrap();
        boards.push(board);
    }
    boards
}

fn away_since(sighting: Sighting) -> confab_domain::Timestamp {
    match sighting {
        Sighting::Away { since } => since,
        other => panic!("expected away, got {other:?}"),
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn connected_on_one_instance_wins_over_away_on_another() {
    let server = server().await;
    let b = instances(&server, 2).await;
    let u = UserId::new();
    b[0].mark(&[u], &[]).await.unwrap();
    b[1].mark(&[], &[u]).await.unwrap();
    assert_eq!(read(&*b[1], u).await.1.sighting, Sighting::Connected);
    b[0].mark(&[], &[u]).await.unwrap();
    assert!(matches!(
        read(&*b[1], u).await.1.sighting,
        Sighting::Away { .. }
    ));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_latest_away_time_of_any_instance_wins() {
    let server = server().await;
    let b = instances(&server, 2).await;
    let u = UserId::new();
    b[0].mark(&[], &[u]).await.unwrap();
    let first = away_since(read(&*b[0], u).await.1.sighting);
    tokio::time::sleep(Duration::from_millis(30)).await;
    b[1].mark(&[], &[u]).await.unwrap();
    let later = away_since(read(&*b[0], u).await.1.sighting);
    assert!(later > first, "{later} after {first}");
    b[1].release(&[u]).await.unwrap();
    assert_eq!(away_since(read(&*b[0], u).await.1.sighting), first);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_silent_instance_is_adopted_exactly_once_and_learns_it_was_given_up() {
    let server = server().await;
    let b = instances(&server, 3).await;
    let (here, gone, own) = (UserId::new(), UserId::new(), UserId::new());
    b[0].mark(&[here, own], &[gone]).await.unwrap();
    let gone_since = away_since(read(&*b[0], gone).await.1.sighting);
    let (last_alive, _) = read(&*b[0], here).await;
    // b[1] has `own` connected itself: its entry stays connected.
    b[1].mark(&[own], &[]).await.unwrap();
    tokio::time::sleep(SETTINGS.dead_after + Duration::from_millis(300)).await;
    let (one, two) = tokio::join!(b[1].keep_alive(), b[2].keep_alive());
    let (one, two) = (one.unwrap().adopted, two.unwrap().adopted);
    let mut adopted = [one.clone(), two.clone()].concat();
    adopted.sort_unstable();
    let mut expected = vec![here, gone, own];
    expected.sort_unstable();
    assert_eq!(adopted, expected, "adopted once, by one of them");
    assert!(one.is_empty() || two.is_empty(), "{one:?} / {two:?}");
    let (now, r) = read(&*b[1], here).await;
    let since = away_since(r.sighting);
    assert!(since >= last_alive - time::Duration::seconds(1) && since <= now);
    assert_eq!(away_since(read(&*b[1], gone).await.1.sighting), gone_since);
    assert_eq!(read(&*b[2], own).await.1.sighting, Sighting::Connected);
    // The silent one learns it at its next keep-alive, and was adopted by no one else.
    let back = b[0].keep_alive().await.unwrap();
    assert!(back.rejoined && back.adopted.is_empty(), "{back:?}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_instance_whose_registry_was_lost_rejoins() {
    let server = server().await;
    let b = instances(&server, 1).await;
    assert!(!b[0].keep_alive().await.unwrap().rejoined);
    let client = redis::Client::open(server.url()).unwrap();
    let mut conn = client.get_multiplexed_async_connection().await.unwrap();
    redis::cmd("FLUSHALL")
        .query_async::<()>(&mut conn)
        .await
        .unwrap();
    assert!(b[0].keep_alive().await.unwrap().rejoined);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn every_key_but_an_online_announcement_expires_or_is_deleted() {
    let server = server().await;
    let b = instances(&server, 2).await;
    let (on, off) = (UserId::new(), UserId::new());
    b[0].mark(&[on], &[off]).await.unwrap();
    let r = b[0].read(&[on, off]).await.unwrap();
    let claims = [
        claim(on, r.of[0], true, r.now),
        claim(off, r.of[1], false, r.now),
    ];
    let won = b[1].claim(&claims).await.unwrap().outcomes;
    assert_eq!(won, [Outcome::Won, Outcome::Won]);
    b[0].release(&[off]).await.unwrap();
    let client = redis::Client::open(server.url()).unwrap();
    let mut conn = client.get_multiplexed_async_connection().await.unwrap();
    let keys: Vec<String> = redis::cmd("KEYS")
        .arg("confab:presence:*")
        .query_async(&mut conn)
        .await
        .unwrap();
    assert!(!keys.is_empty());
    for key in keys {
        let ttl: i64 = redis::cmd("PTTL")
            .arg(&key)
            .query_async(&mut conn)
            .await
            .unwrap();
        if key == format!("confab:presence:user:{on}") {
            assert_eq!(ttl, -1, "an online announcement is kept");
        } else {
            assert!(ttl > 0, "{key} never expires ({ttl})");
        }
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_unreachable_redis_fails_every_call_within_the_timeout() {
    let mut server = server().await;
    let b = instances(&server, 1).await;
    let u = UserId::new();
    let (now, seen) = read(&*b[0], u).await;
    assert!(just_before(now, now));
    server.kill();
    let started = Instant::now();
    assert!(matches!(
        b[0].keep_alive().await,
        Err(Error::Unavailable(_))
    ));
    assert!(matches!(
        b[0].mark(&[u], &[]).await,
        Err(Error::Unavailable(_))
    ));
    assert!(matches!(b[0].read(&[u]).await, Err(Error::Unavailable(_))));
    assert!(matches!(
        b[0].claim(&[claim(u, seen, true, now)]).await,
        Err(Error::Unavailable(_))
    ));
    assert!(matches!(
        b[0].release(&[u]).await,
        Err(Error::Unavailable(_))
    ));
    assert!(matches!(b[0].close().await, Err(Error::Unavailable(_))));
    assert!(
        started.elapsed() < Duration::from_secs(10),
        "{:?}",
        started.elapsed()
    );
}
