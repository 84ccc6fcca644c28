//! Membership is live on open sockets: a removed member's sockets hear the removal and then
//! nothing more of the group; a new member's sockets hear the group, their joining, and then
//! its messages; a new direct chat appears on both sides — all without reconnecting.

use confab_tests::chat::{id, num};
use confab_tests::ws::kind;
use confab_tests::{Store, TestServer, Token};
use serde_json::{Value, json};
use std::time::Duration;

/// Whether a frame is about `group`.
fn about(f: &Value, group: &str) -> bool {
    [&f["group_id"], &f["message"]["group_id"], &f["group"]["id"]]
        .into_iter()
        .any(|v| v == group)
}

async fn a_removed_member_hears_the_removal_then_nothing_of_the_group(s: &TestServer) {
    let alice = s.register("alice").await;
    let bob = s.register("bob").await;
    let carol = s.register("carol").await;
    let fence = id(&s.create_group(&bob, "bob's fence", &[]).await);
    let g = id(&s.create_group(&alice, "team", &[&bob]).await);
    let m = s.send(&bob, &g, "before").await;
    let mut a = s.ws(&alice).await;
    let (mut b1, mut b2) = (s.ws(&bob).await, s.ws(&bob).await);

    s.remove_member(&alice, &g, &bob.user_id).await.expect(204);
    let left = json!({"type": "member.left", "group_id": g, "user_id": bob.user_id});
    for b in [&mut b1, &mut b2] {
        assert_eq!(b.next().await, left);
    }
    // Everything that happens in the group afterwards.
    let m2 = s.send(&alice, &g, "after").await;
    s.try_edit(&bob, &id(&m), "edit of a member no more")
        .await
        .expect_error(404, "not_found");
    s.delete_message(&alice, &id(&m)).await.expect(204);
    s.edit(&alice, &id(&m2), "after, edited").await;
    s.patch(
        &format!("/groups/{g}"),
        Some(&alice.access),
        json!({"name": "renamed"}),
    )
    .await
    .expect(200);
    s.add_member(&alice, &g, &carol, None).await;
    s.read(&alice, &g, 2).await;
    a.send(json!({"type": "typing", "group_id": g})).await;
    a.ping().await;
    for b in [&mut b1, &mut b2] {
        let before = b.fence(s, &bob, &fence).await;
        assert!(
            before.iter().all(|f| !about(f, &g)),
            "after the removal: {before:?}"
        );
    }
    // Asking does not help either: not a member, not found.
    b1.send(json!({"type": "sync", "ref": "s", "since": {g.clone(): 0}}))
        .await;
    let (before, _) = b1.until("synced").await;
    assert!(before.iter().all(|f| !about(f, &g)), "{before:?}");
    b1.fails(
        json!({"type": "message.send", "ref": 1, "group_id": g, "body": "hello?"}),
        "not_found",
    )
    .await;

    // Added back: the group again, the join, and from then on its messages.
    s.add_member(&alice, &g, &bob, None).await;
    for b in [&mut b1, &mut b2] {
        // Frames of other groups may still be on their way (a fence marker sent before the
        // sync above can be answered after `synced`): none of them is about `g`.
        let (before, f) = b.until("group.created").await;
        assert!(before.iter().all(|f| !about(f, &g)), "{before:?}");
        assert_eq!(f["group"], s.group(&bob, &g).await);
        assert_eq!(
            b.next().await,
            json!({"type": "member.joined", "group_id": g, "user_id": bob.user_id, "role": "member"})
        );
    }
    let m3 = s.send(&alice, &g, "welcome back").await;
    for b in [&mut b1, &mut b2] {
        assert_eq!(
            b.next().await,
            json!({"type": "message.created", "message": m3})
        );
    }
}

