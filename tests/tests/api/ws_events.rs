//! Every server event of API.md reaches exactly the sockets it should: all connected sockets
//! of every member (the actor's other sockets too) and no other — for writes over HTTP and
//! over sockets alike.
//!
//! The test records, step by step, which sockets must hear which event; at the end each socket
//! reads up to a fence (see `Ws::fence`) and must have heard exactly its share, in order.

use confab_tests::chat::id;
use confab_tests::ws::kind;
use confab_tests::{Session, TestServer, Ws};
use serde_json::{Value, json};

const A1: usize = 0;
const A2: usize = 1;
const B: usize = 2;
const C: usize = 3;
const D: usize = 4;

/// The group a server frame is about.
fn group_of(f: &Value) -> String {
    [&f["group_id"], &f["message"]["group_id"], &f["group"]["id"]]
        .into_iter()
        .find_map(Value::as_str)
        .unwrap_or_else(|| panic!("a frame about no group: {f}"))
        .to_owned()
}

/// What each socket must hear: `(type, group)`, in order.
#[derive(Default)]
struct Expect(Vec<Vec<(String, String)>>);

impl Expect {
    fn heard(&mut self, ty: &str, group: &str, by: &[usize]) {
        if self.0.is_empty() {
            self.0 = vec![Vec::new(); 5];
        }
        for &k in by {
            self.0[k].push((ty.to_owned(), group.to_owned()));
        }
    }
}

fn send(group: &str, body: &str) -> Value {
    json!({"type": "message.send", "ref": body, "group_id": group, "body": body})
}

async fn every_event_reaches_every_members_sockets_and_no_one_else(s: &TestServer) {
    let alice = s.register("alice").await;
    let bob = s.register("bob").await;
    let carol = s.register("carol").await;
    let dave = s.register("dave").await;
    // Each user's own fence group, made before any socket opens.
    let mut fences = Vec::new();
    for who in [&alice, &bob, &carol, &dave] {
        fences.push(id(&s.create_group(who, "fence", &[]).await));
    }
    let mut ws: Vec<Ws> = vec![
        s.ws(&alice).await,
        s.ws(&alice).await,
        s.ws(&bob).await,
        s.ws(&carol).await,
        s.ws(&dave).await,
    ];
    let mut expect = Expect::default();
    let team = [A1, A2, B];

    // group.created, over the socket.
    let ack = ws[A1]
        .ok(json!({"type": "group.create", "ref": "g", "name": "team", "member_ids": [bob.user_id]}))
        .await;
    let g = id(&ack["group"]);
    expect.heard("group.created", &g, &team);

    // message.created / updated / deleted, over HTTP and over a socket.
    let m1 = id(&s.send(&bob, &g, "over http").await);
    expect.heard("message.created", &g, &team);
    let m2 = id(&ws[A1].ok(send(&g, "over the socket")).await["message"]);
    expect.heard("message.created", &g, &team);
    s.edit(&bob, &m1, "over http, edited").await;
    expect.heard("message.updated", &g, &team);
    ws[A1]
        .ok(json!({"type": "message.edit", "ref": "e", "id": m2, "body": "edited"}))
        .await;
    expect.heard("message.updated", &g, &team);
    s.delete_message(&bob, &m1).await.expect(204);
    expect.heard("message.deleted", &g, &team);
    ws[A1]
        .ok(json!({"type": "message.delete", "ref": "d", "id": m2}))
        .await;
    expect.heard("message.deleted", &g, &team);

    // group.updated, both ways.
    s.patch(
        &format!("/groups/{g}"),
        Some(&alice.access),
        json!({"name": "renamed"}),
    )
    .await
    .expect(200);
    expect.heard("group.updated", &g, &team);
    ws[A2]
        .ok(json!({"type": "group.update", "ref": "u", "group_id": g, "name": "again"}))
        .await;
    expect.heard("group.updated", &g, &team);

    // member.joined: Dave learns of the group first; then member.role_changed.
    s.add_member(&alice, &g, &dave, None).await;
    expect.heard("group.created", &g, &[D]);
    expect.heard("member.joined", &g, &[A1, A2, B, D]);
    s.set_role(&alice, &g, &dave.user_id, "admin")
        .await
        .expect(200);
    expect.heard("member.role_changed", &g, &[A1, A2, B, D]);

    // typing and read reach the others, not the actor. (A ping after a frame that has no
    // answer proves the server has handled it before the next step.)
    ws[B].send(json!({"type": "typing", "group_id": g})).await;
    ws[B].ping().await;
    expect.heard("typing", &g, &[A1, A2, D]);
    ws[D]
        .send(json!({"type": "read", "group_id": g, "seq": 1}))
        .await;
    ws[D].ping().await;
    expect.heard("read", &g, &[A1, A2, B]);
    s.read(&bob, &g, 2).await;
    expect.heard("read", &g, &[A1, A2, D]);
    ws[D].ok(send(&g, "from dave")).await;
    expect.heard("message.created", &g, &[A1, A2, B, D]);

    // member.left, over the socket: Dave hears his own removal, then nothing more of it.
    ws[A1]
        .ok(json!({"type": "member.remove", "ref": "rm", "group_id": g, "user_id": dave.user_id}))
        .await;
    expect.heard("member.left", &g, &[A1, A2, B, D]);
    s.send(&alice, &g, "after dave").await;
    expect.heard("message.created", &g, &team);

    // A direct chat: group.created, a message, group.closed (over a socket).
    let direct = id(&s.direct(&bob, &alice).await.json);
    expect.heard("group.created", &direct, &team);
    s.send(&alice, &direct, "psst").await;
    expect.heard("message.created", &direct, &team);
    ws[A2]
        .ok(json!({"type": "group.delete", "ref": "close", "group_id": direct}))
        .await;
    expect.heard("group.closed", &direct, &team);

    // group.deleted, over HTTP and over a socket.
    s.delete(&format!("/groups/{g}"), Some(&alice.access))
        .await
        .expect(204);
    expect.heard("group.deleted", &g, &team);
    let h = id(&s.create_group(&bob, "short-lived", &[&alice]).await);
    expect.heard("group.created", &h, &team);
    s.remove_member(&alice, &h, &alice.user_id)
        .await
        .expect(204);
    expect.heard("member.left", &h, &team);
    ws[B]
        .ok(json!({"type": "group.delete", "ref": "del", "group_id": h}))
        .await;
    expect.heard("group.deleted", &h, &[B]);

    // Each socket, up to its fence, heard exactly its share.
    let owners: [(&Session, usize); 5] =
        [(&alice, 0), (&alice, 0), (&bob, 1), (&carol, 2), (&dave, 3)];
    for (k, (who, f)) in owners.into_iter().enumerate() {
        let frames = ws[k].fence(s, who, &fences[f]).await;
        // Alice leaves `h` right after it is made. A socket of hers that comes to `h`'s
        // creation only after the leave committed finds no group of hers to show and rightly
        // says nothing of `h` at all; one that came in time hears both. Either is a client
        // state equal to the store's.
        let skipped_h = matches!(k, A1 | A2)
            && !frames
                .iter()
                .any(|f| kind(f) == "group.created" && group_of(f) == h);
        let heard: Vec<(String, String)> = frames
            .iter()
            .filter(|f| !matches!(kind(f), "ack" | "pong"))
            .map(|f| (kind(f).to_owned(), group_of(f)))
            .filter(|(_, group)| !fences.contains(group))
            .collect();
        let wanted: Vec<(String, String)> = expect.0[k]
            .iter()
            .filter(|(_, group)| !(skipped_h && *group == h))
            .cloned()
            .collect();
        assert_eq!(heard, wanted, "socket {k}: {frames:#?}");
    }
    assert!(expect.0[C].is_empty());
}

