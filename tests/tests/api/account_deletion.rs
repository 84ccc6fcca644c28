//! `confab user delete` (`Accounts::admin_delete_user`) beside a running server, on both stores:
//! the person's sockets close and their logins end, the members of their groups hear them
//! leave (ownership passing on), their direct chats close, and their messages stay, from a
//! `deleted-…` account whose old name is free again.

use std::time::Duration;

use confab_tests::chat::{id, text};
use confab_tests::{Session, TestServer};
use serde_json::json;

confab_tests::store_tests!(a_deleted_user_leaves_everything_and_their_messages_stay);

const PASSWORD: &str = "correct horse battery";

async fn a_deleted_user_leaves_everything_and_their_messages_stay(s: &TestServer) {
    let alice = s.register("alice").await;
    let bob = s.register("bob").await;
    let carol = s.register("carol").await;
    let team = id(&s.create_group(&alice, "team", &[&bob, &carol]).await);
    let said = id(&s.send(&alice, &team, "hello from alice").await);
    let direct = id(&s.direct(&alice, &carol).await.json);
    let mut alice_ws = s.ws(&alice).await;
    let mut bob_ws = s.ws(&bob).await;
    let mut carol_ws = s.ws(&carol).await;

    let deleted = s.delete_user("alice").await;
    assert_eq!(deleted.former_username.as_str(), "alice");
    assert_eq!(deleted.conversations, 2);
    let ghost = deleted.username.as_str().to_owned();
    assert!(ghost.starts_with("deleted-"), "{ghost}");

    alice_ws.expect_close(4003, Duration::from_secs(5)).await;
    let left = bob_ws.next_of("member.left").await;
    assert_eq!(
        (text(&left, "group_id"), text(&left, "user_id")),
        (team.clone(), alice.user_id.clone())
    );
    let closed = carol_ws.next_of("group.closed").await;
    assert_eq!(text(&closed, "group_id"), direct);
    assert!(s.group(&carol, &direct).await["closed_at"].is_string());

    let members = s.members(&bob, &team).await;
    assert_eq!(members.len(), 2, "{members:?}");
    assert!(
        members
            .iter()
            .all(|m| m["user"]["id"] != alice.user_id.as_str())
    );
    assert!(members.iter().any(|m| m["role"] == "owner"), "{members:?}");
    let messages = s.all_messages(&bob, &team).await;
    let kept = messages
        .iter()
        .find(|m| id(m) == said)
        .expect("her message stays");
    assert_eq!(kept["body"], "hello from alice");
    assert_eq!(kept["sender_id"], alice.user_id.as_str());
    let shown = s
        .get(&format!("/users/{}", alice.user_id), Some(&bob.access))
        .await;
    shown.expect(200);
    assert_eq!(shown.json["username"], ghost.as_str());
    assert!(shown.json["display_name"].is_null());

    for login in ["alice", ghost.as_str()] {
        s.post(
            "/auth/login",
            None,
            json!({"login": login, "password": PASSWORD}),
        )
        .await
        .expect_error(401, "invalid_credentials");
    }
    s.post(
        "/auth/refresh",
        None,
        json!({"refresh_token": alice.refresh}),
    )
    .await
    .expect_error(403, "banned");
    let again: Session = s.register("alice").await;
    assert_ne!(
        again.user_id, alice.user_id,
        "the name is free for a new account"
    );
    assert!(s.group_ids(&again).await.is_empty());
}
