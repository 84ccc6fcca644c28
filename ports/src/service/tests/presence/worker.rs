//! The worker: a first socket is marked and announced to the user's groups after a won claim;
//! a last socket is marked away and judged when the grace ends; a reconnect within it says
//! nothing; the 5 s gap holds a change back until it is over; a lost claim announces
//! nothing; adopted users are judged and released; a failing board is retried; shutdown hands
//! the board's last sightings to the store; an announcement names whom blocks hide it from,
//! and reaches no group when the blocks cannot be read.

use std::sync::{Arc, Mutex};
use std::time::Duration;

use confab_domain::presence::Sighting;
use confab_domain::{Event, GroupId, UserId};
use tokio::time::Instant;

use super::{at, published, reading, readings, registered, run_for};
use crate::Error;
use crate::presence::{Claimed, Outcome, Upkeep};
use crate::service::tests::{Mocks, RecordingBus};
use crate::service::{Presence, PresenceWorker};

fn won(n: usize, now: i64) -> crate::Result<Claimed> {
    Ok(Claimed {
        now: at(now),
        outcomes: vec![Outcome::Won; n],
    })
}

/// Mocks with a board that registers this instance and marks anything.
fn mocks() -> Mocks {
    let mut m = Mocks::default();
    m.presence.expect_keep_alive().returning(registered);
    m
}

/// Every mark the board was asked for: (here, gone).
type Marks = Arc<Mutex<Vec<(Vec<UserId>, Vec<UserId>)>>>;

/// The use case over `m` with its worker started, and the bus it publishes on.
fn start_worker(m: Mocks) -> (Presence, PresenceWorker, Arc<RecordingBus>) {
    let bus = Arc::clone(&m.bus);
    let presence = m.presence();
    let worker = presence.start();
    (presence, worker, bus)
}

/// `u`'s away entry is released once.
fn expect_release_of(m: &mut Mocks, u: UserId) {
    m.presence
        .expect_release()
        .times(1)
        .withf(move |users| users == [u])
        .returning(|_| Ok(()));
}

/// One user, read connected, is claimed online at board time 0, and wins.
fn expect_online_won(m: &mut Mocks) {
    m.presence
        .expect_read()
        .times(1)
        .returning(|_| Ok(readings(0, vec![reading(Sighting::Connected, None)])));
    m.presence
        .expect_claim()
        .times(1)
        .withf(|claims| claims.len() == 1 && claims[0].next.online && claims[0].next.at == at(0))
        .returning(|c| won(c.len(), 0));
}

fn expect_marks(m: &mut Mocks) -> Marks {
    let marks = Arc::new(Mutex::new(Vec::new()));
    let log = Arc::clone(&marks);
    m.presence.expect_mark().returning(move |here, gone| {
        log.lock().unwrap().push((here.to_vec(), gone.to_vec()));
        Ok(())
    });
    marks
}

#[tokio::test(start_paused = true)]
async fn a_first_socket_is_marked_then_announced_online_to_every_group_of_the_user() {
    let mut m = mocks();
    let (u, g1, g2) = (UserId::new(), GroupId::new(), GroupId::new());
    let marks = expect_marks(&mut m);
    expect_online_won(&mut m);
    m.circles
        .expect_memberships()
        .times(1)
        .returning(move |_| Ok(vec![(u, g1), (u, g2)]));
    let foe = UserId::new();
    m.circles
        .expect_blocks_touching()
        .times(1)
        .withf(move |users| users == [u])
        .returning(move |_| Ok(vec![(u, foe)]));
    m.circles.expect_record_last_seen().never();
    let (presence, worker, bus) = start_worker(m);
    presence.connected(u);
    presence.connected(u);
    run_for(Duration::from_millis(50)).await;
    assert_eq!(
        *marks.lock().unwrap(),
        vec![(vec![u], vec![])],
        "one mark for two sockets"
    );
    assert_eq!(
        published(&bus),
        vec![Event::Presence {
            user_id: u,
            online: true,
            last_seen_at: None,
            groups: vec![g1, g2],
            hidden_from: vec![foe],
        }]
    );
    drop(worker);
}

#[tokio::test(start_paused = true)]
async fn blocks_that_cannot_be_read_keep_the_announcement_to_the_users_own_sockets() {
    let mut m = mocks();
    let (u, g) = (UserId::new(), GroupId::new());
    expect_marks(&mut m);
    expect_online_won(&mut m);
    m.circles
        .expect_memberships()
        .returning(move |_| Ok(vec![(u, g)]));
    m.circles
        .expect_blocks_touching()
        .times(1)
        .returning(|_| Err(Error::Unavailable("database".into())));
    let (presence, _worker, bus) = start_worker(m);
    presence.connected(u);
    run_for(Duration::from_millis(50)).await;
    assert_eq!(
        published(&bus),
        vec![Event::Presence {
            user_id: u,
            online: true,
            last_seen_at: None,
            groups: Vec::new(),
            hidden_from: Vec::new(),
        }],
        "no group hears what a block might hide"
    );
}

