//! Client frames about messages, good and bad: `message.send`, `message.edit`,
//! `message.delete`, `typing`, `read`, `sync`, `ping`. Each answers as API.md says, echoes the
//! `ref` exactly, and fails with the code its HTTP route would give.

use std::time::Duration;

use confab_tests::chat::{id, num};
use confab_tests::ws::kind;
use confab_tests::{Session, TestServer};
use serde_json::{Value, json};
use tokio::time::Instant;

/// Alice (owner) and Bob in a group; Carol in none of it.
async fn cast(s: &TestServer) -> (Session, Session, Session, String) {
    let alice = s.register("alice").await;
    let bob = s.register("bob").await;
    let carol = s.register("carol").await;
    let g = id(&s.create_group(&alice, "team", &[&bob]).await);
    (alice, bob, carol, g)
}

fn send(reference: Value, group: &str, body: &str) -> Value {
    json!({"type": "message.send", "ref": reference, "group_id": group, "body": body})
}

async fn message_send_is_acked_with_the_durable_message_and_echoes_any_ref(s: &TestServer) {
    let (alice, bob, _, g) = cast(s).await;
    let mut a = s.ws(&alice).await;
    let mut b = s.ws(&bob).await;
    let refs = [
        json!("r-1"),
        json!(42),
        json!(-7),
        json!(1.5),
        json!(u64::MAX),
        json!(""),
        json!({"nested": [1, "x"]}),
    ];
    for (i, reference) in refs.iter().enumerate() {
        let ack = a
            .ok(send(reference.clone(), &g, &format!("hello {i}")))
            .await;
        assert_eq!(&ack["ref"], reference, "{ack}");
        let mut keys: Vec<_> = ack.as_object().unwrap().keys().cloned().collect();
        keys.sort();
        assert_eq!(keys, ["message", "ref", "type"], "{ack}");
        let m = &ack["message"];
        assert_eq!(num(m, "seq"), i as u64 + 1, "{ack}");
        assert_eq!(m["body"], format!("hello {i}"));
        assert_eq!(m["sender_id"], alice.user_id.as_str());
        // Acked means durable and visible: HTTP shows exactly the acked message.
        let (page, _) = s.history(&bob, &g, &format!("after={}&limit=1", i)).await;
        assert_eq!(&page[0], m);
        // And Bob's socket got it as an event.
        let f = b.next_of("message.created").await;
        assert_eq!(&f["message"], m);
    }
    // The same client_id again answers the first message.
    let first = a
        .ok(json!({"type": "message.send", "ref": "c1", "group_id": g, "body": "once", "client_id": "k-1"}))
        .await;
    let again = a
        .ok(json!({"type": "message.send", "ref": "c2", "group_id": g, "body": "twice", "client_id": "k-1"}))
        .await;
    assert_eq!(first["message"], again["message"]);
    assert_eq!(first["message"]["client_id"], "k-1");
    assert_eq!(s.all_messages(&alice, &g).await.len(), refs.len() + 1);
}

async fn message_send_fails_with_the_http_codes(s: &TestServer) {
    let (alice, bob, carol, g) = cast(s).await;
    let mut a = s.ws(&alice).await;
    let mut c = s.ws(&carol).await;
    // Not a member, and no such group: both not_found, nothing leaked.
    let e = c
        .fails(send(json!("x1"), &g, "let me in"), "not_found")
        .await;
    assert_eq!(e["ref"], "x1");
    let nowhere = uuid::Uuid::now_v7().to_string();
    c.fails(send(json!(2), &nowhere, "hi"), "not_found").await;
    // Empty (after trimming) and too long bodies.
    let e = a
        .fails(send(json!("e"), &g, "  \n\t "), "validation_failed")
        .await;
    assert_eq!(e["field"], "body", "{e}");
    a.fails(
        send(json!("long"), &g, &"x".repeat(4001)),
        "validation_failed",
    )
    .await;
    a.ok(send(json!("max"), &g, &"x".repeat(4000))).await;
    // A closed direct chat: gone.
    let d = id(&s.direct(&alice, &bob).await.json);
    s.delete(&format!("/groups/{d}"), Some(&bob.access))
        .await
        .expect(204);
    a.fails(send(json!("closed"), &d, "anyone?"), "gone").await;
    // Nothing of it was stored.
    assert_eq!(s.all_messages(&alice, &g).await.len(), 1);
    assert!(s.all_messages(&alice, &d).await.is_empty());
    a.ping().await;
    c.ping().await;
}

