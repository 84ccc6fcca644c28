//! Direct chats: one open chat per pair, by user id or username; closed by either member, after
//! which it stays readable and every write is 410; a new chat after a close.

use confab_tests::TestServer;
use confab_tests::chat::{id, is_rfc3339_ms_utc};
use serde_json::{Value, json};

async fn by_user_id_201_then_200_with_the_same_chat_for_either_side(s: &TestServer) {
    let alice = s.register("alice").await;
    let bob = s.register("bob").await;
    let r = s.direct(&alice, &bob).await;
    r.expect(201);
    let g = r.json.clone();
    assert_eq!(g["kind"], "direct");
    assert_eq!(g["name"], Value::Null);
    assert_eq!(g["member_count"], 2);
    assert_eq!(g["created_by"], alice.user_id.as_str());
    assert_eq!(g["closed_at"], Value::Null);
    assert_eq!(g["expires_at"], Value::Null);
    assert_eq!(
        g["my"],
        json!({"role": "member", "alias": null, "last_read_seq": 0, "unread_count": 0,
                "mention_count": 0})
    );
    let again = s.direct(&alice, &bob).await;
    again.expect(200);
    assert_eq!(again.json["id"], g["id"]);
    let other_side = s.direct(&bob, &alice).await;
    other_side.expect(200);
    assert_eq!(other_side.json["id"], g["id"]);
    assert_eq!(other_side.json["my"]["role"], "member");
    assert_eq!(s.group_ids(&bob).await, [id(&g)]);
    let members = s.members(&bob, &id(&g)).await;
    assert_eq!(members.len(), 2);
    assert!(members.iter().all(|m| m["role"] == "member"));
    // A third user sees nothing of it, and cannot close it.
    let carol = s.register("carol").await;
    for path in [
        format!("/groups/{}", id(&g)),
        format!("/groups/{}/messages", id(&g)),
    ] {
        s.get(&path, Some(&carol.access))
            .await
            .expect_error(404, "not_found");
    }
    s.delete(&format!("/groups/{}", id(&g)), Some(&carol.access))
        .await
        .expect_error(404, "not_found");
    assert_eq!(s.group(&alice, &id(&g)).await["closed_at"], Value::Null);
}

async fn by_username_finds_the_same_chat(s: &TestServer) {
    let alice = s.register("alice").await;
    let bob = s.register("bob").await;
    let r = s
        .post("/direct", Some(&alice.access), json!({"username": "bob"}))
        .await;
    r.expect(201);
    let again = s.direct(&alice, &bob).await;
    again.expect(200);
    assert_eq!(again.json["id"], r.json["id"]);
    // Usernames are case-insensitive.
    let r2 = s
        .post("/direct", Some(&bob.access), json!({"username": "ALICE"}))
        .await;
    r2.expect(200);
    assert_eq!(r2.json["id"], r.json["id"]);
}

async fn oneself_is_422_an_unknown_user_404_and_a_bad_shape_400(s: &TestServer) {
    let alice = s.register("alice").await;
    s.register("bob").await;
    // The field is whichever was sent.
    for (body, field) in [
        (json!({"user_id": alice.user_id}), "user_id"),
        (json!({"username": "ALICE"}), "username"),
    ] {
        let r = s.post("/direct", Some(&alice.access), body).await;
        r.expect_error(422, "validation_failed");
        assert_eq!(r.field(), Some(field));
    }
    for body in [
        json!({"user_id": uuid::Uuid::now_v7().to_string()}),
        json!({"username": "nobody"}),
    ] {
        s.post("/direct", Some(&alice.access), body)
            .await
            .expect_error(404, "not_found");
    }
    for body in [
        json!({}),
        json!({"user_id": alice.user_id, "username": "bob"}),
        json!({"user_id": 5}),
        json!({"username": null}),
    ] {
        s.post("/direct", Some(&alice.access), body.clone())
            .await
            .expect_error(400, "bad_request");
    }
    assert!(s.groups(&alice).await.is_empty());
}

