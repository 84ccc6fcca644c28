//! Presence across instances (shared through Redis): a member on another instance hears a user
//! come online and go offline, and every instance answers the same `online`/`last_seen_at`;
//! sockets on two instances are announced once; moving to another instance within the grace is
//! no change; a block made on one instance hides presence on the others; a SIGKILLed
//! instance's users go offline for the others within the bound docs/operations.md states.

use std::path::Path;
use std::time::Duration;

use confab_tests::chat::{id, millis};
use confab_tests::cluster::Cluster;
use confab_tests::ws::kind;
use confab_tests::{Session, TestServer, Ws};
use serde_json::Value;
use tokio::time::Instant;

const SHORT: [&str; 4] = ["--presence-grace", "1s", "--presence-gap", "500ms"];
const SOON: Duration = Duration::from_secs(5);
/// docs/operations.md: a killed instance's users are announced offline within this long
/// (the 10 s instance timeout, a 1 s keep-alive, and a margin for a loaded machine).
const KILLED_BOUND: Duration = Duration::from_secs(15);

async fn user_as(node: &TestServer, viewer: &Session, user: &Session) -> Value {
    let r = node
        .get(&format!("/users/{}", user.user_id), Some(&viewer.access))
        .await;
    r.expect(200);
    r.json
}

async fn listening(node: &TestServer, who: &Session) -> Ws {
    let mut ws = node.ws(who).await;
    ws.hear_presence();
    ws
}

/// The `presence` frames about `user` heard within `wait` (stops at the first when `one`).
async fn heard(ws: &mut Ws, user: &Session, wait: Duration, one: bool) -> Vec<Value> {
    let deadline = Instant::now() + wait;
    let mut got = Vec::new();
    while let Some(f) = ws
        .recv(deadline.saturating_duration_since(Instant::now()))
        .await
    {
        if kind(&f) == "presence" && f["user_id"] == user.user_id.as_str() {
            got.push(f);
            if one {
                break;
            }
        }
    }
    got
}

