//! The socket's authentication: a token in `Authorization: Bearer` or `?token=`, checked before
//! the upgrade (401 otherwise); `ready {user_id}` first; `auth` with a fresh token extends the
//! socket's life, and without it the socket closes with 4001 when its token expires.

use std::time::Duration;

use confab_tests::ws::kind;
use confab_tests::{
    Ended, Session, Store, TEST_SECRET, TestServer, Token, forge_token, token_claims,
};
use serde_json::json;

const PASSWORD: &str = "correct horse battery";

async fn bearer_and_query_tokens_both_open_a_socket_that_says_ready_first(s: &TestServer) {
    let alice = s.register("alice").await;
    for token in [Token::Bearer(&alice.access), Token::Query(&alice.access)] {
        let mut ws = s.ws_open(token, None).await.expect("upgraded");
        let ready = ws.next().await;
        assert_eq!(
            ready,
            json!({"type": "ready", "user_id": alice.user_id}),
            "{token:?}"
        );
        ws.ping().await;
    }
}

async fn missing_bad_and_expired_tokens_are_refused_with_401_before_the_upgrade(s: &TestServer) {
    let alice = s.register("alice").await;
    let now = time::OffsetDateTime::now_utc().unix_timestamp();
    let mut claims = token_claims(&alice.access);
    claims["iat"] = json!(now - 3600);
    claims["exp"] = json!(now - 60);
    let expired = forge_token(&claims, TEST_SECRET.as_bytes());
    let other_secret = forge_token(
        &token_claims(&alice.access),
        b"another-secret-another-secret-another!!",
    );
    let mut tampered = alice.access.clone();
    tampered.pop();
    tampered.push('x');
    let bad = [
        "not-a-token".to_owned(),
        expired,
        other_secret,
        tampered,
        String::new(),
    ];
    let mut attempts = vec![Token::None];
    for t in &bad {
        attempts.push(Token::Bearer(t));
        attempts.push(Token::Query(t));
    }
    for token in attempts {
        let refused = match s.ws_open(token, None).await {
            Ok(_) => panic!("{token:?} was upgraded"),
            Err(r) => r,
        };
        assert_eq!(refused.status, 401, "{token:?}: {refused:?}");
        assert_eq!(
            refused.body["error"]["code"], "unauthorized",
            "{token:?}: {refused:?}"
        );
    }
}

async fn a_logged_out_login_cannot_open_a_socket(s: &TestServer) {
    let alice = s.register("alice").await;
    s.post(
        "/auth/logout",
        None,
        json!({"refresh_token": alice.refresh}),
    )
    .await
    .expect(204);
    let refused = s
        .ws_open(Token::Bearer(&alice.access), None)
        .await
        .err()
        .expect("refused");
    assert_eq!(refused.status, 401, "{refused:?}");
}

async fn auth_with_a_fresh_token_of_the_same_user_is_acked(s: &TestServer) {
    let alice = s.register("alice").await;
    let mut ws = s.ws(&alice).await;
    let again = s.login("alice", PASSWORD).await;
    let ack = ws
        .ok(json!({"type": "auth", "ref": "renew-1", "token": again.access}))
        .await;
    assert_eq!(ack, json!({"type": "ack", "ref": "renew-1"}));
    // A number works as a ref too, and comes back as the same number.
    let ack = ws
        .ok(json!({"type": "auth", "ref": 77, "token": alice.access}))
        .await;
    assert_eq!(ack, json!({"type": "ack", "ref": 77}));
    ws.ping().await;
}