async fn message_edit_and_delete_answer_and_fail_like_http(s: &TestServer) {
    let (alice, bob, carol, g) = cast(s).await;
    let mut a = s.ws(&alice).await;
    let mut b = s.ws(&bob).await;
    let mut c = s.ws(&carol).await;
    let m = a.ok(send(json!(1), &g, "first")).await["message"].clone();
    let mid = id(&m);
    b.next_of("message.created").await;

    let ack = a
        .ok(json!({"type": "message.edit", "ref": "ed", "id": mid, "body": "first, edited"}))
        .await;
    let edited = &ack["message"];
    assert_eq!(edited["body"], "first, edited");
    assert_eq!(edited["seq"], m["seq"]);
    assert!(num(edited, "rev") > num(&m, "rev"));
    assert!(edited["edited_at"].is_string(), "{ack}");
    let f = b.next_of("message.updated").await;
    assert_eq!(&f["message"], edited);

    let edit = |r: Value, id: &str, body: &str| json!({"type": "message.edit", "ref": r, "id": id, "body": body});
    let unknown = uuid::Uuid::now_v7().to_string();
    b.fails(edit(json!("b"), &mid, "not mine"), "forbidden")
        .await;
    c.fails(edit(json!("c"), &mid, "not my group"), "not_found")
        .await;
    a.fails(edit(json!("u"), &unknown, "nothing"), "not_found")
        .await;
    a.fails(edit(json!("v"), &mid, " "), "validation_failed")
        .await;

    let delete = |r: Value, id: &str| json!({"type": "message.delete", "ref": r, "id": id});
    b.fails(delete(json!("bd"), &mid), "forbidden").await;
    c.fails(delete(json!("cd"), &mid), "not_found").await;
    a.fails(delete(json!("ud"), &unknown), "not_found").await;
    let ack = a.ok(delete(json!("del"), &mid)).await;
    assert_eq!(ack, json!({"type": "ack", "ref": "del"}));
    let f = b.next_of("message.deleted").await;
    let tomb = s.all_messages(&bob, &g).await[0].clone();
    assert_eq!(tomb["deleted"], true);
    assert_eq!(
        f,
        json!({"type": "message.deleted", "group_id": g, "id": mid, "seq": tomb["seq"], "rev": tomb["rev"]})
    );
    // Editing a tombstone is gone; deleting it again is fine and changes nothing.
    a.fails(edit(json!("again"), &mid, "back?"), "gone").await;
    a.ok(delete(json!("del2"), &mid)).await;
    assert_eq!(s.group(&alice, &g).await["last_rev"], tomb["rev"]);

    // The owner deletes Bob's message; in a closed chat edits and deletes are gone.
    let theirs = b.ok(send(json!(9), &g, "bob's")).await["message"].clone();
    a.ok(delete(json!("mod"), &id(&theirs))).await;
    let d = id(&s.direct(&alice, &bob).await.json);
    let dm = a.ok(send(json!("dm"), &d, "psst")).await["message"].clone();
    s.delete(&format!("/groups/{d}"), Some(&alice.access))
        .await
        .expect(204);
    a.fails(edit(json!("ce"), &id(&dm), "late"), "gone").await;
    a.fails(delete(json!("cd"), &id(&dm)), "gone").await;
}

