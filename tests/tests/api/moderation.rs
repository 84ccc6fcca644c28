//! Blocks and bans over real HTTP and the socket, on both stores: what a block hides and
//! closes, the pool never pairing a blocked pair, and a ban ending login, refresh, every token
//! and every socket at once (by an admin over HTTP, or by `confab user ban` beside a running
//! server, which the ban watch picks up).

use std::time::Duration;

use confab_tests::chat::{id, text};
use confab_tests::ws::kind;
use confab_tests::{Body, Session, Store, TestServer};
use reqwest::Method;
use serde_json::{Value, json};

confab_tests::store_tests!(
    blocks_are_idempotent_listed_and_refused_for_oneself,
    a_blocked_user_gets_the_404_of_an_unknown_user,
    a_block_closes_the_direct_chat_and_both_hear_it,
    the_pool_never_pairs_a_blocker_with_the_blocked,
    a_ban_ends_every_token_socket_login_and_refresh,
    a_ban_is_for_admins_never_oneself_and_checks_its_body,
    a_banned_user_leaves_the_pool,
    ; own_server: a_ban_by_the_cli_ends_the_sockets_of_a_running_server,
);

fn blocks_path(user: &str) -> String {
    format!("/users/me/blocks/{user}")
}

async fn blocked_ids(s: &TestServer, me: &Session) -> Vec<String> {
    let r = s.get("/users/me/blocks", Some(&me.access)).await;
    r.expect(200);
    r.json["users"]
        .as_array()
        .expect("users")
        .iter()
        .map(id)
        .collect()
}

async fn blocks_are_idempotent_listed_and_refused_for_oneself(s: &TestServer) {
    let alice = s.register("alice").await;
    let bob = s.register("bob").await;
    let carol = s.register("carol").await;
    for _ in 0..2 {
        s.put(&blocks_path(&bob.user_id), Some(&alice.access))
            .await
            .expect(204);
    }
    s.put(&blocks_path(&carol.user_id), Some(&alice.access))
        .await
        .expect(204);
    assert_eq!(
        blocked_ids(s, &alice).await,
        [carol.user_id.clone(), bob.user_id.clone()]
    );
    assert!(blocked_ids(s, &bob).await.is_empty(), "not revealed");
    s.put(&blocks_path(&alice.user_id), Some(&alice.access))
        .await
        .expect_error(422, "validation_failed");
    let unknown = uuid::Uuid::now_v7().to_string();
    s.put(&blocks_path(&unknown), Some(&alice.access))
        .await
        .expect_error(404, "not_found");
    s.put(&blocks_path("not-a-uuid"), Some(&alice.access))
        .await
        .expect_error(404, "not_found");
    for _ in 0..2 {
        s.delete(&blocks_path(&bob.user_id), Some(&alice.access))
            .await
            .expect(204);
    }
    s.delete(&blocks_path(&unknown), Some(&alice.access))
        .await
        .expect(204);
    assert_eq!(blocked_ids(s, &alice).await, vec![carol.user_id.clone()]);
    s.get("/users/me/blocks", None)
        .await
        .expect_error(401, "unauthorized");
}

async fn a_blocked_user_gets_the_404_of_an_unknown_user(s: &TestServer) {
    let alice = s.register("alice").await;
    let bob = s.register("bob").await;
    s.put(&blocks_path(&bob.user_id), Some(&alice.access))
        .await
        .expect(204);
    let blocked = s.direct(&bob, &alice).await;
    let unknown = s
        .post(
            "/direct",
            Some(&bob.access),
            json!({"user_id": uuid::Uuid::now_v7()}),
        )
        .await;
    blocked.expect_error(404, "not_found");
    assert_eq!(
        blocked.text, unknown.text,
        "byte-identical to an unknown user"
    );
    let by_name = s
        .post("/direct", Some(&bob.access), json!({"username": "alice"}))
        .await;
    let unknown_name = s
        .post("/direct", Some(&bob.access), json!({"username": "nobody"}))
        .await;
    assert_eq!(
        (by_name.status, &by_name.text),
        (unknown_name.status, &unknown_name.text)
    );
    // The blocker is told why.
    s.direct(&alice, &bob).await.expect_error(403, "forbidden");
    s.delete(&blocks_path(&bob.user_id), Some(&alice.access))
        .await
        .expect(204);
    s.direct(&bob, &alice).await.expect(201);
}

