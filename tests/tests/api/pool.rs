//! The matching pool and the rooms it makes: matched or waiting, `pool.matched` on both
//! users' sockets, same country when either side asks, never oneself, never twice, not again
//! with a partner whose room is open, waiting entries that expire, rooms that expire (closed
//! by the sweep: `group.closed`, writes 410, history readable), and 100 users joining at once.

use std::collections::{BTreeMap, BTreeSet};
use std::sync::Arc;
use std::time::Duration;

use confab_tests::chat::{id, millis};
use confab_tests::{Body, Resp, Session, Store, TestServer};
use reqwest::Method;
use serde_json::{Value, json};

async fn join(s: &TestServer, who: &Session, body: Value) -> Resp {
    s.post("/pool", Some(&who.access), body).await
}

/// Joins and asserts the caller now waits.
async fn waits(s: &TestServer, who: &Session, body: Value) {
    let r = join(s, who, body).await;
    r.expect(202);
    assert_eq!(r.json, json!({"status": "waiting"}), "{}", r.text);
}

/// Joins and asserts a match with `partner`; returns the room as the caller sees it.
async fn matched(s: &TestServer, who: &Session, body: Value, partner: &Session) -> Value {
    let r = join(s, who, body).await;
    r.expect(200);
    assert_eq!(r.json["status"], "matched", "{}", r.text);
    let room = r.json["group"].clone();
    let members: BTreeSet<String> = s
        .members(who, &id(&room))
        .await
        .iter()
        .map(|m| m["user"]["id"].as_str().unwrap().to_owned())
        .collect();
    let expected: BTreeSet<String> = [who.user_id.clone(), partner.user_id.clone()].into();
    assert_eq!(members, expected, "matched with the wrong user");
    room
}

/// A fresh login of `who`: moving the clock a day ends every access token issued before.
async fn relogin(s: &TestServer, who: &Session) -> Session {
    s.login(&who.username, "correct horse battery").await
}

async fn with_country(s: &TestServer, name: &str, country: &str) -> Session {
    s.register_with(json!({
        "username": name, "password": "correct horse battery", "country": country
    }))
    .await
}

async fn matched_answers_the_room_and_waiting_answers_202(s: &TestServer) {
    let alice = s.register("alice").await;
    let bob = s.register("bob").await;
    waits(s, &alice, json!({})).await;
    let r = join(s, &bob, json!({"same_country": false})).await;
    r.expect(200);
    let keys: BTreeSet<&str> = r
        .json
        .as_object()
        .unwrap()
        .keys()
        .map(|k| k.as_str())
        .collect();
    assert_eq!(keys, BTreeSet::from(["group", "status"]));
    let room = r.json["group"].clone();
    assert_eq!(room["kind"], "direct");
    assert_eq!(room["name"], Value::Null);
    assert_eq!(room["member_count"], 2);
    assert_eq!(room["closed_at"], Value::Null);
    assert_eq!(
        room["my"],
        json!({"role": "member", "alias": null, "last_read_seq": 0, "unread_count": 0,
                "mention_count": 0})
    );
    // Open for the default room lifetime, 24 hours.
    assert_eq!(
        millis(&room["expires_at"]) - millis(&room["created_at"]),
        24 * 3600 * 1000
    );
    // The answer is the room as GET /groups/{id} shows it to the caller; both have it.
    assert_eq!(s.group(&bob, &id(&room)).await, room);
    assert_eq!(s.group_ids(&alice).await, [id(&room)]);
    assert_eq!(
        s.group(&alice, &id(&room)).await["expires_at"],
        room["expires_at"]
    );
    // Both left the pool: the next one waits.
    let carol = s.register("carol").await;
    waits(s, &carol, json!({})).await;
    // A matched room is not the pair's POST /direct chat: that is a chat of its own.
    s.direct(&alice, &bob).await.expect(201);
}

