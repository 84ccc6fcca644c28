//! Hostile input on every conversation path: ids that are not UUIDs, negative and huge numbers,
//! empty, blank and oversized bodies, NUL bytes, unknown fields and wrong JSON types. Each gets
//! a clear 4xx (never a 500), and nothing changes.

use confab_tests::chat::id;
use confab_tests::{Body, Session, TestServer};
use reqwest::Method;
use serde_json::{Value, json};

/// A group (alice owner, bob member) with one message of bob's: `(alice, bob, group, message)`.
async fn setup(s: &TestServer) -> (Session, Session, String, String) {
    let alice = s.register("alice").await;
    let bob = s.register("bob").await;
    let g = id(&s.create_group(&alice, "Team", &[&bob]).await);
    let m = id(&s.send(&bob, &g, "hello").await);
    (alice, bob, g, m)
}

/// Every route with a path id, with a valid body, and `{g}`, `{u}`, `{m}` to fill in.
fn routes() -> Vec<(Method, &'static str, Option<Value>)> {
    vec![
        (Method::GET, "/groups/{g}", None),
        (Method::PATCH, "/groups/{g}", Some(json!({"name": "x"}))),
        (Method::DELETE, "/groups/{g}", None),
        (
            Method::PUT,
            "/groups/{g}/alias",
            Some(json!({"alias": "x"})),
        ),
        (Method::GET, "/groups/{g}/members", None),
        (
            Method::POST,
            "/groups/{g}/members",
            Some(json!({"user_id": "{u}"})),
        ),
        (
            Method::PATCH,
            "/groups/{g}/members/{u}",
            Some(json!({"role": "admin"})),
        ),
        (Method::DELETE, "/groups/{g}/members/{u}", None),
        (
            Method::POST,
            "/groups/{g}/messages",
            Some(json!({"body": "x"})),
        ),
        (Method::GET, "/groups/{g}/messages", None),
        (Method::POST, "/groups/{g}/read", Some(json!({"seq": 1}))),
        (Method::PATCH, "/messages/{m}", Some(json!({"body": "x"}))),
        (Method::DELETE, "/messages/{m}", None),
    ]
}

fn fill(v: &str, g: &str, u: &str, m: &str) -> String {
    v.replace("{g}", g).replace("{u}", u).replace("{m}", m)
}

fn fill_body(body: &Option<Value>, g: &str, u: &str, m: &str) -> Body {
    match body {
        Some(v) => Body::Json(serde_json::from_str(&fill(&v.to_string(), g, u, m)).unwrap()),
        None => Body::None,
    }
}

async fn ids_that_are_not_uuids_name_nothing(s: &TestServer) {
    let (alice, bob, g, m) = setup(s).await;
    let carol = s.register("carol").await;
    for bad in [
        "not-a-uuid",
        "1",
        "00000000-0000-0000-0000-000000000000",
        "%00",
        "..%2Fusers%2Fme",
        "'%20OR%201=1",
        &"a".repeat(5000),
        &format!("{g}x"),
    ] {
        for (method, path, body) in routes() {
            // Each id position in turn, the others real.
            for (gg, uu, mm) in [
                (bad, carol.user_id.as_str(), bad),
                (g.as_str(), bad, m.as_str()),
            ] {
                if !path.contains("{u}") && gg == g {
                    continue;
                }
                let full = format!("/api/v1{}", fill(path, gg, uu, mm));
                let r = s
                    .call(
                        method.clone(),
                        &full,
                        Some(&alice.access),
                        fill_body(&body, gg, uu, mm),
                    )
                    .await;
                r.expect_error(404, "not_found");
            }
        }
    }
    // Nothing changed.
    let group = s.group(&alice, &g).await;
    assert_eq!(
        (&group["name"], &group["member_count"], &group["last_rev"]),
        (&json!("Team"), &json!(2), &json!(1))
    );
    assert_eq!(s.history(&bob, &g, "").await.0[0]["body"], "hello");
}

