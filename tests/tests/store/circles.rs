//! `Circles`: who shares a group with whom (every kind of group, open or closed, but only
//! while both are members), the blocks touching a batch of users (either way, until lifted),
//! every group of a batch of users, and `last_seen_at` written for a batch, never backwards,
//! shown on the user.

use std::collections::HashSet;

use confab_domain::{GroupId, UserId};
use confab_ports::store::Closing;

use crate::fixtures::{Fresh, T0, at, group, user};

crate::store_cases!(
    sharing_with_lists_each_user_in_any_group_with_the_user_once,
    a_closed_direct_chat_still_counts_a_left_or_deleted_group_does_not,
    memberships_are_every_group_of_each_user_open_or_closed,
    last_seen_at_is_written_for_a_batch_and_never_moves_backwards,
    a_new_user_was_never_seen,
    blocks_touching_are_told_from_each_asked_users_side_whoever_blocked,
);

async fn sharing(s: &Fresh, user: UserId, others: &[UserId]) -> HashSet<UserId> {
    let found = s.circles.sharing_with(user, others).await.unwrap();
    let set: HashSet<UserId> = found.iter().copied().collect();
    assert_eq!(set.len(), found.len(), "each once: {found:?}");
    set
}

async fn sharing_with_lists_each_user_in_any_group_with_the_user_once(s: &Fresh) {
    let (me, friend, colleague, stranger) = (
        user(s, "me_user").await,
        user(s, "friend").await,
        user(s, "colleague").await,
        user(s, "stranger").await,
    );
    group(s, me, &[friend, colleague]).await;
    group(s, friend, &[me]).await;
    group(s, stranger, &[]).await;
    let unknown = UserId::new();
    let found = sharing(s, me, &[friend, colleague, stranger, unknown]).await;
    assert_eq!(found, HashSet::from([friend, colleague]));
    assert!(sharing(s, stranger, &[me, friend]).await.is_empty());
    assert!(sharing(s, unknown, &[me]).await.is_empty());
    assert!(sharing(s, me, &[]).await.is_empty());
}

async fn a_closed_direct_chat_still_counts_a_left_or_deleted_group_does_not(s: &Fresh) {
    let (me, direct, left, deleted) = (
        user(s, "me_user").await,
        user(s, "direct").await,
        user(s, "leaver").await,
        user(s, "deleted").await,
    );
    let (chat, _) = s
        .groups
        .open_direct(me, direct, GroupId::new(), T0)
        .await
        .unwrap();
    let closed = s
        .groups
        .delete_or_close(direct, chat.group.id, at(1))
        .await
        .unwrap();
    assert_eq!(closed, Closing::Closed);
    let team = group(s, me, &[left]).await;
    s.groups
        .remove_member(left, team, left, at(2))
        .await
        .unwrap();
    let gone = group(s, deleted, &[me]).await;
    s.groups
        .delete_or_close(deleted, gone, at(3))
        .await
        .unwrap();
    let found = sharing(s, me, &[direct, left, deleted]).await;
    assert_eq!(found, HashSet::from([direct]));
}

async fn memberships_are_every_group_of_each_user_open_or_closed(s: &Fresh) {
    let (a, b, c) = (
        user(s, "user_a").await,
        user(s, "user_b").await,
        user(s, "user_c").await,
    );
    let team = group(s, a, &[b]).await;
    let (chat, _) = s
        .groups
        .open_direct(a, c, GroupId::new(), T0)
        .await
        .unwrap();
    s.groups
        .delete_or_close(a, chat.group.id, at(1))
        .await
        .unwrap();
    let pairs: HashSet<(UserId, GroupId)> = s
        .circles
        .memberships(&[a, b, UserId::new()])
        .await
        .unwrap()
        .into_iter()
        .collect();
    assert_eq!(
        pairs,
        HashSet::from([(a, team), (a, chat.group.id), (b, team)])
    );
    assert!(s.circles.memberships(&[]).await.unwrap().is_empty());
}

async fn last_seen_at_is_written_for_a_batch_and_never_moves_backwards(s: &Fresh) {
    let (a, b) = (user(s, "user_a").await, user(s, "user_b").await);
    let seen = |id| async move { s.users.user_by_id(id).await.unwrap().unwrap().last_seen_at };
    s.circles
        .record_last_seen(&[(a, at(10)), (b, at(20)), (UserId::new(), at(5))])
        .await
        .unwrap();
    assert_eq!(seen(a).await, Some(at(10)));
    assert_eq!(seen(b).await, Some(at(20)));
    s.circles
        .record_last_seen(&[(a, at(5)), (b, at(30)), (b, at(25))])
        .await
        .unwrap();
    assert_eq!(seen(a).await, Some(at(10)), "never backwards");
    assert_eq!(seen(b).await, Some(at(30)), "the latest of a batch");
    s.circles.record_last_seen(&[]).await.unwrap();
}

async fn a_new_user_was_never_seen(s: &Fresh) {
    let a = user(s, "user_a").await;
    let found = s.users.user_by_id(a).await.unwrap().unwrap();
    assert_eq!(found.last_seen_at, None);
}

async fn blocks_touching_are_told_from_each_asked_users_side_whoever_blocked(s: &Fresh) {
    let (a, b, c, d) = (
        user(s, "user_a").await,
        user(s, "user_b").await,
        user(s, "user_c").await,
        user(s, "user_d").await,
    );
    s.blocks.block(a, b, T0).await.unwrap();
    s.blocks.block(c, a, at(1)).await.unwrap();
    s.blocks.block(c, d, at(2)).await.unwrap();
    let touching = |users: Vec<UserId>| async move {
        let pairs = s.circles.blocks_touching(&users).await.unwrap();
        pairs.into_iter().collect::<HashSet<(UserId, UserId)>>()
    };
    // a blocked b, and is blocked by c: both, from a's side.
    assert_eq!(touching(vec![a]).await, HashSet::from([(a, b), (a, c)]));
    assert_eq!(touching(vec![b]).await, HashSet::from([(b, a)]));
    assert_eq!(
        touching(vec![a, d, UserId::new()]).await,
        HashSet::from([(a, b), (a, c), (d, c)])
    );
    assert!(touching(Vec::new()).await.is_empty());
    // Both ways at once: each pair told (it may repeat).
    s.blocks.block(b, a, at(3)).await.unwrap();
    assert_eq!(touching(vec![b]).await, HashSet::from([(b, a)]));
    // Lifted, it touches nobody any more.
    assert!(s.blocks.unblock(a, b).await.unwrap());
    assert!(s.blocks.unblock(b, a).await.unwrap());
    assert_eq!(touching(vec![b]).await, HashSet::new());
    assert_eq!(touching(vec![a]).await, HashSet::from([(a, c)]));
}
