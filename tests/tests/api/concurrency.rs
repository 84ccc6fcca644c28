//! Concurrency over real HTTP: many clients writing into one group at once must still give a
//! gapless `seq` and `rev`, one message per `client_id`, one direct chat per pair, and no
//! message from a member after their removal committed.

use std::collections::{BTreeSet, HashMap};

use confab_tests::chat::{id, num};
use confab_tests::{Session, Store, TestServer};
use futures::future::join_all;
use serde_json::json;
use tokio::sync::Notify;

const CLIENTS: usize = 20;
const PER_CLIENT: usize = 50;

/// What one client saw: the rev of every create and edit it was answered, and the ids it
/// deleted.
#[derive(Default)]
struct Seen {
    revs: Vec<u64>,
    latest: HashMap<String, u64>,
    deleted: Vec<String>,
}

async fn client(s: &TestServer, me: &Session, g: &str, k: usize) -> Seen {
    let mut seen = Seen::default();
    for i in 0..PER_CLIENT {
        let m = s.send(me, g, &format!("client {k} message {i}")).await;
        let mid = id(&m);
        seen.revs.push(num(&m, "rev"));
        seen.latest.insert(mid.clone(), num(&m, "rev"));
        if i % 5 == 4 {
            let e = s
                .edit(me, &mid, &format!("client {k} message {i}, edited"))
                .await;
            assert_eq!(e["seq"], m["seq"]);
            seen.revs.push(num(&e, "rev"));
            seen.latest.insert(mid.clone(), num(&e, "rev"));
        }
        if i % 10 == 9 {
            s.delete_message(me, &mid).await.expect(204);
            seen.deleted.push(mid);
        }
    }
    seen
}

async fn twenty_clients_times_fifty_messages_give_gapless_seqs_and_revs(s: &TestServer) {
    let mut people = Vec::new();
    for k in 0..CLIENTS {
        people.push(s.register(&format!("client{k}")).await);
    }
    let others: Vec<&Session> = people.iter().skip(1).collect();
    let g = id(&s.create_group(&people[0], "Busy", &others).await);
    let seen = join_all(
        people
            .iter()
            .enumerate()
            .map(|(k, me)| client(s, me, &g, k)),
    )
    .await;
    let creates = CLIENTS * PER_CLIENT;
    let edits = CLIENTS * PER_CLIENT / 5;
    let deletes = CLIENTS * PER_CLIENT / 10;
    let total = (creates + edits + deletes) as u64;

    let history = s.all_messages(&people[0], &g).await;
    let seqs: Vec<u64> = history.iter().map(|m| num(m, "seq")).collect();
    assert_eq!(seqs, (1..=creates as u64).collect::<Vec<_>>());
    let group = s.group(&people[0], &g).await;
    assert_eq!(num(&group, "last_seq"), creates as u64);
    assert_eq!(num(&group, "last_rev"), total);

    // Every change took its own rev: the revs answered for creates and edits, plus the revs
    // the deleted messages carry (a delete is their latest change), are exactly 1..=total.
    let by_id: HashMap<String, u64> = history.iter().map(|m| (id(m), num(m, "rev"))).collect();
    let mut all_revs: Vec<u64> = seen.iter().flat_map(|c| c.revs.iter().copied()).collect();
    let mut deleted = 0;
    for c in &seen {
        for mid in &c.deleted {
            all_revs.push(by_id[mid]);
            deleted += 1;
        }
        for (mid, rev) in &c.latest {
            if !c.deleted.contains(mid) {
                assert_eq!(by_id[mid], *rev, "history shows the latest change of {mid}");
            }
        }
    }
    assert_eq!(deleted, deletes);
    let distinct: BTreeSet<u64> = all_revs.iter().copied().collect();
    assert_eq!(all_revs.len(), distinct.len(), "a rev was given twice");
    assert_eq!(distinct, (1..=total).collect::<BTreeSet<_>>());
    let tombstones = history.iter().filter(|m| m["deleted"] == true).count();
    assert_eq!(tombstones, deletes);
}