async fn auth_with_another_users_or_a_bad_token_is_an_error_and_the_socket_stays(s: &TestServer) {
    let alice = s.register("alice").await;
    let bob = s.register("bob").await;
    let mut ws = s.ws(&alice).await;
    let e = ws
        .fails(
            json!({"type": "auth", "ref": "theirs", "token": bob.access}),
            "unauthorized",
        )
        .await;
    assert_eq!(e["ref"], "theirs");
    ws.fails(
        json!({"type": "auth", "ref": 2, "token": "garbage"}),
        "unauthorized",
    )
    .await;
    ws.ping().await;
    // The socket is still Alice's: her groups reach it, Bob's do not.
    let g = confab_tests::chat::id(&s.create_group(&alice, "mine", &[]).await);
    let f = ws.take_of("group.created").await;
    assert_eq!(f["group"]["id"], g.as_str(), "{f}");
}

/// A socket opened at once with `who`'s token (no settling first: the token is short-lived).
async fn open_now(s: &TestServer, who: &Session) -> confab_tests::Ws {
    let mut ws = s
        .ws_open(Token::Bearer(&who.access), None)
        .await
        .expect("upgraded");
    ws.expect_ready(who).await;
    ws.ping().await;
    ws
}

/// The socket lives as long as its token: with `--access-token-ttl 2s` and no `auth`, it is
/// closed with 4001 soon after the token's `exp`.
async fn without_auth_the_socket_closes_with_4001_at_expiry(store: Store) {
    let s = TestServer::start_with(store, &["--access-token-ttl", "2s"]).await;
    let alice = s.register("alice").await;
    let exp = token_claims(&alice.access)["exp"].as_i64().expect("exp");
    let mut ws = open_now(&s, &alice).await;
    let frames = ws.expect_close(4001, Duration::from_secs(10)).await;
    assert!(
        frames.iter().all(|f| kind(f) != "error"),
        "unexpected frames: {frames:?}"
    );
    // Not before the token's expiry (second resolution, as the token's `exp` has).
    let now = time::OffsetDateTime::now_utc().unix_timestamp();
    assert!(now >= exp, "closed at {now}, before the token's exp {exp}");
}

/// `auth` with a token that expires later keeps the socket open past the first token's expiry;
/// then, with no further `auth`, the second expiry closes it with 4001.
async fn auth_keeps_the_socket_open_past_the_first_tokens_expiry(store: Store) {
    let s = TestServer::start_with(store, &["--access-token-ttl", "2s"]).await;
    let alice = s.register("alice").await;
    let exp = |t: &str| token_claims(t)["exp"].as_i64().expect("exp");
    let first = exp(&alice.access);
    let mut ws = open_now(&s, &alice).await;
    // Tokens carry whole seconds: log in again until a token expires later than the first.
    let fresh = loop {
        let l = s.login("alice", PASSWORD).await;
        if exp(&l.access) > first {
            break l;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    };
    let ack = ws
        .ok(json!({"type": "auth", "ref": "renew", "token": fresh.access}))
        .await;
    assert_eq!(ack, json!({"type": "ack", "ref": "renew"}));
    // Past the first token's expiry (plus a margin for the server's clock reading).
    let past_first = time::OffsetDateTime::from_unix_timestamp(first).expect("time")
        + time::Duration::milliseconds(300);
    let wait = past_first - time::OffsetDateTime::now_utc();
    if wait.is_positive() {
        tokio::time::sleep(wait.try_into().expect("positive")).await;
    }
    ws.ping().await;
    assert_eq!(ws.ended(), None::<&Ended>);
    ws.expect_close(4001, Duration::from_secs(10)).await;
    let now = time::OffsetDateTime::now_utc().unix_timestamp();
    assert!(
        now >= exp(&fresh.access),
        "closed before the fresh token's expiry"
    );
}

confab_tests::store_tests!(
    bearer_and_query_tokens_both_open_a_socket_that_says_ready_first,
    missing_bad_and_expired_tokens_are_refused_with_401_before_the_upgrade,
    a_logged_out_login_cannot_open_a_socket,
    auth_with_a_fresh_token_of_the_same_user_is_acked,
    auth_with_another_users_or_a_bad_token_is_an_error_and_the_socket_stays;
    own_server: without_auth_the_socket_closes_with_4001_at_expiry,
    auth_keeps_the_socket_open_past_the_first_tokens_expiry,
);