async fn typing_reaches_the_other_members_at_most_once_per_two_seconds(s: &TestServer) {
    let (alice, bob, carol, g) = cast(s).await;
    let alone = id(&s.create_group(&carol, "alone", &[]).await);
    let (mut a1, mut a2) = (s.ws(&alice).await, s.ws(&alice).await);
    let mut b = s.ws(&bob).await;
    let mut c = s.ws(&carol).await;

    let started = Instant::now();
    a1.send(json!({"type": "typing", "group_id": g})).await;
    a1.send(json!({"type": "typing", "group_id": g})).await;
    let f = b.next().await;
    assert_eq!(
        f,
        json!({"type": "typing", "group_id": g, "user_id": alice.user_id})
    );
    // The second one, within 2 s, was not relayed; Alice's own sockets heard none.
    let before = b.fence(s, &alice, &g).await;
    assert!(before.is_empty(), "{before:?}");
    for ws in [&mut a1, &mut a2] {
        let before = ws.fence(s, &alice, &g).await;
        assert!(
            before.iter().all(|f| kind(f) != "typing"),
            "the typist's own sockets got {before:?}"
        );
    }
    assert!(c.fence(s, &carol, &alone).await.is_empty());

    // Bob types: both of Alice's sockets hear it.
    b.send(json!({"type": "typing", "group_id": g})).await;
    for ws in [&mut a1, &mut a2] {
        assert_eq!(
            ws.take_of("typing").await,
            json!({"type": "typing", "group_id": g, "user_id": bob.user_id})
        );
    }
    // Later, Alice's typing is relayed again — not before 2 s have passed.
    let again = loop {
        a1.send(json!({"type": "typing", "group_id": g})).await;
        let frames = b.collect(Duration::from_millis(200)).await;
        if frames.iter().any(|f| kind(f) == "typing") {
            break started.elapsed();
        }
        assert!(
            started.elapsed() < Duration::from_secs(10),
            "never relayed again"
        );
    };
    assert!(
        again >= Duration::from_millis(1800),
        "relayed again after {again:?}"
    );

    // A group one is not in: not_found, with the ref when there is one.
    let e = c
        .fails(
            json!({"type": "typing", "ref": "t", "group_id": g}),
            "not_found",
        )
        .await;
    assert_eq!(e["ref"], "t");
    c.send(json!({"type": "typing", "group_id": g})).await;
    let e = c.next_of("error").await;
    assert_eq!(e["code"], "not_found");
    assert!(e.get("ref").is_none_or(Value::is_null), "{e}");
    c.ping().await;
}

async fn read_is_stored_like_the_http_route_and_the_others_hear_it(s: &TestServer) {
    let (alice, bob, carol, g) = cast(s).await;
    for i in 0..3 {
        s.send(&bob, &g, &format!("m{i}")).await;
    }
    let (mut a1, mut a2) = (s.ws(&alice).await, s.ws(&alice).await);
    let mut b = s.ws(&bob).await;
    let mut c = s.ws(&carol).await;

    a1.send(json!({"type": "read", "group_id": g, "seq": 2}))
        .await;
    assert_eq!(
        b.next().await,
        json!({"type": "read", "group_id": g, "user_id": alice.user_id, "seq": 2})
    );
    let my = s.my(&alice, &g).await;
    assert_eq!(my["last_read_seq"], 2, "{my}");
    assert_eq!(my["unread_count"], 1, "{my}");
    // Never backwards, clamped to the last message: the HTTP route's rules.
    a1.send(json!({"type": "read", "group_id": g, "seq": 1}))
        .await;
    a1.send(json!({"type": "read", "group_id": g, "seq": 99}))
        .await;
    let (_, f) = b.until_match(|f| kind(f) == "read" && f["seq"] == 3).await;
    assert_eq!(f["user_id"], alice.user_id.as_str());
    let my = s.my(&alice, &g).await;
    assert_eq!(my["last_read_seq"], 3, "{my}");
    assert_eq!(my["unread_count"], 0, "{my}");
    // The reader's own sockets are not told ("other members get read").
    for ws in [&mut a1, &mut a2] {
        let before = ws.fence(s, &bob, &g).await;
        assert!(before.iter().all(|f| kind(f) != "read"), "{before:?}");
    }
    // Bob reads over HTTP: Alice's sockets hear it the same way.
    s.read(&bob, &g, 4).await;
    for ws in [&mut a1, &mut a2] {
        assert_eq!(
            ws.take_of("read").await,
            json!({"type": "read", "group_id": g, "user_id": bob.user_id, "seq": 4})
        );
    }
    // Bad reads: errors with the ref, the marker unchanged.
    let e = a1
        .fails(
            json!({"type": "read", "ref": "neg", "group_id": g, "seq": -1}),
            "validation_failed",
        )
        .await;
    assert_eq!(e["ref"], "neg");
    c.fails(
        json!({"type": "read", "ref": 5, "group_id": g, "seq": 1}),
        "not_found",
    )
    .await;
    assert_eq!(s.my(&alice, &g).await["last_read_seq"], 3);
}