async fn pool_matched_reaches_both_users_sockets(s: &TestServer) {
    let alice = s.register("alice").await;
    let bob = s.register("bob").await;
    let mut alice_ws = s.ws(&alice).await;
    let mut bob_ws = s.ws(&bob).await;
    waits(s, &alice, json!({})).await;
    let room = matched(s, &bob, json!({}), &alice).await;
    for (ws, who) in [(&mut alice_ws, &alice), (&mut bob_ws, &bob)] {
        let created = ws.take_of("group.created").await;
        assert_eq!(created["group"]["id"], room["id"]);
        let f = ws.take_of("pool.matched").await;
        assert_eq!(f["group"]["id"], room["id"], "{f}");
        assert_eq!(f["group"]["kind"], "direct");
        assert_eq!(f["group"]["expires_at"], room["expires_at"]);
        assert_eq!(f["group"], s.group(who, &id(&room)).await);
    }
    // The room's messages reach both sockets live.
    let m = s.send(&alice, &id(&room), "hello stranger").await;
    for ws in [&mut alice_ws, &mut bob_ws] {
        let f = ws.take_of("message.created").await;
        assert_eq!(f["message"]["id"], m["id"]);
    }
}

async fn same_country_is_honoured_when_either_side_asks(s: &TestServer) {
    let de_strict = with_country(s, "destrict", "DE").await;
    let fr = with_country(s, "fra", "FR").await;
    let de = with_country(s, "deu", "DE").await;
    let fr_strict = with_country(s, "frstrict", "FR").await;
    let nowhere = s.register("nowhere").await;
    let us_strict = with_country(s, "usstrict", "US").await;
    waits(s, &de_strict, json!({"same_country": true})).await;
    // The one waiting asked for Germany: a French user who did not ask waits too.
    waits(s, &fr, json!({})).await;
    // The oldest fitting entry: the strict German, though the French user also fits.
    matched(s, &de, json!({}), &de_strict).await;
    // Asking without a country of one's own is refused.
    let r = join(s, &nowhere, json!({"same_country": true})).await;
    r.expect_error(422, "validation_failed");
    assert_eq!(r.field(), Some("same_country"));
    // The newcomer asks; the one waiting did not: same country, so matched.
    matched(s, &fr_strict, json!({"same_country": true}), &fr).await;
    waits(s, &nowhere, json!({})).await;
    // A user without a country never fits one who asks.
    waits(s, &us_strict, json!({"same_country": true})).await;
    // null is the same as absent.
    let late = s.register("late").await;
    matched(s, &late, json!({"same_country": null}), &nowhere).await;
}

async fn nobody_is_matched_with_themself_or_waits_twice(s: &TestServer) {
    let alice = with_country(s, "alice", "DE").await;
    waits(s, &alice, json!({})).await;
    for body in [
        json!({}),
        json!({"same_country": true}),
        json!({"same_country": false}),
    ] {
        let r = join(s, &alice, body).await;
        r.expect_error(409, "conflict");
        assert_eq!(r.field(), Some("pool"));
    }
    assert!(s.group_ids(&alice).await.is_empty());
}

async fn leaving_the_pool_is_idempotent_and_one_may_join_again(s: &TestServer) {
    let alice = s.register("alice").await;
    let bob = s.register("bob").await;
    // Not waiting: still 204.
    s.delete("/pool", Some(&alice.access)).await.expect(204);
    waits(s, &alice, json!({})).await;
    s.delete("/pool", Some(&alice.access)).await.expect(204);
    s.delete("/pool", Some(&alice.access)).await.expect(204);
    // Alice left: Bob finds nobody.
    waits(s, &bob, json!({})).await;
    matched(s, &alice, json!({}), &bob).await;
}

async fn a_waiting_entry_expires_after_the_pool_wait(s: &TestServer) {
    let alice = s.register("alice").await;
    let bob = s.register("bob").await;
    let carol = s.register("carol").await;
    waits(s, &alice, json!({})).await;
    s.advance(Duration::from_secs(10 * 60));
    // Alice's 10 minutes are up: never matched.
    waits(s, &bob, json!({})).await;
    // Her expired entry is gone, so she may join again (no 409) — and Bob waits.
    matched(s, &alice, json!({}), &bob).await;
    waits(s, &carol, json!({})).await;
}

