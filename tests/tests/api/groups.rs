//! Named groups: create, list (most recent activity first), get, rename, delete, per-member
//! alias; `member_count`, `last_seq`, `last_rev` and `my` right after every change.

use confab_tests::TestServer;
use confab_tests::chat::{id, is_rfc3339_ms_utc, keys, num, past};
use serde_json::{Value, json};

const GROUP_KEYS: [&str; 11] = [
    "closed_at",
    "created_at",
    "created_by",
    "expires_at",
    "id",
    "kind",
    "last_rev",
    "last_seq",
    "member_count",
    "my",
    "name",
];

async fn create_answers_201_with_the_whole_group(s: &TestServer) {
    let alice = s.register("alice").await;
    let bob = s.register("bob").await;
    let carol = s.register("carol").await;
    let g = s.create_group(&alice, "  Team  ", &[&bob, &carol]).await;
    assert_eq!(keys(&g), GROUP_KEYS);
    let uuid = uuid::Uuid::parse_str(g["id"].as_str().unwrap()).unwrap();
    assert_eq!(uuid.get_version_num(), 7);
    assert_eq!(g["kind"], "group");
    assert_eq!(g["name"], "Team");
    assert_eq!(g["created_by"], alice.user_id.as_str());
    assert!(is_rfc3339_ms_utc(g["created_at"].as_str().unwrap()), "{g}");
    assert_eq!(g["expires_at"], Value::Null);
    assert_eq!(g["closed_at"], Value::Null);
    assert_eq!(g["member_count"], 3);
    assert_eq!(g["last_seq"], 0);
    assert_eq!(g["last_rev"], 0);
    assert_eq!(
        g["my"],
        json!({"role": "owner", "alias": null, "last_read_seq": 0, "unread_count": 0,
                "mention_count": 0})
    );
    // GET answers the same group; each member sees their own `my`.
    assert_eq!(s.group(&alice, &id(&g)).await, g);
    let as_bob = s.group(&bob, &id(&g)).await;
    assert_eq!(as_bob["my"]["role"], "member");
    assert_eq!(as_bob["name"], "Team");
    // Without member_ids the caller is alone; their own id and duplicates are ignored.
    let r = s
        .post("/groups", Some(&alice.access), json!({"name": "Solo"}))
        .await;
    r.expect(201);
    assert_eq!(r.json["member_count"], 1);
    let g = s.create_group(&alice, "Dups", &[&bob, &bob, &alice]).await;
    assert_eq!(g["member_count"], 2);
    assert_eq!(s.members(&alice, &id(&g)).await.len(), 2);
}

async fn invalid_names_and_members_are_refused_and_nothing_is_created(s: &TestServer) {
    let alice = s.register("alice").await;
    for name in [
        json!(""),
        json!("   "),
        json!("x".repeat(101)),
        json!("bell\u{7}"),
    ] {
        let r = s
            .post("/groups", Some(&alice.access), json!({"name": name}))
            .await;
        r.expect_error(422, "validation_failed");
        assert_eq!(r.field(), Some("name"), "{name}");
    }
    let nobody = uuid::Uuid::now_v7().to_string();
    let r = s
        .post(
            "/groups",
            Some(&alice.access),
            json!({"name": "Team", "member_ids": [nobody]}),
        )
        .await;
    r.expect_error(422, "validation_failed");
    assert_eq!(r.field(), Some("member_ids"));
    s.post(
        "/groups",
        Some(&alice.access),
        json!({"name": "Team", "member_ids": ["not-a-uuid"]}),
    )
    .await
    .expect_error(400, "bad_request");
    assert!(s.groups(&alice).await.is_empty());
    // 100 characters is fine.
    s.create_group(&alice, &"x".repeat(100), &[]).await;
}