async fn ping_is_answered_with_pong_and_its_ref(s: &TestServer) {
    let alice = s.register("alice").await;
    let mut ws = s.ws(&alice).await;
    for reference in [json!("p"), json!(0), json!(12.25), json!(["a", 1])] {
        ws.send(json!({"type": "ping", "ref": reference})).await;
        assert_eq!(ws.next().await, json!({"type": "pong", "ref": reference}));
    }
    ws.send(json!({"type": "ping"})).await;
    let pong = ws.next_of("pong").await;
    assert!(pong.get("ref").is_none_or(Value::is_null), "{pong}");
}

async fn sync_sends_the_changes_after_since_then_synced(s: &TestServer) {
    let (alice, bob, carol, g) = cast(s).await;
    let theirs = id(&s.create_group(&carol, "theirs", &[]).await);
    s.send(&carol, &theirs, "private").await;
    let m1 = s.send(&bob, &g, "one").await;
    let m2 = s.send(&bob, &g, "two").await;
    let seen = num(&m2, "rev");
    let m3 = s.send(&bob, &g, "three").await;
    let e1 = s.edit(&bob, &id(&m1), "one, edited").await;
    s.delete_message(&bob, &id(&m2)).await.expect(204);
    let tomb2 = s.all_messages(&bob, &g).await[1].clone();

    let mut ws = s.ws(&alice).await;
    // Everything after rev 2: m3 created, m1 updated, m2 deleted — in rev order.
    ws.send(json!({"type": "sync", "ref": "s1", "since": {g.clone(): seen, theirs.clone(): 0}}))
        .await;
    let got = vec![
        ws.next().await,
        ws.next().await,
        ws.next().await,
        ws.next().await,
    ];
    assert_eq!(
        got,
        vec![
            json!({"type": "message.created", "message": m3}),
            json!({"type": "message.updated", "message": e1}),
            json!({"type": "message.deleted", "group_id": g, "id": id(&m2), "seq": 2, "rev": tomb2["rev"]}),
            json!({"type": "synced", "ref": "s1"}),
        ]
    );
    // From 0: every message as created (the tombstone too), in rev order.
    ws.send(json!({"type": "sync", "ref": 2, "since": {g.clone(): 0}}))
        .await;
    let (frames, synced) = ws.until("synced").await;
    assert_eq!(synced, json!({"type": "synced", "ref": 2}));
    let revs: Vec<u64> = frames.iter().map(|f| num(&f["message"], "rev")).collect();
    assert!(
        frames.iter().all(|f| kind(f) == "message.created"),
        "{frames:?}"
    );
    assert!(revs.windows(2).all(|w| w[0] < w[1]), "{revs:?}");
    assert_eq!(frames.len(), 3);
    // Up to date, or nothing asked: just synced.
    let last = num(&s.group(&alice, &g).await, "last_rev");
    ws.send(json!({"type": "sync", "ref": "now", "since": {g.clone(): last}}))
        .await;
    assert_eq!(ws.next().await, json!({"type": "synced", "ref": "now"}));
    ws.send(json!({"type": "sync", "ref": "none", "since": {}}))
        .await;
    assert_eq!(ws.next().await, json!({"type": "synced", "ref": "none"}));
    // A sync without since, or with a rev that is not a number, is a bad frame.
    let e = ws
        .fails(json!({"type": "sync", "ref": "bad"}), "bad_request")
        .await;
    assert_eq!(e["ref"], "bad");
    ws.fails(
        json!({"type": "sync", "ref": "bad2", "since": {g.clone(): "x"}}),
        "bad_request",
    )
    .await;
}

confab_tests::store_tests!(
    message_send_is_acked_with_the_durable_message_and_echoes_any_ref,
    message_send_fails_with_the_http_codes,
    message_edit_and_delete_answer_and_fail_like_http,
    typing_reaches_the_other_members_at_most_once_per_two_seconds,
    read_is_stored_like_the_http_route_and_the_others_hear_it,
    ping_is_answered_with_pong_and_its_ref,
    sync_sends_the_changes_after_since_then_synced,
);
