//! The registration policy (`--registration open|invite|closed`) and invite codes: who may
//! register, the 403 codes that say why not, admins' invites (made, listed, revoked, spent one
//! use per account, atomically), and hostile codes and requests.

use confab_tests::{Body, Resp, Session, Store, TestServer};
use reqwest::Method;
use serde_json::{Value, json};

const PASSWORD: &str = "correct horse battery";

async fn register(s: &TestServer, username: &str, invite: Option<&str>) -> Resp {
    let mut body = json!({"username": username, "password": PASSWORD});
    if let Some(code) = invite {
        body["invite"] = json!(code);
    }
    s.post("/auth/register", None, body).await
}

async fn make_invite(s: &TestServer, admin: &Session, body: Value) -> String {
    let r = s.post("/invites", Some(&admin.access), body).await;
    r.expect(201);
    r.json["code"].as_str().expect("code").to_owned()
}

async fn uses_of(s: &TestServer, admin: &Session, code: &str) -> u64 {
    let r = s.get("/invites", Some(&admin.access)).await;
    r.expect(200);
    let all = r.json["invites"].as_array().expect("invites").clone();
    let found = all.iter().find(|i| i["code"] == code).expect("listed");
    found["uses"].as_u64().expect("uses")
}

/// Hostile or malformed codes: refused for their shape (422, `field: invite`).
const BAD_CODES: [&str; 6] = [
    "",
    "short",
    "has space in it",
    "abc\0defghij",
    "ünïcödé-code",
    "a/b/c/d/e/f",
];

async fn an_open_server_registers_anyone_and_still_checks_a_codes_shape(store: Store) {
    let s = TestServer::start(store).await;
    register(&s, "ada", None).await.expect(201);
    // A well-formed code is not needed, and ignored.
    register(&s, "bob", Some("never-made-code"))
        .await
        .expect(201);
    for bad in BAD_CODES.iter().copied().chain([&*"x".repeat(10_000)]) {
        let r = register(&s, "cyd", Some(bad)).await;
        r.expect_error(422, "validation_failed");
        assert_eq!(r.field(), Some("invite"), "{bad:?}");
    }
    let r = s
        .post(
            "/auth/register",
            None,
            json!({"username": "dee", "password": PASSWORD, "invite": 12345}),
        )
        .await;
    assert!(matches!(r.status, 400 | 422), "{}", r.text);
}

async fn a_closed_server_refuses_every_registration_but_admins_still_create_accounts(store: Store) {
    let s = TestServer::start_with(store, &["--registration", "closed"]).await;
    let r = register(&s, "ada", None).await;
    r.expect_error(403, "registration_closed");
    assert_eq!(r.field(), None);
    // Said before anything else is looked at: an invalid body is refused alike.
    let r = s
        .post(
            "/auth/register",
            None,
            json!({"username": "x", "password": "1"}),
        )
        .await;
    r.expect_error(403, "registration_closed");
    // The operator's way still works, and the account logs in.
    let root = s.admin_created_directly("root").await;
    // An invite admits nobody on a closed server.
    let code = make_invite(&s, &root, json!({})).await;
    register(&s, "ada", Some(&code))
        .await
        .expect_error(403, "registration_closed");
    assert_eq!(uses_of(&s, &root, &code).await, 0);
}

async fn an_invite_server_needs_a_live_code_and_spends_one_use_per_account(store: Store) {
    let s = TestServer::start_with(store, &["--registration", "invite"]).await;
    let r = register(&s, "ada", None).await;
    r.expect_error(403, "invite_required");
    assert_eq!(r.field(), Some("invite"));
    register(&s, "ada", Some("never-made-code"))
        .await
        .expect_error(403, "invite_invalid");
    for bad in BAD_CODES {
        let r = register(&s, "ada", Some(bad)).await;
        r.expect_error(422, "validation_failed");
        assert_eq!(r.field(), Some("invite"), "{bad:?}");
    }

    let root = s.admin_created_directly("root").await;
    let once = make_invite(&s, &root, json!({})).await;
    let ada = register(&s, "ada", Some(&once)).await;
    ada.expect(201);
    assert_eq!(ada.json["user"]["username"], "ada");
    // Single-use: spent.
    register(&s, "bob", Some(&once))
        .await
        .expect_error(403, "invite_invalid");
    assert_eq!(uses_of(&s, &root, &once).await, 1);

    // A refused account spends nothing: a taken username keeps the use.
    let three = make_invite(&s, &root, json!({"max_uses": 3})).await;
    register(&s, "ada", Some(&three))
        .await
        .expect_error(409, "conflict");
    assert_eq!(uses_of(&s, &root, &three).await, 0);
    for name in ["bob", "cyd", "dee"] {
        register(&s, name, Some(&three)).await.expect(201);
    }
    register(&s, "eve", Some(&three))
        .await
        .expect_error(403, "invite_invalid");
    assert_eq!(uses_of(&s, &root, &three).await, 3);

    // Revoked: admits nobody, and revoking again is 404.
    let gone = make_invite(&s, &root, json!({"max_uses": 5})).await;
    s.delete(&format!("/invites/{gone}"), Some(&root.access))
        .await
        .expect(204);
    register(&s, "eve", Some(&gone))
        .await
        .expect_error(403, "invite_invalid");
    s.delete(&format!("/invites/{gone}"), Some(&root.access))
        .await
        .expect_error(404, "not_found");
}