async fn a_block_closes_the_direct_chat_and_both_hear_it(s: &TestServer) {
    let alice = s.register("alice").await;
    let bob = s.register("bob").await;
    let d = id(&s.direct(&alice, &bob).await.json);
    let mut alice_ws = s.ws(&alice).await;
    let mut bob_ws = s.ws(&bob).await;
    s.put(&blocks_path(&bob.user_id), Some(&alice.access))
        .await
        .expect(204);
    for ws in [&mut alice_ws, &mut bob_ws] {
        let closed = ws.next_of("group.closed").await;
        assert_eq!(text(&closed, "group_id"), d);
    }
    s.try_send(&bob, &d, json!({"body": "hello?"}))
        .await
        .expect_error(410, "gone");
    assert!(s.group(&bob, &d).await["closed_at"].is_string());
}

/// 100 users joining one after the other, every even one blocking the next: without blocks each
/// odd user would meet the even one before them (the oldest waiting).
async fn the_pool_never_pairs_a_blocker_with_the_blocked(s: &TestServer) {
    let mut users = Vec::new();
    for i in 0..100 {
        users.push(s.register(&format!("user{i:03}")).await);
    }
    for pair in users.chunks(2) {
        s.put(&blocks_path(&pair[1].user_id), Some(&pair[0].access))
            .await
            .expect(204);
    }
    let mut pairs = Vec::new();
    for u in &users {
        let r = s.post("/pool", Some(&u.access), json!({})).await;
        match r.status {
            202 => {}
            200 => {
                let room = id(&r.json["group"]);
                let members = s.members(u, &room).await;
                let other = members
                    .iter()
                    .map(|m| text(&m["user"], "id"))
                    .find(|m| *m != u.user_id)
                    .expect("a partner");
                pairs.push((u.user_id.clone(), other));
            }
            other => panic!("pool join answered {other}: {}", r.text),
        }
    }
    assert!(pairs.len() >= 45, "only {} matches", pairs.len());
    for pair in users.chunks(2) {
        let (a, b) = (&pair[0].user_id, &pair[1].user_id);
        assert!(
            !pairs
                .iter()
                .any(|(x, y)| (x == a && y == b) || (x == b && y == a)),
            "{a} was matched with {b}, whom they blocked"
        );
    }
}

async fn ban(s: &TestServer, admin: &Session, user: &Session, body: Value) -> confab_tests::Resp {
    s.put_json(
        &format!("/users/{}/ban", user.user_id),
        Some(&admin.access),
        body,
    )
    .await
}

async fn a_ban_ends_every_token_socket_login_and_refresh(s: &TestServer) {
    let admin = s.register("admin").await;
    s.make_admin("admin").await;
    let bob = s.register("bob").await;
    let other_login = s.login("bob", "correct horse battery").await;
    let mut sockets = vec![s.ws(&bob).await, s.ws(&other_login).await];
    ban(s, &admin, &bob, json!({"reason": "spam"}))
        .await
        .expect(204);
    for ws in &mut sockets {
        ws.expect_close(4003, Duration::from_secs(2)).await;
    }
    for who in [&bob, &other_login] {
        s.get("/users/me", Some(&who.access))
            .await
            .expect_error(403, "banned");
        s.post("/auth/refresh", None, json!({"refresh_token": who.refresh}))
            .await
            .expect_error(403, "banned");
    }
    s.post(
        "/auth/login",
        None,
        json!({"login": "bob", "password": "correct horse battery"}),
    )
    .await
    .expect_error(403, "banned");
    // A wrong password learns nothing about the ban.
    s.post(
        "/auth/login",
        None,
        json!({"login": "bob", "password": "wrong horse battery"}),
    )
    .await
    .expect_error(401, "invalid_credentials");
    // Admins see the ban; others do not.
    let seen = s
        .get(&format!("/users/{}", bob.user_id), Some(&admin.access))
        .await;
    assert_eq!(seen.json["banned"], true, "{}", seen.text);
    let carol = s.register("carol").await;
    let seen = s
        .get(&format!("/users/{}", bob.user_id), Some(&carol.access))
        .await;
    assert!(seen.json.get("banned").is_none(), "{}", seen.text);

    s.delete(&format!("/users/{}/ban", bob.user_id), Some(&admin.access))
        .await
        .expect(204);
    let again = s.login("bob", "correct horse battery").await;
    s.get("/users/me", Some(&again.access)).await.expect(200);
    // The logins the ban ended stay ended.
    s.get("/users/me", Some(&bob.access))
        .await
        .expect_error(401, "unauthorized");
    s.post("/auth/refresh", None, json!({"refresh_token": bob.refresh}))
        .await
        .expect_error(401, "unauthorized");
}

