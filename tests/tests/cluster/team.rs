//! The scene most cluster tests share: users spread over the instances, in groups whose
//! members sit on different instances, each with a listening socket on its own instance.

use std::collections::HashSet;
use std::time::Duration;

use confab_tests::chat::id;
use confab_tests::cluster::{Cluster, Listener};
use serde_json::json;

/// How long a test waits for every client to have heard everything.
pub const HEAR_ALL: Duration = Duration::from_secs(30);

/// One client: a user with a socket on instance `node`, member of `group`.
pub struct Client {
    pub node: usize,
    pub group: String,
    pub listener: Listener,
}

/// Registers `clients` users and makes `groups` groups of them: client `i` sits on instance
/// `i % nodes` and is in group `i % groups`; opens every client's socket on its instance.
pub async fn team(cluster: &Cluster, clients: usize, groups: usize, tag: &str) -> Vec<Client> {
    let nodes = cluster.nodes.len();
    let mut users = Vec::new();
    for i in 0..clients {
        users.push(
            cluster.nodes[i % nodes]
                .register(&format!("{tag}{i}"))
                .await,
        );
    }
    let mut group_ids = Vec::new();
    for g in 0..groups {
        let members: Vec<_> = (0..clients).filter(|i| i % groups == g).collect();
        let owner = &users[members[0]];
        let others: Vec<_> = members[1..].iter().map(|&i| &users[i]).collect();
        let node = &cluster.nodes[g % nodes];
        group_ids.push(id(&node
            .create_group(owner, &format!("g{g}"), &others)
            .await));
    }
    let mut all = Vec::new();
    for (i, user) in users.iter().enumerate() {
        let node = i % nodes;
        all.push(Client {
            node,
            group: group_ids[i % groups].clone(),
            listener: Listener::open(&cluster.nodes[node], user).await,
        });
    }
    all
}

/// Sends message `n` of `client`: over HTTP on odd `n`, over its socket on even `n` (the ack
/// is left for the listener to skip), with a client id naming the sender and `n`.
pub async fn send(cluster: &Cluster, client: &mut Client, n: usize) {
    let user = &client.listener.user;
    let client_id = format!("{}-{n}", user.username);
    if n % 2 == 1 {
        cluster.nodes[client.node]
            .try_send(
                user,
                &client.group,
                json!({"body": format!("m{n}"), "client_id": client_id}),
            )
            .await
            .expect(201);
    } else {
        client
            .listener
            .ws
            .send(
                json!({"type": "message.send", "ref": client_id, "group_id": client.group,
                         "body": format!("m{n}"), "client_id": client_id}),
            )
            .await;
    }
}

/// Every message of `group` as stored, read over HTTP from instance 0.
pub async fn stored(cluster: &Cluster, viewer: &Client) -> HashSet<String> {
    let all = cluster.nodes[0]
        .all_messages(&viewer.listener.user, &viewer.group)
        .await;
    all.iter().map(id).collect()
}

/// Waits until every client has heard `per_group` messages of its group, then checks that
/// what each heard is exactly what the store holds (the listener already failed on any
/// duplicate or out-of-order rev).
pub async fn everyone_heard_everything(
    cluster: &Cluster,
    clients: &mut [Client],
    per_group: usize,
) {
    for c in clients.iter_mut() {
        let group = c.group.clone();
        let heard = c
            .listener
            .until(HEAR_ALL, |l| {
                l.created.get(&group).map_or(0, Vec::len) >= per_group
            })
            .await;
        assert!(
            heard,
            "{} on instance {} heard {} of {per_group} messages",
            c.listener.user.username,
            c.node,
            c.listener.created.get(&group).map_or(0, Vec::len)
        );
    }
    for c in clients.iter() {
        let stored = stored(cluster, c).await;
        assert_eq!(
            stored.len(),
            per_group,
            "the store holds every message once"
        );
        assert_eq!(
            c.listener.ids(&c.group),
            stored,
            "{}",
            c.listener.user.username
        );
    }
}