async fn the_pool_wait_is_configurable(store: Store) {
    let s = TestServer::start_with(store, &["--pool-wait", "30s"]).await;
    let alice = s.register("alice").await;
    let bob = s.register("bob").await;
    let carol = s.register("carol").await;
    waits(&s, &alice, json!({})).await;
    s.advance(Duration::from_secs(29));
    matched(&s, &bob, json!({}), &alice).await;
    waits(&s, &carol, json!({})).await;
    s.advance(Duration::from_secs(30));
    waits(&s, &alice, json!({})).await;
}

async fn the_sweep_drops_expired_waiting_entries(store: Store) {
    let s = TestServer::start_with(
        store,
        &["--pool-wait", "30s", "--expiry-sweep-interval", "100ms"],
    )
    .await;
    let alice = s.register("alice").await;
    waits(&s, &alice, json!({})).await;
    let entries = async |who: &Session| s.count_rows("pool_entries", "user_id", &who.user_id).await;
    assert_eq!(entries(&alice).await, 1);
    s.advance(Duration::from_secs(30));
    let deadline = tokio::time::Instant::now() + Duration::from_secs(5);
    while entries(&alice).await != 0 {
        assert!(
            tokio::time::Instant::now() < deadline,
            "the expired entry stays"
        );
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
}

async fn partners_with_an_open_room_are_not_matched_again(s: &TestServer) {
    let alice = s.register("alice").await;
    let bob = s.register("bob").await;
    let carol = s.register("carol").await;
    waits(s, &alice, json!({})).await;
    let room = id(&matched(s, &bob, json!({}), &alice).await);
    waits(s, &alice, json!({})).await;
    // Their room is open: Bob waits beside Alice rather than meeting her again.
    waits(s, &bob, json!({})).await;
    // Carol gets the oldest: Alice.
    matched(s, &carol, json!({}), &alice).await;
    // Each names the room their own way; Alice closes it early; each keeps their alias.
    for (who, alias) in [(&alice, "the nice one"), (&bob, "who was that")] {
        s.put_json(
            &format!("/groups/{room}/alias"),
            Some(&who.access),
            json!({"alias": alias}),
        )
        .await
        .expect(200);
    }
    s.delete(&format!("/groups/{room}"), Some(&alice.access))
        .await
        .expect(204);
    assert_eq!(s.my(&alice, &room).await["alias"], "the nice one");
    assert_eq!(s.my(&bob, &room).await["alias"], "who was that");
    s.try_send(&bob, &room, json!({"body": "hello?"}))
        .await
        .expect_error(410, "gone");
    // Closed: they may meet again.
    matched(s, &alice, json!({}), &bob).await;
}

async fn a_room_expires_closes_and_stays_readable(store: Store) {
    let s = TestServer::start_with(store, &["--expiry-sweep-interval", "100ms"]).await;
    let alice = s.register("alice").await;
    let bob = s.register("bob").await;
    waits(&s, &alice, json!({})).await;
    let room = id(&matched(&s, &bob, json!({}), &alice).await);
    let first = s.send(&alice, &room, "hello").await;
    let mine = id(&s.send(&bob, &room, "hi there").await);
    let mut sockets = [s.ws(&alice).await, s.ws(&bob).await];
    // Not yet: an hour before the end it is open and writable.
    s.advance(Duration::from_secs(23 * 3600));
    let (alice, bob) = (relogin(&s, &alice).await, relogin(&s, &bob).await);
    s.send(&alice, &room, "still here").await;
    assert_eq!(s.group(&alice, &room).await["closed_at"], Value::Null);
    s.advance(Duration::from_secs(3600));
    let (alice, bob) = (relogin(&s, &alice).await, relogin(&s, &bob).await);
    // Closed by the sweep within its interval: every member's socket hears it.
    for ws in &mut sockets {
        let f = ws.take_of("group.closed").await;
        assert_eq!(f, json!({"type": "group.closed", "group_id": room}));
    }
    let closed = s.group(&alice, &room).await;
    assert!(closed["closed_at"].is_string(), "{closed}");
    assert!(millis(&closed["closed_at"]) >= millis(&closed["expires_at"]));
    // Every write is 410; the history, the members and the read marker stay.
    s.try_send(&alice, &room, json!({"body": "too late"}))
        .await
        .expect_error(410, "gone");
    s.try_edit(&bob, &mine, "edited")
        .await
        .expect_error(410, "gone");
    s.delete_message(&bob, &mine)
        .await
        .expect_error(410, "gone");
    let (history, _) = s.history(&bob, &room, "").await;
    assert_eq!(history.len(), 3);
    assert_eq!(history[2]["id"], first["id"]);
    assert_eq!(s.members(&bob, &room).await.len(), 2);
    s.read(&bob, &room, 3).await;
    // The sweep closed it once: later sweeps leave it as it is, and say nothing more.
    tokio::time::sleep(Duration::from_millis(350)).await;
    assert_eq!(s.group(&bob, &room).await["closed_at"], closed["closed_at"]);
    for ws in &mut sockets {
        let more = ws.collect(Duration::from_millis(300)).await;
        assert!(
            more.iter().all(|f| f["type"] != "group.closed"),
            "announced twice: {more:?}"
        );
    }
    // Expired rooms no longer keep the pair apart.
    waits(&s, &alice, json!({})).await;
    matched(&s, &bob, json!({}), &alice).await;
}

async fn an_expired_room_refuses_writes_before_the_sweep_closes_it(store: Store) {
    // A sweep far in the future: only the expiry itself refuses the write.
    let s = TestServer::start_with(store, &["--expiry-sweep-interval", "1h"]).await;
    let alice = s.register("alice").await;
    let bob = s.register("bob").await;
    waits(&s, &alice, json!({})).await;
    let room = id(&matched(&s, &bob, json!({}), &alice).await);
    s.advance(Duration::from_secs(24 * 3600));
    let alice = relogin(&s, &alice).await;
    s.try_send(&alice, &room, json!({"body": "late"}))
        .await
        .expect_error(410, "gone");
    assert_eq!(s.history(&alice, &room, "").await.0.len(), 0);
}

async fn a_hundred_users_joining_at_once_make_fifty_disjoint_rooms(store: Store) {
    let s = Arc::new(
        TestServer::start_with(
            store,
            &[
                "--request-burst",
                "100000",
                "--requests-per-second",
                "100000",
            ],
        )
        .await,
    );
    let mut users = Vec::new();
    for i in 0..100 {
        users.push(s.register(&format!("user{i:03}")).await);
    }
    let start = Arc::new(tokio::sync::Barrier::new(users.len()));
    let tasks: Vec<_> = users
        .iter()
        .cloned()
        .map(|u| {
            let s = Arc::clone(&s);
            let start = Arc::clone(&start);
            tokio::spawn(async move {
                start.wait().await;
                let r = join(&s, &u, json!({})).await;
                (u, r)
            })
        })
        .collect();
    let mut rooms: BTreeMap<String, BTreeSet<String>> = BTreeMap::new();
    let (mut matched_answers, mut waiting_answers) = (0, 0);
    for t in tasks {
        let (u, r) = t.await.unwrap();
        match r.status {
            200 => {
                matched_answers += 1;
                rooms
                    .entry(id(&r.json["group"]))
                    .or_default()
                    .insert(u.user_id);
            }
            202 => waiting_answers += 1,
            other => panic!("joining answered {other}: {}", r.text),
        }
    }
    assert_eq!((matched_answers, waiting_answers), (50, 50));
    assert_eq!(rooms.len(), 50, "each match makes its own room");
    // Every user is in exactly one new room, with exactly one partner: the pairs are disjoint
    // and nobody is left waiting.
    let mut seen = BTreeSet::new();
    for u in &users {
        let groups = s.group_ids(u).await;
        assert_eq!(groups.len(), 1, "{} is in {groups:?}", u.username);
        let members = s.members(u, &groups[0]).await;
        assert_eq!(members.len(), 2);
        assert!(seen.insert(u.user_id.clone()));
    }
    let mut paired = BTreeSet::new();
    for (room, joiners) in &rooms {
        assert_eq!(joiners.len(), 1, "one join completes each room");
        let who = users.iter().find(|u| joiners.contains(&u.user_id)).unwrap();
        for m in s.members(who, room).await {
            assert!(
                paired.insert(m["user"]["id"].as_str().unwrap().to_owned()),
                "{m} twice"
            );
        }
    }
    assert_eq!(paired.len(), 100);
    let late = s.register("late").await;
    waits(&s, &late, json!({})).await;
}

async fn two_instances_share_one_pool(store: Store) {
    let flags = [
        "--request-burst",
        "100000",
        "--requests-per-second",
        "100000",
    ];
    let a = Arc::new(TestServer::start_with(store, &flags).await);
    let b = Arc::new(a.another_instance(&flags).await);
    let mut users = Vec::new();
    for i in 0..60 {
        users.push(a.register(&format!("user{i:03}")).await);
    }
    // Half of them join through each instance, all at the same instant.
    let start = Arc::new(tokio::sync::Barrier::new(users.len()));
    let tasks: Vec<_> = users
        .iter()
        .cloned()
        .enumerate()
        .map(|(i, u)| {
            let server = Arc::clone(if i % 2 == 0 { &a } else { &b });
            let start = Arc::clone(&start);
            tokio::spawn(async move {
                start.wait().await;
                join(&server, &u, json!({})).await
            })
        })
        .collect();
    let mut statuses = Vec::new();
    for t in tasks {
        statuses.push(t.await.unwrap().status);
    }
    assert_eq!(statuses.iter().filter(|s| **s == 200).count(), 30);
    assert_eq!(statuses.iter().filter(|s| **s == 202).count(), 30);
    for u in &users {
        let groups = a.group_ids(u).await;
        assert_eq!(groups.len(), 1, "{} is in {groups:?}", u.username);
    }
}

async fn sweeps_on_two_instances_close_each_room_once(store: Store) {
    let flags = ["--expiry-sweep-interval", "50ms"];
    let a = TestServer::start_with(store, &flags).await;
    let b = a.another_instance(&flags).await;
    let mut rooms = Vec::new();
    let mut sockets = Vec::new();
    for i in 0..4 {
        let waiter = a.register(&format!("waiter{i}")).await;
        let joiner = a.register(&format!("joiner{i}")).await;
        waits(&a, &waiter, json!({})).await;
        rooms.push(id(&matched(&b, &joiner, json!({}), &waiter).await));
        // The waiter listens on both instances: whichever sweep closes the room tells them.
        sockets.push(a.ws(&waiter).await);
        sockets.push(b.ws(&waiter).await);
    }
    a.advance(Duration::from_secs(24 * 3600));
    b.advance(Duration::from_secs(24 * 3600));
    let mut announced: BTreeMap<String, usize> = BTreeMap::new();
    for ws in &mut sockets {
        for f in ws.collect(Duration::from_millis(700)).await {
            if f["type"] == "group.closed" {
                *announced
                    .entry(f["group_id"].as_str().unwrap().to_owned())
                    .or_default() += 1;
            }
        }
    }
    let expected: BTreeMap<String, usize> = rooms.iter().map(|r| (r.clone(), 1)).collect();
    assert_eq!(
        announced, expected,
        "each room is closed and announced exactly once"
    );
    drop(b);
}

async fn bad_input_on_the_pool_routes(s: &TestServer) {
    let alice = s.register("alice").await;
    let raw = |bytes: &'static str, content_type: Option<&'static str>| Body::Raw {
        content_type,
        bytes: bytes.as_bytes().to_vec(),
    };
    let token = Some(alice.access.as_str());
    for bytes in [
        "{",
        "not json",
        "[]",
        "true",
        r#"{"same_country": "yes"}"#,
        r#"{"same_country": 1}"#,
        r#"{"same_country": false, "country": "DE"}"#,
        r#"{"wait": 10}"#,
    ] {
        let r = s
            .call(
                Method::POST,
                "/api/v1/pool",
                token,
                raw(bytes, Some("application/json")),
            )
            .await;
        r.expect_error(400, "bad_request");
    }
    s.call(
        Method::POST,
        "/api/v1/pool",
        token,
        raw("{}", Some("text/plain")),
    )
    .await
    .expect_error(415, "unsupported_media_type");
    let big = format!(
        r#"{{"same_country": false, "x": "{}"}}"#,
        "a".repeat(70 * 1024)
    );
    s.call(
        Method::POST,
        "/api/v1/pool",
        token,
        Body::Raw {
            content_type: Some("application/json"),
            bytes: big.into_bytes(),
        },
    )
    .await
    .expect_error(413, "payload_too_large");
    s.call(Method::PUT, "/api/v1/pool", token, Body::None)
        .await
        .expect(405);
    // None of it joined.
    s.delete("/pool", token).await.expect(204);
    // No body at all is `{}`: API.md's `{same_country?}` leaves every field out.
    let waiting = s
        .call(Method::POST, "/api/v1/pool", token, Body::None)
        .await;
    waiting.expect(202);
    assert_eq!(waiting.json["status"], "waiting");
    s.delete("/pool", token).await.expect(204);
    let bob = s.register("bob").await;
    waits(s, &bob, json!({})).await;
    matched(s, &alice, json!({"same_country": false}), &bob).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn sqlite_the_sweep_survives_a_locked_database_and_closes_the_room_after() {
    let s = TestServer::start_with(
        Store::Sqlite,
        &[
            "--expiry-sweep-interval",
            "100ms",
            "--database-timeout",
            "200ms",
        ],
    )
    .await;
    let alice = s.register("alice").await;
    let bob = s.register("bob").await;
    waits(&s, &alice, json!({})).await;
    let room = id(&matched(&s, &bob, json!({}), &alice).await);
    let mut ws = s.ws(&alice).await;
    // Another process holds the write lock: every sweep fails (and is logged) meanwhile.
    let blocker = rusqlite::Connection::open(s.sqlite_path()).unwrap();
    blocker.execute_batch("BEGIN IMMEDIATE").unwrap();
    s.advance(Duration::from_secs(24 * 3600));
    let during = ws.collect(Duration::from_millis(800)).await;
    assert!(
        during.iter().all(|f| f["type"] != "group.closed"),
        "{during:?}"
    );
    blocker.execute_batch("ROLLBACK").unwrap();
    // The task is still there: the next sweep closes the room.
    let f = ws.take_of("group.closed").await;
    assert_eq!(f["group_id"], room.as_str());
    let alice = relogin(&s, &alice).await;
    assert!(s.group(&alice, &room).await["closed_at"].is_string());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_sweep_stops_with_the_server() {
    let mut s = TestServer::start_with(Store::Sqlite, &["--expiry-sweep-interval", "50ms"]).await;
    let alice = s.register("alice").await;
    let bob = s.register("bob").await;
    waits(&s, &alice, json!({})).await;
    let room = id(&matched(&s, &bob, json!({}), &alice).await);
    s.stop().await;
    // After the stop nothing writes to the database any more: the room stays open.
    s.advance(Duration::from_secs(24 * 3600));
    tokio::time::sleep(Duration::from_millis(300)).await;
    let conn = rusqlite::Connection::open(s.sqlite_path()).unwrap();
    let closed: Option<i64> = conn
        .query_row("SELECT closed_at FROM groups WHERE id = ?1", [&room], |r| {
            r.get(0)
        })
        .unwrap();
    assert_eq!(closed, None);
}

confab_tests::store_tests!(
    matched_answers_the_room_and_waiting_answers_202,
    pool_matched_reaches_both_users_sockets,
    same_country_is_honoured_when_either_side_asks,
    nobody_is_matched_with_themself_or_waits_twice,
    leaving_the_pool_is_idempotent_and_one_may_join_again,
    a_waiting_entry_expires_after_the_pool_wait,
    partners_with_an_open_room_are_not_matched_again,
    bad_input_on_the_pool_routes;
    own_server:
    the_pool_wait_is_configurable,
    the_sweep_drops_expired_waiting_entries,
    a_room_expires_closes_and_stays_readable,
    an_expired_room_refuses_writes_before_the_sweep_closes_it,
    a_hundred_users_joining_at_once_make_fifty_disjoint_rooms,
    two_instances_share_one_pool,
    sweeps_on_two_instances_close_each_room_once,
);
