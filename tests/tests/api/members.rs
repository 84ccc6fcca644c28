//! Members and roles: add, change role (ownership transfer), remove, leave with succession,
//! and the last one out deleting the group.

use confab_tests::chat::{id, is_rfc3339_ms_utc, keys, past};
use confab_tests::{Session, TestServer};

async fn owner_and_admins_add_members_once(s: &TestServer) {
    let alice = s.register("alice").await;
    let bob = s.register("bob").await;
    let carol = s.register("carol").await;
    let dave = s.register("dave").await;
    let g = id(&s.create_group(&alice, "Team", &[]).await);
    let m = s.add_member(&alice, &g, &bob, None).await;
    assert_eq!(keys(&m), ["joined_at", "last_read_seq", "role", "user"]);
    assert_eq!(m["role"], "member");
    assert_eq!(
        m["last_read_seq"], 0,
        "nothing read in a group with no messages"
    );
    assert_eq!(m["user"]["id"], bob.user_id.as_str());
    assert_eq!(m["user"]["username"], "bob");
    assert!(m["user"].get("email").is_none(), "{m}");
    assert!(is_rfc3339_ms_utc(m["joined_at"].as_str().unwrap()));
    let m = s.add_member(&alice, &g, &carol, Some("admin")).await;
    assert_eq!(m["role"], "admin");
    // An admin adds; a member does not.
    s.add_member(&carol, &g, &dave, None).await;
    let erin = s.register("erin").await;
    s.try_add_member(&bob, &g, &erin.user_id, None)
        .await
        .expect_error(403, "forbidden");
    let r = s.try_add_member(&alice, &g, &bob.user_id, None).await;
    r.expect_error(409, "conflict");
    assert_eq!(r.field(), Some("user_id"));
    s.try_add_member(&alice, &g, &alice.user_id, None)
        .await
        .expect_error(409, "conflict");
    s.try_add_member(&alice, &g, &uuid::Uuid::now_v7().to_string(), None)
        .await
        .expect_error(404, "not_found");
    for role in ["owner", "king"] {
        let r = s
            .try_add_member(&alice, &g, &erin.user_id, Some(role))
            .await;
        r.expect_error(422, "validation_failed");
        assert_eq!(r.field(), Some("role"));
    }
    assert_eq!(s.group(&alice, &g).await["member_count"], 4);
    let members = s.members(&dave, &g).await;
    assert_eq!(members.len(), 4);
    for member in &members {
        assert_eq!(keys(member), ["joined_at", "last_read_seq", "role", "user"]);
    }
    // The new member sees the group in their list at once.
    assert_eq!(s.group_ids(&dave).await, [g]);
}

async fn the_owner_changes_roles_and_transfers_ownership(s: &TestServer) {
    let alice = s.register("alice").await;
    let bob = s.register("bob").await;
    let carol = s.register("carol").await;
    let g = id(&s.create_group(&alice, "Team", &[&bob, &carol]).await);
    let r = s.set_role(&alice, &g, &bob.user_id, "admin").await;
    r.expect(200);
    assert_eq!(r.json["role"], "admin");
    assert_eq!(r.json["user"]["id"], bob.user_id.as_str());
    // The same role again changes nothing.
    s.set_role(&alice, &g, &bob.user_id, "admin")
        .await
        .expect(200);
    // Only the owner changes roles.
    s.set_role(&bob, &g, &carol.user_id, "admin")
        .await
        .expect_error(403, "forbidden");
    s.set_role(&carol, &g, &carol.user_id, "admin")
        .await
        .expect_error(403, "forbidden");
    s.set_role(&alice, &g, &alice.user_id, "owner")
        .await
        .expect(200);
    // The owner keeps ownership until transferring it.
    let r = s.set_role(&alice, &g, &alice.user_id, "member").await;
    r.expect_error(422, "validation_failed");
    assert_eq!(r.field(), Some("role"));
    let r = s.set_role(&alice, &g, &carol.user_id, "boss").await;
    r.expect_error(422, "validation_failed");
    let dave = s.register("dave").await;
    s.set_role(&alice, &g, &dave.user_id, "admin")
        .await
        .expect_error(404, "not_found");
    // Transfer: carol owns, alice becomes admin.
    let r = s.set_role(&alice, &g, &carol.user_id, "owner").await;
    r.expect(200);
    assert_eq!(r.json["role"], "owner");
    assert_eq!(s.role_of(&bob, &g, &alice).await.as_deref(), Some("admin"));
    assert_eq!(s.role_of(&bob, &g, &carol).await.as_deref(), Some("owner"));
    assert_eq!(s.my(&alice, &g).await["role"], "admin");
    assert_eq!(s.my(&carol, &g).await["role"], "owner");
    let owners = s.members(&bob, &g).await;
    assert_eq!(owners.iter().filter(|m| m["role"] == "owner").count(), 1);
    s.set_role(&alice, &g, &bob.user_id, "member")
        .await
        .expect_error(403, "forbidden");
    s.set_role(&carol, &g, &bob.user_id, "member")
        .await
        .expect(200);
    s.delete(&format!("/groups/{g}"), Some(&alice.access))
        .await
        .expect_error(403, "forbidden");
}