/// Alice and bob in a group, registered on instance 0.
async fn pair(node: &TestServer) -> (Session, Session) {
    let alice = node.register("alice").await;
    let bob = node.register("bob").await;
    id(&node.create_group(&bob, "team", &[&alice]).await);
    (alice, bob)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_member_on_another_instance_sees_online_then_offline_and_every_instance_agrees() {
    let cluster = Cluster::start(3, &SHORT).await;
    let n = &cluster.nodes;
    let (alice, bob) = pair(&n[0]).await;
    let mut bob_ws = listening(&n[1], &bob).await;
    let alice_ws = n[0].ws(&alice).await;
    let online = heard(&mut bob_ws, &alice, SOON, true).await;
    assert_eq!(
        online.first().map(|f| &f["online"]),
        Some(&Value::Bool(true))
    );
    for node in n {
        assert_eq!(user_as(node, &bob, &alice).await["online"], true);
    }
    alice_ws.close().await;
    let offline = heard(&mut bob_ws, &alice, SOON, true).await;
    let offline = offline.first().expect("offline heard on another instance");
    assert_eq!(offline["online"], false);
    for node in n {
        let u = user_as(node, &bob, &alice).await;
        assert_eq!(
            (&u["online"], &u["last_seen_at"]),
            (&Value::Bool(false), &offline["last_seen_at"])
        );
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn sockets_on_two_instances_are_one_online_and_moving_within_the_grace_is_no_change() {
    let cluster = Cluster::start(3, &SHORT).await;
    let n = &cluster.nodes;
    let (alice, bob) = pair(&n[0]).await;
    let mut bob_ws = listening(&n[2], &bob).await;
    let on_0 = n[0].ws(&alice).await;
    let on_1 = n[1].ws(&alice).await;
    let got = heard(&mut bob_ws, &alice, Duration::from_secs(2), false).await;
    assert_eq!(got.len(), 1, "one online for two sockets: {got:?}");
    // Instance 0's socket goes; the one on instance 1 keeps alice online.
    on_0.close().await;
    let got = heard(&mut bob_ws, &alice, Duration::from_secs(3), false).await;
    assert!(got.is_empty(), "{got:?}");
    // A reconnect through the balancer lands on another instance within the grace.
    on_1.close().await;
    tokio::time::sleep(Duration::from_millis(300)).await;
    let on_2 = n[2].ws(&alice).await;
    let got = heard(&mut bob_ws, &alice, Duration::from_secs(3), false).await;
    assert!(got.is_empty(), "a move is not offline: {got:?}");
    assert_eq!(user_as(&n[0], &bob, &alice).await["online"], true);
    on_2.close().await;
    let got = heard(&mut bob_ws, &alice, SOON, true).await;
    assert_eq!(got.first().map(|f| &f["online"]), Some(&Value::Bool(false)));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_block_made_on_one_instance_hides_presence_on_the_others() {
    let cluster = Cluster::start(3, &SHORT).await;
    let n = &cluster.nodes;
    let (alice, bob) = pair(&n[0]).await;
    let carol = n[0].register("carol").await;
    n[0].create_group(&carol, "witness", &[&alice, &bob]).await;
    let mut bob_ws = listening(&n[1], &bob).await;
    let mut carol_ws = listening(&n[2], &carol).await;
    // Bob blocks alice on instance 0, before she comes.
    n[0].put(
        &format!("/users/me/blocks/{}", alice.user_id),
        Some(&bob.access),
    )
    .await
    .expect(204);
    let alice_ws = n[2].ws(&alice).await;
    let witness = heard(&mut carol_ws, &alice, SOON, true).await;
    assert_eq!(
        witness.first().map(|f| &f["online"]),
        Some(&Value::Bool(true)),
        "carol, on instance 2, hears alice come"
    );
    alice_ws.close().await;
    let witness = heard(&mut carol_ws, &alice, SOON, true).await;
    assert_eq!(
        witness.first().map(|f| &f["online"]),
        Some(&Value::Bool(false))
    );
    // Bob, on instance 1, heard neither, and no instance shows him anything.
    let got = heard(&mut bob_ws, &alice, Duration::from_millis(500), false).await;
    assert!(got.is_empty(), "bob heard about alice: {got:?}");
    for node in n {
        let u = user_as(node, &bob, &alice).await;
        assert_eq!(
            (&u["online"], &u["last_seen_at"]),
            (&Value::Bool(false), &Value::Null)
        );
    }
}

/// The defaults (5 s grace and gap, 10 s instance timeout) on a SIGKILLed instance.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_killed_instance_s_users_go_offline_for_the_others_within_the_bound() {
    let mut cluster = Cluster::start(2, &[]).await;
    let victim = cluster
        .spawn(Path::new(env!("CARGO_BIN_EXE_confab-node")), &[])
        .await;
    let (alice, bob) = pair(&cluster.nodes[0]).await;
    let mut bob_ws = listening(&cluster.nodes[1], &bob).await;
    let _alice_ws = cluster.nodes[victim].ws(&alice).await;
    let online = heard(&mut bob_ws, &alice, SOON, true).await;
    assert_eq!(
        online.first().map(|f| &f["online"]),
        Some(&Value::Bool(true))
    );
    // Online a while, so that the 5 s gap holds nothing back.
    tokio::time::sleep(Duration::from_secs(5)).await;
    let killed_at = time::OffsetDateTime::now_utc();
    cluster.nodes[victim].kill().await;
    let killed = Instant::now();
    let offline = heard(&mut bob_ws, &alice, KILLED_BOUND, true).await;
    let took = killed.elapsed();
    let offline = offline
        .first()
        .unwrap_or_else(|| panic!("alice still online {KILLED_BOUND:?} after her instance died"));
    assert_eq!(offline["online"], false);
    // Last seen when her instance was last heard of: at most a keep-alive before the kill.
    let seen = millis(&offline["last_seen_at"]);
    let killed_ms = killed_at.unix_timestamp_nanos() / 1_000_000;
    assert!(
        seen <= killed_ms + 100 && killed_ms - seen < 2_000,
        "last seen {seen} for a kill at {killed_ms}"
    );
    assert_eq!(
        user_as(&cluster.nodes[0], &bob, &alice).await["online"],
        false
    );
    eprintln!("a killed instance's user was announced offline after {took:?}");
}
