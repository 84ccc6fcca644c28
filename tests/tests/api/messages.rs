//! Messages: gapless `seq`, a `rev` per change, idempotent `client_id`, edits, tombstones, and
//! history pages both ways.

use std::collections::HashSet;

use confab_tests::chat::{id, is_rfc3339_ms_utc, keys, num};
use confab_tests::{Session, Store, TestServer};
use futures::future::join_all;
use serde_json::{Value, json};

const MESSAGE_KEYS: [&str; 15] = [
    "attachments",
    "body",
    "client_id",
    "created_at",
    "deleted",
    "edited_at",
    "group_id",
    "id",
    "mentions",
    "pinned",
    "reactions",
    "reply_to",
    "rev",
    "sender_id",
    "seq",
];

async fn seq_counts_from_one_and_every_change_takes_the_next_rev(s: &TestServer) {
    let alice = s.register("alice").await;
    let bob = s.register("bob").await;
    let g = id(&s.create_group(&alice, "Team", &[&bob]).await);
    let m1 = s.send(&alice, &g, "  hello\tthere \n").await;
    assert_eq!(keys(&m1), MESSAGE_KEYS);
    let uuid = uuid::Uuid::parse_str(m1["id"].as_str().unwrap()).unwrap();
    assert_eq!(uuid.get_version_num(), 7);
    assert_eq!(m1["group_id"], g.as_str());
    assert_eq!(m1["sender_id"], alice.user_id.as_str());
    assert_eq!(m1["body"], "hello\tthere");
    assert_eq!((&m1["seq"], &m1["rev"]), (&json!(1), &json!(1)));
    assert_eq!(m1["client_id"], Value::Null);
    assert_eq!(m1["edited_at"], Value::Null);
    assert_eq!(m1["deleted"], false);
    assert!(is_rfc3339_ms_utc(m1["created_at"].as_str().unwrap()));
    let m2 = s.send(&bob, &g, "two").await;
    let m3 = s.send(&alice, &g, "three").await;
    assert_eq!((num(&m2, "seq"), num(&m2, "rev")), (2, 2));
    assert_eq!((num(&m3, "seq"), num(&m3, "rev")), (3, 3));
    let edited = s.edit(&alice, &id(&m1), " hello again ").await;
    assert_eq!(edited["body"], "hello again");
    assert_eq!((num(&edited, "seq"), num(&edited, "rev")), (1, 4));
    assert_eq!(edited["id"], m1["id"]);
    assert_eq!(edited["created_at"], m1["created_at"]);
    assert!(is_rfc3339_ms_utc(edited["edited_at"].as_str().unwrap()));
    s.delete_message(&bob, &id(&m2)).await.expect(204);
    let m4 = s.send(&bob, &g, "four").await;
    assert_eq!((num(&m4, "seq"), num(&m4, "rev")), (4, 6));
    let (history, _) = s.history(&alice, &g, "after=0").await;
    let seq_rev: Vec<_> = history
        .iter()
        .map(|m| (num(m, "seq"), num(m, "rev")))
        .collect();
    assert_eq!(seq_rev, [(1, 4), (2, 5), (3, 3), (4, 6)]);
    assert_eq!(history[0], edited);
    // Deleting a deleted message is fine and changes nothing.
    s.delete_message(&bob, &id(&m2)).await.expect(204);
    let g = s.group(&alice, &g).await;
    assert_eq!((num(&g, "last_seq"), num(&g, "last_rev")), (4, 6));
}

async fn a_deleted_message_is_a_tombstone_that_keeps_its_place(s: &TestServer) {
    let alice = s.register("alice").await;
    let bob = s.register("bob").await;
    let g = id(&s.create_group(&alice, "Team", &[&bob]).await);
    s.send(&bob, &g, "before").await;
    let m = s.send(&bob, &g, "secret words").await;
    s.send(&bob, &g, "after").await;
    s.delete_message(&bob, &id(&m)).await.expect(204);
    let (history, _) = s.history(&alice, &g, "").await;
    assert_eq!(history.len(), 3);
    let tomb = &history[1];
    assert_eq!(keys(tomb), MESSAGE_KEYS);
    assert_eq!((&tomb["id"], &tomb["seq"]), (&m["id"], &m["seq"]));
    assert_eq!(
        (&tomb["body"], &tomb["deleted"]),
        (&json!(""), &json!(true))
    );
    assert_eq!(tomb["sender_id"], bob.user_id.as_str());
    // A tombstone is not edited.
    s.try_edit(&bob, &id(&m), "resurrected")
        .await
        .expect_error(410, "gone");
    assert_eq!(s.history(&alice, &g, "").await.0[1]["body"], "");
}

