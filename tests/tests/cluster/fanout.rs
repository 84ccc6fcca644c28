//! Fan-out across instances: whichever instance takes a write, every member's socket on every
//! instance hears it once, in order.

use futures::future::join_all;

use confab_tests::cluster::Cluster;

use crate::team::{everyone_heard_everything, send, team};

/// Messages each client sends.
const EACH: usize = 10;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn thirty_clients_on_three_instances_hear_every_message_of_their_group_once_in_order() {
    let cluster = Cluster::start(3, &[]).await;
    let mut clients = team(&cluster, 30, 5, "fan").await;
    // Everybody sends at once, over HTTP and sockets, each on its own instance.
    join_all(clients.iter_mut().map(|c| {
        let cluster = &cluster;
        async move {
            for n in 0..EACH {
                send(cluster, c, n).await;
            }
        }
    }))
    .await;
    // 6 members per group.
    everyone_heard_everything(&cluster, &mut clients, 6 * EACH).await;
}
