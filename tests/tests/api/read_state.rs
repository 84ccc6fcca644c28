//! Read markers and unread counts: the marker never moves backwards nor past the last message;
//! `unread_count` counts others' messages after it that are not deleted, through reads, edits,
//! deletes and leaves; one's own messages never count.

use confab_tests::chat::{id, num};
use confab_tests::{Session, TestServer};
use serde_json::json;

async fn the_marker_never_moves_backwards_nor_past_the_last_message(s: &TestServer) {
    let alice = s.register("alice").await;
    let bob = s.register("bob").await;
    let g = id(&s.create_group(&alice, "Team", &[&bob]).await);
    // Nothing to read yet: clamped to 0.
    s.read(&alice, &g, 10).await;
    assert_eq!(s.my(&alice, &g).await["last_read_seq"], 0);
    for i in 1..=5 {
        s.send(&bob, &g, &format!("m{i}")).await;
    }
    s.read(&alice, &g, 3).await;
    let my = s.my(&alice, &g).await;
    assert_eq!(
        (num(&my, "last_read_seq"), num(&my, "unread_count")),
        (3, 2)
    );
    s.read(&alice, &g, 1).await;
    assert_eq!(s.my(&alice, &g).await["last_read_seq"], 3);
    s.read(&alice, &g, 0).await;
    assert_eq!(s.my(&alice, &g).await["last_read_seq"], 3);
    s.read(&alice, &g, 1_000_000).await;
    let my = s.my(&alice, &g).await;
    assert_eq!(
        (num(&my, "last_read_seq"), num(&my, "unread_count")),
        (5, 0)
    );
    // Clamped to 5, so the next message is unread.
    s.send(&bob, &g, "m6").await;
    let my = s.my(&alice, &g).await;
    assert_eq!(
        (num(&my, "last_read_seq"), num(&my, "unread_count")),
        (5, 1)
    );
    let r = s
        .post(
            &format!("/groups/{g}/read"),
            Some(&alice.access),
            json!({"seq": -1}),
        )
        .await;
    r.expect_error(422, "validation_failed");
    assert_eq!(r.field(), Some("seq"));
    assert_eq!(s.my(&alice, &g).await["last_read_seq"], 5);
    // The marker is the reader's own.
    assert_eq!(s.my(&bob, &g).await["last_read_seq"], 0);
}

async fn unread(s: &TestServer, who: &Session, g: &str) -> u64 {
    num(&s.my(who, g).await, "unread_count")
}

async fn unread_counts_stay_right_through_reads_edits_deletes_and_leaves(s: &TestServer) {
    let alice = s.register("alice").await;
    let bob = s.register("bob").await;
    let carol = s.register("carol").await;
    let g = id(&s.create_group(&alice, "Team", &[&bob, &carol]).await);
    let mut ids = Vec::new();
    for (who, text) in [
        (&bob, "b1"),
        (&bob, "b2"),
        (&bob, "b3"),
        (&carol, "c4"),
        (&carol, "c5"),
    ] {
        ids.push(id(&s.send(who, &g, text).await));
    }
    assert_eq!(
        (
            unread(s, &alice, &g).await,
            unread(s, &bob, &g).await,
            unread(s, &carol, &g).await
        ),
        (5, 2, 3)
    );
    s.read(&alice, &g, 2).await;
    assert_eq!(unread(s, &alice, &g).await, 3);
    // An edit is not a new message.
    s.edit(&carol, &ids[3], "c4, edited").await;
    assert_eq!(unread(s, &alice, &g).await, 3);
    // Deleting an unread message takes it out; deleting a read one changes nothing.
    s.delete_message(&bob, &ids[2]).await.expect(204);
    assert_eq!(unread(s, &alice, &g).await, 2);
    s.delete_message(&bob, &ids[0]).await.expect(204);
    assert_eq!(unread(s, &alice, &g).await, 2);
    assert_eq!(unread(s, &carol, &g).await, 1);
    // A member who leaves takes nothing with them: their messages stay, and stay unread.
    s.remove_member(&carol, &g, &carol.user_id)
        .await
        .expect(204);
    assert_eq!(unread(s, &alice, &g).await, 2);
    assert_eq!(unread(s, &bob, &g).await, 2);
    // The list says the same as GET.
    let listed = s.groups(&alice).await;
    assert_eq!(listed[0]["my"], s.my(&alice, &g).await);
    s.read(&alice, &g, 5).await;
    assert_eq!(unread(s, &alice, &g).await, 0);
}

async fn ones_own_messages_never_count(s: &TestServer) {
    let alice = s.register("alice").await;
    let bob = s.register("bob").await;
    let g = id(&s.create_group(&alice, "Team", &[&bob]).await);
    for i in 0..3 {
        s.send(&alice, &g, &format!("mine {i}")).await;
    }
    assert_eq!(s.my(&alice, &g).await["unread_count"], 0);
    assert_eq!(s.my(&bob, &g).await["unread_count"], 3);
    s.send(&bob, &g, "theirs").await;
    s.send(&alice, &g, "mine again").await;
    assert_eq!(s.my(&alice, &g).await["unread_count"], 1);
    s.read(&alice, &g, 4).await;
    assert_eq!(s.my(&alice, &g).await["unread_count"], 0);
    assert_eq!(s.my(&bob, &g).await["unread_count"], 4);
}

async fn the_read_marker_is_kept_in_closed_chats(s: &TestServer) {
    let alice = s.register("alice").await;
    let bob = s.register("bob").await;
    let g = id(&s.direct(&alice, &bob).await.json);
    s.send(&bob, &g, "one").await;
    s.send(&bob, &g, "two").await;
    s.delete(&format!("/groups/{g}"), Some(&bob.access))
        .await
        .expect(204);
    assert_eq!(s.my(&alice, &g).await["unread_count"], 2);
    s.read(&alice, &g, 1).await;
    let my = s.my(&alice, &g).await;
    assert_eq!(
        (num(&my, "last_read_seq"), num(&my, "unread_count")),
        (1, 1)
    );
}

confab_tests::store_tests!(
    the_marker_never_moves_backwards_nor_past_the_last_message,
    unread_counts_stay_right_through_reads_edits_deletes_and_leaves,
    ones_own_messages_never_count,
    the_read_marker_is_kept_in_closed_chats,
);
