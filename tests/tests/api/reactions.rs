//! Replies, reactions, mentions and pins over real HTTP and the socket, on both stores: what a
//! message carries, who may do what, the limits, and that every reaction change, pin and
//! unpin is a change with its own `rev` that `sync` recovers.

use confab_tests::chat::{id, num, text};
use confab_tests::ws::kind;
use confab_tests::{Session, TestServer};
use serde_json::{Value, json};

confab_tests::store_tests!(
    a_reply_carries_what_it_answers_and_a_thread_lists_the_replies,
    a_reply_to_another_groups_message_is_refused,
    reactions_are_idempotent_ordered_and_each_change_takes_a_rev,
    only_one_emoji_is_a_reaction_and_a_message_holds_twenty,
    reactions_over_the_socket_are_acked_and_published,
    mentions_name_members_and_count_unread_until_read_edited_or_deleted,
    owners_and_admins_pin_and_the_list_is_newest_first,
    a_group_holds_at_most_fifty_pins,
    sync_after_a_reconnect_recovers_reactions_pins_and_replies_in_rev_order,
    twenty_clients_reacting_at_once_end_with_exact_counts_and_gapless_revs,
);

async fn trio(s: &TestServer) -> (Session, Session, Session, String) {
    let alice = s.register("alice").await;
    let bob = s.register("bob").await;
    let carol = s.register("carol").await;
    let g = id(&s.create_group(&alice, "Team", &[&bob, &carol]).await);
    (alice, bob, carol, g)
}

/// The message as `who` reads it now (from the newest page of history).
async fn current(s: &TestServer, who: &Session, g: &str, message: &str) -> Value {
    let (page, _) = s.history(who, g, "limit=100").await;
    page.into_iter()
        .find(|m| m["id"] == message)
        .expect("the message is in the newest page")
}

async fn a_reply_carries_what_it_answers_and_a_thread_lists_the_replies(s: &TestServer) {
    let (alice, bob, _carol, g) = trio(s).await;
    let long = "x".repeat(150);
    let original = s.send(&alice, &g, &long).await;
    let oid = id(&original);
    let mut replies = Vec::new();
    for i in 0..3 {
        let r = s
            .try_send(
                &bob,
                &g,
                json!({"body": format!("re {i}"), "reply_to": oid}),
            )
            .await;
        r.expect(201);
        replies.push(r.json.clone());
    }
    let reply_to = &replies[0]["reply_to"];
    assert_eq!(reply_to["id"], oid);
    assert_eq!(reply_to["seq"], original["seq"]);
    assert_eq!(reply_to["sender_id"], alice.user_id.as_str());
    assert_eq!(text(reply_to, "excerpt"), "x".repeat(100));
    assert_eq!(original["reply_to"], Value::Null);

    let page = s
        .get(
            &format!("/messages/{oid}/replies?limit=2"),
            Some(&alice.access),
        )
        .await;
    page.expect(200);
    let seqs: Vec<u64> = page.json["messages"]
        .as_array()
        .unwrap()
        .iter()
        .map(|m| num(m, "seq"))
        .collect();
    assert_eq!(seqs, [num(&replies[0], "seq"), num(&replies[1], "seq")]);
    assert_eq!(page.json["has_more"], true);
    let rest = s
        .get(
            &format!("/messages/{oid}/replies?after={}", seqs[1]),
            Some(&alice.access),
        )
        .await;
    assert_eq!(rest.json["messages"].as_array().unwrap().len(), 1);
    assert_eq!(rest.json["has_more"], false);

    // A reply to a deleted message keeps working, with an empty excerpt.
    s.delete_message(&alice, &oid).await.expect(204);
    let late = s
        .try_send(&bob, &g, json!({"body": "late", "reply_to": oid}))
        .await;
    late.expect(201);
    assert_eq!(late.json["reply_to"]["excerpt"], "");
    assert_eq!(
        current(s, &bob, &g, &id(&replies[0])).await["reply_to"]["excerpt"],
        ""
    );
    // A non-member sees no thread: the same 404 as for a message that does not exist.
    let dave = s.register("dave").await;
    let hidden = s
        .get(&format!("/messages/{oid}/replies"), Some(&dave.access))
        .await;
    let ghost = s
        .get(
            &format!("/messages/{}/replies", uuid::Uuid::now_v7()),
            Some(&dave.access),
        )
        .await;
    hidden.expect_error(404, "not_found");
    assert_eq!(hidden.json, ghost.json);
    // A parameter the route does not know (`before` pages history, not threads) or one given
    // twice is a bad request, not a silent first page.
    for query in ["before=5", "after=1&after=2", "limit=2&cursor=x"] {
        s.get(
            &format!("/messages/{oid}/replies?{query}"),
            Some(&alice.access),
        )
        .await
        .expect_error(400, "bad_request");
    }
}