async fn events_carry_what_api_md_says(s: &TestServer) {
    let alice = s.register("alice").await;
    let bob = s.register("bob").await;
    let g = id(&s.create_group(&alice, "team", &[&bob]).await);
    let mut b = s.ws(&bob).await;
    let mut a = s.ws(&alice).await;

    let m = s.send(&alice, &g, "hi").await;
    assert_eq!(
        b.next().await,
        json!({"type": "message.created", "message": m})
    );
    let e = s.edit(&alice, &id(&m), "hi!").await;
    assert_eq!(
        b.next().await,
        json!({"type": "message.updated", "message": e})
    );
    s.delete_message(&alice, &id(&m)).await.expect(204);
    let tomb = s.all_messages(&bob, &g).await[0].clone();
    assert_eq!(
        b.next().await,
        json!({"type": "message.deleted", "group_id": g, "id": id(&m), "seq": 1, "rev": tomb["rev"]})
    );
    s.patch(
        &format!("/groups/{g}"),
        Some(&alice.access),
        json!({"name": "new name"}),
    )
    .await
    .expect(200);
    // The group as the recipient sees it (their own `my`).
    let f = b.next_of("group.updated").await;
    assert_eq!(f["group"], s.group(&bob, &g).await);
    let carol = s.register("carol").await;
    s.add_member(&alice, &g, &carol, Some("admin")).await;
    assert_eq!(
        b.next().await,
        json!({"type": "member.joined", "group_id": g, "user_id": carol.user_id, "role": "admin"})
    );
    s.set_role(&alice, &g, &carol.user_id, "member")
        .await
        .expect(200);
    assert_eq!(
        b.next().await,
        json!({"type": "member.role_changed", "group_id": g, "user_id": carol.user_id, "role": "member"})
    );
    // Ownership transfer: two role changes, the new owner's first.
    s.set_role(&alice, &g, &bob.user_id, "owner")
        .await
        .expect(200);
    assert_eq!(
        b.next().await,
        json!({"type": "member.role_changed", "group_id": g, "user_id": bob.user_id, "role": "owner"})
    );
    assert_eq!(
        b.next().await,
        json!({"type": "member.role_changed", "group_id": g, "user_id": alice.user_id, "role": "admin"})
    );
    s.remove_member(&bob, &g, &carol.user_id).await.expect(204);
    assert_eq!(
        b.next().await,
        json!({"type": "member.left", "group_id": g, "user_id": carol.user_id})
    );
    a.send(json!({"type": "typing", "group_id": g})).await;
    assert_eq!(
        b.next().await,
        json!({"type": "typing", "group_id": g, "user_id": alice.user_id})
    );
    s.delete(&format!("/groups/{g}"), Some(&bob.access))
        .await
        .expect(204);
    assert_eq!(
        b.next().await,
        json!({"type": "group.deleted", "group_id": g})
    );
}

confab_tests::store_tests!(
    every_event_reaches_every_members_sockets_and_no_one_else,
    events_carry_what_api_md_says,
);