#[tokio::test(start_paused = true)]
async fn a_last_socket_is_judged_when_the_grace_ends_and_announced_offline_with_its_time() {
    let mut m = mocks();
    let (u, g) = (UserId::new(), GroupId::new());
    let marks = expect_marks(&mut m);
    let started = Instant::now();
    let read_at = Arc::new(Mutex::new(Vec::new()));
    let log = Arc::clone(&read_at);
    m.presence.expect_read().times(2).returning(move |_| {
        let elapsed = started.elapsed();
        log.lock().unwrap().push(elapsed);
        Ok(if elapsed < Duration::from_secs(1) {
            readings(0, vec![reading(Sighting::Connected, Some((true, -60)))])
        } else {
            let away = Sighting::Away { since: at(0) };
            readings(5, vec![reading(away, Some((true, -60)))])
        })
    });
    m.presence
        .expect_claim()
        .times(1)
        .withf(|c| !c[0].next.online)
        .returning(|c| won(c.len(), 5));
    m.circles
        .expect_record_last_seen()
        .times(1)
        .withf(move |seen| seen == [(u, at(0))])
        .returning(|_| Ok(()));
    m.circles
        .expect_memberships()
        .returning(move |_| Ok(vec![(u, g)]));
    m.circles
        .expect_blocks_touching()
        .returning(|_| Ok(Vec::new()));
    expect_release_of(&mut m, u);
    let (presence, _worker, bus) = start_worker(m);
    presence.connected(u);
    run_for(Duration::from_millis(50)).await;
    assert!(published(&bus).is_empty(), "already announced online");
    presence.disconnected(u);
    run_for(Duration::from_millis(4900)).await;
    assert!(published(&bus).is_empty(), "nothing within the grace");
    run_for(Duration::from_millis(200)).await;
    assert_eq!(
        published(&bus),
        vec![Event::Presence {
            user_id: u,
            online: false,
            last_seen_at: Some(at(0)),
            groups: vec![g],
            hidden_from: Vec::new(),
        }]
    );
    assert_eq!(marks.lock().unwrap().len(), 2);
    let second = read_at.lock().unwrap()[1];
    assert!(second >= Duration::from_secs(5), "{second:?}");
}

#[tokio::test(start_paused = true)]
async fn a_reconnect_within_the_grace_is_marked_but_never_claimed() {
    let mut m = mocks();
    let u = UserId::new();
    let marks = expect_marks(&mut m);
    m.presence.expect_read().returning(|_| {
        Ok(readings(
            0,
            vec![reading(Sighting::Connected, Some((true, -60)))],
        ))
    });
    m.presence.expect_claim().never();
    m.presence.expect_release().never();
    let (presence, _worker, bus) = start_worker(m);
    presence.connected(u);
    run_for(Duration::from_millis(50)).await;
    presence.disconnected(u);
    run_for(Duration::from_secs(1)).await;
    presence.connected(u);
    run_for(Duration::from_secs(20)).await;
    assert_eq!(
        *marks.lock().unwrap(),
        vec![(vec![u], vec![]), (vec![], vec![u]), (vec![u], vec![])]
    );
    assert!(published(&bus).is_empty());
}

#[tokio::test(start_paused = true)]
async fn a_change_within_5_s_of_the_last_announcement_waits_for_the_gap() {
    let mut m = mocks();
    let u = UserId::new();
    expect_marks(&mut m);
    let started = Instant::now();
    // Offline was announced 2 s before the socket opened (board time 0).
    m.presence.expect_read().times(2).returning(move |_| {
        let now = i64::try_from(started.elapsed().as_secs()).unwrap();
        Ok(readings(
            now,
            vec![reading(Sighting::Connected, Some((false, -2)))],
        ))
    });
    let claimed_at = Arc::new(Mutex::new(None));
    let log = Arc::clone(&claimed_at);
    m.presence.expect_claim().times(1).returning(move |c| {
        *log.lock().unwrap() = Some(started.elapsed());
        won(c.len(), 3)
    });
    m.circles.expect_memberships().returning(|_| Ok(Vec::new()));
    m.circles
        .expect_blocks_touching()
        .returning(|_| Ok(Vec::new()));
    let (presence, _worker, bus) = start_worker(m);
    presence.connected(u);
    run_for(Duration::from_secs(2)).await;
    assert!(published(&bus).is_empty(), "held back by the gap");
    run_for(Duration::from_secs(2)).await;
    let elapsed = claimed_at
        .lock()
        .unwrap()
        .expect("claimed when the gap was over");
    assert!(elapsed >= Duration::from_secs(3), "{elapsed:?}");
    assert_eq!(published(&bus).len(), 1);
}

