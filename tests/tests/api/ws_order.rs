//! Order under load: ten sockets write concurrently into three groups (sends, and some edits
//! and deletes of their own messages); every socket sees each group's changes in strictly
//! increasing `rev`, misses none, and ends up holding exactly what HTTP returns.

use std::collections::{BTreeMap, HashMap};

use confab_tests::chat::{id, num};
use confab_tests::ws::{WAIT, kind};
use confab_tests::{Session, Store, TestServer, Ws};
use futures::future::join_all;
use serde_json::{Value, json};

const SOCKETS: usize = 10;
const GROUPS: usize = 3;
const PER_SOCKET: usize = 30;

/// What one socket holds of one group: its message events' revs in arrival order, and each
/// message at its latest state.
#[derive(Default)]
struct View {
    revs: Vec<u64>,
    messages: BTreeMap<u64, Value>,
}

impl View {
    fn apply(&mut self, f: &Value) {
        let rev = match kind(f) {
            "message.created" | "message.updated" => {
                let m = &f["message"];
                self.messages.insert(num(m, "seq"), m.clone());
                num(m, "rev")
            }
            "message.deleted" => {
                let seq = num(f, "seq");
                let m = self
                    .messages
                    .get_mut(&seq)
                    .unwrap_or_else(|| panic!("a delete of a message never seen: {f}"));
                m["deleted"] = json!(true);
                m["body"] = json!("");
                m["edited_at"] = json!(null);
                m["rev"] = f["rev"].clone();
                num(f, "rev")
            }
            other => panic!("not a message event: {other}"),
        };
        self.revs.push(rev);
    }
}

/// A message as the events can describe it: a tombstone without its `edited_at`.
fn tombstone_as_sent(m: &Value) -> Value {
    let mut m = m.clone();
    if m["deleted"] == true {
        m["edited_at"] = Value::Null;
    }
    m
}

/// One writer: `PER_SOCKET` sends over its socket, spread over the groups, editing every
/// fourth and deleting every seventh of its own messages. Frames it is not waiting for stay
/// in the socket's backlog for the check.
async fn writer(ws: &mut Ws, k: usize, groups: &[String]) {
    for i in 0..PER_SOCKET {
        let g = &groups[(k + i) % GROUPS];
        let body = format!("socket {k} message {i}");
        let ack = ws
            .ok(json!({"type": "message.send", "ref": [k, i], "group_id": g, "body": body}))
            .await;
        let mid = id(&ack["message"]);
        if i % 4 == 3 {
            ws.ok(json!({"type": "message.edit", "ref": [k, i, "e"], "id": mid, "body": format!("{body}, edited")}))
                .await;
        }
        if i % 7 == 6 {
            ws.ok(json!({"type": "message.delete", "ref": [k, i, "d"], "id": mid}))
                .await;
        }
    }
}

/// Reads until the socket has seen each group's last rev, applying every message event.
async fn read_to(ws: &mut Ws, last: &HashMap<String, u64>) -> HashMap<String, View> {
    let mut views: HashMap<String, View> = HashMap::new();
    loop {
        let done = last.iter().all(|(g, rev)| {
            views
                .get(g)
                .and_then(|v| v.revs.last())
                .is_some_and(|r| r >= rev)
        });
        if done {
            return views;
        }
        let f = match ws.recv(WAIT).await {
            Some(f) => f,
            None => panic!("stalled; socket ended: {:?}", ws.ended()),
        };
        if kind(&f).starts_with("message.") {
            let g = f["group_id"]
                .as_str()
                .or(f["message"]["group_id"].as_str())
                .unwrap_or_else(|| panic!("no group: {f}"))
                .to_owned();
            views.entry(g).or_default().apply(&f);
        }
    }
}

async fn ten_sockets_three_groups_each_group_in_rev_order_without_gaps(store: Store) {
    // Room for the burst of HTTP reads the check makes; socket frames are not rate limited.
    let s = TestServer::start_with(store, &["--request-burst", "10000"]).await;
    let mut people: Vec<Session> = Vec::new();
    for k in 0..SOCKETS {
        people.push(s.register(&format!("user{k}")).await);
    }
    let others: Vec<&Session> = people.iter().skip(1).collect();
    let mut groups = Vec::new();
    for n in 0..GROUPS {
        groups.push(id(&s
            .create_group(&people[0], &format!("g{n}"), &others)
            .await));
    }
    let mut sockets = Vec::new();
    for p in &people {
        sockets.push(s.ws(p).await);
    }
    join_all(
        sockets
            .iter_mut()
            .enumerate()
            .map(|(k, ws)| writer(ws, k, &groups)),
    )
    .await;

    let mut last = HashMap::new();
    let mut history = HashMap::new();
    for g in &groups {
        last.insert(g.clone(), num(&s.group(&people[0], g).await, "last_rev"));
        history.insert(g.clone(), s.all_messages(&people[0], g).await);
    }
    let total: u64 = last.values().sum();
    let expected_total =
        SOCKETS * PER_SOCKET + SOCKETS * (PER_SOCKET / 4) + SOCKETS * (PER_SOCKET / 7);
    assert_eq!(total, expected_total as u64, "every change took a rev");

    for (k, ws) in sockets.iter_mut().enumerate() {
        let views = read_to(ws, &last).await;
        for g in &groups {
            let view = &views[g];
            assert!(
                view.revs.windows(2).all(|w| w[0] < w[1]),
                "socket {k}, group {g}: revs out of order: {:?}",
                view.revs
            );
            // Nothing missed: every message at its final rev was heard, and the socket's view
            // is exactly the group's history. (A change superseded by a later one before the
            // socket caught up may arrive as its latest state, so a rev of the past can be
            // skipped; none of the present may be.)
            let final_revs: Vec<u64> = history[g].iter().map(|m| num(m, "rev")).collect();
            for r in &final_revs {
                assert!(
                    view.revs.contains(r),
                    "socket {k}, group {g}: rev {r} never arrived: {:?}",
                    view.revs
                );
            }
            // Tombstones are compared without `edited_at`: an edit superseded by a delete before
            // the socket caught up arrives as `message.deleted`, which does not carry it (see
            // ws_reconnect::a_synced_tombstone_is_what_http_shows).
            let held: Vec<Value> = view.messages.values().map(tombstone_as_sent).collect();
            let want: Vec<Value> = history[g].iter().map(tombstone_as_sent).collect();
            if let Some((h, w)) = held.iter().zip(&want).find(|(h, w)| h != w) {
                panic!(
                    "socket {k}, group {g}: holds {h}\nthe history says {w}\nrevs heard: {:?}",
                    view.revs
                );
            }
            assert_eq!(held.len(), want.len(), "socket {k}, group {g}");
            let seqs: Vec<u64> = view.messages.keys().copied().collect();
            assert_eq!(seqs, (1..=seqs.len() as u64).collect::<Vec<_>>());
        }
    }
}

confab_tests::store_tests!(; own_server: ten_sockets_three_groups_each_group_in_rev_order_without_gaps);