async fn a_ban_is_for_admins_never_oneself_and_checks_its_body(s: &TestServer) {
    let admin = s.register("admin").await;
    s.make_admin("admin").await;
    let bob = s.register("bob").await;
    let carol = s.register("carol").await;
    ban(s, &carol, &bob, json!({}))
        .await
        .expect_error(403, "forbidden");
    s.delete(&format!("/users/{}/ban", bob.user_id), Some(&carol.access))
        .await
        .expect_error(403, "forbidden");
    ban(s, &admin, &admin, json!({}))
        .await
        .expect_error(422, "validation_failed");
    let nobody = Session {
        user_id: uuid::Uuid::now_v7().to_string(),
        ..bob.clone()
    };
    ban(s, &admin, &nobody, json!({}))
        .await
        .expect_error(404, "not_found");
    for bad in [
        json!({"reason": "x".repeat(501)}),
        json!({"reason": "two\nlines"}),
        json!({"reason": "   "}),
    ] {
        ban(s, &admin, &bob, bad)
            .await
            .expect_error(422, "validation_failed");
    }
    for bad in [json!({"reason": 7}), json!({"why": "x"}), json!([])] {
        ban(s, &admin, &bob, bad)
            .await
            .expect_error(400, "bad_request");
    }
    s.call(
        Method::PUT,
        &format!("/api/v1/users/{}/ban", bob.user_id),
        Some(&admin.access),
        Body::Raw {
            content_type: Some("text/plain"),
            bytes: b"{}".to_vec(),
        },
    )
    .await
    .expect_error(415, "unsupported_media_type");
    // Nothing above banned bob.
    s.get("/users/me", Some(&bob.access)).await.expect(200);
    ban(s, &admin, &bob, json!({"reason": null}))
        .await
        .expect(204);
    ban(s, &admin, &bob, json!({})).await.expect(204);
    // No body at all is `{}` too: API.md's `{reason?}` leaves every field out.
    let dora = s.register("dora").await;
    s.put(&format!("/users/{}/ban", dora.user_id), Some(&admin.access))
        .await
        .expect(204);
    s.get("/users/me", Some(&dora.access))
        .await
        .expect_error(403, "banned");
}

async fn a_banned_user_leaves_the_pool(s: &TestServer) {
    let admin = s.register("admin").await;
    s.make_admin("admin").await;
    let bob = s.register("bob").await;
    let carol = s.register("carol").await;
    s.post("/pool", Some(&bob.access), json!({}))
        .await
        .expect(202);
    ban(s, &admin, &bob, json!({})).await.expect(204);
    s.post("/pool", Some(&carol.access), json!({}))
        .await
        .expect(202);
}

/// `confab user ban` is a process of its own: no bus of the server hears it, the ban watch
/// (every 2 s) ends the sockets.
async fn a_ban_by_the_cli_ends_the_sockets_of_a_running_server(store: Store) {
    let s = TestServer::start(store).await;
    let bob = s.register("bob").await;
    let mut ws = s.ws(&bob).await;
    let out = std::process::Command::new(env!("CARGO_BIN_EXE_confab-node"))
        .args([
            "user",
            "ban",
            "bob",
            "--reason",
            "spam",
            "--database-url",
            &s.database_url(),
        ])
        .output()
        .expect("confab user ban runs");
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let printed = String::from_utf8_lossy(&out.stdout);
    assert!(printed.starts_with("banned bob"), "{printed}");
    // At once over HTTP (read with the login), within a tick or two on the socket.
    s.get("/users/me", Some(&bob.access))
        .await
        .expect_error(403, "banned");
    let frames = ws.expect_close(4003, Duration::from_secs(6)).await;
    assert!(frames.iter().all(|f| kind(f) != "error"), "{frames:?}");
}
