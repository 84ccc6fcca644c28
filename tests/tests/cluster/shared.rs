//! What instances share, checked with clients spread over three: limits hold for the sum over
//! all instances; the pool, announcements and room expiry reach sockets on every instance;
//! what any instance may do at once (direct-chat creation, ownership transfer, the expiry
//! sweep) stays right with three doing it.

use std::collections::BTreeMap;
use std::time::{Duration, Instant};

use futures::future::join_all;
use serde_json::json;

use confab_tests::chat::{id, text};
use confab_tests::cluster::Cluster;
use confab_tests::ws::kind;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn failed_logins_spread_over_three_instances_reach_429_at_the_configured_count() {
    let cluster = Cluster::start(3, &["--login-failures-per-account", "5"]).await;
    cluster.nodes[0].register("target").await;
    for i in 0..5 {
        cluster.nodes[i % 3].fail_login("target").await;
    }
    for node in &cluster.nodes {
        let r = node
            .post(
                "/auth/login",
                None,
                json!({"login": "target", "password": "wrong password"}),
            )
            .await;
        r.expect_error(429, "rate_limited");
        assert!(r.headers.contains_key("retry-after"), "{:?}", r.headers);
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_request_budget_holds_for_the_sum_over_three_instances() {
    // A burst of 30, refilled at one a second.
    let cluster = Cluster::start(3, &["--request-burst", "30", "--requests-per-second", "1"]).await;
    let user = cluster.nodes[0].register("busy").await;
    let started = Instant::now();
    let mut allowed = 0u64;
    for i in 0..45 {
        let r = cluster.nodes[i % 3]
            .get("/users/me", Some(&user.access))
            .await;
        match r.status {
            200 => allowed += 1,
            429 => {
                r.expect_error(429, "rate_limited");
            }
            other => panic!("unexpected {other}: {}", r.text),
        }
    }
    // Each instance counting alone would allow 45; shared, the burst plus what refilled.
    let refilled = started.elapsed().as_secs() + 1;
    assert!(
        (30..=30 + refilled).contains(&allowed),
        "{allowed} of 45 requests allowed in {:?}",
        started.elapsed()
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_pool_match_reaches_both_users_on_different_instances() {
    let cluster = Cluster::start(3, &[]).await;
    let (a, b) = (&cluster.nodes[0], &cluster.nodes[1]);
    let alice = a.register("alice").await;
    let bob = b.register("bob").await;
    let mut alice_ws = a.ws(&alice).await;
    let mut bob_ws = b.ws(&bob).await;
    a.post("/pool", Some(&alice.access), json!({}))
        .await
        .expect(202);
    let r = b.post("/pool", Some(&bob.access), json!({})).await;
    r.expect(200);
    let room = id(&r.json["group"]);
    for ws in [&mut alice_ws, &mut bob_ws] {
        let matched = ws.take_of("pool.matched").await;
        assert_eq!(id(&matched["group"]), room, "{matched}");
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_announcement_reaches_sockets_on_all_three_instances_once() {
    let cluster = Cluster::start(3, &[]).await;
    let admin = cluster.nodes[0].register("boss").await;
    cluster.nodes[0].make_admin("boss").await;
    let mut sockets = Vec::new();
    for (i, node) in cluster.nodes.iter().enumerate() {
        let user = node.register(&format!("listener{i}")).await;
        sockets.push(node.ws(&user).await);
    }
    let r = cluster.nodes[2]
        .post(
            "/announcements",
            Some(&admin.access),
            json!({"body": "maintenance at noon"}),
        )
        .await;
    r.expect(201);
    for ws in &mut sockets {
        let heard = ws.take_of("announcement.created").await;
        assert_eq!(text(&heard["announcement"], "body"), "maintenance at noon");
        let again = ws.collect(Duration::from_millis(500)).await;
        assert!(
            again.iter().all(|f| kind(f) != "announcement.created"),
            "heard twice: {again:?}"
        );
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn direct_chats_made_at_once_on_three_instances_are_one_chat() {
    let cluster = Cluster::start(3, &[]).await;
    let me = cluster.nodes[0].register("mine").await;
    let you = cluster.nodes[0].register("yours").await;
    let answers = join_all((0..9).map(|i| {
        let (a, b) = if i % 2 == 0 { (&me, &you) } else { (&you, &me) };
        cluster.nodes[i % 3].direct(a, b)
    }))
    .await;
    let created = answers.iter().filter(|r| r.status == 201).count();
    assert_eq!(
        created,
        1,
        "{:?}",
        answers.iter().map(|r| r.status).collect::<Vec<_>>()
    );
    let ids: std::collections::HashSet<String> = answers.iter().map(|r| id(&r.json)).collect();
    assert_eq!(ids.len(), 1, "one chat: {ids:?}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn ownership_handed_to_three_people_at_once_on_three_instances_ends_with_one_owner() {
    let cluster = Cluster::start(3, &[]).await;
    let owner = cluster.nodes[0].register("owner").await;
    let heirs = [
        cluster.nodes[0].register("heir0").await,
        cluster.nodes[0].register("heir1").await,
        cluster.nodes[0].register("heir2").await,
    ];
    let group = id(&cluster.nodes[0]
        .create_group(&owner, "crown", &heirs.iter().collect::<Vec<_>>())
        .await);
    let answers = join_all(
        heirs
            .iter()
            .enumerate()
            .map(|(i, heir)| cluster.nodes[i].set_role(&owner, &group, &heir.user_id, "owner")),
    )
    .await;
    let statuses: Vec<u16> = answers.iter().map(|r| r.status).collect();
    assert_eq!(
        statuses.iter().filter(|s| **s == 200).count(),
        1,
        "{statuses:?}"
    );
    let members = cluster.nodes[1].members(&owner, &group).await;
    let owners = members.iter().filter(|m| m["role"] == "owner").count();
    assert_eq!(owners, 1, "{members:?}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn three_sweeping_instances_close_and_announce_each_room_once_to_every_socket() {
    let cluster = Cluster::start(3, &["--expiry-sweep-interval", "50ms"]).await;
    let mut rooms = Vec::new();
    let mut sockets = Vec::new();
    for i in 0..3 {
        let (a, b) = (&cluster.nodes[i], &cluster.nodes[(i + 1) % 3]);
        let waiter = a.register(&format!("waiter{i}")).await;
        let joiner = b.register(&format!("joiner{i}")).await;
        a.post("/pool", Some(&waiter.access), json!({}))
            .await
            .expect(202);
        let r = b.post("/pool", Some(&joiner.access), json!({})).await;
        r.expect(200);
        rooms.push(id(&r.json["group"]));
        // The waiter listens on every instance.
        for node in &cluster.nodes {
            sockets.push(node.ws(&waiter).await);
        }
    }
    for node in &cluster.nodes {
        node.advance(Duration::from_secs(24 * 3600));
    }
    let mut heard: BTreeMap<String, usize> = BTreeMap::new();
    for ws in &mut sockets {
        for f in ws.collect(Duration::from_millis(1500)).await {
            if kind(&f) == "group.closed" {
                *heard.entry(text(&f, "group_id")).or_default() += 1;
            }
        }
    }
    // Each room's waiter has three sockets: each hears its room's closing exactly once.
    let expected: BTreeMap<String, usize> = rooms.iter().map(|r| (r.clone(), 3)).collect();
    assert_eq!(heard, expected);
}