async fn a_member_who_leaves_over_the_socket_hears_nothing_more(s: &TestServer) {
    let alice = s.register("alice").await;
    let bob = s.register("bob").await;
    let fence = id(&s.create_group(&bob, "bob's fence", &[]).await);
    let g = id(&s.create_group(&alice, "team", &[&bob]).await);
    let (mut b1, mut b2) = (s.ws(&bob).await, s.ws(&bob).await);
    b1.ok(json!({"type": "member.remove", "ref": "bye", "group_id": g, "user_id": bob.user_id}))
        .await;
    for b in [&mut b1, &mut b2] {
        assert_eq!(
            b.take_of("member.left").await,
            json!({"type": "member.left", "group_id": g, "user_id": bob.user_id})
        );
    }
    s.send(&alice, &g, "gone already").await;
    for b in [&mut b1, &mut b2] {
        let before = b.fence(s, &bob, &fence).await;
        assert!(before.iter().all(|f| !about(f, &g)), "{before:?}");
    }
}

async fn a_new_member_hears_the_group_the_join_then_its_messages(s: &TestServer) {
    let alice = s.register("alice").await;
    let dave = s.register("dave").await;
    let g = id(&s.create_group(&alice, "team", &[]).await);
    let old = s.send(&alice, &g, "history").await;
    s.send(&alice, &g, "more history").await;
    let mut a = s.ws(&alice).await;
    let (mut d1, mut d2) = (s.ws(&dave).await, s.ws(&dave).await);

    a.ok(json!({"type": "member.add", "ref": "add", "group_id": g, "user_id": dave.user_id}))
        .await;
    for d in [&mut d1, &mut d2] {
        let f = d.next_of("group.created").await;
        let group = &f["group"];
        assert_eq!(group["id"], g.as_str());
        assert_eq!(group["my"]["role"], "member");
        assert_eq!(group["last_seq"], 2);
        // The history is there to read, but not unread.
        assert_eq!(group["my"]["last_read_seq"], 2);
        assert_eq!(group["my"]["unread_count"], 0);
        assert_eq!(
            d.next().await,
            json!({"type": "member.joined", "group_id": g, "user_id": dave.user_id, "role": "member"})
        );
    }
    // From now on the group's messages reach him, edits of older ones too.
    let m = s.send(&alice, &g, "welcome").await;
    assert_eq!(num(&m, "seq"), 3);
    let e = s.edit(&alice, &id(&old), "history, revised").await;
    for d in [&mut d1, &mut d2] {
        assert_eq!(
            d.next().await,
            json!({"type": "message.created", "message": m})
        );
        assert_eq!(
            d.next().await,
            json!({"type": "message.updated", "message": e})
        );
    }
    // He can act in it at once, and Alice hears him.
    d1.ok(json!({"type": "message.send", "ref": "hi", "group_id": g, "body": "hi all"}))
        .await;
    let f = a
        .take(|f| kind(f) == "message.created" && f["message"]["body"] == "hi all")
        .await;
    assert_eq!(f["message"]["sender_id"], dave.user_id.as_str());
}

async fn a_new_direct_chat_appears_on_both_sides_without_reconnecting(s: &TestServer) {
    let alice = s.register("alice").await;
    let bob = s.register("bob").await;
    let (mut a1, mut a2) = (s.ws(&alice).await, s.ws(&alice).await);
    let mut b = s.ws(&bob).await;

    let r = s
        .post("/direct", Some(&alice.access), json!({"username": "bob"}))
        .await;
    r.expect(201);
    let d = id(&r.json);
    for ws in [&mut a1, &mut a2, &mut b] {
        let f = ws.next_of("group.created").await;
        assert_eq!(f["group"]["id"], d.as_str());
        assert_eq!(f["group"]["kind"], "direct");
        assert_eq!(f["group"]["member_count"], 2);
    }
    b.ok(json!({"type": "message.send", "ref": 1, "group_id": d, "body": "hey"}))
        .await;
    for ws in [&mut a1, &mut a2, &mut b] {
        let f = ws.take_of("message.created").await;
        assert_eq!(f["message"]["body"], "hey");
    }
    // Asking again finds the same chat: nothing new is announced.
    s.direct(&bob, &alice).await.expect(200);
    let fence = id(&s.create_group(&alice, "alice's fence", &[]).await);
    for ws in [&mut a1, &mut a2] {
        let (before, f) = ws.until_match(|f| kind(f) == "group.created").await;
        assert!(before.iter().all(|f| kind(f) == "ack"), "{before:?}");
        assert_eq!(
            f["group"]["id"],
            fence.as_str(),
            "only the fence is new: {f}"
        );
    }
    // Closed, then opened anew: a new chat, announced again.
    s.delete(&format!("/groups/{d}"), Some(&alice.access))
        .await
        .expect(204);
    let again = s.direct(&bob, &alice).await;
    again.expect(201);
    for ws in [&mut a1, &mut a2, &mut b] {
        ws.take_of("group.closed").await;
        let f = ws.take_of("group.created").await;
        assert_eq!(f["group"]["id"], id(&again.json).as_str());
    }
}

