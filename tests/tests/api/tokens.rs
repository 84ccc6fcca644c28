//! Access tokens the server did not issue, or no longer honours, are refused with 401.

use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use confab_tests::{TEST_SECRET, TestServer, forge_token, token_claims};
use serde_json::json;

async fn a_tampered_signature_is_refused(s: &TestServer) {
    let me = s.register("alice").await;
    let mut parts: Vec<String> = me.access.split('.').map(str::to_owned).collect();
    let mut sig = URL_SAFE_NO_PAD.decode(&parts[2]).unwrap();
    sig[0] ^= 1;
    parts[2] = URL_SAFE_NO_PAD.encode(sig);
    s.get("/users/me", Some(&parts.join(".")))
        .await
        .expect_error(401, "unauthorized");
}

async fn a_tampered_payload_is_refused(s: &TestServer) {
    let me = s.register("alice").await;
    let victim = s.register("bob").await;
    let mut claims = token_claims(&me.access);
    claims["sub"] = json!(victim.user_id);
    let parts: Vec<&str> = me.access.split('.').collect();
    let payload = URL_SAFE_NO_PAD.encode(serde_json::to_vec(&claims).unwrap());
    let forged = format!("{}.{}.{}", parts[0], payload, parts[2]);
    s.get("/users/me", Some(&forged))
        .await
        .expect_error(401, "unauthorized");
}

async fn alg_none_is_refused(s: &TestServer) {
    let me = s.register("alice").await;
    let header = URL_SAFE_NO_PAD.encode(br#"{"alg":"none","typ":"JWT"}"#);
    let payload = me.access.split('.').nth(1).unwrap();
    for token in [
        format!("{header}.{payload}."),
        format!("{header}.{payload}"),
    ] {
        s.get("/users/me", Some(&token))
            .await
            .expect_error(401, "unauthorized");
    }
}

async fn an_expired_token_is_refused(s: &TestServer) {
    let me = s.register("alice").await;
    let mut claims = token_claims(&me.access);
    let now = time::OffsetDateTime::now_utc().unix_timestamp();
    claims["iat"] = json!(now - 3600);
    claims["exp"] = json!(now - 60);
    let expired = forge_token(&claims, TEST_SECRET.as_bytes());
    s.get("/users/me", Some(&expired))
        .await
        .expect_error(401, "unauthorized");
    // The same claims with a future expiry are accepted: the expiry is what was refused.
    claims["exp"] = json!(now + 600);
    s.get(
        "/users/me",
        Some(&forge_token(&claims, TEST_SECRET.as_bytes())),
    )
    .await
    .expect(200);
}

async fn a_token_signed_with_another_secret_is_refused(s: &TestServer) {
    let me = s.register("alice").await;
    let claims = token_claims(&me.access);
    let forged = forge_token(&claims, b"another-secret-another-secret-another!!");
    s.get("/users/me", Some(&forged))
        .await
        .expect_error(401, "unauthorized");
}

async fn malformed_authorization_headers_are_refused(s: &TestServer) {
    let me = s.register("alice").await;
    for value in [
        String::new(),
        "Bearer".to_owned(),
        "Bearer ".to_owned(),
        format!("Basic {}", me.access),
        format!("Token {}", me.access),
        "Bearer not.a.jwt".to_owned(),
        format!("Bearer {}", "a".repeat(5000)),
    ] {
        let r = s
            .http
            .get(s.url("/api/v1/users/me"))
            .header("authorization", value.clone())
            .send()
            .await
            .unwrap();
        assert_eq!(r.status().as_u16(), 401, "{value:.40}");
        let body: serde_json::Value = r.json().await.unwrap();
        assert_eq!(body["error"]["code"], "unauthorized");
    }
    // Lower-case scheme is fine (RFC 7235: the scheme is case-insensitive).
    let r = s
        .http
        .get(s.url("/api/v1/users/me"))
        .header("authorization", format!("bearer {}", me.access))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status().as_u16(), 200);
}

async fn a_token_for_a_forged_session_is_refused(s: &TestServer) {
    let me = s.register("alice").await;
    let mut claims = token_claims(&me.access);
    claims["sid"] = json!(uuid::Uuid::now_v7());
    s.get(
        "/users/me",
        Some(&forge_token(&claims, TEST_SECRET.as_bytes())),
    )
    .await
    .expect_error(401, "unauthorized");
}

/// Time moved through the clock port (no sleeping): an access token ends with its lifetime, a
/// refresh token outlives it and brings a fresh pair.
async fn a_token_ends_when_the_clock_passes_its_lifetime(s: &TestServer) {
    let me = s.register("alice").await;
    s.get("/users/me", Some(&me.access)).await.expect(200);
    s.advance(std::time::Duration::from_secs(16 * 60));
    s.get("/users/me", Some(&me.access))
        .await
        .expect_error(401, "unauthorized");
    let r = s
        .post(
            "/auth/refresh",
            None,
            serde_json::json!({"refresh_token": me.refresh}),
        )
        .await;
    r.expect(200);
    let fresh = r.json["tokens"]["access_token"].as_str().unwrap();
    s.get("/users/me", Some(fresh)).await.expect(200);
}

confab_tests::store_tests!(
    a_token_ends_when_the_clock_passes_its_lifetime,
    a_tampered_signature_is_refused,
    a_tampered_payload_is_refused,
    alg_none_is_refused,
    an_expired_token_is_refused,
    a_token_signed_with_another_secret_is_refused,
    malformed_authorization_headers_are_refused,
    a_token_for_a_forged_session_is_refused,
);
