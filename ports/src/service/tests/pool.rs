//! The matching pool's use cases: what they hand the store (the caller, the clock's time, the
//! configured lifetimes), what they answer, and what they publish — only after the store
//! committed, nothing when it refused.

use super::RecordingBus;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use confab_domain::{Event, Group, GroupId, GroupKind, Role, UserId};

use super::{Mocks, NOW, caller};
use crate::Error;
use crate::service::{Matchmaking, PoolOutcome, PoolSettings};
use crate::store::{GroupView, Joined, MyMembership, PoolJoin, Swept};

fn mocks() -> (Mocks, Arc<RecordingBus>) {
    let m = Mocks::default();
    let rx = Arc::clone(&m.bus);
    (m, rx)
}

#[track_caller]
fn published(rx: &RecordingBus) -> Vec<Event> {
    let mut got = Vec::new();
    while let Some(event) = rx.try_recv() {
        got.push(event);
    }
    got
}

fn room(id: GroupId, created_by: UserId) -> GroupView {
    GroupView {
        group: Group {
            id,
            kind: GroupKind::Direct,
            name: None,
            created_by,
            created_at: NOW,
            expires_at: Some(NOW + time::Duration::hours(24)),
            closed_at: None,
            last_seq: 0,
            last_rev: 0,
        },
        member_count: 2,
        my: MyMembership {
            role: Role::Member,
            alias: None,
            last_read_seq: 0,
            unread_count: 0,
            mention_count: 0,
        },
    }
}

#[tokio::test]
async fn a_join_without_a_match_waits_with_the_configured_wait() {
    let (mut m, rx) = mocks();
    let me = caller(false);
    let seen: Arc<Mutex<Option<PoolJoin>>> = Arc::default();
    let keep = Arc::clone(&seen);
    m.pool.expect_join_pool().times(1).returning(move |j| {
        *keep.lock().unwrap() = Some(j);
        Ok(Joined::Waiting)
    });
    let settings = PoolSettings {
        wait: Duration::from_secs(90),
        room_lifetime: Duration::from_secs(3600),
    };
    let pool = Matchmaking::new(m.ports(), settings);
    assert_eq!(pool.join(&me, true).await.unwrap(), PoolOutcome::Waiting);
    let j = seen.lock().unwrap().take().unwrap();
    assert_eq!(j.user, me.user_id);
    assert!(j.same_country);
    assert_eq!(j.now, NOW);
    assert_eq!(j.wait_until, NOW + time::Duration::seconds(90));
    assert_eq!(j.room_expires_at, NOW + time::Duration::hours(1));
    assert!(published(&rx).is_empty(), "nothing to announce yet");
}

#[tokio::test]
async fn a_match_answers_the_room_and_announces_it_to_both() {
    let (mut m, rx) = mocks();
    let me = caller(false);
    let partner = UserId::new();
    m.pool.expect_join_pool().times(1).returning(move |j| {
        Ok(Joined::Matched {
            room: room(j.room, j.user),
            partner,
        })
    });
    let pool = m.matchmaking();
    let PoolOutcome::Matched(view) = pool.join(&me, false).await.unwrap() else {
        panic!("expected a match");
    };
    let id = view.group.id;
    assert_eq!(
        published(&rx),
        [
            Event::GroupCreated {
                group_id: id,
                members: vec![partner, me.user_id],
            },
            Event::PoolMatched {
                group_id: id,
                members: vec![partner, me.user_id],
            },
        ]
    );
}

#[tokio::test]
async fn a_refused_join_is_passed_through_and_announces_nothing() {
    for refusal in [
        || Error::Conflict { field: "pool" },
        || Error::invalid("same_country", "no country"),
        || Error::Unavailable("down".into()),
    ] {
        let (mut m, rx) = mocks();
        m.pool
            .expect_join_pool()
            .times(1)
            .returning(move |_| Err(refusal()));
        let got = m.matchmaking().join(&caller(false), false).await;
        assert_eq!(
            format!("{:?}", got.unwrap_err()),
            format!("{:?}", refusal())
        );
        assert!(published(&rx).is_empty());
    }
}

#[tokio::test]
async fn leaving_is_fine_whether_or_not_the_caller_waited() {
    for was_waiting in [true, false] {
        let (mut m, rx) = mocks();
        let me = caller(false);
        let user = me.user_id;
        m.pool
            .expect_leave_pool()
            .withf(move |u| *u == user)
            .times(1)
            .returning(move |_| Ok(was_waiting));
        m.matchmaking().leave(&me).await.unwrap();
        assert!(published(&rx).is_empty());
    }
}

#[tokio::test]
async fn the_sweep_uses_the_clock_and_announces_each_closed_room_once() {
    let (mut m, rx) = mocks();
    let (a, b) = (GroupId::new(), GroupId::new());
    m.pool
        .expect_sweep_expired()
        .withf(|now| *now == NOW)
        .times(1)
        .returning(move |_| {
            Ok(Swept {
                closed: vec![a, b],
                dropped_entries: 3,
            })
        });
    let swept = m.matchmaking().sweep().await.unwrap();
    assert_eq!(swept.dropped_entries, 3);
    assert_eq!(
        published(&rx),
        [
            Event::GroupClosed { group_id: a },
            Event::GroupClosed { group_id: b },
        ]
    );
}

#[tokio::test]
async fn a_failed_sweep_announces_nothing() {
    let (mut m, rx) = mocks();
    m.pool
        .expect_sweep_expired()
        .times(1)
        .returning(|_| Err(Error::Unavailable("down".into())));
    assert!(matches!(
        m.matchmaking().sweep().await,
        Err(Error::Unavailable(_))
    ));
    assert!(published(&rx).is_empty());
}

#[test]
fn the_defaults_are_ten_minutes_and_a_day() {
    let d = PoolSettings::default();
    assert_eq!(d.wait, Duration::from_secs(600));
    assert_eq!(d.room_lifetime, Duration::from_secs(86_400));
}
