//! The presence-board conformance suite: the contract of `ports/src/presence.rs` checked on
//! every adapter. Each shared case runs over the in-process board (`presence_board::local::…`,
//! one instance: `a` and `b` are the same board) and over Redis (`presence_board::redis::…`:
//! two `RedisPresence` on one private redis-server stand for two instances). Readings in the
//! order asked, marks, releases that never drop a connected entry, claims that win only on
//! the reading they were judged on (exactly one of two at once), offline announcements
//! forgotten after `forget_after`, registration, and a close that loses no one. The
//! Redis-only cases (`several.rs`) are about several instances: who wins across them, dead
//! instances adopted exactly once, bounded keys, an unreachable server.
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod several;

use std::collections::HashSet;
use std::sync::Arc;
use std::time::Duration;

use confab_domain::presence::{Announced, Sighting};
use confab_domain::{Timestamp, UserId};
use confab_ports::presence::{BoardSettings, Claim, Outcome, PresenceBoard, Reading};
use confab_ports::rate_limit::Quotas;
use confab_tests::RedisServer;

#[derive(Debug, Clone, Copy)]
enum Backend {
    Local,
    Redis,
}

/// How the suite's boards remember: short, so that forgetting can be watched.
const SETTINGS: BoardSettings = BoardSettings {
    dead_after: Duration::from_millis(800),
    forget_after: Duration::from_millis(700),
};

/// Two boards standing for two instances (in process: the same one twice).
struct Boards {
    a: Arc<dyn PresenceBoard>,
    b: Arc<dyn PresenceBoard>,
    server: Option<RedisServer>,
}

impl Boards {
    async fn new(backend: Backend) -> Self {
        match backend {
            Backend::Local => {
                let one: Arc<dyn PresenceBoard> =
                    Arc::new(confab_local::LocalPresence::new(SETTINGS));
                Self::registered(Arc::clone(&one), one, None).await
            }
            Backend::Redis => {
                let server = tokio::task::spawn_blocking(RedisServer::start)
                    .await
                    .unwrap();
                let a = redis_board(&server, SETTINGS).await;
                let b = redis_board(&server, SETTINGS).await;
                Self::registered(a, b, Some(server)).await
            }
        }
    }

    async fn registered(
        a: Arc<dyn PresenceBoard>,
        b: Arc<dyn PresenceBoard>,
        server: Option<RedisServer>,
    ) -> Self {
        a.keep_alive().await.unwrap();
        b.keep_alive().await.unwrap();
        Self { a, b, server }
    }
}

pub(crate) async fn redis_board(
    server: &RedisServer,
    settings: BoardSettings,
) -> Arc<dyn PresenceBoard> {
    let timing = confab_redis::Timing::default();
    let redis = confab_redis::connect(&server.url(), Quotas::default(), timing, settings).await;
    Arc::new(redis.expect("connect to Redis").presence)
}

/// One user's reading.
pub(crate) async fn read(board: &dyn PresenceBoard, user: UserId) -> (Timestamp, Reading) {
    let r = board.read(&[user]).await.unwrap();
    assert_eq!(r.of.len(), 1);
    (r.now, r.of[0])
}

/// Whether `since` is a time within the last two seconds of `now`.
pub(crate) fn just_before(since: Timestamp, now: Timestamp) -> bool {
    since <= now && now - since < time::Duration::seconds(2)
}

pub(crate) fn claim(user: UserId, seen: Reading, online: bool, at: Timestamp) -> Claim {
    Claim {
        user,
        seen,
        next: Announced { online, at },
    }
}

const UNSEEN: Reading = Reading {
    sighting: Sighting::Unseen,
    last: None,
};

confab_tests::adapter_tests!(
    an_unknown_user_reads_unseen_and_never_announced,
    a_user_marked_here_reads_connected_on_every_instance,
    a_user_marked_gone_reads_away_since_the_moment_it_was_marked,
    readings_come_in_the_order_asked,
    a_claim_on_the_reading_now_wins_and_is_remembered,
    a_claim_on_a_reading_that_changed_loses_and_answers_the_reading_now,
    of_two_claims_on_one_reading_exactly_one_wins,
    release_drops_an_away_entry_and_never_a_connected_one,
    an_offline_announcement_is_forgotten_and_an_online_one_kept,
    the_first_keep_alive_registers_and_says_so,
    a_closed_instance_loses_no_one,
);