#[tokio::test(start_paused = true)]
async fn a_lost_claim_is_judged_again_on_the_fresh_reading_and_announces_nothing() {
    let mut m = mocks();
    let u = UserId::new();
    expect_marks(&mut m);
    m.presence
        .expect_read()
        .times(1)
        .returning(|_| Ok(readings(0, vec![reading(Sighting::Connected, None)])));
    // Another instance announced it first.
    m.presence.expect_claim().times(1).returning(|_| {
        Ok(Claimed {
            now: at(0),
            outcomes: vec![Outcome::Lost(reading(Sighting::Connected, Some((true, 0))))],
        })
    });
    m.circles.expect_memberships().never();
    m.circles.expect_blocks_touching().never();
    let (presence, _worker, bus) = start_worker(m);
    presence.connected(u);
    run_for(Duration::from_secs(10)).await;
    assert!(published(&bus).is_empty());
}

#[tokio::test(start_paused = true)]
async fn users_adopted_from_a_dead_instance_are_announced_offline_and_released() {
    let mut m = Mocks::default();
    let u = UserId::new();
    let mut first = true;
    m.presence.expect_keep_alive().returning(move || {
        let adopted = if std::mem::take(&mut first) {
            vec![u]
        } else {
            Vec::new()
        };
        Ok(Upkeep {
            rejoined: false,
            adopted,
        })
    });
    let away = Sighting::Away { since: at(-12) };
    m.presence
        .expect_read()
        .times(1)
        .returning(move |_| Ok(readings(0, vec![reading(away, Some((true, -600)))])));
    m.presence
        .expect_claim()
        .times(1)
        .returning(|c| won(c.len(), 0));
    m.circles
        .expect_record_last_seen()
        .withf(move |seen| seen == [(u, at(-12))])
        .returning(|_| Ok(()));
    m.circles.expect_memberships().returning(|_| Ok(Vec::new()));
    m.circles
        .expect_blocks_touching()
        .returning(|_| Ok(Vec::new()));
    expect_release_of(&mut m, u);
    let (_presence, _worker, bus) = start_worker(m);
    run_for(Duration::from_millis(100)).await;
    assert!(matches!(
        published(&bus).as_slice(),
        [Event::Presence { online: false, .. }]
    ));
}

#[tokio::test(start_paused = true)]
async fn an_instance_given_up_for_dead_marks_its_users_again_and_judges_them() {
    let mut m = Mocks::default();
    let u = UserId::new();
    let calls = Arc::new(Mutex::new(0));
    let count = Arc::clone(&calls);
    // Registered first; the third keep-alive finds the instance was given up.
    m.presence.expect_keep_alive().returning(move || {
        let mut n = count.lock().unwrap();
        *n += 1;
        Ok(Upkeep {
            rejoined: *n == 1 || *n == 3,
            adopted: Vec::new(),
        })
    });
    let marks = expect_marks(&mut m);
    m.presence.expect_read().times(2).returning(|_| {
        Ok(readings(
            0,
            vec![reading(Sighting::Connected, Some((true, 0)))],
        ))
    });
    let (presence, _worker, _) = start_worker(m);
    presence.connected(u);
    run_for(Duration::from_millis(2500)).await;
    assert_eq!(
        *marks.lock().unwrap(),
        vec![(vec![u], vec![]), (vec![u], vec![])],
        "marked again after the rejoin"
    );
}

#[tokio::test(start_paused = true)]
async fn a_failing_mark_is_tried_again() {
    let mut m = mocks();
    let u = UserId::new();
    let tries = Arc::new(Mutex::new(0));
    let count = Arc::clone(&tries);
    m.presence.expect_mark().returning(move |_, _| {
        let mut n = count.lock().unwrap();
        *n += 1;
        if *n == 1 {
            Err(Error::Unavailable("Redis".into()))
        } else {
            Ok(())
        }
    });
    m.presence.expect_read().times(1).returning(|_| {
        Ok(readings(
            0,
            vec![reading(Sighting::Connected, Some((true, 0)))],
        ))
    });
    let (presence, _worker, _) = start_worker(m);
    run_for(Duration::from_millis(50)).await;
    presence.connected(u);
    run_for(Duration::from_millis(50)).await;
    assert_eq!(*tries.lock().unwrap(), 1);
    run_for(Duration::from_secs(1)).await;
    assert_eq!(*tries.lock().unwrap(), 2, "tried again after a moment");
}

#[tokio::test(start_paused = true)]
async fn closing_marks_the_last_sockets_and_writes_what_the_board_hands_back() {
    let mut m = mocks();
    let u = UserId::new();
    let marks = expect_marks(&mut m);
    m.presence.expect_read().returning(|_| {
        Ok(readings(
            0,
            vec![reading(Sighting::Connected, Some((true, 0)))],
        ))
    });
    m.presence
        .expect_close()
        .times(1)
        .returning(move || Ok(vec![(u, at(1))]));
    m.circles
        .expect_record_last_seen()
        .times(1)
        .withf(move |seen| seen == [(u, at(1))])
        .returning(|_| Ok(()));
    let (presence, worker, _) = start_worker(m);
    presence.connected(u);
    run_for(Duration::from_millis(50)).await;
    presence.disconnected(u);
    worker.close().await;
    assert_eq!(
        *marks.lock().unwrap(),
        vec![(vec![u], vec![]), (vec![], vec![u])]
    );
}
