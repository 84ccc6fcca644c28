//! Announcements: admins announce, every user pages through them newest first, and every
//! connected socket of every user — in a group or not — hears `announcement.created`.

use std::time::Duration;

use confab_tests::chat::{id, is_rfc3339_ms_utc, keys, text};
use confab_tests::ws::kind;
use confab_tests::{Body, Resp, Session, TestServer};
use reqwest::Method;
use serde_json::{Value, json};

/// Query strings every list paged by `before=<id>&limit=<n>` refuses with 400: values that do
/// not parse, a repeated parameter, unknown ones.
pub(crate) const BAD_PAGE_QUERIES: [&str; 9] = [
    "limit=abc",
    "limit=1.5",
    "limit=99999999999999999999",
    "before=not-a-uuid",
    "before=42",
    "before=",
    "limit=1&limit=2",
    "after=0190c0ff-ee00-7000-8000-000000000000",
    "page=2",
];

async fn announce(s: &TestServer, who: &Session, body: &str) -> Resp {
    s.post("/announcements", Some(&who.access), json!({ "body": body }))
        .await
}

/// Announces and returns the 201's announcement.
async fn announced(s: &TestServer, who: &Session, body: &str) -> Value {
    let r = announce(s, who, body).await;
    r.expect(201);
    r.json
}

/// `GET /announcements?{query}` as `who`: `(announcements, has_more)`.
async fn list(s: &TestServer, who: &Session, query: &str) -> (Vec<Value>, bool) {
    let r = s
        .get(&format!("/announcements?{query}"), Some(&who.access))
        .await;
    r.expect(200);
    assert_eq!(keys(&r.json), ["announcements", "has_more"], "{}", r.text);
    let page = r.json["announcements"]
        .as_array()
        .expect("an array")
        .clone();
    (page, r.json["has_more"].as_bool().expect("has_more"))
}

fn bodies(page: &[Value]) -> Vec<String> {
    page.iter().map(|a| text(a, "body")).collect()
}

async fn an_admin_announces_and_every_user_reads_it(s: &TestServer) {
    let root = s.admin("root").await;
    let bob = s.register("bob").await;
    let a = announced(s, &root, "  maintenance at noon\n").await;
    assert_eq!(keys(&a), ["body", "created_at", "id", "sender_id"], "{a}");
    assert_eq!(a["body"], "maintenance at noon", "trimmed like a message");
    assert_eq!(a["sender_id"], root.user_id.as_str());
    assert!(is_rfc3339_ms_utc(&text(&a, "created_at")), "{a}");
    assert_eq!(uuid::Uuid::parse_str(&id(&a)).unwrap().get_version_num(), 7);
    // Every user reads it, the admin too; a body of exactly 4000 characters is fine.
    for who in [&bob, &root] {
        let (page, more) = list(s, who, "").await;
        assert_eq!((page, more), (vec![a.clone()], false));
    }
    announced(s, &root, &"é".repeat(4000)).await;
    // Anonymous callers get neither.
    s.get("/announcements", None)
        .await
        .expect_error(401, "unauthorized");
    s.post("/announcements", None, json!({"body": "hi"}))
        .await
        .expect_error(401, "unauthorized");
}

async fn a_non_admin_is_forbidden_and_a_revoked_admin_at_once(s: &TestServer) {
    let root = s.admin("root").await;
    let bob = s.register("bob").await;
    for body in ["hello everyone", "", &"x".repeat(5000)] {
        // The role is checked before the body: a non-admin learns nothing more.
        announce(s, &bob, body).await.expect_error(403, "forbidden");
    }
    // Granted: bob may; revoked: at once, he may not (the role is read on every request).
    let path = format!("/users/{}/roles/admin", bob.user_id);
    s.put(&path, Some(&root.access)).await.expect(204);
    announced(s, &bob, "now I may").await;
    s.delete(&path, Some(&root.access)).await.expect(204);
    announce(s, &bob, "and now not")
        .await
        .expect_error(403, "forbidden");
    let (page, _) = list(s, &bob, "").await;
    assert_eq!(bodies(&page), ["now I may"]);
}

