//! `user` lookups: strangers see nothing, people sharing a group see the board's reading
//! (with the grace) unless a block stands between them, oneself always; two store queries at
//! most and one board read per list; a failing board shows users offline instead of failing
//! the request, and unreadable blocks hide members.

use confab_domain::UserId;
use confab_domain::presence::{Seen, Sighting};

use super::{at, reading, readings};
use crate::Error;
use crate::service::tests::{Mocks, user_named};

#[tokio::test]
async fn strangers_are_hidden_and_a_list_costs_one_query_and_one_read() {
    let mut m = Mocks::default();
    let (mut me, friend, stranger) = (
        user_named("myself"),
        user_named("friend"),
        user_named("stranger"),
    );
    me.last_seen_at = Some(at(-600));
    let (me_id, friend_id) = (me.id, friend.id);
    let mut others = vec![friend.id, stranger.id];
    others.sort_unstable();
    m.circles
        .expect_sharing_with()
        .times(1)
        .withf(move |viewer, asked| *viewer == me_id && asked == others.as_slice())
        .returning(move |_, _| Ok(vec![friend_id]));
    m.circles
        .expect_blocks_touching()
        .times(1)
        .withf(move |users| users == [me_id])
        .returning(|_| Ok(Vec::new()));
    let mut shown = vec![me.id, friend.id];
    shown.sort_unstable();
    m.presence
        .expect_read()
        .times(1)
        .withf(move |users| users == shown.as_slice())
        .returning(move |users| {
            let of = users
                .iter()
                .map(|u| match *u == me_id {
                    true => reading(Sighting::Away { since: at(-60) }, Some((false, -55))),
                    false => reading(Sighting::Connected, Some((true, -100))),
                })
                .collect();
            Ok(readings(0, of))
        });
    let presence = m.presence();
    let seen = presence
        .seen_by(me.id, &[&stranger, &friend, &me])
        .await
        .unwrap();
    assert_eq!(seen[0], Seen::HIDDEN);
    assert_eq!(
        seen[1],
        Seen {
            online: true,
            last_seen_at: None
        }
    );
    assert_eq!(
        seen[2],
        Seen {
            online: false,
            last_seen_at: Some(at(-60))
        },
        "the later of the store's time and the board's"
    );
}

#[tokio::test]
async fn one_looking_at_themselves_costs_no_query() {
    let mut m = Mocks::default();
    let me = user_named("myself");
    m.circles.expect_sharing_with().never();
    m.presence
        .expect_read()
        .times(1)
        .returning(|_| Ok(readings(0, vec![reading(Sighting::Connected, None)])));
    let seen = m.presence().seen_by(me.id, &[&me]).await.unwrap();
    assert!(seen[0].online);
}

#[tokio::test]
async fn nobody_visible_costs_no_read() {
    let mut m = Mocks::default();
    let stranger = user_named("stranger");
    m.circles
        .expect_sharing_with()
        .times(1)
        .returning(|_, _| Ok(Vec::new()));
    m.circles.expect_blocks_touching().never();
    m.presence.expect_read().never();
    let seen = m
        .presence()
        .seen_by(UserId::new(), &[&stranger])
        .await
        .unwrap();
    assert_eq!(seen, vec![Seen::HIDDEN]);
}

#[tokio::test]
async fn a_failing_board_shows_visible_users_offline_with_their_stored_time() {
    let mut m = Mocks::default();
    let mut member = user_named("member");
    member.last_seen_at = Some(at(-3600));
    m.presence
        .expect_read()
        .times(1)
        .returning(|_| Err(Error::Unavailable("Redis".into())));
    m.circles
        .expect_blocks_touching()
        .returning(|_| Ok(Vec::new()));
    let seen = m.presence().seen_among(UserId::new(), &[&member]).await;
    assert_eq!(
        seen,
        vec![Seen {
            online: false,
            last_seen_at: Some(at(-3600))
        }]
    );
}

#[tokio::test]
async fn a_failing_store_fails_the_lookup() {
    let mut m = Mocks::default();
    let other = user_named("other");
    m.circles
        .expect_sharing_with()
        .returning(|_, _| Err(Error::Unavailable("database".into())));
    let got = m.presence().seen_by(UserId::new(), &[&other]).await;
    assert!(matches!(got, Err(Error::Unavailable(_))), "{got:?}");
}

#[tokio::test]
async fn a_block_either_way_hides_a_user_who_shares_a_group() {
    let mut m = Mocks::default();
    let (me, friend, foe) = (
        user_named("myself"),
        user_named("friend"),
        user_named("foe"),
    );
    let (me_id, friend_id, foe_id) = (me.id, friend.id, foe.id);
    m.circles
        .expect_sharing_with()
        .returning(move |_, _| Ok(vec![friend_id, foe_id]));
    // Whoever blocked whom, the pair is told from the viewer's side.
    m.circles
        .expect_blocks_touching()
        .times(2)
        .returning(move |_| Ok(vec![(me_id, foe_id)]));
    let mut shown = vec![me_id, friend_id];
    shown.sort_unstable();
    m.presence
        .expect_read()
        .times(2)
        .withf(move |users| users == shown.as_slice())
        .returning(|users| {
            let of = users
                .iter()
                .map(|_| reading(Sighting::Connected, None))
                .collect();
            Ok(readings(0, of))
        });
    let presence = m.presence();
    let online = Seen {
        online: true,
        last_seen_at: None,
    };
    let seen = presence
        .seen_by(me_id, &[&friend, &foe, &me])
        .await
        .unwrap();
    assert_eq!(seen, vec![online, Seen::HIDDEN, online]);
    // A group's members too: a member list shows the blocked member as never seen.
    let seen = presence.seen_among(me_id, &[&friend, &foe, &me]).await;
    assert_eq!(seen, vec![online, Seen::HIDDEN, online]);
}

#[tokio::test]
async fn members_are_shown_offline_when_the_blocks_cannot_be_read() {
    let mut m = Mocks::default();
    let (me, member) = (user_named("myself"), user_named("member"));
    m.circles
        .expect_blocks_touching()
        .returning(|_| Err(Error::Unavailable("database".into())));
    let me_id = me.id;
    m.presence
        .expect_read()
        .times(1)
        .withf(move |users| users == [me_id])
        .returning(|_| Ok(readings(0, vec![reading(Sighting::Connected, None)])));
    let seen = m.presence().seen_among(me.id, &[&member, &me]).await;
    assert_eq!(seen[0], Seen::HIDDEN);
    assert!(seen[1].online, "one's own presence is still one's own");
}
