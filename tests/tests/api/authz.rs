//! Authorization, table-driven: every route × every kind of caller → the expected status.
//! The table must name every operation of the OpenAPI document, so no route can be added
//! without deciding who may call it.

use std::collections::BTreeSet;
use std::sync::atomic::{AtomicUsize, Ordering};

use confab_tests::{Body, Session, TestServer};
use reqwest::Method;
use serde_json::{Value, json};

#[derive(Debug, Clone, Copy)]
enum Who {
    Anonymous,
    User,
    Admin,
}

const WHO: [Who; 3] = [Who::Anonymous, Who::User, Who::Admin];

/// One row: method, the path as the OpenAPI document spells it, a body, and the status for
/// anonymous, user and admin callers. `{id}` is another user's id, `{role}` is `admin`; in
/// bodies `"{other}"` is that user's name, `"{refresh}"` one of their refresh tokens, `"{n}"` a
/// fresh number.
struct Row {
    method: Method,
    path: &'static str,
    body: Option<Value>,
    expect: [u16; 3],
}

fn table() -> Vec<Row> {
    let row = |method: Method, path, body: Option<Value>, expect| Row {
        method,
        path,
        body,
        expect,
    };
    vec![
        row(
            Method::POST,
            "/api/v1/auth/register",
            Some(json!({"username": "new{n}", "password": "correct horse battery"})),
            [201, 201, 201],
        ),
        row(
            Method::POST,
            "/api/v1/auth/login",
            Some(json!({"login": "{other}", "password": "correct horse battery"})),
            [200, 200, 200],
        ),
        row(
            Method::POST,
            "/api/v1/auth/refresh",
            Some(json!({"refresh_token": "{refresh}"})),
            [200, 200, 200],
        ),
        row(
            Method::POST,
            "/api/v1/auth/logout",
            Some(json!({"refresh_token": "{refresh}"})),
            [204, 204, 204],
        ),
        row(Method::GET, "/api/v1/users/me", None, [401, 200, 200]),
        row(
            Method::PATCH,
            "/api/v1/users/me",
            Some(json!({"display_name": "Someone"})),
            [401, 200, 200],
        ),
        row(Method::GET, "/api/v1/users/{id}", None, [401, 200, 200]),
        row(Method::GET, "/api/v1/users", None, [401, 200, 200]),
        row(
            Method::PUT,
            "/api/v1/users/{id}/roles/{role}",
            None,
            [401, 403, 204],
        ),
        row(
            Method::DELETE,
            "/api/v1/users/{id}/roles/{role}",
            None,
            [401, 403, 204],
        ),
        row(Method::GET, "/healthz", None, [200, 200, 200]),
        row(Method::GET, "/readyz", None, [200, 200, 200]),
        row(Method::GET, "/metrics", None, [200, 200, 200]),
        row(Method::GET, "/api/v1/openapi.json", None, [200, 200, 200]),
    ]
}

static N: AtomicUsize = AtomicUsize::new(0);

fn fresh() -> usize {
    N.fetch_add(1, Ordering::Relaxed)
}

fn fill(v: &Value, other: &Session, n: usize) -> Value {
    match v {
        Value::String(s) => Value::String(
            s.replace("{other}", &other.username)
                .replace("{refresh}", &other.refresh)
                .replace("{n}", &n.to_string()),
        ),
        Value::Object(m) => Value::Object(
            m.iter()
                .map(|(k, v)| (k.clone(), fill(v, other, n)))
                .collect(),
        ),
        other_value => other_value.clone(),
    }
}

async fn every_route_answers_each_caller_as_the_table_says(s: &TestServer) {
    for row in table() {
        for (who, expected) in WHO.iter().zip(row.expect) {
            let n = fresh();
            let other = s.register(&format!("other{n}")).await;
            let token = match who {
                Who::Anonymous => None,
                Who::User => Some(s.register(&format!("user{n}")).await.access),
                Who::Admin => Some(s.admin(&format!("admin{n}")).await.access),
            };
            let path = row
                .path
                .replace("{id}", &other.user_id)
                .replace("{role}", "admin");
            let body = match &row.body {
                Some(b) => Body::Json(fill(b, &other, n)),
                None => Body::None,
            };
            let r = s
                .call(row.method.clone(), &path, token.as_deref(), body)
                .await;
            assert_eq!(
                r.status, expected,
                "{} {} as {who:?}: {}",
                row.method, row.path, r.text
            );
        }
    }
}

async fn the_table_covers_every_documented_operation(s: &TestServer) {
    let doc = s
        .call(Method::GET, "/api/v1/openapi.json", None, Body::None)
        .await;
    let mut documented = BTreeSet::new();
    for (path, item) in doc.json["paths"].as_object().unwrap() {
        for method in item.as_object().unwrap().keys() {
            if ["get", "post", "put", "patch", "delete"].contains(&method.as_str()) {
                documented.insert((method.to_uppercase(), path.clone()));
            }
        }
    }
    let tabled: BTreeSet<_> = table()
        .iter()
        .map(|r| (r.method.to_string(), r.path.to_owned()))
        .collect();
    assert_eq!(
        documented, tabled,
        "every documented operation needs a row, and only those"
    );
}

confab_tests::store_tests!(
    every_route_answers_each_caller_as_the_table_says,
    the_table_covers_every_documented_operation,
);