async fn an_invite_expires(store: Store) {
    let s = TestServer::start_with(store, &["--registration", "invite"]).await;
    let root = s.admin_created_directly("root").await;
    let code = make_invite(&s, &root, json!({"expires_in": 3600, "max_uses": 2})).await;
    // No `expires_in`: seven days.
    let week = make_invite(&s, &root, json!({"max_uses": 2})).await;
    register(&s, "ada", Some(&code)).await.expect(201);
    s.advance(std::time::Duration::from_secs(3601));
    register(&s, "bob", Some(&code))
        .await
        .expect_error(403, "invite_invalid");
    register(&s, "bob", Some(&week)).await.expect(201);
    s.advance(std::time::Duration::from_secs(7 * 86_400));
    register(&s, "cyd", Some(&week))
        .await
        .expect_error(403, "invite_invalid");
}

async fn racing_registrations_on_one_code_never_overspend_it(store: Store) {
    let s = TestServer::start_with(store, &["--registration", "invite"]).await;
    let root = s.admin_created_directly("root").await;
    for uses in [1_usize, 3] {
        let code = make_invite(&s, &root, json!({"max_uses": uses})).await;
        let racers = (0..8).map(|i| {
            let s = &s;
            let code = code.clone();
            async move { register(s, &format!("racer{uses}x{i}"), Some(&code)).await }
        });
        let answers = futures::future::join_all(racers).await;
        let won = answers.iter().filter(|r| r.status == 201).count();
        for r in answers.iter().filter(|r| r.status != 201) {
            r.expect_error(403, "invite_invalid");
        }
        assert_eq!(won, uses, "exactly {uses} may win");
        assert_eq!(uses_of(&s, &root, &code).await, uses as u64);
    }
}

async fn only_admins_manage_invites_and_hostile_requests_are_refused(store: Store) {
    let s = TestServer::start(store).await;
    let ada = s.register("ada").await;
    let root = s.admin("root").await;
    // A non-admin learns 403 whatever they send.
    for body in [json!({}), json!({"max_uses": -1}), json!({"expires_in": 0})] {
        s.post("/invites", Some(&ada.access), body)
            .await
            .expect_error(403, "forbidden");
    }
    s.get("/invites", Some(&ada.access))
        .await
        .expect_error(403, "forbidden");
    let code = make_invite(&s, &root, json!({})).await;
    s.delete(&format!("/invites/{code}"), Some(&ada.access))
        .await
        .expect_error(403, "forbidden");
    assert_eq!(uses_of(&s, &root, &code).await, 0);

    for (body, field) in [
        (json!({"max_uses": 0}), "max_uses"),
        (json!({"max_uses": -1}), "max_uses"),
        (json!({"max_uses": 10_001}), "max_uses"),
        (json!({"max_uses": i64::MAX}), "max_uses"),
        (json!({"max_uses": i64::MIN}), "max_uses"),
        (json!({"expires_in": 0}), "expires_in"),
        (json!({"expires_in": -5}), "expires_in"),
        (json!({"expires_in": 365 * 86_400 + 1}), "expires_in"),
        (json!({"expires_in": i64::MAX}), "expires_in"),
    ] {
        let r = s.post("/invites", Some(&root.access), body.clone()).await;
        r.expect_error(422, "validation_failed");
        assert_eq!(r.field(), Some(field), "{body}");
    }
    for body in [
        json!({"max_uses": 1e30}),
        json!({"max_uses": "3"}),
        json!({"max_uses": 1.5}),
        json!({"code": "chosen-by-me"}),
        json!([]),
    ] {
        let r = s.post("/invites", Some(&root.access), body.clone()).await;
        assert!(matches!(r.status, 400 | 422), "{body}: {}", r.text);
    }
    let long = "a".repeat(5_000);
    for path in [
        "%00%00%00%00%00%00%00%00",
        "short",
        "never-made-code",
        long.as_str(),
        "..%2F..%2Fetc",
    ] {
        let r = s
            .delete(&format!("/invites/{path}"), Some(&root.access))
            .await;
        r.expect_error(404, "not_found");
    }
    // Listed newest first, with what a client needs.
    let newer = make_invite(&s, &root, json!({"max_uses": 2})).await;
    let r = s.get("/invites", Some(&root.access)).await;
    r.expect(200);
    let first = &r.json["invites"][0];
    assert_eq!(first["code"], newer.as_str());
    assert_eq!(first["max_uses"], 2);
    assert_eq!(first["created_by"], root.user_id.as_str());
    // No body at all is `{}` (every field may be left out): single-use, for 7 days.
    let bare = s
        .call(
            Method::POST,
            "/api/v1/invites",
            Some(&root.access),
            Body::None,
        )
        .await;
    bare.expect(201);
    assert_eq!(bare.json["max_uses"], 1);
    // A body that is there still needs the JSON content type.
    s.call(
        Method::POST,
        "/api/v1/invites",
        Some(&root.access),
        Body::Raw {
            content_type: Some("text/plain"),
            bytes: b"{}".to_vec(),
        },
    )
    .await
    .expect_error(415, "unsupported_media_type");
}

confab_tests::store_tests!(
    ; own_server:
    an_open_server_registers_anyone_and_still_checks_a_codes_shape,
    a_closed_server_refuses_every_registration_but_admins_still_create_accounts,
    an_invite_server_needs_a_live_code_and_spends_one_use_per_account,
    an_invite_expires,
    racing_registrations_on_one_code_never_overspend_it,
    only_admins_manage_invites_and_hostile_requests_are_refused,
);
