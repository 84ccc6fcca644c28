//! Reconnect: a client drops mid-stream while others keep sending, editing and deleting; it
//! reconnects, sends `sync` with the last rev it saw per group, and gets exactly the changes it
//! missed, once each, in rev order — `message.created` for messages new to it,
//! `message.updated` / `message.deleted` for older ones — then `synced`.

use std::collections::{HashMap, HashSet};

use confab_tests::chat::{id, num};
use confab_tests::rng::Lcg;
use confab_tests::ws::kind;
use confab_tests::{Session, Store, TestServer, Ws};
use serde_json::{Value, json};

const ACTIONS: usize = 40;

/// What the reconnecting client knows: per group, the last rev it saw; the ids it saw; and
/// each message at the latest state it heard of.
#[derive(Default)]
struct Seen {
    last: HashMap<String, u64>,
    ids: HashSet<String>,
    held: HashMap<String, Value>,
}

fn group_of(f: &Value) -> String {
    f["group_id"]
        .as_str()
        .or(f["message"]["group_id"].as_str())
        .unwrap_or_else(|| panic!("no group: {f}"))
        .to_owned()
}

fn rev_of(f: &Value) -> u64 {
    f["rev"]
        .as_u64()
        .or(f["message"]["rev"].as_u64())
        .unwrap_or_else(|| panic!("no rev: {f}"))
}

impl Seen {
    /// Applies a message event, whatever order it came in: a message's latest rev wins.
    fn apply(&mut self, f: &Value) {
        let rev = rev_of(f);
        let last = self.last.entry(group_of(f)).or_default();
        *last = (*last).max(rev);
        let mid = f["id"]
            .as_str()
            .or(f["message"]["id"].as_str())
            .unwrap_or_else(|| panic!("no id: {f}"))
            .to_owned();
        self.ids.insert(mid.clone());
        let held = self.held.get(&mid).map(|m| num(m, "rev"));
        if kind(f) == "message.deleted" {
            if held.is_none_or(|r| r < rev) {
                let mut m = self.held.get(&mid).cloned().unwrap_or_else(|| json!({}));
                m["id"] = json!(mid);
                m["deleted"] = json!(true);
                m["body"] = json!("");
                m["edited_at"] = json!(null);
                m["rev"] = json!(rev);
                self.held.insert(mid, m);
            }
        } else if held.is_none_or(|r| r <= rev) {
            self.held.insert(mid, f["message"].clone());
        }
    }
}

/// `actions` random writes by `who` over HTTP into `groups`: sends, edits and deletes of their
/// own messages.
async fn write(s: &TestServer, who: &Session, groups: &[String], seed: u64, actions: usize) {
    let mut rng = Lcg(seed);
    let mut mine: Vec<String> = Vec::new();
    for i in 0..actions {
        let g = &groups[rng.below(groups.len())];
        match rng.below(10) {
            0..=5 => mine.push(id(&s
                .send(who, g, &format!("{} says {i}", who.username))
                .await)),
            6..=8 if !mine.is_empty() => {
                let m = &mine[rng.below(mine.len())];
                let r = s.try_edit(who, m, &format!("edit {i}")).await;
                assert!(r.status == 200 || r.status == 410, "{}", r.text);
            }
            _ if !mine.is_empty() => {
                let m = mine.swap_remove(rng.below(mine.len()));
                s.delete_message(who, &m).await.expect(204);
            }
            _ => mine.push(id(&s.send(who, g, "first").await)),
        }
    }
}

/// The frames a client that saw `seen` must get from `sync`, per group, from the history.
async fn missed(s: &TestServer, who: &Session, seen: &Seen) -> HashMap<String, Vec<Value>> {
    let mut want = HashMap::new();
    for (g, since) in &seen.last {
        let mut changed: Vec<Value> = s
            .all_messages(who, g)
            .await
            .into_iter()
            .filter(|m| num(m, "rev") > *since)
            .collect();
        changed.sort_by_key(|m| num(m, "rev"));
        let frames = changed
            .into_iter()
            .map(|m| {
                if !seen.ids.contains(&id(&m)) {
                    json!({"type": "message.created", "message": m})
                } else if m["deleted"] == true {
                    json!({"type": "message.deleted", "group_id": g, "id": m["id"], "seq": m["seq"], "rev": m["rev"]})
                } else {
                    json!({"type": "message.updated", "message": m})
                }
            })
            .collect();
        want.insert(g.clone(), frames);
    }
    want
}

async fn setup(s: &TestServer) -> (Session, Session, Session, Vec<String>) {
    let alice = s.register("alice").await;
    let bob = s.register("bob").await;
    let carol = s.register("carol").await;
    let mut groups = Vec::new();
    for name in ["one", "two"] {
        groups.push(id(&s.create_group(&alice, name, &[&bob, &carol]).await));
    }
    (alice, bob, carol, groups)
}