async fn a_direct_chat_has_no_name_roles_or_member_changes(s: &TestServer) {
    let alice = s.register("alice").await;
    let bob = s.register("bob").await;
    let carol = s.register("carol").await;
    let g = id(&s.direct(&alice, &bob).await.json);
    s.patch(
        &format!("/groups/{g}"),
        Some(&alice.access),
        json!({"name": "Us"}),
    )
    .await
    .expect_error(403, "forbidden");
    s.try_add_member(&alice, &g, &carol.user_id, None)
        .await
        .expect_error(403, "forbidden");
    s.set_role(&alice, &g, &bob.user_id, "admin")
        .await
        .expect_error(403, "forbidden");
    s.remove_member(&alice, &g, &bob.user_id)
        .await
        .expect_error(403, "forbidden");
    // Not left, but closed.
    s.remove_member(&alice, &g, &alice.user_id)
        .await
        .expect_error(403, "forbidden");
    // Nobody deletes the other's message either.
    let m = id(&s.send(&bob, &g, "mine").await);
    s.delete_message(&alice, &m)
        .await
        .expect_error(403, "forbidden");
    // The alias is one's own.
    s.put_json(
        &format!("/groups/{g}/alias"),
        Some(&alice.access),
        json!({"alias": "Bob"}),
    )
    .await
    .expect(200);
    let g = s.group(&alice, &g).await;
    assert_eq!((&g["name"], &g["member_count"]), (&Value::Null, &json!(2)));
}

async fn either_member_closes_then_it_is_readable_and_writes_are_410(s: &TestServer) {
    let alice = s.register("alice").await;
    let bob = s.register("bob").await;
    let g = id(&s.direct(&alice, &bob).await.json);
    let mine = id(&s.send(&alice, &g, "before the close").await);
    let theirs = id(&s.send(&bob, &g, "reply before the close").await);
    // Bob did not create it, and closes it.
    s.delete(&format!("/groups/{g}"), Some(&bob.access))
        .await
        .expect(204);
    let closed = s.group(&alice, &g).await;
    let closed_at = closed["closed_at"].clone();
    assert!(
        closed_at.as_str().is_some_and(is_rfc3339_ms_utc),
        "{closed}"
    );
    assert_eq!(s.group(&bob, &g).await["closed_at"], closed_at);
    // Readable: history, members, search, read marker, alias.
    let (history, _) = s.history(&alice, &g, "").await;
    assert_eq!(history.len(), 2);
    assert_eq!(s.members(&alice, &g).await.len(), 2);
    assert_eq!(s.search(&alice, "q=close").await.len(), 2);
    s.read(&alice, &g, 2).await;
    assert_eq!(s.my(&alice, &g).await["last_read_seq"], 2);
    s.put_json(
        &format!("/groups/{g}/alias"),
        Some(&bob.access),
        json!({"alias": "old chat"}),
    )
    .await
    .expect(200);
    // Every message write is 410.
    s.try_send(&alice, &g, json!({"body": "after"}))
        .await
        .expect_error(410, "gone");
    s.try_send(&bob, &g, json!({"body": "after", "client_id": "c1"}))
        .await
        .expect_error(410, "gone");
    s.try_edit(&alice, &mine, "edited")
        .await
        .expect_error(410, "gone");
    s.delete_message(&bob, &theirs)
        .await
        .expect_error(410, "gone");
    let after = s.group(&alice, &g).await;
    assert_eq!(
        (&after["last_seq"], &after["last_rev"]),
        (&json!(2), &json!(2))
    );
    // Closing again changes nothing.
    s.delete(&format!("/groups/{g}"), Some(&alice.access))
        .await
        .expect(204);
    assert_eq!(s.group(&alice, &g).await["closed_at"], closed_at);
}

async fn after_a_close_the_pair_gets_a_new_chat(s: &TestServer) {
    let alice = s.register("alice").await;
    let bob = s.register("bob").await;
    let old = id(&s.direct(&alice, &bob).await.json);
    s.delete(&format!("/groups/{old}"), Some(&alice.access))
        .await
        .expect(204);
    let r = s.direct(&bob, &alice).await;
    r.expect(201);
    let new = id(&r.json);
    assert_ne!(new, old);
    assert_eq!(r.json["closed_at"], Value::Null);
    let r = s.direct(&alice, &bob).await;
    r.expect(200);
    assert_eq!(id(&r.json), new);
    s.send(&alice, &new, "hello again").await;
    // The old chat is still there, still closed.
    assert!(s.group(&bob, &old).await["closed_at"].is_string());
    let ids = s.group_ids(&alice).await;
    assert!(ids.contains(&new), "{ids:?}");
}

confab_tests::store_tests!(
    by_user_id_201_then_200_with_the_same_chat_for_either_side,
    by_username_finds_the_same_chat,
    oneself_is_422_an_unknown_user_404_and_a_bad_shape_400,
    a_direct_chat_has_no_name_roles_or_member_changes,
    either_member_closes_then_it_is_readable_and_writes_are_410,
    after_a_close_the_pair_gets_a_new_chat,
);
