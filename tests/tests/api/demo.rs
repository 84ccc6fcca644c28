//! `confab demo`: known users, a group and a direct chat, made only when asked, and never over
//! existing users.

use confab_tests::chat::id;
use confab_tests::existing::FreshStore;
use confab_tests::{Store, TestServer};
use serde_json::{Value, json};

async fn login(s: &TestServer, who: &str) -> Value {
    let r = s
        .post(
            "/auth/login",
            None,
            json!({"login": who, "password": confab::DEMO_PASSWORD}),
        )
        .await;
    r.expect(200);
    r.json.clone()
}

async fn demo_makes_users_a_group_and_a_direct_chat_once(store: Store) {
    let fresh = FreshStore::new(store).await;
    let url = fresh.url();
    confab::demo(&url).await.expect("demo data made");
    let again = confab::demo(&url)
        .await
        .expect_err("a second run is refused");
    assert!(again.to_string().contains("already exists"), "{again}");

    let s = TestServer::start_over(fresh, &[]).await;
    let alice = login(&s, "alice").await;
    assert_eq!(alice["user"]["roles"], json!(["admin"]));
    for who in ["bob", "carol"] {
        assert_eq!(login(&s, who).await["user"]["roles"], json!([]));
    }
    let token = alice["tokens"]["access_token"].as_str().unwrap();
    let groups = s.get("/groups", Some(token)).await;
    groups.expect(200);
    let groups = groups.json["groups"].as_array().unwrap().clone();
    assert_eq!(groups.len(), 2, "{groups:?}");
    let group = groups.iter().find(|g| g["kind"] == "group").unwrap();
    assert_eq!(group["name"], "Demo group");
    assert_eq!(group["member_count"], 3);
    assert_eq!(group["last_seq"], 3);
    let direct = groups.iter().find(|g| g["kind"] == "direct").unwrap();
    assert_eq!(direct["member_count"], 2);
    let history = s
        .get(&format!("/groups/{}/messages", id(group)), Some(token))
        .await;
    history.expect(200);
    assert_eq!(history.json["messages"].as_array().unwrap().len(), 3);
}

/// Never run implicitly: a fresh server knows no demo user.
async fn a_fresh_server_has_no_demo_users(s: &TestServer) {
    for who in ["alice", "bob", "carol"] {
        s.post(
            "/auth/login",
            None,
            json!({"login": who, "password": confab::DEMO_PASSWORD}),
        )
        .await
        .expect_error(401, "invalid_credentials");
    }
}

confab_tests::store_tests!(
    a_fresh_server_has_no_demo_users;
    own_server: demo_makes_users_a_group_and_a_direct_chat_once,
);