async fn a_reply_to_another_groups_message_is_refused(s: &TestServer) {
    let (alice, bob, _carol, g) = trio(s).await;
    let other = id(&s.create_group(&alice, "Other", &[&bob]).await);
    let elsewhere = id(&s.send(&alice, &other, "over there").await);
    for target in [elsewhere, uuid::Uuid::now_v7().to_string()] {
        let r = s
            .try_send(&alice, &g, json!({"body": "hi", "reply_to": target}))
            .await;
        r.expect_error(422, "validation_failed");
        assert_eq!(r.field(), Some("reply_to"));
    }
    assert_eq!(
        num(&s.group(&alice, &g).await, "last_seq"),
        0,
        "a refused reply took a seq"
    );
}

async fn reactions_are_idempotent_ordered_and_each_change_takes_a_rev(s: &TestServer) {
    let (alice, bob, carol, g) = trio(s).await;
    let m = id(&s.send(&alice, &g, "react to me").await);
    let rev = |v: &Value| num(v, "rev");
    let before = rev(&current(s, &alice, &g, &m).await);
    assert_eq!(s.react(&bob, &m, "👍", true).await, 204);
    assert_eq!(s.react(&carol, &m, "🎉", true).await, 204);
    assert_eq!(s.react(&alice, &m, "👍", true).await, 204);
    let now = current(s, &alice, &g, &m).await;
    assert_eq!(rev(&now), before + 3, "each change takes the next rev");
    assert_eq!(
        now["reactions"],
        json!([
            {"emoji": "👍", "count": 2, "user_ids": [bob.user_id, alice.user_id]},
            {"emoji": "🎉", "count": 1, "user_ids": [carol.user_id]},
        ])
    );
    // Again: nothing changes, no rev.
    assert_eq!(s.react(&bob, &m, "👍", true).await, 204);
    assert_eq!(s.react(&bob, &m, "🦀", false).await, 204);
    assert_eq!(rev(&current(s, &alice, &g, &m).await), before + 3);
    // Taking one back.
    assert_eq!(s.react(&bob, &m, "👍", false).await, 204);
    let now = current(s, &alice, &g, &m).await;
    let thumbs = now["reactions"]
        .as_array()
        .unwrap()
        .iter()
        .find(|r| r["emoji"] == "👍")
        .unwrap()
        .clone();
    assert_eq!(thumbs["user_ids"], json!([alice.user_id]));
    assert_eq!(rev(&now), before + 4);
    // The text form and the emoji form of a heart are one reaction.
    assert_eq!(s.react(&bob, &m, "❤", true).await, 204);
    assert_eq!(s.react(&carol, &m, "❤️", true).await, 204);
    let hearts = current(s, &alice, &g, &m).await["reactions"]
        .as_array()
        .unwrap()
        .iter()
        .find(|r| r["emoji"] == "❤️")
        .unwrap()
        .clone();
    assert_eq!(
        (hearts["emoji"].clone(), hearts["count"].clone()),
        (json!("❤️"), json!(2))
    );
    // Search ignores reactions.
    let found = s.get("/search/messages?q=react", Some(&alice.access)).await;
    assert_eq!(found.json["messages"].as_array().unwrap().len(), 1);
    // A non-member: the same 404 as an unknown message.
    let dave = s.register("dave").await;
    assert_eq!(s.react(&dave, &m, "👍", true).await, 404);
    // A deleted message takes no reactions, and has none.
    s.delete_message(&alice, &m).await.expect(204);
    assert_eq!(s.react(&bob, &m, "👍", true).await, 410);
    assert_eq!(current(s, &alice, &g, &m).await["reactions"], json!([]));
}

async fn only_one_emoji_is_a_reaction_and_a_message_holds_twenty(s: &TestServer) {
    let (alice, bob, _carol, g) = trio(s).await;
    let m = id(&s.send(&alice, &g, "limits").await);
    let ten_kb = "👍".repeat(2_560);
    for bad in ["ok", "👍👍", "a", ten_kb.as_str(), "%", " "] {
        let status = s.react(&bob, &m, bad, true).await;
        // 10 KB does not fit in the request target (8 KiB): a clear 414 before anything else.
        assert!(matches!(status, 422 | 404 | 414), "{}: {status}", bad.len());
    }
    let emoji = [
        "😀", "😂", "😍", "🤔", "😎", "😢", "😡", "👍", "👎", "👏", "🙏", "🔥", "🎉", "💯", "❤️",
        "🚀", "👀", "✅", "❌", "🤝",
    ];
    for e in emoji {
        assert_eq!(s.react(&bob, &m, e, true).await, 204, "{e}");
    }
    assert_eq!(
        s.react(&alice, &m, "🦀", true).await,
        422,
        "the 21st distinct emoji"
    );
    assert_eq!(
        s.react(&alice, &m, "🔥", true).await,
        204,
        "an existing one is fine"
    );
}

