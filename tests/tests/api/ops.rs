//! Health, readiness, metrics, and the OpenAPI document (which must describe every route).
//! The web client's files: `web.rs`.

use confab_tests::{Body, TestServer};
use reqwest::Method;
use serde_json::json;

async fn healthz_and_readyz_answer_ok(s: &TestServer) {
    for path in ["/healthz", "/readyz"] {
        let r = s.call(Method::GET, path, None, Body::None).await;
        r.expect(200);
        assert_eq!(r.json, json!({"status": "ok"}));
    }
}

async fn metrics_count_requests_by_route_and_status(s: &TestServer) {
    s.register("alice").await;
    s.get("/users/me", None).await.expect(401);
    let r = s.call(Method::GET, "/metrics", None, Body::None).await;
    r.expect(200);
    assert!(
        r.headers["content-type"]
            .to_str()
            .unwrap()
            .starts_with("text/plain")
    );
    assert!(
        r.text
            .lines()
            .any(|l| l.starts_with("confab_http_requests_total")
                && l.contains("route=\"/api/v1/auth/register\"")
                && l.contains("status=\"201\"")),
        "{}",
        r.text
    );
    assert!(
        r.text
            .lines()
            .any(|l| l.starts_with("confab_http_requests_total")
                && l.contains("route=\"/api/v1/users/me\"")
                && l.contains("status=\"401\""))
    );
    assert!(
        r.text
            .contains("confab_http_request_duration_seconds_bucket")
    );
    // Unknown routes are counted too, under one label (not one per probed path).
    s.call(Method::GET, "/api/v1/probe-123", None, Body::None)
        .await;
    let r = s.call(Method::GET, "/metrics", None, Body::None).await;
    assert!(
        r.text
            .lines()
            .any(|l| l.starts_with("confab_http_requests_total")
                && l.contains("route=\"unmatched\"")
                && l.contains("status=\"404\"")),
        "{}",
        r.text
    );
    assert!(!r.text.contains("probe-123"));
}

/// The operations this server serves, from API.md (accounts, conversations and operations so
/// far), with path parameters named as API.md names them.
const EXPECTED: &[(&str, &str)] = &[
    ("POST", "/api/v1/auth/register"),
    ("POST", "/api/v1/auth/login"),
    ("POST", "/api/v1/auth/refresh"),
    ("POST", "/api/v1/auth/logout"),
    ("GET", "/api/v1/users/me"),
    ("PATCH", "/api/v1/users/me"),
    ("GET", "/api/v1/users/{id}"),
    ("GET", "/api/v1/users"),
    ("PUT", "/api/v1/users/{id}/roles/{role}"),
    ("DELETE", "/api/v1/users/{id}/roles/{role}"),
    ("POST", "/api/v1/groups"),
    ("GET", "/api/v1/groups"),
    ("POST", "/api/v1/direct"),
    ("GET", "/api/v1/groups/{id}"),
    ("PATCH", "/api/v1/groups/{id}"),
    ("DELETE", "/api/v1/groups/{id}"),
    ("PUT", "/api/v1/groups/{id}/alias"),
    ("GET", "/api/v1/groups/{id}/members"),
    ("POST", "/api/v1/groups/{id}/members"),
    ("PATCH", "/api/v1/groups/{id}/members/{user_id}"),
    ("DELETE", "/api/v1/groups/{id}/members/{user_id}"),
    ("POST", "/api/v1/groups/{id}/messages"),
    ("GET", "/api/v1/groups/{id}/messages"),
    ("PATCH", "/api/v1/messages/{id}"),
    ("DELETE", "/api/v1/messages/{id}"),
    ("POST", "/api/v1/groups/{id}/read"),
    ("GET", "/api/v1/search/messages"),
    ("GET", "/healthz"),
    ("GET", "/readyz"),
    ("GET", "/metrics"),
    ("GET", "/api/v1/openapi.json"),
    ("GET", "/api/v1/ws"),
    ("GET", "/"),
];

/// A documented path with its parameters filled: `{role}` is `admin`, any other (an id) a
/// UUID that names nothing.
fn concrete(path: &str) -> String {
    let mut out = String::new();
    let mut rest = path;
    while let Some(start) = rest.find('{') {
        out.push_str(&rest[..start]);
        let end = start + rest[start..].find('}').expect("closing brace");
        out.push_str(match &rest[start + 1..end] {
            "role" => "admin",
            _ => "00000000-0000-7000-8000-000000000000",
        });
        rest = &rest[end + 1..];
    }
    out.push_str(rest);
    out
}

async fn openapi_describes_every_route_and_every_described_route_is_served(s: &TestServer) {
    let r = s
        .call(Method::GET, "/api/v1/openapi.json", None, Body::None)
        .await;
    r.expect(200);
    assert!(r.json["openapi"].as_str().unwrap().starts_with("3.1"));
    let paths = r.json["paths"].as_object().unwrap();
    for (method, path) in EXPECTED {
        assert!(
            paths
                .get(*path)
                .and_then(|p| p.get(method.to_lowercase()))
                .is_some(),
            "{method} {path} is not documented"
        );
    }
    // Everything documented is routed: no request to it ends in the router's fallback.
    for (path, item) in paths {
        for method in item.as_object().unwrap().keys() {
            let Ok(m) = method.to_uppercase().parse::<Method>() else {
                continue;
            };
            let concrete = concrete(path);
            let r = s.call(m.clone(), &concrete, None, Body::None).await;
            assert_ne!(r.status, 405, "{m} {path}");
            assert_ne!(r.json["error"]["message"], "no such route", "{m} {path}");
        }
    }
    assert!(r.json["components"]["schemas"].get("ErrorBody").is_some());
    assert!(
        r.json["components"]["securitySchemes"]
            .get("bearer")
            .is_some()
    );
}

confab_tests::store_tests!(
    healthz_and_readyz_answer_ok,
    metrics_count_requests_by_route_and_status,
    openapi_describes_every_route_and_every_described_route_is_served,
);