async fn negative_and_huge_numbers_are_refused_cleanly(s: &TestServer) {
    let (alice, _bob, g, _m) = setup(s).await;
    let history = |q: &str| format!("/groups/{g}/messages?{q}");
    for (q, status) in [
        ("before=-1", 422),
        ("after=-5", 422),
        ("limit=-1", 422),
        ("limit=0", 422),
        ("before=99999999999999999999", 400),
        ("after=18446744073709551616", 400),
        ("limit=18446744073709551616", 400),
        ("limit=abc", 400),
        ("before=1.5", 400),
        ("before=", 400),
        ("before=1&before=2", 400),
        ("sort=asc", 400),
        ("before=1&after=0", 400),
        ("before=9223372036854775807", 200),
        ("after=9223372036854775807", 200),
        ("limit=1000000", 200),
        ("limit=9223372036854775807", 200),
    ] {
        let r = s.get(&history(q), Some(&alice.access)).await;
        assert_eq!(r.status, status, "{q}: {}", r.text);
        assert_ne!(r.status, 500);
    }
    let read = format!("/groups/{g}/read");
    for seq in [json!(-1), json!(i64::MIN)] {
        let r = s
            .post(&read, Some(&alice.access), json!({"seq": seq}))
            .await;
        r.expect_error(422, "validation_failed");
        assert_eq!(r.field(), Some("seq"));
    }
    for seq in [json!("1"), json!(1.5), json!(1e30), json!(null), json!([1])] {
        s.post(&read, Some(&alice.access), json!({"seq": seq}))
            .await
            .expect_error(400, "bad_request");
    }
    s.post(&read, Some(&alice.access), json!({"seq": i64::MAX}))
        .await
        .expect(204);
    assert_eq!(s.my(&alice, &g).await["last_read_seq"], 1);
    for (q, status) in [
        ("q=hello&limit=0", 422),
        ("q=hello&limit=-3", 422),
        ("q=hello&limit=abc", 400),
        ("q=hello&limit=1000", 200),
        ("q=hello&q=bye", 400),
        ("q=hello&group_id=not-a-uuid", 400),
        ("q=hello&color=red", 400),
    ] {
        let r = s
            .get(&format!("/search/messages?{q}"), Some(&alice.access))
            .await;
        assert_eq!(r.status, status, "{q}: {}", r.text);
    }
}

async fn empty_blank_and_oversized_bodies_are_422(s: &TestServer) {
    let (_alice, bob, g, m) = setup(s).await;
    for bad in [
        String::new(),
        "   ".to_owned(),
        "\n\t \r\n".to_owned(),
        "\u{a0}\u{2003}".to_owned(),
        "x".repeat(4001),
        "a\u{0}b".to_owned(),
        "\u{0}".to_owned(),
    ] {
        let r = s.try_send(&bob, &g, json!({"body": bad})).await;
        r.expect_error(422, "validation_failed");
        assert_eq!(r.field(), Some("body"));
        let r = s.try_edit(&bob, &m, &bad).await;
        r.expect_error(422, "validation_failed");
        assert_eq!(r.field(), Some("body"));
    }
    // A raw NUL byte is not JSON.
    let r = s
        .call(
            Method::POST,
            &format!("/api/v1/groups/{g}/messages"),
            Some(&bob.access),
            Body::Raw {
                content_type: Some("application/json"),
                bytes: b"{\"body\":\"a\x00b\"}".to_vec(),
            },
        )
        .await;
    r.expect_error(400, "bad_request");
    // NUL in names, aliases and client ids.
    let r = s
        .post("/groups", Some(&bob.access), json!({"name": "a\u{0}b"}))
        .await;
    r.expect_error(422, "validation_failed");
    let r = s
        .put_json(
            &format!("/groups/{g}/alias"),
            Some(&bob.access),
            json!({"alias": "a\u{0}"}),
        )
        .await;
    r.expect_error(422, "validation_failed");
    let r = s
        .try_send(&bob, &g, json!({"body": "x", "client_id": "a\u{0}"}))
        .await;
    r.expect_error(422, "validation_failed");
    assert_eq!(s.group(&bob, &g).await["last_rev"], 1);
    assert_eq!(s.history(&bob, &g, "").await.0[0]["body"], "hello");
}