async fn reactions_over_the_socket_are_acked_and_published(s: &TestServer) {
    let (alice, bob, _carol, g) = trio(s).await;
    let m = id(&s.send(&alice, &g, "socket").await);
    let mut alice_ws = s.ws(&alice).await;
    let mut bob_ws = s.ws(&bob).await;
    bob_ws
        .ok(json!({"type": "reaction.add", "ref": 1, "id": m, "emoji": "👀"}))
        .await;
    let updated = alice_ws.next_of("message.updated").await;
    assert_eq!(updated["message"]["reactions"][0]["emoji"], "👀");
    bob_ws
        .fails(
            json!({"type": "reaction.add", "ref": 2, "id": m, "emoji": "two words"}),
            "validation_failed",
        )
        .await;
    bob_ws
        .ok(json!({"type": "reaction.remove", "ref": 3, "id": m, "emoji": "👀"}))
        .await;
    let updated = alice_ws.next_of("message.updated").await;
    assert_eq!(updated["message"]["reactions"], json!([]));
}

async fn mentions_name_members_and_count_unread_until_read_edited_or_deleted(s: &TestServer) {
    let (alice, bob, carol, g) = trio(s).await;
    // dave is a user but not a member; the 32-character name is a member's, and one more
    // character makes a name no user can have.
    s.register("dave").await;
    let long = s.register(&"a".repeat(32)).await;
    s.add_member(&alice, &g, &long, None).await;
    let m = s
        .send(
            &alice,
            &g,
            &format!(
                "hi @Bob and @dave and @{}b and @carol and @alice",
                "a".repeat(32)
            ),
        )
        .await;
    assert_eq!(
        m["mentions"],
        json!([bob.user_id, carol.user_id]),
        "non-members, a 33-character name and one's own name mention nobody"
    );
    let exact = s.send(&bob, &g, &format!("@{} yes", "a".repeat(32))).await;
    assert_eq!(exact["mentions"], json!([long.user_id]));
    let mentions = |who: &Session| {
        let (s, who, g) = (s, who.clone(), g.clone());
        async move { num(&s.my(&who, &g).await, "mention_count") }
    };
    assert_eq!(mentions(&bob).await, 1);
    assert_eq!(mentions(&alice).await, 0, "one's own messages never count");
    // Edited to mention carol only: bob's count drops.
    let r = s.try_edit(&alice, &id(&m), "only @carol now").await;
    r.expect(200);
    assert_eq!(r.json["mentions"], json!([carol.user_id]));
    assert_eq!(mentions(&bob).await, 0);
    assert_eq!(mentions(&carol).await, 1);
    // Read: gone from the count.
    s.read(&carol, &g, num(&m, "seq")).await;
    assert_eq!(mentions(&carol).await, 0);
    // Deleted: gone too.
    let again = s.send(&alice, &g, "@bob again").await;
    assert_eq!(mentions(&bob).await, 1);
    s.delete_message(&alice, &id(&again)).await.expect(204);
    assert_eq!(mentions(&bob).await, 0);
    // GET /groups carries it for every group.
    let groups = s.get("/groups", Some(&bob.access)).await;
    assert!(
        groups.json["groups"][0]["my"]["mention_count"].is_u64(),
        "{}",
        groups.text
    );
}

async fn owners_and_admins_pin_and_the_list_is_newest_first(s: &TestServer) {
    let (alice, bob, carol, g) = trio(s).await;
    s.set_role(&alice, &g, &bob.user_id, "admin")
        .await
        .expect(200);
    let a = id(&s.send(&carol, &g, "first").await);
    let b = id(&s.send(&carol, &g, "second").await);
    let pin = |who: &Session, m: &str, on: bool| {
        let (who, m, g) = (who.clone(), m.to_owned(), g.clone());
        async move { s.pin(&who, &g, &m, on).await.status }
    };
    assert_eq!(pin(&carol, &a, true).await, 403, "a member may not pin");
    assert_eq!(pin(&alice, &a, true).await, 204);
    assert_eq!(pin(&bob, &b, true).await, 204);
    assert_eq!(pin(&bob, &b, true).await, 204, "idempotent");
    let list = s
        .get(&format!("/groups/{g}/pins"), Some(&carol.access))
        .await;
    let ids: Vec<_> = list.json["messages"]
        .as_array()
        .unwrap()
        .iter()
        .map(|m| m["id"].clone())
        .collect();
    assert_eq!(ids, [json!(b), json!(a)], "most recently pinned first");
    assert_eq!(current(s, &carol, &g, &a).await["pinned"], true);
    assert_eq!(pin(&alice, &a, false).await, 204);
    assert_eq!(current(s, &carol, &g, &a).await["pinned"], false);
    // A message of another group is not this group's.
    let other = id(&s.create_group(&alice, "Other", &[]).await);
    let elsewhere = id(&s.send(&alice, &other, "x").await);
    assert_eq!(pin(&alice, &elsewhere, true).await, 404);
    // In a direct chat either member pins.
    let d = id(&s.direct(&alice, &carol).await.json);
    let dm = id(&s.send(&alice, &d, "pin me").await);
    s.pin(&carol, &d, &dm, true).await.expect(204);
}