async fn a_client_id_makes_a_send_idempotent(s: &TestServer) {
    let alice = s.register("alice").await;
    let bob = s.register("bob").await;
    let g = id(&s.create_group(&alice, "Team", &[&bob]).await);
    let other = id(&s.create_group(&alice, "Other", &[]).await);
    let first = s
        .try_send(&alice, &g, json!({"body": "hi", "client_id": "c-1"}))
        .await;
    first.expect(201);
    assert_eq!(first.json["client_id"], "c-1");
    // A retry, even with another body, answers 200 with the first message.
    let retry = s
        .try_send(&alice, &g, json!({"body": "hi again", "client_id": "c-1"}))
        .await;
    retry.expect(200);
    assert_eq!(retry.json, first.json);
    // Another sender, or another group, is another message.
    let r = s
        .try_send(&bob, &g, json!({"body": "hi", "client_id": "c-1"}))
        .await;
    r.expect(201);
    assert_eq!(r.json["seq"], 2);
    s.try_send(&alice, &other, json!({"body": "hi", "client_id": "c-1"}))
        .await
        .expect(201);
    assert_eq!(s.group(&alice, &g).await["last_seq"], 2);
    // Still idempotent after later messages.
    s.send(&alice, &g, "later").await;
    let r = s
        .try_send(&alice, &g, json!({"body": "hi", "client_id": "c-1"}))
        .await;
    r.expect(200);
    assert_eq!(r.json["id"], first.json["id"]);
    for bad in [json!(""), json!("x".repeat(65)), json!("a\u{1}b")] {
        let r = s
            .try_send(&alice, &g, json!({"body": "x", "client_id": bad}))
            .await;
        r.expect_error(422, "validation_failed");
        assert_eq!(r.field(), Some("client_id"));
    }
    s.try_send(
        &alice,
        &g,
        json!({"body": "x", "client_id": "y".repeat(64)}),
    )
    .await
    .expect(201);
}

async fn bodies_are_trimmed_and_one_to_four_thousand_characters(s: &TestServer) {
    let alice = s.register("alice").await;
    let g = id(&s.create_group(&alice, "Team", &[]).await);
    for ok in [
        "x".repeat(4000),
        format!("  {}  ", "y".repeat(4000)),
        "é".repeat(4000),
        "😀".repeat(4000),
        "line one\nline two\r\n\tindented".to_owned(),
    ] {
        let m = s.send(&alice, &g, &ok).await;
        assert_eq!(m["body"], ok.trim());
    }
    for bad in [
        String::new(),
        " \n\t ".to_owned(),
        "x".repeat(4001),
        "é".repeat(4001),
        "nul\u{0}byte".to_owned(),
        "escape\u{1b}[31m".to_owned(),
    ] {
        let r = s.try_send(&alice, &g, json!({"body": bad})).await;
        r.expect_error(422, "validation_failed");
        assert_eq!(r.field(), Some("body"));
    }
    assert_eq!(s.group(&alice, &g).await["last_seq"], 5);
}

async fn only_the_sender_edits(s: &TestServer) {
    let alice = s.register("alice").await;
    let bob = s.register("bob").await;
    let carol = s.register("carol").await;
    let g = id(&s.create_group(&alice, "Team", &[&bob, &carol]).await);
    s.set_role(&alice, &g, &carol.user_id, "admin")
        .await
        .expect(200);
    let m = id(&s.send(&bob, &g, "original").await);
    for other in [&alice, &carol] {
        s.try_edit(other, &m, "hijacked")
            .await
            .expect_error(403, "forbidden");
    }
    for bad in ["", "   ", &"x".repeat(4001)] {
        let r = s.try_edit(&bob, &m, bad).await;
        r.expect_error(422, "validation_failed");
        assert_eq!(r.field(), Some("body"));
    }
    let edited = s.edit(&bob, &m, "fixed").await;
    assert_eq!(edited["body"], "fixed");
    assert_eq!(s.history(&alice, &g, "").await.0[0], edited);
    s.try_edit(&bob, &uuid::Uuid::now_v7().to_string(), "x")
        .await
        .expect_error(404, "not_found");
}

