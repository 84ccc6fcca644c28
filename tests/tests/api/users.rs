//! Profiles, lookup and search, server roles.

use confab_tests::TestServer;
use serde_json::json;

async fn me_shows_email_and_others_do_not(s: &TestServer) {
    let me = s
        .register_with(json!({"username": "alice", "password": "correct horse battery", "email": "alice@example.com"}))
        .await;
    let bob = s.register("bob").await;
    let r = s.get("/users/me", Some(&me.access)).await;
    r.expect(200);
    assert_eq!(r.json["email"], "alice@example.com");
    assert_eq!(r.json["two_factor"], false);
    assert_eq!(r.json["id"], me.user_id.as_str());
    let r = s
        .get(&format!("/users/{}", me.user_id), Some(&bob.access))
        .await;
    r.expect(200);
    assert_eq!(r.json["username"], "alice");
    assert!(r.json.get("email").is_none(), "{}", r.text);
    // Search results do not carry emails either.
    let r = s.get("/users?q=ali", Some(&bob.access)).await;
    assert!(r.json["users"][0].get("email").is_none());
}

async fn patch_me_sets_clears_and_keeps_fields(s: &TestServer) {
    // Registered with the email the patch sets again: a *new* email would need a one-time code
    // (otp.rs tests that).
    let me = s
        .register_with(json!({"username": "alice", "password": "correct horse battery", "email": "alice@example.org"}))
        .await;
    let r = s
        .patch(
            "/users/me",
            Some(&me.access),
            json!({"display_name": "  Alice Liddell ", "country": "gb", "email": "Alice@Example.org"}),
        )
        .await;
    r.expect(200);
    assert_eq!(r.json["display_name"], "Alice Liddell");
    assert_eq!(r.json["country"], "GB");
    assert_eq!(r.json["email"], "alice@example.org");
    // Absent keeps, null clears.
    let r = s
        .patch("/users/me", Some(&me.access), json!({"country": null}))
        .await;
    r.expect(200);
    assert_eq!(r.json["country"], serde_json::Value::Null);
    assert_eq!(r.json["display_name"], "Alice Liddell");
    // An empty patch changes nothing.
    let r = s.patch("/users/me", Some(&me.access), json!({})).await;
    r.expect(200);
    assert_eq!(r.json["email"], "alice@example.org");
    // The change is what GET shows.
    let r = s.get("/users/me", Some(&me.access)).await;
    assert_eq!(r.json["display_name"], "Alice Liddell");
    assert_eq!(r.json["country"], serde_json::Value::Null);
}

async fn patch_me_rejects_invalid_and_taken_values(s: &TestServer) {
    s.register_with(
        json!({"username": "bob", "password": "correct horse battery", "email": "bob@example.com"}),
    )
    .await;
    let me = s.register("alice").await;
    // Someone else's email: without the code sent to it, refused for the missing code (with
    // one, 409: otp.rs).
    let r = s
        .patch(
            "/users/me",
            Some(&me.access),
            json!({"email": "BOB@example.com"}),
        )
        .await;
    r.expect_error(422, "validation_failed");
    assert_eq!(r.field(), Some("otp"));
    for (body, field) in [
        (json!({"country": "ZZ"}), "country"),
        (json!({"display_name": "x".repeat(65)}), "display_name"),
        (json!({"email": "not-an-email"}), "email"),
        (json!({"two_factor": true}), "two_factor"),
    ] {
        let r = s.patch("/users/me", Some(&me.access), body).await;
        r.expect_error(422, "validation_failed");
        assert_eq!(r.field(), Some(field));
    }
    // Keeping one's own email is not a conflict with oneself (and needs no code).
    let me = s
        .register_with(json!({"username": "carol", "password": "correct horse battery", "email": "carol@example.com"}))
        .await;
    s.patch(
        "/users/me",
        Some(&me.access),
        json!({"email": "Carol@example.com"}),
    )
    .await
    .expect(200);
    s.patch(
        "/users/me",
        Some(&me.access),
        json!({"email": "Carol@example.com"}),
    )
    .await
    .expect(200);
}

async fn users_are_found_by_id(s: &TestServer) {
    let me = s.register("alice").await;
    let r = s
        .get(&format!("/users/{}", me.user_id), Some(&me.access))
        .await;
    r.expect(200);
    assert_eq!(r.json["id"], me.user_id.as_str());
    let unknown = uuid::Uuid::now_v7();
    s.get(&format!("/users/{unknown}"), Some(&me.access))
        .await
        .expect_error(404, "not_found");
    for bad in ["not-a-uuid", "1", "%00", "'%20OR%201=1"] {
        s.get(&format!("/users/{bad}"), Some(&me.access))
            .await
            .expect_error(404, "not_found");
    }
}

async fn search_matches_username_and_display_name_prefixes(s: &TestServer) {
    let me = s.register("searcher").await;
    s.register_with(
        json!({"username": "alice", "password": "correct horse battery", "display_name": "Wonder"}),
    )
    .await;
    s.register("alicia").await;
    s.register("bob").await;
    let names = |r: &confab_tests::Resp| -> Vec<String> {
        r.json["users"]
            .as_array()
            .unwrap()
            .iter()
            .map(|u| u["username"].as_str().unwrap().to_owned())
            .collect()
    };
    let r = s.get("/users?q=ali", Some(&me.access)).await;
    r.expect(200);
    assert_eq!(names(&r), ["alice", "alicia"]);
    let r = s.get("/users?q=ALI", Some(&me.access)).await;
    assert_eq!(names(&r), ["alice", "alicia"]);
    let r = s.get("/users?q=wond", Some(&me.access)).await;
    assert_eq!(names(&r), ["alice"]);
    let r = s.get("/users?q=ali&limit=1", Some(&me.access)).await;
    assert_eq!(names(&r), ["alice"]);
    let r = s.get("/users?q=zzz", Some(&me.access)).await;
    assert_eq!(names(&r), Vec::<String>::new());
    // No q: everyone, by username, up to the limit.
    let r = s.get("/users", Some(&me.access)).await;
    assert_eq!(names(&r), ["alice", "alicia", "bob", "searcher"]);
}