/// A group that bob joins (created with him, or him added) while his socket is connecting —
/// after the server read his groups for the new socket, before it listens for events — must
/// still reach the socket: either in its starting state or by `group.created`, and then its
/// messages (or a `group.created` whose `last_rev` already covers them: history is read over
/// HTTP). Bob is in many groups so that reading them takes a while (as for a real user).
async fn a_group_joined_while_the_socket_connects_still_reaches_it(store: Store) {
    let s = TestServer::start_with(store, &["--request-burst", "100000"]).await;
    let alice = s.register("alice").await;
    let bob = s.register("bob").await;
    let fence = id(&s.create_group(&bob, "fence", &[]).await);
    for n in 0..300 {
        s.create_group(&alice, &format!("g{n}"), &[&bob]).await;
    }
    let mut lost = Vec::new();
    for attempt in 0..20u64 {
        s.settle().await;
        let later = id(&s.create_group(&alice, "bob joins later", &[]).await);
        let (ws, g) = tokio::join!(
            async {
                let mut ws = s
                    .ws_open(Token::Bearer(&bob.access), None)
                    .await
                    .expect("upgraded");
                ws.expect_ready(&bob).await;
                ws.ping().await;
                ws
            },
            async {
                tokio::time::sleep(Duration::from_millis(attempt)).await;
                if attempt % 2 == 0 {
                    id(&s.create_group(&alice, "new", &[&bob]).await)
                } else {
                    s.add_member(&alice, &later, &bob, None).await;
                    later.clone()
                }
            }
        );
        let mut ws = ws;
        // Two messages after the socket is up: whatever the socket learnt of the group at the
        // start (its first GET /groups-like state, a group.created), from then on the group's
        // messages must reach it. The second one can only be missing if the socket was never
        // routed the group at all.
        s.send(&alice, &g, "does bob hear this?").await;
        let m = s.send(&alice, &g, "and this?").await;
        let frames = ws.fence(&s, &bob, &fence).await;
        let live = frames.iter().any(|f| f["message"]["id"] == m["id"]);
        // Or announced with the message already in it (`last_rev`), to read over HTTP.
        let announced = frames.iter().any(|f| {
            kind(f) == "group.created"
                && f["group"]["id"] == g.as_str()
                && f["group"]["last_rev"].as_u64() >= m["rev"].as_u64()
        });
        if !live && !announced {
            let kinds: Vec<&str> = frames.iter().map(kind).collect();
            let how = if attempt % 2 == 0 {
                "created with bob"
            } else {
                "bob added"
            };
            lost.push(format!(
                "attempt {attempt} ({how}, {attempt} ms into the connect): got only {kinds:?}"
            ));
        }
    }
    assert!(
        lost.is_empty(),
        "the socket never heard of the group:\n{}",
        lost.join("\n")
    );
}

confab_tests::store_tests!(
    a_removed_member_hears_the_removal_then_nothing_of_the_group,
    a_member_who_leaves_over_the_socket_hears_nothing_more,
    a_new_member_hears_the_group_the_join_then_its_messages,
    a_new_direct_chat_appears_on_both_sides_without_reconnecting;
    own_server: a_group_joined_while_the_socket_connects_still_reaches_it,
);