async fn an_unknown_user_reads_unseen_and_never_announced(backend: Backend) {
    let boards = Boards::new(backend).await;
    assert_eq!(read(&*boards.a, UserId::new()).await.1, UNSEEN);
    assert!(boards.b.read(&[]).await.unwrap().of.is_empty());
}

async fn a_user_marked_here_reads_connected_on_every_instance(backend: Backend) {
    let boards = Boards::new(backend).await;
    let u = UserId::new();
    boards.a.mark(&[u], &[]).await.unwrap();
    for board in [&boards.a, &boards.b] {
        assert_eq!(read(&**board, u).await.1.sighting, Sighting::Connected);
    }
}

async fn a_user_marked_gone_reads_away_since_the_moment_it_was_marked(backend: Backend) {
    let boards = Boards::new(backend).await;
    let u = UserId::new();
    boards.a.mark(&[u], &[]).await.unwrap();
    boards.a.mark(&[], &[u]).await.unwrap();
    let (now, r) = read(&*boards.b, u).await;
    match r.sighting {
        Sighting::Away { since } => assert!(just_before(since, now), "{since} at {now}"),
        other => panic!("expected away, got {other:?}"),
    }
}

async fn readings_come_in_the_order_asked(backend: Backend) {
    let boards = Boards::new(backend).await;
    let (here, gone, unknown) = (UserId::new(), UserId::new(), UserId::new());
    boards.a.mark(&[here], &[gone]).await.unwrap();
    let r = boards.b.read(&[gone, unknown, here, gone]).await.unwrap();
    let kinds: Vec<&str> =
        r.of.iter()
            .map(|r| match r.sighting {
                Sighting::Connected => "connected",
                Sighting::Away { .. } => "away",
                Sighting::Unseen => "unseen",
            })
            .collect();
    assert_eq!(kinds, ["away", "unseen", "connected", "away"]);
}

async fn a_claim_on_the_reading_now_wins_and_is_remembered(backend: Backend) {
    let boards = Boards::new(backend).await;
    let u = UserId::new();
    boards.a.mark(&[u], &[]).await.unwrap();
    let (now, seen) = read(&*boards.a, u).await;
    let claimed = boards.b.claim(&[claim(u, seen, true, now)]).await.unwrap();
    assert_eq!(claimed.outcomes, [Outcome::Won]);
    assert!(just_before(now, claimed.now));
    let (_, after) = read(&*boards.a, u).await;
    assert_eq!(
        after.last,
        Some(Announced {
            online: true,
            at: now
        })
    );
    assert_eq!(after.sighting, Sighting::Connected);
}

async fn a_claim_on_a_reading_that_changed_loses_and_answers_the_reading_now(backend: Backend) {
    let boards = Boards::new(backend).await;
    let u = UserId::new();
    boards.a.mark(&[u], &[]).await.unwrap();
    let (now, seen) = read(&*boards.a, u).await;
    boards.a.mark(&[], &[u]).await.unwrap();
    let claimed = boards.b.claim(&[claim(u, seen, true, now)]).await.unwrap();
    match claimed.outcomes.as_slice() {
        [Outcome::Lost(fresh)] => {
            assert!(matches!(fresh.sighting, Sighting::Away { .. }), "{fresh:?}");
            assert_eq!(fresh.last, None, "nothing was recorded");
        }
        other => panic!("expected one lost claim, got {other:?}"),
    }
    assert_eq!(read(&*boards.b, u).await.1.last, None);
}

async fn of_two_claims_on_one_reading_exactly_one_wins(backend: Backend) {
    let boards = Boards::new(backend).await;
    let users: Vec<UserId> = (0..20).map(|_| UserId::new()).collect();
    boards.a.mark(&users, &[]).await.unwrap();
    let r = boards.a.read(&users).await.unwrap();
    let claims: Vec<Claim> = users
        .iter()
        .zip(&r.of)
        .map(|(u, seen)| claim(*u, *seen, true, r.now))
        .collect();
    let (on_a, on_b) = tokio::join!(boards.a.claim(&claims), boards.b.claim(&claims));
    let (on_a, on_b) = (on_a.unwrap().outcomes, on_b.unwrap().outcomes);
    for (i, (x, y)) in on_a.iter().zip(&on_b).enumerate() {
        let wins = [x, y].iter().filter(|o| ***o == Outcome::Won).count();
        assert_eq!(wins, 1, "user {i}: {x:?} and {y:?}");
    }
    // Twice in one call: the second finds the first's announcement.
    let u = UserId::new();
    boards.a.mark(&[u], &[]).await.unwrap();
    let (now, seen) = read(&*boards.a, u).await;
    let twice = [claim(u, seen, true, now), claim(u, seen, true, now)];
    let outcomes = boards.b.claim(&twice).await.unwrap().outcomes;
    assert_eq!(outcomes[0], Outcome::Won);
    assert!(matches!(outcomes[1], Outcome::Lost(_)), "{outcomes:?}");
}

