//! Instances failing and restarting under steady sends: one SIGKILLed (its clients move to
//! another instance and `sync`), and a rolling restart of all three, one at a time. No
//! acknowledged message is missing and none is doubled, in the store or on any socket.

use std::time::Duration;

use futures::future::join_all;

use confab_tests::cluster::Cluster;

use crate::balancer::Balancer;
use crate::team::{Client, everyone_heard_everything, team};

/// Messages each client sends.
const EACH: usize = 16;

/// Every client sends [`EACH`] messages through the balancer, a little apart.
async fn steady_sends(balancer: &Balancer, clients: &[(usize, confab_tests::Session, String)]) {
    join_all(clients.iter().map(|(node, user, group)| async move {
        for n in 0..EACH {
            let client_id = format!("{}-{n}", user.username);
            balancer
                .send(*node, user, group, &format!("m{n}"), &client_id)
                .await;
            tokio::time::sleep(Duration::from_millis(40)).await;
        }
    }))
    .await;
}

fn senders(clients: &[Client]) -> Vec<(usize, confab_tests::Session, String)> {
    clients
        .iter()
        .map(|c| (c.node, c.listener.user.clone(), c.group.clone()))
        .collect()
}

/// Clients whose socket ended move to an instance that is up, and sync from what they heard.
async fn reconnect_the_dropped(cluster: &Cluster, clients: &mut [Client]) -> usize {
    let mut moved = 0;
    for c in clients.iter_mut() {
        // Whatever the socket still had buffered counts as heard.
        c.listener
            .until(Duration::from_millis(100), |_| false)
            .await;
        if c.listener.ws.ended().is_some() {
            c.listener.reconnect(&cluster.nodes[c.node]).await;
            moved += 1;
        }
    }
    moved
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_instance_killed_mid_send_loses_and_doubles_nothing() {
    let mut cluster = Cluster::start(2, &[]).await;
    cluster
        .spawn(std::path::Path::new(env!("CARGO_BIN_EXE_confab-node")), &[])
        .await;
    let mut clients = team(&cluster, 9, 3, "sigkill").await;
    let balancer = Balancer::new(cluster.nodes.iter().map(|n| n.addr));
    let sends = senders(&clients);
    let victim = &cluster.nodes[2];
    let kill = async {
        tokio::time::sleep(Duration::from_millis(300)).await;
        victim.signal("KILL");
        balancer.set(2, None);
    };
    futures::join!(steady_sends(&balancer, &sends), kill);
    cluster.nodes[2].kill().await;
    // The killed instance's clients go to instance 0, as the balancer would send them.
    for c in clients.iter_mut().filter(|c| c.node == 2) {
        c.node = 0;
    }
    let moved = reconnect_the_dropped(&cluster, &mut clients).await;
    assert_eq!(moved, 3, "the killed instance's three sockets ended");
    everyone_heard_everything(&cluster, &mut clients, 3 * EACH).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_rolling_restart_under_steady_sends_loses_nothing() {
    let mut cluster = Cluster::start(3, &[]).await;
    let mut clients = team(&cluster, 9, 3, "roll").await;
    let balancer = Balancer::new(cluster.nodes.iter().map(|n| n.addr));
    let sends = senders(&clients);
    let nodes = &mut cluster;
    let roll = async {
        for i in 0..3 {
            tokio::time::sleep(Duration::from_millis(150)).await;
            balancer.set(i, None);
            nodes.restart(i).await;
            balancer.set(i, Some(nodes.nodes[i].addr));
        }
    };
    futures::join!(steady_sends(&balancer, &sends), roll);
    let moved = reconnect_the_dropped(&cluster, &mut clients).await;
    assert_eq!(
        moved, 9,
        "every socket was closed by its instance's restart"
    );
    everyone_heard_everything(&cluster, &mut clients, 3 * EACH).await;
}
