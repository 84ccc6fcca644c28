//! Bans and blocks with three instances on one PostgreSQL and one Redis: a ban made on one
//! instance ends the user's sockets on the others within a second and their tokens on every
//! instance at once; a block made on one closes the direct chat for sockets on another.

use std::time::{Duration, Instant};

use serde_json::json;

use confab_tests::chat::{id, text};
use confab_tests::cluster::Cluster;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_ban_on_one_instance_ends_sockets_and_tokens_on_every_instance() {
    let cluster = Cluster::start(3, &[]).await;
    let (n0, n1, n2) = (&cluster.nodes[0], &cluster.nodes[1], &cluster.nodes[2]);
    let admin = n0.register("admin").await;
    n0.make_admin("admin").await;
    let bob = n0.register("bob").await;
    let mut on_n1 = n1.ws(&bob).await;
    let mut on_n2 = n2.ws(&bob).await;
    let started = Instant::now();
    n0.put_json(
        &format!("/users/{}/ban", bob.user_id),
        Some(&admin.access),
        json!({}),
    )
    .await
    .expect(204);
    // The old access token, at once, on every instance (the ban is read with the login).
    for node in &cluster.nodes {
        node.get("/users/me", Some(&bob.access))
            .await
            .expect_error(403, "banned");
    }
    on_n1.expect_close(4003, Duration::from_secs(1)).await;
    on_n2.expect_close(4003, Duration::from_secs(1)).await;
    eprintln!("both sockets closed {:?} after the ban", started.elapsed());
    n2.post("/auth/refresh", None, json!({"refresh_token": bob.refresh}))
        .await
        .expect_error(403, "banned");
    n1.delete(&format!("/users/{}/ban", bob.user_id), Some(&admin.access))
        .await
        .expect(204);
    let again = n2.login("bob", "correct horse battery").await;
    n0.get("/users/me", Some(&again.access)).await.expect(200);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_block_on_one_instance_closes_the_chat_for_sockets_on_another() {
    let cluster = Cluster::start(3, &[]).await;
    let (n0, n1, n2) = (&cluster.nodes[0], &cluster.nodes[1], &cluster.nodes[2]);
    let alice = n0.register("alice").await;
    let bob = n0.register("bob").await;
    let d = id(&n0.direct(&alice, &bob).await.json);
    let mut bob_ws = n1.ws(&bob).await;
    let mut alice_ws = n2.ws(&alice).await;
    n0.put(
        &format!("/users/me/blocks/{}", bob.user_id),
        Some(&alice.access),
    )
    .await
    .expect(204);
    for ws in [&mut bob_ws, &mut alice_ws] {
        assert_eq!(text(&ws.next_of("group.closed").await, "group_id"), d);
    }
    n2.direct(&bob, &alice).await.expect_error(404, "not_found");
}
