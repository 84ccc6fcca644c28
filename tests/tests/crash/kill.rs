//! SIGKILL under senders, [`ROUNDS`] times on one database. Each round: 8 HTTP senders and 8
//! socket senders in 2 groups send with client ids as fast as answers come; the server is
//! SIGKILLed mid-send; a new process starts on the same database; every message without an
//! ack is sent again with its client id (API.md: 200 and the first message when it was
//! stored, 201 when not); the last acked one of each sender too (it must come back 200, the
//! same message). Then the store holds exactly what was sent, each message once, every ack
//! as it was given, seqs gapless; and a receiver whose socket was open before the kill
//! reconnects, `sync`s from the revs it saw, and holds exactly what the store holds.

use std::collections::HashSet;
use std::time::Duration;

use confab_tests::Store;
use confab_tests::chat::id;
use confab_tests::cluster::Listener;

use crate::Db;
use crate::ledger::{Sender, Via, check_group, open_sockets, reader_of, send_all};

const ROUNDS: usize = 3;
const GROUPS: usize = 2;
/// Senders per group over each transport.
const PER_GROUP: usize = 4;

async fn sigkill_rounds_lose_and_double_nothing(store: Store) {
    let started = tokio::time::Instant::now();
    let db = Db::new(store).await;
    let mut server = db.spawn().await;
    let receiver_user = server.register("receiver").await;
    let mut senders = Vec::new();
    let mut groups = Vec::new();
    for g in 0..GROUPS {
        let mut users = Vec::new();
        for i in 0..2 * PER_GROUP {
            users.push(server.register(&format!("g{g}.sender{i}")).await);
        }
        let mut others: Vec<_> = users[1..].iter().collect();
        others.push(&receiver_user);
        let group = id(&server
            .create_group(&users[0], &format!("g{g}"), &others)
            .await);
        for (i, user) in users.into_iter().enumerate() {
            let via = if i < PER_GROUP {
                Via::Http
            } else {
                Via::Socket
            };
            senders.push(Sender::new(user, &group, via));
        }
        groups.push(group);
    }
    let mut receiver = Listener::open(&server, &receiver_user).await;
    for g in &groups {
        receiver.revs.insert(g.clone(), 0);
    }
    for round in 0..ROUNDS {
        let addr = server.addr;
        let socks = open_sockets(&senders, addr).await;
        let run_for = Duration::from_millis(500 + 250 * round as u64);
        let kill = async {
            tokio::time::sleep(run_for).await;
            server.signal("KILL");
        };
        let sending = send_all(&mut senders, socks, addr, round);
        // The receiver hears what it can until its socket dies with the server.
        let listening = receiver.until(Duration::from_secs(20), |_| false);
        tokio::join!(kill, sending, listening);
        assert!(
            receiver.ws.ended().is_some(),
            "the receiver's socket outlived its server"
        );
        server.kill().await;
        let sent: usize = senders
            .iter()
            .map(|s| s.sent.iter().filter(|m| m.round == round).count())
            .sum();
        let acked: usize = senders
            .iter()
            .map(|s| {
                s.sent
                    .iter()
                    .filter(|m| m.round == round && m.acked().is_some())
                    .count()
            })
            .sum();

        server = db.spawn().await;
        let (mut found, mut new) = (0, 0);
        for s in &mut senders {
            let (f, n) = s.resend(&server).await;
            found += f;
            new += n;
            s.repeat_last_ack(&server).await;
        }
        receiver.reconnect(&server).await;
        for g in &groups {
            let reader = reader_of(&senders, g);
            let stored = check_group(&server, reader, g, &senders).await;
            let heard = receiver.ids(g);
            let stored_set: HashSet<String> = stored.iter().cloned().collect();
            let missing: Vec<_> = stored_set.difference(&heard).collect();
            let extra: Vec<_> = heard.difference(&stored_set).collect();
            assert!(
                missing.is_empty() && extra.is_empty(),
                "round {round}, group {g}: after its sync the receiver misses {missing:?} and has \
                 {extra:?} that the store has not"
            );
            assert_eq!(
                receiver.created[g], stored,
                "round {round}: the receiver heard group {g} out of seq order"
            );
        }
        eprintln!(
            "{store:?} round {round}: killed after {run_for:?}: {sent} sent, {acked} acked; of the \
             {} without an ack, {found} had been stored, {new} had not",
            sent - acked
        );
    }
    eprintln!("{store:?} SIGKILL rounds took {:?}", started.elapsed());
}

confab_tests::store_tests!(; own_server: sigkill_rounds_lose_and_double_nothing);