/// Reads message events until `n` have been applied (each group's in strictly increasing
/// rev), then drops the socket abruptly, without a close frame.
async fn read_then_drop(mut ws: Ws, seen: &mut Seen, n: usize) {
    let mut got = 0;
    while got < n {
        let f = ws.next().await;
        if kind(&f).starts_with("message.") {
            let last = seen.last.get(&group_of(&f)).copied().unwrap_or(0);
            assert!(rev_of(&f) > last, "out of order: {f} after rev {last}");
            seen.apply(&f);
            got += 1;
        }
    }
    drop(ws);
}

async fn after_a_drop_sync_returns_exactly_the_missed_changes_in_rev_order(store: Store) {
    let s = TestServer::start_with(store, &["--request-burst", "10000"]).await;
    let (alice, bob, carol, groups) = setup(&s).await;
    // Some history Carol has seen before she connects.
    write(&s, &alice, &groups, 1, 10).await;
    let mut seen = Seen::default();
    for g in &groups {
        let last = num(&s.group(&carol, g).await, "last_rev");
        seen.last.insert(g.clone(), last);
        for m in s.all_messages(&carol, g).await {
            seen.ids.insert(id(&m));
        }
    }
    let ws = s.ws(&carol).await;
    // Alice and Bob write; Carol reads some of it and drops mid-stream; they write on.
    tokio::join!(
        write(&s, &alice, &groups, 2, ACTIONS),
        write(&s, &bob, &groups, 3, ACTIONS),
        read_then_drop(ws, &mut seen, 25),
    );
    tokio::join!(
        write(&s, &alice, &groups, 4, ACTIONS),
        write(&s, &bob, &groups, 5, ACTIONS)
    );

    let want = missed(&s, &carol, &seen).await;
    assert!(want.values().map(Vec::len).sum::<usize>() > 40, "{want:?}");
    let mut ws = s.ws(&carol).await;
    let since: serde_json::Map<String, Value> = seen
        .last
        .iter()
        .map(|(g, r)| (g.clone(), json!(r)))
        .collect();
    ws.send(json!({"type": "sync", "ref": "resume", "since": since}))
        .await;
    let (frames, synced) = ws.until("synced").await;
    assert_eq!(synced, json!({"type": "synced", "ref": "resume"}));
    let mut got: HashMap<String, Vec<Value>> = HashMap::new();
    for f in frames {
        got.entry(group_of(&f)).or_default().push(f);
    }
    for g in &groups {
        let got = got.remove(g).unwrap_or_default();
        assert_eq!(got.len(), want[g].len(), "group {g}: {got:#?}");
        for (n, (got, want)) in got.iter().zip(&want[g]).enumerate() {
            assert_eq!(got, want, "group {g}, change {n}");
        }
    }
    assert!(got.is_empty(), "frames of other groups: {got:?}");
    // And from there on, live events continue where the sync ended.
    let m = s.send(&alice, &groups[0], "live again").await;
    assert_eq!(
        ws.next().await,
        json!({"type": "message.created", "message": m})
    );
}

/// The same while the writers never stop: whatever arrives live between the reconnect and the
/// sync, the client ends up holding exactly the final history (no change lost).
async fn a_reconnect_while_writes_go_on_loses_nothing(store: Store) {
    let s = TestServer::start_with(store, &["--request-burst", "10000"]).await;
    let (alice, bob, carol, groups) = setup(&s).await;
    let mut seen = Seen::default();
    for g in &groups {
        seen.last.insert(g.clone(), 0);
    }
    let ws = s.ws(&carol).await;
    let reconnect = async {
        read_then_drop(ws, &mut seen, 20).await;
        let mut ws = s.ws(&carol).await;
        let since: serde_json::Map<String, Value> = seen
            .last
            .iter()
            .map(|(g, r)| (g.clone(), json!(r)))
            .collect();
        ws.send(json!({"type": "sync", "ref": 1, "since": since}))
            .await;
        ws
    };
    let (_, _, mut ws) = tokio::join!(
        write(&s, &alice, &groups, 6, 2 * ACTIONS),
        write(&s, &bob, &groups, 7, 2 * ACTIONS),
        reconnect,
    );
    let mut last = HashMap::new();
    for g in &groups {
        last.insert(g.clone(), num(&s.group(&carol, g).await, "last_rev"));
    }
    // Apply everything until synced and each group's last rev.
    let mut synced = false;
    while !synced || last.iter().any(|(g, r)| seen.last[g] < *r) {
        let f = ws.next().await;
        match kind(&f) {
            "synced" => synced = true,
            k if k.starts_with("message.") => seen.apply(&f),
            other => panic!("unexpected {other}: {f}"),
        }
    }
    // (Tombstones without `edited_at`, which `message.deleted` cannot carry: see
    // a_synced_tombstone_is_what_http_shows.)
    let as_sent = |m: &Value| {
        let mut m = m.clone();
        if m["deleted"] == true {
            m["edited_at"] = Value::Null;
        }
        m
    };
    for g in &groups {
        for m in s.all_messages(&carol, g).await {
            let held = seen.held.get(&id(&m)).map(as_sent);
            assert_eq!(held, Some(as_sent(&m)), "group {g}");
        }
    }
}

