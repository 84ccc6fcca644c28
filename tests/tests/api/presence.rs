//! Presence (API.md "Presence"): `online` and `last_seen_at` on every `user` object, and
//! `presence` events, for those who share a group (open or closed) and for oneself; nobody
//! else learns anything, nor does anyone a block stands between (either way). Going offline waits for the grace, a reconnect within it says
//! nothing, a change is announced at most once per gap and the final state always is.
//! `last_seen_at` survives a restart (it is in the store).
//!
//! Most cases run with short timings (`--presence-grace`, `--presence-gap`, hidden settings);
//! `the_defaults_are_5_s` runs the defaults API.md states.

use std::time::Duration;

use confab_tests::chat::{id, is_rfc3339_ms_utc, millis};
use confab_tests::ws::kind;
use confab_tests::{Session, Store, TestServer, Ws};
use serde_json::Value;
use tokio::time::Instant;

/// A grace and a gap short enough for a quick suite, long enough for a loaded machine.
const SHORT: [&str; 4] = ["--presence-grace", "600ms", "--presence-gap", "600ms"];
/// Longest wait for what must happen soon.
const SOON: Duration = Duration::from_secs(5);

/// `user` as `viewer` gets it from `GET /users/{id}`.
async fn user_as(s: &TestServer, viewer: &Session, user: &Session) -> Value {
    let r = s
        .get(&format!("/users/{}", user.user_id), Some(&viewer.access))
        .await;
    r.expect(200);
    r.json
}