async fn unknown_fields_and_wrong_types_are_400(s: &TestServer) {
    let (alice, bob, g, m) = setup(s).await;
    let carol = s.register("carol").await;
    let u = carol.user_id.as_str();
    let cases: Vec<(Method, String, Vec<Value>)> = vec![
        (
            Method::POST,
            "/groups".into(),
            vec![
                json!({"name": "x", "owner_id": u}),
                json!({"name": 5}),
                json!({"name": null}),
                json!({}),
                json!({"name": "x", "member_ids": u}),
                json!({"name": "x", "member_ids": [5]}),
                json!(["x"]),
            ],
        ),
        (
            Method::POST,
            "/direct".into(),
            vec![
                json!({"user_id": u, "kind": "group"}),
                json!({"user_id": [u]}),
                json!({"username": 5}),
                json!("carol"),
            ],
        ),
        (
            Method::PATCH,
            format!("/groups/{g}"),
            vec![
                json!({"name": "x", "kind": "direct"}),
                json!({"name": ["x"]}),
                json!({"name": null}),
                json!({}),
            ],
        ),
        (
            Method::PUT,
            format!("/groups/{g}/alias"),
            vec![
                json!({"alias": "x", "name": "y"}),
                json!({"alias": 5}),
                json!({"alias": {"text": "x"}}),
                json!(null),
            ],
        ),
        (
            Method::POST,
            format!("/groups/{g}/members"),
            vec![
                json!({"user_id": u, "is_owner": true}),
                json!({"user_id": 5}),
                json!({"user_id": "not-a-uuid"}),
                json!({"user_id": u, "role": 1}),
                json!({"role": "member"}),
            ],
        ),
        (
            Method::PATCH,
            format!("/groups/{g}/members/{}", bob.user_id),
            vec![
                json!({"role": "admin", "user_id": u}),
                json!({"role": true}),
                json!({"role": null}),
                json!({}),
            ],
        ),
        (
            Method::POST,
            format!("/groups/{g}/messages"),
            vec![
                json!({"body": "x", "seq": 99}),
                json!({"body": "x", "sender_id": u}),
                json!({"body": 5}),
                json!({"body": null}),
                json!({"body": ["x"]}),
                json!({"body": "x", "client_id": 5}),
                json!({}),
            ],
        ),
        (
            Method::PATCH,
            format!("/messages/{m}"),
            vec![
                json!({"body": "x", "deleted": true}),
                json!({"body": 5}),
                json!({}),
            ],
        ),
        (
            Method::POST,
            format!("/groups/{g}/read"),
            vec![json!({"seq": 1, "user_id": u}), json!({}), json!(1)],
        ),
    ];
    for (method, path, bodies) in cases {
        for body in bodies {
            let r = s
                .call(
                    method.clone(),
                    &format!("/api/v1{path}"),
                    Some(&alice.access),
                    Body::Json(body.clone()),
                )
                .await;
            assert_eq!(r.status, 400, "{method} {path} {body}: {}", r.text);
            r.expect_error(400, "bad_request");
        }
    }
    // Nothing sneaked in.
    let group = s.group(&alice, &g).await;
    assert_eq!(
        (&group["name"], &group["member_count"], &group["last_rev"]),
        (&json!("Team"), &json!(2), &json!(1))
    );
    assert_eq!(group["my"]["alias"], Value::Null);
    assert_eq!(s.role_of(&alice, &g, &bob).await.as_deref(), Some("member"));
    assert_eq!(s.groups(&alice).await.len(), 1);
    assert_eq!(s.groups(&carol).await.len(), 0);
}

async fn wrong_methods_and_content_types_are_refused(s: &TestServer) {
    let (alice, _bob, g, m) = setup(s).await;
    for (method, path) in [
        (Method::PUT, format!("/api/v1/groups/{g}/messages")),
        (Method::GET, format!("/api/v1/groups/{g}/read")),
        (Method::POST, format!("/api/v1/messages/{m}")),
        (Method::POST, "/api/v1/search/messages".to_owned()),
        (Method::GET, "/api/v1/direct".to_owned()),
        (Method::PUT, format!("/api/v1/groups/{g}")),
    ] {
        let r = s
            .call(method.clone(), &path, Some(&alice.access), Body::None)
            .await;
        r.expect_error(405, "method_not_allowed");
        assert!(r.headers.contains_key("allow"), "{method} {path}");
    }
    for (method, path) in [
        (Method::POST, "/api/v1/groups".to_owned()),
        (Method::POST, format!("/api/v1/groups/{g}/messages")),
        (Method::PATCH, format!("/api/v1/messages/{m}")),
        (Method::PUT, format!("/api/v1/groups/{g}/alias")),
    ] {
        let body = Body::Raw {
            content_type: Some("text/plain"),
            bytes: br#"{"name":"x","body":"x","alias":"x"}"#.to_vec(),
        };
        s.call(method, &path, Some(&alice.access), body)
            .await
            .expect_error(415, "unsupported_media_type");
    }
    assert_eq!(s.groups(&alice).await.len(), 1);
    assert_eq!(s.group(&alice, &g).await["last_rev"], 1);
}

confab_tests::store_tests!(
    ids_that_are_not_uuids_name_nothing,
    negative_and_huge_numbers_are_refused_cleanly,
    empty_blank_and_oversized_bodies_are_422,
    unknown_fields_and_wrong_types_are_400,
    wrong_methods_and_content_types_are_refused,
);