async fn a_group_holds_at_most_fifty_pins(s: &TestServer) {
    let (alice, _bob, _carol, g) = trio(s).await;
    let mut ids = Vec::new();
    for i in 0..51 {
        ids.push(id(&s.send(&alice, &g, &format!("m{i}")).await));
    }
    for m in &ids[..50] {
        s.pin(&alice, &g, m, true).await.expect(204);
    }
    s.pin(&alice, &g, &ids[50], true)
        .await
        .expect_error(422, "validation_failed");
}

async fn sync_after_a_reconnect_recovers_reactions_pins_and_replies_in_rev_order(s: &TestServer) {
    let (alice, bob, _carol, g) = trio(s).await;
    let m = id(&s.send(&alice, &g, "base").await);
    let seen = num(&s.group(&bob, &g).await, "last_rev");
    s.react(&alice, &m, "👍", true).await;
    s.pin(&alice, &g, &m, true).await.expect(204);
    s.try_send(&alice, &g, json!({"body": "re", "reply_to": m}))
        .await
        .expect(201);
    s.try_edit(&alice, &m, "base, edited").await.expect(200);
    let mut ws = s.ws(&bob).await;
    ws.send(json!({"type": "sync", "ref": "s", "since": {g.clone(): seen}}))
        .await;
    let (frames, _) = ws.until("synced").await;
    let revs: Vec<u64> = frames
        .iter()
        .filter(|f| kind(f).starts_with("message."))
        .map(|f| num(&f["message"], "rev"))
        .collect();
    assert!(revs.windows(2).all(|w| w[0] < w[1]), "{revs:?}");
    let latest = frames
        .iter()
        .rev()
        .find(|f| f["message"]["id"] == m)
        .unwrap();
    assert_eq!(latest["message"]["pinned"], true);
    assert_eq!(latest["message"]["reactions"][0]["emoji"], "👍");
    assert_eq!(latest["message"]["body"], "base, edited");
    assert!(
        frames.iter().any(|f| f["message"]["reply_to"]["id"] == m),
        "the reply was recovered"
    );
}

async fn twenty_clients_reacting_at_once_end_with_exact_counts_and_gapless_revs(s: &TestServer) {
    let alice = s.register("alice").await;
    let mut people = Vec::new();
    for i in 0..20 {
        people.push(s.register(&format!("user{i}")).await);
    }
    let refs: Vec<&Session> = people.iter().collect();
    let g = id(&s.create_group(&alice, "Crowd", &refs).await);
    let m = id(&s.send(&alice, &g, "react!").await);
    let start = num(&s.group(&alice, &g).await, "last_rev");
    // Each adds 👍 and 🎉, then takes 🎉 back; the even ones also add ❤️.
    let work = people.iter().enumerate().map(|(i, p)| {
        let m = m.clone();
        async move {
            assert_eq!(s.react(p, &m, "👍", true).await, 204);
            assert_eq!(s.react(p, &m, "🎉", true).await, 204);
            assert_eq!(s.react(p, &m, "🎉", false).await, 204);
            if i % 2 == 0 {
                assert_eq!(s.react(p, &m, "❤️", true).await, 204);
            }
        }
    });
    futures::future::join_all(work).await;
    let now = current(s, &alice, &g, &m).await;
    let count = |emoji: &str| {
        now["reactions"]
            .as_array()
            .unwrap()
            .iter()
            .find(|r| r["emoji"] == emoji)
            .map_or(0, |r| num(r, "count"))
    };
    assert_eq!((count("👍"), count("🎉"), count("❤️")), (20, 0, 10));
    let end = num(&s.group(&alice, &g).await, "last_rev");
    assert_eq!(
        end - start,
        20 * 3 + 10,
        "every change took one rev, none lost"
    );
    // Every rev in between is taken exactly once: a sync from `start` sees the message once,
    // at `end`.
    let mut ws = s.ws(&alice).await;
    ws.send(json!({"type": "sync", "ref": "s", "since": {g.clone(): start}}))
        .await;
    let (frames, _) = ws.until("synced").await;
    let changed: Vec<_> = frames
        .iter()
        .filter(|f| kind(f).starts_with("message."))
        .collect();
    assert_eq!(changed.len(), 1);
    assert_eq!(num(&changed[0]["message"], "rev"), end);
}