async fn the_list_pages_newest_first_with_before_and_limit(s: &TestServer) {
    let root = s.admin("root").await;
    let bob = s.register("bob").await;
    let mut made = Vec::new();
    for n in 0..7 {
        made.push(announced(s, &root, &format!("news {n}")).await);
        // Times move too (the server's clock, without sleeping): newest first by id is
        // newest first by time.
        s.advance(Duration::from_secs(60));
    }
    let newest_first: Vec<Value> = made.iter().rev().cloned().collect();
    let (all, more) = list(s, &bob, "").await;
    assert_eq!((&all, more), (&newest_first, false));
    let times: Vec<String> = all.iter().map(|a| text(a, "created_at")).collect();
    assert!(times.windows(2).all(|w| w[0] > w[1]), "{times:?}");

    // Pages of 3 by `before`: 3 + 3 + 1, has_more until the last.
    let (p1, more1) = list(s, &bob, "limit=3").await;
    assert_eq!((&p1[..], more1), (&newest_first[0..3], true));
    let (p2, more2) = list(s, &bob, &format!("limit=3&before={}", id(&p1[2]))).await;
    assert_eq!((&p2[..], more2), (&newest_first[3..6], true));
    let (p3, more3) = list(s, &bob, &format!("before={}&limit=3", id(&p2[2]))).await;
    assert_eq!((&p3[..], more3), (&newest_first[6..], false));
    // Exactly the rest: no more.
    let (p, more) = list(s, &bob, &format!("limit=1&before={}", id(&p2[2]))).await;
    assert_eq!((&p[..], more), (&newest_first[6..], false));
    // Before the oldest: nothing.
    let (p, more) = list(s, &bob, &format!("before={}", id(&made[0]))).await;
    assert_eq!((p.len(), more), (0, false));
    // `before` is only a bound: an id that names no announcement works as well.
    let future = uuid::Uuid::now_v7();
    let (p, _) = list(s, &bob, &format!("before={future}")).await;
    assert_eq!(p, newest_first);
    let (p, more) = list(s, &bob, &format!("before={}", uuid::Uuid::nil())).await;
    assert_eq!((p.len(), more), (0, false));
}

async fn the_limit_defaults_to_50_and_is_capped_at_100(s: &TestServer) {
    let root = s.admin("root").await;
    for n in 0..101 {
        announced(s, &root, &format!("n{n}")).await;
    }
    let (p, more) = list(s, &root, "").await;
    assert_eq!((p.len(), more), (50, true));
    assert_eq!(text(&p[0], "body"), "n100");
    let (p, more) = list(s, &root, "limit=1000").await;
    assert_eq!((p.len(), more), (100, true));
    let (p, more) = list(s, &root, "limit=9223372036854775807").await;
    assert_eq!((p.len(), more), (100, true));
    let (p, more) = list(s, &root, &format!("limit=100&before={}", id(&p[99]))).await;
    assert_eq!((bodies(&p), more), (vec!["n0".to_owned()], false));
}

async fn every_connected_socket_of_every_user_hears_it(s: &TestServer) {
    let root = s.admin("root").await;
    let bob = s.register("bob").await; // in no group at all
    let carol = s.register("carol").await;
    let dave = s.register("dave").await;
    let g = id(&s.create_group(&carol, "team", &[&dave]).await);
    let mut sockets = Vec::new();
    sockets.extend(s.sockets(&root, 2).await);
    sockets.extend(s.sockets(&bob, 3).await);
    sockets.extend(s.sockets(&carol, 1).await);
    sockets.extend(s.sockets(&dave, 1).await);

    let a = announced(s, &root, "hello, everyone").await;
    for ws in &mut sockets {
        let f = ws.take_of("announcement.created").await;
        assert_eq!(
            f,
            json!({"type": "announcement.created", "announcement": a}),
            "exactly the created announcement"
        );
    }
    // Exactly once each, and group traffic goes on as before.
    s.send(&carol, &g, "after the news").await;
    let b = announced(s, &root, "second").await;
    for ws in &mut sockets {
        let f = ws.take_of("announcement.created").await;
        assert_eq!(f["announcement"], b);
        let rest = ws.collect(Duration::from_millis(200)).await;
        assert!(
            rest.iter().all(|f| kind(f) != "announcement.created"),
            "{rest:?}"
        );
    }
    // A socket opened afterwards hears only what comes after (the list has the past).
    let mut late = s.ws(&bob).await;
    let c = announced(s, &root, "third").await;
    let f = late.take_of("announcement.created").await;
    assert_eq!(f["announcement"], c);
    for ws in sockets {
        ws.close().await;
    }
    late.close().await;
}