async fn the_sender_owner_and_admins_delete_members_do_not(s: &TestServer) {
    let alice = s.register("alice").await;
    let bob = s.register("bob").await;
    let carol = s.register("carol").await;
    let dave = s.register("dave").await;
    let g = id(&s.create_group(&alice, "Team", &[&bob, &carol, &dave]).await);
    s.set_role(&alice, &g, &carol.user_id, "admin")
        .await
        .expect(200);
    let mut ms = Vec::new();
    for i in 0..4 {
        ms.push(id(&s.send(&bob, &g, &format!("m{i}")).await));
    }
    s.delete_message(&dave, &ms[0])
        .await
        .expect_error(403, "forbidden");
    s.delete_message(&bob, &ms[0]).await.expect(204);
    s.delete_message(&alice, &ms[1]).await.expect(204);
    s.delete_message(&carol, &ms[2]).await.expect(204);
    // An admin's own message is deleted by the owner, and the owner's by an admin.
    let by_admin = id(&s.send(&carol, &g, "admin's").await);
    let by_owner = id(&s.send(&alice, &g, "owner's").await);
    s.delete_message(&alice, &by_admin).await.expect(204);
    s.delete_message(&carol, &by_owner).await.expect(204);
    let deleted: Vec<bool> = s
        .all_messages(&dave, &g)
        .await
        .iter()
        .map(|m| m["deleted"].as_bool().unwrap())
        .collect();
    assert_eq!(deleted, [true, true, true, false, true, true]);
    s.delete_message(&alice, &uuid::Uuid::now_v7().to_string())
        .await
        .expect_error(404, "not_found");
}

fn seqs(page: &[Value]) -> Vec<u64> {
    page.iter().map(|m| num(m, "seq")).collect()
}

async fn history_pages_before_and_after_with_has_more(s: &TestServer) {
    let alice = s.register("alice").await;
    let g = id(&s.create_group(&alice, "Team", &[]).await);
    let (page, more) = s.history(&alice, &g, "").await;
    assert!(page.is_empty() && !more);
    for i in 1..=5 {
        s.send(&alice, &g, &format!("m{i}")).await;
    }
    let cases: [(&str, &[u64], bool); 13] = [
        ("", &[5, 4, 3, 2, 1], false),
        ("limit=2", &[5, 4], true),
        ("before=4&limit=2", &[3, 2], true),
        ("before=2&limit=2", &[1], false),
        ("before=3&limit=2", &[2, 1], false),
        ("after=0&limit=5", &[1, 2, 3, 4, 5], false),
        ("before=1", &[], false),
        ("before=100", &[5, 4, 3, 2, 1], false),
        ("after=0&limit=2", &[1, 2], true),
        ("after=3&limit=2", &[4, 5], false),
        ("after=2", &[3, 4, 5], false),
        ("after=5", &[], false),
        ("limit=1000", &[5, 4, 3, 2, 1], false),
    ];
    for (query, expected, more) in cases {
        let (page, has_more) = s.history(&alice, &g, query).await;
        assert_eq!(
            (seqs(&page), has_more),
            (expected.to_vec(), more),
            "{query}"
        );
    }
    s.get(
        &format!("/groups/{g}/messages?before=3&after=1"),
        Some(&alice.access),
    )
    .await
    .expect_error(400, "bad_request");
    let r = s
        .get(
            &format!("/groups/{g}/messages?limit=0"),
            Some(&alice.access),
        )
        .await;
    r.expect_error(422, "validation_failed");
    assert_eq!(r.field(), Some("limit"));
}

/// `senders` send `total` messages between them, in parallel; returns the messages sent.
async fn fill(s: &TestServer, g: &str, senders: &[Session], total: usize) -> Vec<Value> {
    let per = total / senders.len();
    let sent = join_all(senders.iter().enumerate().map(|(k, who)| async move {
        let mut out = Vec::with_capacity(per);
        for i in 0..per {
            out.push(s.send(who, g, &format!("message {k}-{i}")).await);
        }
        out
    }))
    .await;
    sent.into_iter().flatten().collect()
}