/// Polls `GET /users/{id}` until `online` is `want`; the user object then.
async fn until_online(s: &TestServer, viewer: &Session, user: &Session, want: bool) -> Value {
    let deadline = Instant::now() + SOON;
    loop {
        let u = user_as(s, viewer, user).await;
        if u["online"] == want {
            return u;
        }
        assert!(
            Instant::now() < deadline,
            "{} never saw {} online={want}: {u}",
            viewer.username,
            user.username
        );
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
}

/// A socket that hears presence.
async fn listening(s: &TestServer, who: &Session) -> Ws {
    let mut ws = s.ws(who).await;
    ws.hear_presence();
    ws
}

/// The next `presence` frame about `user`, within `wait`.
async fn presence_of(ws: &mut Ws, user: &Session, wait: Duration) -> Option<Value> {
    let deadline = Instant::now() + wait;
    loop {
        let left = deadline.saturating_duration_since(Instant::now());
        let f = ws.recv(left).await?;
        if kind(&f) == "presence" && f["user_id"] == user.user_id.as_str() {
            return Some(f);
        }
    }
}

/// Every `presence` frame about `user` that `ws` hears within `wait` (not the listener's own:
/// under load their own online may come late, and it is theirs to hear).
async fn presences(ws: &mut Ws, user: &Session, wait: Duration) -> Vec<Value> {
    let all = ws.collect(wait).await;
    all.into_iter()
        .filter(|f| kind(f) == "presence" && f["user_id"] == user.user_id.as_str())
        .collect()
}

/// Two users in a group, and a third in none with them.
async fn cast(s: &TestServer) -> (Session, Session, Session, String) {
    let alice = s.register("alice").await;
    let bob = s.register("bob").await;
    let stranger = s.register("stranger").await;
    let g = id(&s.create_group(&bob, "team", &[&alice]).await);
    (alice, bob, stranger, g)
}

#[track_caller]
fn assert_hidden(u: &Value) {
    assert_eq!(u["online"], false, "{u}");
    assert_eq!(u["last_seen_at"], Value::Null, "{u}");
}

async fn a_member_sees_online_then_last_seen_at_after_the_grace(store: Store) {
    let s = TestServer::start_with(store, &SHORT).await;
    let (alice, bob, _, g) = cast(&s).await;
    assert_hidden(&user_as(&s, &bob, &alice).await);
    let mut bob_ws = listening(&s, &bob).await;
    let alice_ws = s.ws(&alice).await;
    let online = presence_of(&mut bob_ws, &alice, SOON)
        .await
        .expect("online");
    assert_eq!(online["online"], true, "{online}");
    assert_eq!(online["last_seen_at"], Value::Null, "{online}");
    let u = until_online(&s, &bob, &alice, true).await;
    assert_eq!(u["last_seen_at"], Value::Null);
    let closed_at = time::OffsetDateTime::now_utc();
    alice_ws.close().await;
    // Within the grace, still online.
    assert_eq!(user_as(&s, &bob, &alice).await["online"], true);
    let offline = presence_of(&mut bob_ws, &alice, SOON)
        .await
        .expect("offline");
    assert_eq!(offline["online"], false, "{offline}");
    let seen = offline["last_seen_at"].as_str().expect("a time").to_owned();
    assert!(is_rfc3339_ms_utc(&seen), "{seen}");
    let closed_ms = closed_at.unix_timestamp_nanos() / 1_000_000;
    let seen_ms = millis(&offline["last_seen_at"]);
    assert!((seen_ms - closed_ms).abs() < 2_000, "{seen} vs {closed_at}");
    // Every user object agrees: by id, in a search, in the member list.
    let u = user_as(&s, &bob, &alice).await;
    assert_eq!(
        (&u["online"], &u["last_seen_at"]),
        (&Value::Bool(false), &offline["last_seen_at"])
    );
    let found = s.get("/users?q=ali", Some(&bob.access)).await;
    assert_eq!(
        found.json["users"][0]["last_seen_at"],
        offline["last_seen_at"]
    );
    let members = s.members(&bob, &g).await;
    let a = members
        .iter()
        .find(|m| m["user"]["id"] == alice.user_id.as_str())
        .expect("alice is a member");
    assert_eq!(a["user"]["last_seen_at"], offline["last_seen_at"]);
    assert_eq!(a["user"]["online"], false);
}

async fn a_reconnect_within_the_grace_sends_no_offline_online_pair(store: Store) {
    let s = TestServer::start_with(
        store,
        &["--presence-grace", "2s", "--presence-gap", "300ms"],
    )
    .await;
    let (alice, bob, _, _) = cast(&s).await;
    let mut bob_ws = listening(&s, &bob).await;
    let first = s.ws(&alice).await;
    presence_of(&mut bob_ws, &alice, SOON)
        .await
        .expect("online");
    // A page reload: the old socket goes, a new one comes.
    first.close().await;
    tokio::time::sleep(Duration::from_millis(300)).await;
    let second = s.ws(&alice).await;
    assert!(
        presences(&mut bob_ws, &alice, Duration::from_secs(3))
            .await
            .is_empty(),
        "a reload is not offline"
    );
    assert_eq!(user_as(&s, &bob, &alice).await["online"], true);
    second.close().await;
    let offline = presence_of(&mut bob_ws, &alice, SOON)
        .await
        .expect("offline");
    assert_eq!(offline["online"], false);
}

async fn changes_are_at_most_one_per_gap_and_the_final_state_is_announced(store: Store) {
    let gap = Duration::from_millis(1500);
    let s = TestServer::start_with(
        store,
        &["--presence-grace", "100ms", "--presence-gap", "1500ms"],
    )
    .await;
    let (alice, bob, _, _) = cast(&s).await;
    let mut bob_ws = listening(&s, &bob).await;
    let mut heard = Vec::new();
    // Online, then offline and online again, quicker than the gap allows.
    let ws = s.ws(&alice).await;
    heard.push((
        Instant::now(),
        presence_of(&mut bob_ws, &alice, SOON)
            .await
            .expect("online"),
    ));
    ws.close().await;
    tokio::time::sleep(Duration::from_millis(400)).await;
    let ws = s.ws(&alice).await;
    tokio::time::sleep(Duration::from_millis(200)).await;
    ws.close().await;
    // Each change the gap held back comes when it is over, if still true: alice is gone.
    while let Some(f) = presence_of(&mut bob_ws, &alice, Duration::from_secs(4)).await {
        heard.push((Instant::now(), f));
    }
    let states: Vec<bool> = heard.iter().map(|(_, f)| f["online"] == true).collect();
    assert_eq!(
        states.last(),
        Some(&false),
        "the final state is offline: {states:?}"
    );
    for pair in states.windows(2) {
        assert_ne!(pair[0], pair[1], "a change is announced once: {states:?}");
    }
    for pair in heard.windows(2) {
        let between = pair[1].0 - pair[0].0;
        // Sockets are read a little late at most; the gap is the server's.
        assert!(
            between >= gap - Duration::from_millis(250),
            "{between:?} apart: {states:?}"
        );
    }
    assert_eq!(user_as(&s, &bob, &alice).await["online"], false);
}

async fn nobody_outside_a_shared_group_learns_anything(store: Store) {
    let s = TestServer::start_with(store, &SHORT).await;
    let (alice, bob, stranger, _) = cast(&s).await;
    let mut stranger_ws = listening(&s, &stranger).await;
    let mut bob_ws = listening(&s, &bob).await;
    let alice_ws = s.ws(&alice).await;
    until_online(&s, &bob, &alice, true).await;
    assert_hidden(&user_as(&s, &stranger, &alice).await);
    let found = s.get("/users?q=alice", Some(&stranger.access)).await;
    assert_hidden(&found.json["users"][0]);
    alice_ws.close().await;
    presence_of(&mut bob_ws, &alice, SOON)
        .await
        .expect("online");
    presence_of(&mut bob_ws, &alice, SOON)
        .await
        .expect("offline");
    assert!(user_as(&s, &bob, &alice).await["last_seen_at"].is_string());
    assert_hidden(&user_as(&s, &stranger, &alice).await);
    // Blocking someone shares nothing with them either.
    s.put(
        &format!("/users/me/blocks/{}", alice.user_id),
        Some(&stranger.access),
    )
    .await
    .expect(204);
    let blocked = s.get("/users/me/blocks", Some(&stranger.access)).await;
    assert_hidden(&blocked.json["users"][0]);
    assert!(
        presences(&mut stranger_ws, &alice, Duration::from_millis(500))
            .await
            .is_empty(),
        "the stranger heard about alice"
    );
    // And a socket that opens later hears nothing of the past.
    assert!(
        presences(&mut stranger_ws, &alice, Duration::from_millis(100))
            .await
            .is_empty()
    );
}

async fn a_closed_direct_chat_still_shares_presence_a_left_group_does_not(store: Store) {
    let s = TestServer::start_with(store, &SHORT).await;
    let (alice, bob, carol, g) = cast(&s).await;
    let chat = s.direct(&alice, &carol).await;
    chat.expect(201);
    s.delete(&format!("/groups/{}", id(&chat.json)), Some(&carol.access))
        .await
        .expect(204);
    let mut carol_ws = listening(&s, &carol).await;
    let _alice_ws = s.ws(&alice).await;
    presence_of(&mut carol_ws, &alice, SOON)
        .await
        .expect("a closed chat still shares");
    until_online(&s, &carol, &alice, true).await;
    s.remove_member(&bob, &g, &alice.user_id).await.expect(204);
    assert_hidden(&user_as(&s, &bob, &alice).await);
}

/// Waits for `ws` to hear `user` go offline (an earlier online may come first).
async fn went_offline(ws: &mut Ws, user: &Session) {
    let deadline = Instant::now() + SOON;
    loop {
        let left = deadline.saturating_duration_since(Instant::now());
        let f = presence_of(ws, user, left).await;
        let f = f.unwrap_or_else(|| panic!("{} never heard to go offline", user.username));
        if f["online"] == false {
            return;
        }
    }
}

async fn a_block_hides_presence_both_ways_even_in_a_shared_group(store: Store) {
    let s = TestServer::start_with(store, &SHORT).await;
    let (alice, bob, carol) = (
        s.register("alice").await,
        s.register("bob").await,
        s.register("carol").await,
    );
    let g = id(&s.create_group(&carol, "team", &[&alice, &bob]).await);
    let mut bob_ws = listening(&s, &bob).await;
    let mut carol_ws = listening(&s, &carol).await;
    let alice_ws = s.ws(&alice).await;
    until_online(&s, &bob, &alice, true).await;
    presence_of(&mut bob_ws, &alice, SOON)
        .await
        .expect("bob hears alice come before the block");
    // Bob blocks alice: neither sees the other any more, in the group they still share.
    s.put(
        &format!("/users/me/blocks/{}", alice.user_id),
        Some(&bob.access),
    )
    .await
    .expect(204);
    assert_hidden(&user_as(&s, &bob, &alice).await);
    assert_hidden(&user_as(&s, &alice, &bob).await);
    let seen_in = |members: &[Value], who: &Session| {
        let m = members
            .iter()
            .find(|m| m["user"]["id"] == who.user_id.as_str())
            .expect("a member");
        m["user"].clone()
    };
    assert_hidden(&seen_in(&s.members(&bob, &g).await, &alice));
    assert_hidden(&seen_in(&s.members(&alice, &g).await, &bob));
    // The witness still sees both.
    assert_eq!(
        seen_in(&s.members(&carol, &g).await, &alice)["online"],
        true
    );
    assert_eq!(seen_in(&s.members(&carol, &g).await, &bob)["online"], true);
    // Alice goes: carol hears it, bob hears nothing.
    alice_ws.close().await;
    went_offline(&mut carol_ws, &alice).await;
    let heard = presences(&mut bob_ws, &alice, Duration::from_millis(500)).await;
    assert!(heard.is_empty(), "bob heard about alice: {heard:?}");
    // Nor does alice hear of bob, whoever blocked whom.
    let mut alice_ws = listening(&s, &alice).await;
    bob_ws.close().await;
    went_offline(&mut carol_ws, &bob).await;
    let heard = presences(&mut alice_ws, &bob, Duration::from_millis(500)).await;
    assert!(heard.is_empty(), "alice heard about bob: {heard:?}");
    // Lifted, the group shares presence again.
    s.delete(
        &format!("/users/me/blocks/{}", alice.user_id),
        Some(&bob.access),
    )
    .await
    .expect(204);
    assert!(user_as(&s, &alice, &bob).await["last_seen_at"].is_string());
    until_online(&s, &bob, &alice, true).await;
}

async fn one_sees_their_own_presence(store: Store) {
    let s = TestServer::start_with(store, &SHORT).await;
    let alice = s.register("alice").await;
    let me = s.get("/users/me", Some(&alice.access)).await;
    assert_hidden(&me.json);
    let _ws = s.ws(&alice).await;
    until_online(&s, &alice, &alice, true).await;
    let me = s.get("/users/me", Some(&alice.access)).await;
    assert_eq!(me.json["online"], true, "{}", me.json);
    let login = s
        .post(
            "/auth/login",
            None,
            serde_json::json!({"login": "alice", "password": "correct horse battery"}),
        )
        .await;
    login.expect(200);
    assert_eq!(login.json["user"]["online"], true, "{}", login.json);
}

async fn last_seen_at_survives_a_restart(store: Store) {
    let s = TestServer::start_with(store, &SHORT).await;
    let (alice, bob, _, _) = cast(&s).await;
    let mut bob_ws = listening(&s, &bob).await;
    let ws = s.ws(&alice).await;
    presence_of(&mut bob_ws, &alice, SOON)
        .await
        .expect("online");
    ws.close().await;
    let offline = presence_of(&mut bob_ws, &alice, SOON)
        .await
        .expect("offline");
    bob_ws.close().await;
    let s = s.restart().await;
    let bob = s.login("bob", "correct horse battery").await;
    let u = user_as(&s, &bob, &alice).await;
    assert_eq!(u["online"], false);
    assert_eq!(u["last_seen_at"], offline["last_seen_at"]);
}

/// The defaults, once: a member hears online at once, nothing for 5 s after the socket
/// closes, then offline.
async fn the_defaults_are_5_s(s: &TestServer) {
    let (alice, bob, _, _) = cast(s).await;
    let mut bob_ws = listening(s, &bob).await;
    let ws = s.ws(&alice).await;
    presence_of(&mut bob_ws, &alice, SOON)
        .await
        .expect("online at once");
    tokio::time::sleep(Duration::from_secs(1)).await;
    ws.close().await;
    let closed = Instant::now();
    assert!(
        presence_of(&mut bob_ws, &alice, Duration::from_millis(4500))
            .await
            .is_none(),
        "offline within the 5 s grace"
    );
    let offline = presence_of(&mut bob_ws, &alice, Duration::from_secs(5))
        .await
        .expect("offline after the grace");
    assert_eq!(offline["online"], false);
    let after = closed.elapsed();
    assert!(after >= Duration::from_millis(4900), "{after:?}");
}

confab_tests::store_tests!(
    the_defaults_are_5_s;
    own_server:
    a_member_sees_online_then_last_seen_at_after_the_grace,
    a_reconnect_within_the_grace_sends_no_offline_online_pair,
    changes_are_at_most_one_per_gap_and_the_final_state_is_announced,
    nobody_outside_a_shared_group_learns_anything,
    a_closed_direct_chat_still_shares_presence_a_left_group_does_not,
    one_sees_their_own_presence,
    a_block_hides_presence_both_ways_even_in_a_shared_group,
    last_seen_at_survives_a_restart,
);