async fn bad_input_is_refused(s: &TestServer) {
    let root = s.admin("root").await;
    let token = Some(root.access.as_str());
    // Rule breaks: 422 naming the field.
    for body in ["", "   \n\t", "\u{200B}\u{3164}", "bell\u{7}"] {
        let r = announce(s, &root, body).await;
        r.expect_error(422, "validation_failed");
        assert_eq!(r.field(), Some("body"), "{body:?}: {}", r.text);
    }
    let r = announce(s, &root, &"x".repeat(4001)).await;
    r.expect_error(422, "validation_failed");
    assert_eq!(r.field(), Some("body"));
    // Wrong shapes: 400.
    for bad in [
        json!({}),
        json!({"body": null}),
        json!({"body": 42}),
        json!({"body": ["a"]}),
        json!({"body": "hi", "to": "everyone"}),
        json!(["hi"]),
        json!("hi"),
    ] {
        s.post("/announcements", token, bad.clone())
            .await
            .expect_error(400, "bad_request");
    }
    for raw in [&b"{"[..], b"{\"body\": \"a\"", b"not json", b""] {
        let r = s
            .call(
                Method::POST,
                "/api/v1/announcements",
                token,
                Body::Raw {
                    content_type: Some("application/json"),
                    bytes: raw.to_vec(),
                },
            )
            .await;
        r.expect_error(400, "bad_request");
    }
    let r = s
        .call(
            Method::POST,
            "/api/v1/announcements",
            token,
            Body::Raw {
                content_type: Some("text/plain"),
                bytes: b"{\"body\":\"hi\"}".to_vec(),
            },
        )
        .await;
    r.expect(415);
    // Over the body limit: 413 before the body is read.
    let huge = json!({"body": "x".repeat(70 * 1024)});
    s.post("/announcements", token, huge)
        .await
        .expect_error(413, "payload_too_large");

    // The list's query.
    for query in BAD_PAGE_QUERIES {
        let r = s.get(&format!("/announcements?{query}"), token).await;
        r.expect_error(400, "bad_request");
    }
    for query in ["limit=0", "limit=-1", "limit=-9223372036854775808"] {
        let r = s.get(&format!("/announcements?{query}"), token).await;
        r.expect_error(422, "validation_failed");
        assert_eq!(r.field(), Some("limit"), "{query}");
    }
    // Nothing was recorded by any of it.
    let (page, _) = list(s, &root, "").await;
    assert!(page.is_empty(), "{page:?}");
}

async fn the_openapi_document_describes_both_routes(s: &TestServer) {
    let doc = s
        .call(Method::GET, "/api/v1/openapi.json", None, Body::None)
        .await;
    doc.expect(200);
    let path = &doc.json["paths"]["/api/v1/announcements"];
    assert!(
        path["post"].is_object() && path["get"].is_object(),
        "{path}"
    );
    let request = &doc.json["components"]["schemas"]["AnnounceRequest"];
    assert_eq!(request["required"], json!(["body"]), "{request}");
    assert_eq!(request["properties"]["body"]["type"], "string", "{request}");
    let params: Vec<&str> = path["get"]["parameters"]
        .as_array()
        .expect("parameters")
        .iter()
        .filter_map(|p| p["name"].as_str())
        .collect();
    assert_eq!(params, ["before", "limit"]);
}

confab_tests::store_tests!(
    an_admin_announces_and_every_user_reads_it,
    a_non_admin_is_forbidden_and_a_revoked_admin_at_once,
    the_list_pages_newest_first_with_before_and_limit,
    the_limit_defaults_to_50_and_is_capped_at_100,
    every_connected_socket_of_every_user_hears_it,
    bad_input_is_refused,
    the_openapi_document_describes_both_routes,
);