async fn release_drops_an_away_entry_and_never_a_connected_one(backend: Backend) {
    let boards = Boards::new(backend).await;
    let (here, gone) = (UserId::new(), UserId::new());
    boards.a.mark(&[here], &[gone]).await.unwrap();
    boards.a.release(&[here, gone]).await.unwrap();
    assert_eq!(read(&*boards.b, here).await.1.sighting, Sighting::Connected);
    assert_eq!(read(&*boards.b, gone).await.1.sighting, Sighting::Unseen);
    boards.a.release(&[]).await.unwrap();
}

async fn an_offline_announcement_is_forgotten_and_an_online_one_kept(backend: Backend) {
    let boards = Boards::new(backend).await;
    let (on, off) = (UserId::new(), UserId::new());
    boards.a.mark(&[on], &[off]).await.unwrap();
    let r = boards.a.read(&[on, off]).await.unwrap();
    let claims = [
        claim(on, r.of[0], true, r.now),
        claim(off, r.of[1], false, r.now),
    ];
    let outcomes = boards.a.claim(&claims).await.unwrap().outcomes;
    assert_eq!(outcomes, [Outcome::Won, Outcome::Won]);
    assert!(read(&*boards.b, off).await.1.last.is_some());
    tokio::time::sleep(SETTINGS.forget_after + Duration::from_millis(300)).await;
    // The local board forgets at its next keep-alive or read; Redis by expiry.
    boards.b.keep_alive().await.unwrap();
    assert_eq!(read(&*boards.b, off).await.1.last, None);
    assert_eq!(
        read(&*boards.b, on).await.1.last,
        Some(Announced {
            online: true,
            at: r.now
        })
    );
}

async fn the_first_keep_alive_registers_and_says_so(backend: Backend) {
    let board: Arc<dyn PresenceBoard> = match backend {
        Backend::Local => Arc::new(confab_local::LocalPresence::new(SETTINGS)),
        Backend::Redis => {
            let server = tokio::task::spawn_blocking(RedisServer::start)
                .await
                .unwrap();
            let board = redis_board(&server, SETTINGS).await;
            let first = board.keep_alive().await.unwrap();
            assert!(first.rejoined);
            assert!(!board.keep_alive().await.unwrap().rejoined);
            drop(server);
            return;
        }
    };
    assert!(board.keep_alive().await.unwrap().rejoined);
    assert!(!board.keep_alive().await.unwrap().rejoined);
}

/// What a close answers, with what the other instance adopts at its next keep-alive, is
/// every user the closed instance held.
async fn a_closed_instance_loses_no_one(backend: Backend) {
    let boards = Boards::new(backend).await;
    let (here, gone) = (UserId::new(), UserId::new());
    boards.a.mark(&[here], &[gone]).await.unwrap();
    let answered = boards.a.close().await.unwrap();
    let adopted = boards.b.keep_alive().await.unwrap().adopted;
    let mut everyone: HashSet<UserId> = answered.iter().map(|(u, _)| *u).collect();
    everyone.extend(adopted);
    assert_eq!(everyone, HashSet::from([here, gone]));
    for (_, at) in &answered {
        let (now, _) = read(&*boards.b, UserId::new()).await;
        assert!(just_before(*at, now), "{at} at {now}");
    }
    // Adopted users are away on the adopter (none were left connected).
    for user in [here, gone] {
        if !answered.iter().any(|(u, _)| *u == user) {
            let (now, r) = read(&*boards.b, user).await;
            assert!(
                matches!(r.sighting, Sighting::Away { since } if just_before(since, now)),
                "{r:?}"
            );
        }
    }
    drop(boards.server);
}