async fn search_wildcards_are_literal(s: &TestServer) {
    let me = s.register("searcher").await;
    s.register("a_b").await;
    s.register("axb").await;
    let r = s.get("/users?q=a_", Some(&me.access)).await;
    r.expect(200);
    let users = r.json["users"].as_array().unwrap();
    assert_eq!(users.len(), 1);
    assert_eq!(users[0]["username"], "a_b");
    let r = s.get("/users?q=%25", Some(&me.access)).await;
    assert_eq!(r.json["users"], json!([]));
}

async fn search_limits_are_checked_and_capped(s: &TestServer) {
    let me = s.register("searcher").await;
    s.get("/users?limit=0", Some(&me.access))
        .await
        .expect_error(422, "validation_failed");
    s.get("/users?limit=-5", Some(&me.access))
        .await
        .expect_error(422, "validation_failed");
    s.get("/users?limit=abc", Some(&me.access))
        .await
        .expect_error(400, "bad_request");
    s.get("/users?limit=99999999999999999999999", Some(&me.access))
        .await
        .expect_error(400, "bad_request");
    s.get("/users?limit=1000", Some(&me.access))
        .await
        .expect(200);
    s.get("/users?unknown=1", Some(&me.access))
        .await
        .expect_error(400, "bad_request");
}

async fn search_finds_one_user_by_exact_email(s: &TestServer) {
    let me = s.register("searcher").await;
    s.register_with(json!({"username": "alice", "password": "correct horse battery", "email": "alice@example.com"}))
        .await;
    let r = s
        .get("/users?email=ALICE@example.com", Some(&me.access))
        .await;
    r.expect(200);
    assert_eq!(r.json["users"].as_array().unwrap().len(), 1);
    assert_eq!(r.json["users"][0]["username"], "alice");
    let r = s
        .get("/users?email=alice@example.co", Some(&me.access))
        .await;
    assert_eq!(r.json["users"], json!([]));
    let r = s.get("/users?email=not-an-email", Some(&me.access)).await;
    r.expect_error(422, "validation_failed");
    assert_eq!(r.field(), Some("email"));
    s.get("/users?email=alice@example.com&q=ali", Some(&me.access))
        .await
        .expect_error(400, "bad_request");
}

async fn admins_grant_and_revoke_admin_at_once(s: &TestServer) {
    let root = s.admin("root").await;
    let alice = s.register("alice").await;
    let bob = s.register("bob").await;
    let path = format!("/users/{}/roles/admin", alice.user_id);
    s.put(&path, Some(&root.access)).await.expect(204);
    let r = s
        .get(&format!("/users/{}", alice.user_id), Some(&bob.access))
        .await;
    assert_eq!(r.json["roles"], json!(["admin"]));
    // The grant works at once, without a new login.
    s.put(
        &format!("/users/{}/roles/admin", bob.user_id),
        Some(&alice.access),
    )
    .await
    .expect(204);
    // Granting twice is fine.
    s.put(&path, Some(&root.access)).await.expect(204);
    s.delete(&path, Some(&root.access)).await.expect(204);
    let r = s.get("/users/me", Some(&alice.access)).await;
    assert_eq!(r.json["roles"], json!([]));
    // And the revocation too.
    s.delete(
        &format!("/users/{}/roles/admin", bob.user_id),
        Some(&alice.access),
    )
    .await
    .expect_error(403, "forbidden");
}

async fn role_changes_check_role_and_user(s: &TestServer) {
    let root = s.admin("root").await;
    let alice = s.register("alice").await;
    let r = s
        .put(
            &format!("/users/{}/roles/owner", alice.user_id),
            Some(&root.access),
        )
        .await;
    r.expect_error(422, "validation_failed");
    assert_eq!(r.field(), Some("role"));
    s.put(
        &format!("/users/{}/roles/admin", uuid::Uuid::now_v7()),
        Some(&root.access),
    )
    .await
    .expect_error(404, "not_found");
    s.put("/users/not-a-uuid/roles/admin", Some(&root.access))
        .await
        .expect_error(404, "not_found");
    // A non-admin learns nothing about the role or the user: 403 first.
    s.put(
        &format!("/users/{}/roles/owner", uuid::Uuid::now_v7()),
        Some(&alice.access),
    )
    .await
    .expect_error(403, "forbidden");
}

confab_tests::store_tests!(
    me_shows_email_and_others_do_not,
    patch_me_sets_clears_and_keeps_fields,
    patch_me_rejects_invalid_and_taken_values,
    users_are_found_by_id,
    search_matches_username_and_display_name_prefixes,
    search_wildcards_are_literal,
    search_limits_are_checked_and_capped,
    search_finds_one_user_by_exact_email,
    admins_grant_and_revoke_admin_at_once,
    role_changes_check_role_and_user,
);