async fn the_same_client_id_ten_times_at_once_is_one_message(s: &TestServer) {
    let alice = s.register("alice").await;
    let g = id(&s.create_group(&alice, "Team", &[]).await);
    for round in 0..5 {
        let client_id = format!("retry-{round}");
        let answers = join_all((0..10).map(|_| {
            s.try_send(
                &alice,
                &g,
                json!({"body": "only once", "client_id": client_id}),
            )
        }))
        .await;
        let created = answers.iter().filter(|r| r.status == 201).count();
        let repeated = answers.iter().filter(|r| r.status == 200).count();
        assert_eq!((created, repeated), (1, 9), "{answers:?}");
        let ids: BTreeSet<String> = answers.iter().map(|r| id(&r.json)).collect();
        assert_eq!(ids.len(), 1);
    }
    let history = s.all_messages(&alice, &g).await;
    assert_eq!(history.len(), 5);
    assert_eq!(s.group(&alice, &g).await["last_rev"], 5);
}

async fn both_sides_opening_the_same_direct_chat_at_once_get_one(s: &TestServer) {
    for pair in 0..5 {
        let a = s.register(&format!("left{pair}")).await;
        let b = s.register(&format!("right{pair}")).await;
        let answers = join_all((0..6).map(|i| {
            let (me, other) = if i % 2 == 0 { (&a, &b) } else { (&b, &a) };
            s.direct(me, other)
        }))
        .await;
        let created = answers.iter().filter(|r| r.status == 201).count();
        let existing = answers.iter().filter(|r| r.status == 200).count();
        assert_eq!((created, existing), (1, 5), "{answers:?}");
        let ids: BTreeSet<String> = answers.iter().map(|r| id(&r.json)).collect();
        assert_eq!(ids.len(), 1, "{ids:?}");
        assert_eq!(s.groups(&a).await.len(), 1);
        assert_eq!(s.groups(&b).await.len(), 1);
    }
}

/// Sends until the first refusal; returns the messages answered 201 and the refusal's status.
/// Signals `started` after a few successful sends so the removal races with a live sender.
async fn send_until_refused(
    s: &TestServer,
    me: &Session,
    g: &str,
    lane: usize,
    started: &Notify,
) -> (Vec<serde_json::Value>, u16, String) {
    let mut sent = Vec::new();
    for i in 0..250 {
        let r = s
            .try_send(me, g, json!({"body": format!("lane {lane} message {i}")}))
            .await;
        if r.status != 201 {
            return (sent, r.status, r.text);
        }
        sent.push(r.json.clone());
        if i == 3 {
            started.notify_one();
        }
    }
    panic!("lane {lane}: still sending after 250 messages; the removal never took effect");
}

async fn a_member_removed_while_sending_sends_nothing_after_the_removal(s: &TestServer) {
    let alice = s.register("alice").await;
    let bob = s.register("bob").await;
    let g = id(&s.create_group(&alice, "Team", &[&bob]).await);
    let started = Notify::new();
    let lanes = join_all((0..4).map(|lane| send_until_refused(s, &bob, &g, lane, &started)));
    let remover = async {
        started.notified().await;
        s.remove_member(&alice, &g, &bob.user_id).await.expect(204);
        s.send(&alice, &g, "marker").await
    };
    let (lanes, marker) = tokio::join!(lanes, remover);
    let marker_seq = num(&marker, "seq");
    let mut answered = BTreeSet::new();
    for (sent, status, text) in &lanes {
        assert_eq!(*status, 404, "after the removal a send is 404: {text}");
        answered.extend(sent.iter().map(id));
    }
    let history = s.all_messages(&alice, &g).await;
    let seqs: Vec<u64> = history.iter().map(|m| num(m, "seq")).collect();
    assert_eq!(seqs, (1..=marker_seq).collect::<Vec<_>>());
    let from_bob: Vec<_> = history
        .iter()
        .filter(|m| m["sender_id"] == bob.user_id.as_str())
        .collect();
    for m in &from_bob {
        assert!(
            num(m, "seq") < marker_seq,
            "bob's {m} came after the removal"
        );
    }
    let in_history: BTreeSet<String> = from_bob.iter().map(|m| id(m)).collect();
    assert_eq!(
        in_history, answered,
        "every 201 is in history, and nothing else of bob's"
    );
}