async fn who_may_remove_whom(s: &TestServer) {
    let alice = s.register("alice").await;
    let [bob, carol, dave, erin] = [
        s.register("bob").await,
        s.register("carol").await,
        s.register("dave").await,
        s.register("erin").await,
    ];
    let g = id(&s
        .create_group(&alice, "Team", &[&bob, &carol, &dave, &erin])
        .await);
    for admin in [&bob, &carol] {
        s.set_role(&alice, &g, &admin.user_id, "admin")
            .await
            .expect(200);
    }
    // Nobody removes the owner; a member removes nobody else.
    s.remove_member(&bob, &g, &alice.user_id)
        .await
        .expect_error(403, "forbidden");
    s.remove_member(&dave, &g, &erin.user_id)
        .await
        .expect_error(403, "forbidden");
    s.remove_member(&dave, &g, &bob.user_id)
        .await
        .expect_error(403, "forbidden");
    // An admin removes a member and another admin.
    s.remove_member(&bob, &g, &dave.user_id).await.expect(204);
    s.remove_member(&bob, &g, &carol.user_id).await.expect(204);
    // Gone means gone: 404 for them, and removing again is 404 (not a member).
    s.get(&format!("/groups/{g}"), Some(&dave.access))
        .await
        .expect_error(404, "not_found");
    s.remove_member(&alice, &g, &dave.user_id)
        .await
        .expect_error(404, "not_found");
    // Anyone leaves.
    s.remove_member(&erin, &g, &erin.user_id).await.expect(204);
    assert!(s.groups(&erin).await.is_empty());
    // The owner removes an admin.
    s.remove_member(&alice, &g, &bob.user_id).await.expect(204);
    let members = s.members(&alice, &g).await;
    assert_eq!(members.len(), 1);
    assert_eq!(s.group(&alice, &g).await["member_count"], 1);
}

/// Joins `user` with `role`, making sure their `joined_at` is later than everything before.
async fn join(s: &TestServer, owner: &Session, g: &str, user: &Session, role: Option<&str>) {
    let m = s.add_member(owner, g, user, role).await;
    past(&m["joined_at"]).await;
}

async fn a_leaving_owner_hands_over_to_the_longest_standing_admin_else_member(s: &TestServer) {
    let alice = s.register("alice").await;
    let [bob, carol, dave] = [
        s.register("bob").await,
        s.register("carol").await,
        s.register("dave").await,
    ];
    let g = id(&s.create_group(&alice, "Team", &[]).await);
    join(s, &alice, &g, &bob, None).await;
    join(s, &alice, &g, &dave, Some("admin")).await;
    join(s, &alice, &g, &carol, Some("admin")).await;
    // Dave is the longest-standing admin (bob joined earlier, but as a member).
    s.remove_member(&alice, &g, &alice.user_id)
        .await
        .expect(204);
    assert_eq!(s.role_of(&bob, &g, &dave).await.as_deref(), Some("owner"));
    s.remove_member(&dave, &g, &dave.user_id).await.expect(204);
    assert_eq!(s.role_of(&bob, &g, &carol).await.as_deref(), Some("owner"));
    // No admin left: the longest-standing member.
    s.remove_member(&carol, &g, &carol.user_id)
        .await
        .expect(204);
    assert_eq!(s.my(&bob, &g).await["role"], "owner");
    assert_eq!(s.group(&bob, &g).await["member_count"], 1);
}

async fn the_last_one_out_deletes_the_group(s: &TestServer) {
    let alice = s.register("alice").await;
    let bob = s.register("bob").await;
    let g = id(&s.create_group(&alice, "Team", &[&bob]).await);
    s.send(&bob, &g, "bye").await;
    s.remove_member(&alice, &g, &alice.user_id)
        .await
        .expect(204);
    s.remove_member(&bob, &g, &bob.user_id).await.expect(204);
    for who in [&alice, &bob] {
        s.get(&format!("/groups/{g}"), Some(&who.access))
            .await
            .expect_error(404, "not_found");
        assert!(s.groups(who).await.is_empty());
        assert!(s.search(who, "q=bye").await.is_empty());
    }
    // Over HTTP, a deleted group and one that nobody is in look alike (by design); the
    // store shows the difference.
    for table in ["groups", "members", "messages"] {
        let column = if table == "groups" { "id" } else { "group_id" };
        let left = s.count_rows(table, column, &g).await;
        assert_eq!(left, 0, "{table} still holds rows of the group");
    }
}

confab_tests::store_tests!(
    owner_and_admins_add_members_once,
    the_owner_changes_roles_and_transfers_ownership,
    who_may_remove_whom,
    a_leaving_owner_hands_over_to_the_longest_standing_admin_else_member,
    the_last_one_out_deletes_the_group,
);