async fn the_list_is_the_callers_groups_most_recent_activity_first(s: &TestServer) {
    let alice = s.register("alice").await;
    let bob = s.register("bob").await;
    let carol = s.register("carol").await;
    assert!(s.groups(&carol).await.is_empty());
    let g1 = s.create_group(&alice, "one", &[&bob]).await;
    past(&g1["created_at"]).await;
    let g2 = s.create_group(&alice, "two", &[]).await;
    past(&g2["created_at"]).await;
    let g3 = s.create_group(&alice, "three", &[]).await;
    let (g1, g2, g3) = (id(&g1), id(&g2), id(&g3));
    assert_eq!(s.group_ids(&alice).await, [g3.as_str(), &g2, &g1]);
    past(&s.group(&alice, &g3).await["created_at"]).await;
    let m = s.send(&bob, &g1, "hello").await;
    assert_eq!(s.group_ids(&alice).await, [g1.as_str(), &g3, &g2]);
    past(&m["created_at"]).await;
    s.send(&alice, &g2, "me too").await;
    assert_eq!(s.group_ids(&alice).await, [g2.as_str(), &g1, &g3]);
    // Bob sees only his group; a list entry is the group as GET shows it.
    let listed = s.groups(&bob).await;
    assert_eq!(listed.len(), 1);
    assert_eq!(listed[0], s.group(&bob, &g1).await);
    assert!(s.groups(&carol).await.is_empty());
}

async fn rename_is_for_the_owner_and_admins(s: &TestServer) {
    let alice = s.register("alice").await;
    let bob = s.register("bob").await;
    let carol = s.register("carol").await;
    let g = id(&s.create_group(&alice, "Team", &[&bob, &carol]).await);
    s.set_role(&alice, &g, &bob.user_id, "admin")
        .await
        .expect(200);
    let path = format!("/groups/{g}");
    let r = s
        .patch(&path, Some(&alice.access), json!({"name": " Renamed "}))
        .await;
    r.expect(200);
    assert_eq!(r.json["name"], "Renamed");
    assert_eq!(r.json["my"]["role"], "owner");
    let r = s
        .patch(&path, Some(&bob.access), json!({"name": "By admin"}))
        .await;
    r.expect(200);
    assert_eq!(r.json["my"]["role"], "admin");
    assert_eq!(r.json, s.group(&bob, &g).await);
    s.patch(&path, Some(&carol.access), json!({"name": "By member"}))
        .await
        .expect_error(403, "forbidden");
    let r = s
        .patch(&path, Some(&alice.access), json!({"name": ""}))
        .await;
    r.expect_error(422, "validation_failed");
    assert_eq!(r.field(), Some("name"));
    assert_eq!(s.group(&carol, &g).await["name"], "By admin");
}

async fn the_owner_deletes_a_group_with_everything_in_it(s: &TestServer) {
    let alice = s.register("alice").await;
    let bob = s.register("bob").await;
    let carol = s.register("carol").await;
    let g = id(&s.create_group(&alice, "Team", &[&bob, &carol]).await);
    s.set_role(&alice, &g, &bob.user_id, "admin")
        .await
        .expect(200);
    let m = id(&s.send(&carol, &g, "hello there").await);
    let path = format!("/groups/{g}");
    s.delete(&path, Some(&bob.access))
        .await
        .expect_error(403, "forbidden");
    s.delete(&path, Some(&carol.access))
        .await
        .expect_error(403, "forbidden");
    s.delete(&path, Some(&alice.access)).await.expect(204);
    for who in [&alice, &bob, &carol] {
        s.get(&path, Some(&who.access))
            .await
            .expect_error(404, "not_found");
        s.get(&format!("{path}/messages"), Some(&who.access))
            .await
            .expect_error(404, "not_found");
        s.get(&format!("{path}/members"), Some(&who.access))
            .await
            .expect_error(404, "not_found");
        assert!(s.groups(who).await.is_empty());
        assert!(s.search(who, "q=hello").await.is_empty());
    }
    s.try_edit(&carol, &m, "edited")
        .await
        .expect_error(404, "not_found");
    s.delete(&path, Some(&alice.access))
        .await
        .expect_error(404, "not_found");
}