/// Fifty senders at once, each on its own HTTP connection and (on PostgreSQL, with a pool of
/// fifty) its own database connection, all appending to one group: the group's row lock (or
/// SQLite's single writer) must still hand out every seq exactly once, in commit order.
async fn fifty_connections_appending_to_one_group_get_seqs_one_to_n(store: Store) {
    const SENDERS: usize = 50;
    const EACH: usize = 10;
    let s = TestServer::start_with(store, &["--database-connections", "50"]).await;
    // A client each: separate connection pools, so the sends really run side by side.
    let s = &s;
    let people = join_all((0..SENDERS).map(|k| async move {
        let me = s.register(&format!("sender{k}")).await;
        (me, reqwest::Client::new())
    }))
    .await;
    let others: Vec<&Session> = people.iter().skip(1).map(|(me, _)| me).collect();
    let g = id(&s.create_group(&people[0].0, "Crowd", &others).await);
    let start = std::sync::Arc::new(tokio::sync::Barrier::new(SENDERS));
    let answered = join_all(people.iter().map(|(me, http)| {
        let start = start.clone();
        let g = g.clone();
        async move {
            start.wait().await;
            let mut seqs = Vec::new();
            for i in 0..EACH {
                let r = http
                    .post(s.url(&format!("/api/v1/groups/{g}/messages")))
                    .bearer_auth(&me.access)
                    .json(&json!({"body": format!("{} says {i}", me.user_id)}))
                    .send()
                    .await
                    .unwrap();
                assert_eq!(r.status(), 201);
                let m: serde_json::Value = r.json().await.unwrap();
                seqs.push(num(&m, "seq"));
            }
            // Each sender's own messages are in its order.
            assert!(seqs.windows(2).all(|w| w[0] < w[1]), "{seqs:?}");
            seqs
        }
    }))
    .await;
    let total = (SENDERS * EACH) as u64;
    let mut all: Vec<u64> = answered.into_iter().flatten().collect();
    all.sort_unstable();
    assert_eq!(
        all,
        (1..=total).collect::<Vec<_>>(),
        "every seq answered once"
    );
    let history = s.all_messages(&people[0].0, &g).await;
    let seqs: Vec<u64> = history.iter().map(|m| num(m, "seq")).collect();
    assert_eq!(seqs, (1..=total).collect::<Vec<_>>());
    assert_eq!(num(&s.group(&people[0].0, &g).await, "last_rev"), total);
}

/// Ten registrations of one name (and, separately, of one email) at the same instant: the
/// checks before the insert all pass, so the database's unique constraint decides — one 201,
/// and nine 409s naming the field, never a 500.
async fn racing_registrations_of_one_name_or_email_give_one_account(s: &TestServer) {
    for (round, field) in ["username", "email"].into_iter().enumerate() {
        let answers = join_all((0..10).map(|k| {
            let body = if field == "username" {
                json!({"username": format!("Taken{round}"), "password": "correct horse battery"})
            } else {
                json!({
                    "username": format!("mail{round}x{k}"),
                    "email": "Same@Example.com",
                    "password": "correct horse battery",
                })
            };
            s.post("/auth/register", None, body)
        }))
        .await;
        let created = answers.iter().filter(|r| r.status == 201).count();
        assert_eq!(created, 1, "{answers:?}");
        for r in answers.iter().filter(|r| r.status != 201) {
            r.expect_error(409, "conflict");
            assert_eq!(r.json["error"]["field"], field, "{r:?}");
        }
    }
}

confab_tests::store_tests!(
    racing_registrations_of_one_name_or_email_give_one_account,
    twenty_clients_times_fifty_messages_give_gapless_seqs_and_revs,
    the_same_client_id_ten_times_at_once_is_one_message,
    both_sides_opening_the_same_direct_chat_at_once_get_one,
    a_member_removed_while_sending_sends_nothing_after_the_removal;
    own_server: fifty_connections_appending_to_one_group_get_seqs_one_to_n,
);