/// A change that reached the new socket live, between `ready` and the `sync`, was not missed:
/// the sync must not send it again ("no duplicate"; the session "never sends twice").
async fn sync_does_not_repeat_a_change_already_delivered_live(s: &TestServer) {
    let alice = s.register("alice").await;
    let carol = s.register("carol").await;
    let g = id(&s.create_group(&alice, "team", &[&carol]).await);
    let mut ws = s.ws(&carol).await;
    let m1 = s.send(&alice, &g, "seen").await;
    assert_eq!(ws.next().await["message"], m1);
    drop(ws);
    let m2 = s.send(&alice, &g, "missed").await;
    let mut ws = s.ws(&carol).await;
    let m3 = s.send(&alice, &g, "live on the new socket").await;
    assert_eq!(
        ws.next().await,
        json!({"type": "message.created", "message": m3})
    );
    ws.send(json!({"type": "sync", "ref": "r", "since": {g.clone(): num(&m1, "rev")}}))
        .await;
    let (frames, _) = ws.until("synced").await;
    assert_eq!(
        frames,
        vec![json!({"type": "message.created", "message": m2})],
        "the sync after a live m3 (rev {})",
        m3["rev"]
    );
}

/// A message created while the client was away and deleted after it reconnected (the delete
/// went out live, as `message.deleted`, which carries no sender nor time): the `sync` must
/// still tell the client of the message itself — `message.created` with the tombstone, as for
/// any message created since — or the client never learns who sent it and when.
async fn sync_sends_a_missed_message_whose_delete_went_out_live(s: &TestServer) {
    let alice = s.register("alice").await;
    let carol = s.register("carol").await;
    let g = id(&s.create_group(&alice, "team", &[&carol]).await);
    let mut ws = s.ws(&carol).await;
    let m1 = s.send(&alice, &g, "seen").await;
    assert_eq!(ws.next().await["message"], m1);
    drop(ws);
    let m2 = s.send(&alice, &g, "missed, then deleted").await;
    let mut ws = s.ws(&carol).await;
    s.delete_message(&alice, &id(&m2)).await.expect(204);
    let tomb = s.all_messages(&alice, &g).await[1].clone();
    assert_eq!(
        ws.next().await,
        json!({"type": "message.deleted", "group_id": g, "id": id(&m2), "seq": 2, "rev": tomb["rev"]})
    );
    ws.send(json!({"type": "sync", "ref": "r", "since": {g.clone(): num(&m1, "rev")}}))
        .await;
    let (frames, _) = ws.until("synced").await;
    assert_eq!(
        frames,
        vec![json!({"type": "message.created", "message": tomb})],
        "the sync after a live delete of a message the client never saw"
    );
}

/// A message the client saw, then edited and deleted while it was away: the sync sends
/// `message.deleted` (API.md), and the client's tombstone — what it saw, deleted — must be
/// what HTTP shows. HTTP keeps the tombstone's `edited_at`, which no event carries here.
async fn a_synced_tombstone_is_what_http_shows(s: &TestServer) {
    let alice = s.register("alice").await;
    let carol = s.register("carol").await;
    let g = id(&s.create_group(&alice, "team", &[&carol]).await);
    let mut ws = s.ws(&carol).await;
    let m = s.send(&alice, &g, "seen").await;
    assert_eq!(ws.next().await["message"], m);
    drop(ws);
    s.edit(&alice, &id(&m), "edited while carol was away").await;
    s.delete_message(&alice, &id(&m)).await.expect(204);
    let mut ws = s.ws(&carol).await;
    ws.send(json!({"type": "sync", "ref": "r", "since": {g.clone(): num(&m, "rev")}}))
        .await;
    let (frames, _) = ws.until("synced").await;
    let mut seen = Seen::default();
    seen.apply(&json!({"type": "message.created", "message": m}));
    for f in &frames {
        seen.apply(f);
    }
    let tomb = s.all_messages(&alice, &g).await[0].clone();
    assert_eq!(
        seen.held.get(&id(&m)),
        Some(&tomb),
        "the client's tombstone after the sync {frames:?}"
    );
}

confab_tests::store_tests!(
    sync_does_not_repeat_a_change_already_delivered_live,
    sync_sends_a_missed_message_whose_delete_went_out_live,
    a_synced_tombstone_is_what_http_shows;
    own_server:
    after_a_drop_sync_returns_exactly_the_missed_changes_in_rev_order,
    a_reconnect_while_writes_go_on_loses_nothing,
);
