//! Health, readiness, metrics (names, HELP lines, build info, process figures), the OpenAPI
//! document (which must describe every route) and its UI at `/api/docs`.
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

/// Every metric is named `confab_…` and described; build info and the process's figures are
/// there.
async fn every_metric_is_prefixed_and_described(s: &TestServer) {
    s.register("alice").await;
    let r = s.call(Method::GET, "/metrics", None, Body::None).await;
    r.expect(200);
    let typed: Vec<&str> = r
        .text
        .lines()
        .filter_map(|l| l.strip_prefix("# TYPE "))
        .filter_map(|l| l.split(' ').next())
        .collect();
    assert!(typed.len() > 20, "{}", r.text);
    for name in &typed {
        assert!(
            name.starts_with("confab_"),
            "{name} is not confab_-prefixed"
        );
        let help = format!("# HELP {name} ");
        assert!(
            r.text
                .lines()
                .any(|l| l.starts_with(&help) && l.len() > help.len() + 10),
            "{name} has no HELP line"
        );
    }
    for line in r
        .text
        .lines()
        .filter(|l| !l.is_empty() && !l.starts_with('#'))
    {
        assert!(line.starts_with("confab_"), "{line}");
    }
    for wanted in [
        "confab_build_info",
        "confab_http_requests_total",
        "confab_http_request_duration_seconds",
        "confab_process_resident_memory_bytes",
        "confab_process_cpu_seconds_total",
        "confab_process_open_fds",
        "confab_process_start_time_seconds",
        "confab_process_threads",
    ] {
        assert!(typed.contains(&wanted), "{wanted} missing:\n{}", r.text);
    }
    let build = format!(
        "confab_build_info{{version=\"{}\",commit=\"",
        env!("CARGO_PKG_VERSION")
    );
    assert!(
        r.text
            .lines()
            .any(|l| l.starts_with(&build) && l.ends_with("\"} 1")),
        "{}",
        r.text
    );
    let rss = r
        .text
        .lines()
        .find_map(|l| l.strip_prefix("confab_process_resident_memory_bytes "))
        .and_then(|v| v.trim().parse::<f64>().ok())
        .unwrap_or_default();
    assert!(rss > 1_000_000.0, "resident memory {rss}");
}

/// `/api/docs`: an HTML page loading only this server's files, which are served, over the
/// server's own OpenAPI document.
async fn api_docs_load_nothing_from_another_origin(s: &TestServer) {
    let r = s.call(Method::GET, "/api/docs", None, Body::None).await;
    r.expect(200);
    assert!(
        r.headers["content-type"]
            .to_str()
            .unwrap()
            .starts_with("text/html")
    );
    let policy = r.headers["content-security-policy"].to_str().unwrap();
    assert!(policy.contains("script-src 'self';"), "{policy}");
    assert!(policy.contains("connect-src 'self'"), "{policy}");
    assert!(
        !r.text.contains("https://") && !r.text.contains("http://"),
        "{}",
        r.text
    );
    let mut loaded = Vec::new();
    for attribute in ["src=\"", "href=\""] {
        for part in r.text.split(attribute).skip(1) {
            let url = part.split('"').next().unwrap();
            assert!(url.starts_with('/') && !url.starts_with("//"), "{url}");
            loaded.push(url.to_owned());
        }
    }
    assert_eq!(loaded.len(), 3, "{loaded:?}");
    for url in &loaded {
        let file = s.call(Method::GET, url, None, Body::None).await;
        file.expect(200);
        let kind = file.headers["content-type"].to_str().unwrap().to_owned();
        assert!(
            kind.starts_with("text/javascript") || kind.starts_with("text/css"),
            "{url}: {kind}"
        );
        assert!(!file.text.is_empty());
        if url.ends_with("init.js") {
            assert!(
                file.text.contains("\"/api/v1/openapi.json\""),
                "{}",
                file.text
            );
            assert!(file.text.contains("validatorUrl: null"), "{}", file.text);
        }
        // Asked again with its ETag: not sent twice.
        let etag = file.headers["etag"].to_str().unwrap().to_owned();
        let again = s
            .http
            .get(s.url(url))
            .header("if-none-match", etag)
            .send()
            .await
            .unwrap();
        assert_eq!(again.status(), 304, "{url}");
    }
    s.call(Method::GET, "/api/v1/openapi.json", None, Body::None)
        .await
        .expect(200);
    // Nothing else of the directory, nothing outside it.
    for path in [
        "/api/docs/README.md",
        "/api/docs/index.html",
        "/api/docs/nope.js",
        "/api/docs/..%2FCargo.toml",
        "/api/docs/%2e%2e",
        "/api/docs/.hidden.js",
        "/api/docs/a%00.js",
    ] {
        let r = s.call(Method::GET, path, None, Body::None).await;
        assert_eq!(r.status, 404, "{path}: {}", r.text);
    }
    let long = format!("/api/docs/{}.js", "a".repeat(5000));
    let r = s.call(Method::GET, &long, None, Body::None).await;
    assert!(
        r.status == 404 || r.status == 414 || r.status == 431,
        "{}",
        r.status
    );
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
    ("GET", "/api/docs"),
    ("GET", "/api/docs/{file}"),
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
    every_metric_is_prefixed_and_described,
    api_docs_load_nothing_from_another_origin,
);