async fn an_alias_is_each_members_own(s: &TestServer) {
    let alice = s.register("alice").await;
    let bob = s.register("bob").await;
    let g = id(&s.create_group(&alice, "Team", &[&bob]).await);
    let path = format!("/groups/{g}/alias");
    let r = s
        .put_json(&path, Some(&bob.access), json!({"alias": "  Work  "}))
        .await;
    r.expect(200);
    assert_eq!(r.json["my"]["alias"], "Work");
    assert_eq!(r.json["name"], "Team");
    assert_eq!(s.my(&bob, &g).await["alias"], "Work");
    assert_eq!(s.my(&alice, &g).await["alias"], Value::Null);
    let listed = s.groups(&bob).await;
    assert_eq!(listed[0]["my"]["alias"], "Work");
    for bad in [json!(""), json!("   "), json!("x".repeat(101))] {
        let r = s
            .put_json(&path, Some(&bob.access), json!({"alias": bad}))
            .await;
        r.expect_error(422, "validation_failed");
        assert_eq!(r.field(), Some("alias"));
    }
    assert_eq!(s.my(&bob, &g).await["alias"], "Work");
    let r = s
        .put_json(&path, Some(&bob.access), json!({"alias": null}))
        .await;
    r.expect(200);
    assert_eq!(r.json["my"]["alias"], Value::Null);
    // Renaming the group does not touch aliases.
    s.put_json(&path, Some(&bob.access), json!({"alias": "Mine"}))
        .await
        .expect(200);
    s.patch(
        &format!("/groups/{g}"),
        Some(&alice.access),
        json!({"name": "New"}),
    )
    .await
    .expect(200);
    let as_bob = s.group(&bob, &g).await;
    assert_eq!(
        (&as_bob["name"], &as_bob["my"]["alias"]),
        (&json!("New"), &json!("Mine"))
    );
}

async fn counts_and_my_stay_right_through_every_change(s: &TestServer) {
    let alice = s.register("alice").await;
    let bob = s.register("bob").await;
    let carol = s.register("carol").await;
    let g = id(&s.create_group(&alice, "Team", &[&bob]).await);
    let check = |v: Value, count: u64, seq: u64, rev: u64, unread: u64| {
        assert_eq!(
            (
                num(&v, "member_count"),
                num(&v, "last_seq"),
                num(&v, "last_rev")
            ),
            (count, seq, rev),
            "{v}"
        );
        assert_eq!(num(&v["my"], "unread_count"), unread, "{v}");
    };
    check(s.group(&alice, &g).await, 2, 0, 0, 0);
    s.add_member(&alice, &g, &carol, None).await;
    check(s.group(&alice, &g).await, 3, 0, 0, 0);
    let m1 = id(&s.send(&bob, &g, "one").await);
    s.send(&bob, &g, "two").await;
    check(s.group(&alice, &g).await, 3, 2, 2, 2);
    check(s.group(&bob, &g).await, 3, 2, 2, 0);
    s.edit(&bob, &m1, "one, edited").await;
    check(s.group(&alice, &g).await, 3, 2, 3, 2);
    s.delete_message(&bob, &m1).await.expect(204);
    check(s.group(&alice, &g).await, 3, 2, 4, 1);
    check(s.group(&carol, &g).await, 3, 2, 4, 1);
    s.remove_member(&carol, &g, &carol.user_id)
        .await
        .expect(204);
    check(s.group(&alice, &g).await, 2, 2, 4, 1);
    // The list shows exactly what GET shows.
    assert_eq!(s.groups(&alice).await, [s.group(&alice, &g).await]);
}

confab_tests::store_tests!(
    create_answers_201_with_the_whole_group,
    invalid_names_and_members_are_refused_and_nothing_is_created,
    the_list_is_the_callers_groups_most_recent_activity_first,
    rename_is_for_the_owner_and_admins,
    the_owner_deletes_a_group_with_everything_in_it,
    an_alias_is_each_members_own,
    counts_and_my_stay_right_through_every_change,
);