async fn a_thousand_messages_walk_both_ways_without_gap_or_repeat(s: &TestServer) {
    let alice = s.register("alice").await;
    let mut senders = vec![alice.clone()];
    for i in 1..10 {
        senders.push(s.register(&format!("sender{i}")).await);
    }
    let refs: Vec<&Session> = senders.iter().skip(1).collect();
    let g = id(&s.create_group(&alice, "Big", &refs).await);
    let sent = fill(s, &g, &senders, 1000).await;
    let sent_ids: HashSet<String> = sent.iter().map(id).collect();
    assert_eq!(sent_ids.len(), 1000);
    // Forwards, in pages of 100 (a larger limit is capped to 100).
    let mut forwards = Vec::new();
    let mut after = 0;
    loop {
        let (page, more) = s
            .history(&alice, &g, &format!("after={after}&limit=500"))
            .await;
        assert_eq!(page.len(), 100, "a limit over 100 is capped at 100");
        forwards.extend(page);
        after = num(forwards.last().unwrap(), "seq");
        // Exact at the boundary: the tenth page is the last, and says so.
        assert_eq!(more, after < 1000, "has_more after seq {after}");
        if !more {
            break;
        }
    }
    assert_eq!(seqs(&forwards), (1..=1000).collect::<Vec<_>>());
    let forward_ids: HashSet<String> = forwards.iter().map(id).collect();
    assert_eq!(forward_ids, sent_ids);
    // Backwards from the newest, in pages of 37 so that no page boundary is round.
    let (mut backwards, mut more) = s.history(&alice, &g, "limit=37").await;
    while more {
        let before = num(backwards.last().unwrap(), "seq");
        let (page, m) = s
            .history(&alice, &g, &format!("before={before}&limit=37"))
            .await;
        backwards.extend(page);
        more = m;
        let last = num(backwards.last().unwrap(), "seq");
        assert_eq!(more, last > 1, "has_more before seq {last}");
    }
    assert_eq!(seqs(&backwards), (1..=1000).rev().collect::<Vec<_>>());
    // Without a cursor or limit: the 50 newest.
    let (newest, more) = s.history(&alice, &g, "").await;
    assert_eq!(seqs(&newest), (951..=1000).rev().collect::<Vec<_>>());
    assert!(more);
    backwards.reverse();
    assert_eq!(backwards, forwards);
}

/// What a 201 promised is still there after a restart, and the counters go on from it.
async fn messages_and_counters_survive_a_restart(store: Store) {
    let s = TestServer::start(store).await;
    let alice = s.register("alice").await;
    let bob = s.register("bob").await;
    let g = id(&s.create_group(&alice, "Team", &[&bob]).await);
    let first = s
        .try_send(&bob, &g, json!({"body": "one", "client_id": "k1"}))
        .await;
    first.expect(201);
    let m2 = id(&s.send(&bob, &g, "two").await);
    s.edit(&bob, &m2, "two, edited").await;
    s.read(&alice, &g, 1).await;
    let before = s.all_messages(&alice, &g).await;
    let s = s.restart().await;
    let alice = s.login("alice", "correct horse battery").await;
    let bob = s.login("bob", "correct horse battery").await;
    assert_eq!(s.all_messages(&alice, &g).await, before);
    let my = s.my(&alice, &g).await;
    assert_eq!(
        (num(&my, "last_read_seq"), num(&my, "unread_count")),
        (1, 1)
    );
    let retry = s
        .try_send(&bob, &g, json!({"body": "one", "client_id": "k1"}))
        .await;
    retry.expect(200);
    assert_eq!(retry.json, first.json);
    let m3 = s.send(&bob, &g, "three").await;
    assert_eq!((num(&m3, "seq"), num(&m3, "rev")), (3, 4));
}

confab_tests::store_tests!(
    seq_counts_from_one_and_every_change_takes_the_next_rev,
    a_deleted_message_is_a_tombstone_that_keeps_its_place,
    a_client_id_makes_a_send_idempotent,
    bodies_are_trimmed_and_one_to_four_thousand_characters,
    only_the_sender_edits,
    the_sender_owner_and_admins_delete_members_do_not,
    history_pages_before_and_after_with_has_more,
    a_thousand_messages_walk_both_ways_without_gap_or_repeat,
    ; own_server: messages_and_counters_survive_a_restart,
);
