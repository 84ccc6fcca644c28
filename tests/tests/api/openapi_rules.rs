//! The OpenAPI document states the rules the server enforces: each limit is the domain's own
//! constant, every field of a request says what it accepts, every operation lists what it can
//! answer, and the limits the document states are the ones the server keeps.

use confab_domain::{
    Alias, Body as MessageBody, ClientId, DisplayName, Email, GroupName, OTP_DIGITS, Password,
    ReportReason, Username,
};
use confab_ports::service::{
    ANNOUNCEMENTS_DEFAULT, ANNOUNCEMENTS_MAX, MAX_INITIAL_MEMBERS, MESSAGES_DEFAULT, MESSAGES_MAX,
    REPORTS_DEFAULT, REPORTS_MAX, USER_SEARCH_DEFAULT, USER_SEARCH_MAX,
};
use confab_tests::{Body, TestServer};
use reqwest::Method;
use serde_json::{Value, json};

async fn document(s: &TestServer) -> Value {
    let r = s
        .call(Method::GET, "/api/v1/openapi.json", None, Body::None)
        .await;
    r.expect(200);
    r.json.clone()
}

/// The schema of a property of a component schema.
fn property<'a>(doc: &'a Value, schema: &str, name: &str) -> &'a Value {
    let found = &doc["components"]["schemas"][schema]["properties"][name];
    assert!(found.is_object(), "{schema}.{name} is not documented");
    found
}

/// The schema of a parameter of an operation.
fn parameter<'a>(doc: &'a Value, method: &str, path: &str, name: &str) -> &'a Value {
    doc["paths"][path][method]["parameters"]
        .as_array()
        .and_then(|ps| ps.iter().find(|p| p["name"] == name))
        .map(|p| &p["schema"])
        .unwrap_or_else(|| panic!("{method} {path} has no parameter {name}"))
}

fn number(schema: &Value, key: &str) -> usize {
    schema[key]
        .as_u64()
        .and_then(|n| usize::try_from(n).ok())
        .unwrap_or_else(|| panic!("no {key} in {schema}"))
}

async fn every_limit_is_the_domains_own(s: &TestServer) {
    let doc = document(s).await;
    let lengths: &[(&str, &str, usize, usize)] = &[
        ("RegisterRequest", "username", Username::MIN, Username::MAX),
        ("RegisterRequest", "password", Password::MIN, Password::MAX),
        (
            "PasswordResetRequest",
            "password",
            Password::MIN,
            Password::MAX,
        ),
        ("RegisterRequest", "display_name", 1, DisplayName::MAX),
        ("PatchMeRequest", "display_name", 1, DisplayName::MAX),
        ("RegisterRequest", "otp", OTP_DIGITS, OTP_DIGITS),
        ("LoginRequest", "otp", OTP_DIGITS, OTP_DIGITS),
        ("PasswordResetRequest", "otp", OTP_DIGITS, OTP_DIGITS),
        ("PatchMeRequest", "otp", OTP_DIGITS, OTP_DIGITS),
        ("CreateGroupRequest", "name", 1, GroupName::MAX),
        ("RenameGroupRequest", "name", 1, GroupName::MAX),
        ("AliasRequest", "alias", 1, Alias::MAX),
        ("DirectRequest", "username", Username::MIN, Username::MAX),
        // Empty only with attachments (the pattern cannot say that; the description does).
        ("SendMessageRequest", "body", 0, MessageBody::MAX),
        ("EditMessageRequest", "body", 1, MessageBody::MAX),
        ("AnnounceRequest", "body", 1, MessageBody::MAX),
        ("ReportRequest", "reason", 1, ReportReason::MAX),
        ("SendMessageRequest", "client_id", 1, ClientId::MAX),
    ];
    for &(schema, name, min, max) in lengths {
        let p = property(&doc, schema, name);
        assert_eq!(number(p, "minLength"), min, "{schema}.{name}");
        assert_eq!(number(p, "maxLength"), max, "{schema}.{name}");
    }
    for (schema, name) in [
        ("RegisterRequest", "email"),
        ("PatchMeRequest", "email"),
        ("OtpRequestBody", "email"),
    ] {
        assert_eq!(
            number(property(&doc, schema, name), "maxLength"),
            Email::MAX,
            "{schema}.{name}"
        );
    }
    let members = property(&doc, "CreateGroupRequest", "member_ids");
    assert_eq!(number(members, "maxItems"), MAX_INITIAL_MEMBERS);
    assert_eq!(members["items"]["format"], "uuid");

    let pages: &[(&str, &str, u32, u32)] = &[
        (
            "get",
            "/api/v1/groups/{id}/messages",
            MESSAGES_DEFAULT,
            MESSAGES_MAX,
        ),
        (
            "get",
            "/api/v1/search/messages",
            MESSAGES_DEFAULT,
            MESSAGES_MAX,
        ),
        ("get", "/api/v1/users", USER_SEARCH_DEFAULT, USER_SEARCH_MAX),
        (
            "get",
            "/api/v1/announcements",
            ANNOUNCEMENTS_DEFAULT,
            ANNOUNCEMENTS_MAX,
        ),
        ("get", "/api/v1/reports", REPORTS_DEFAULT, REPORTS_MAX),
    ];
    for &(method, path, default, max) in pages {
        let limit = parameter(&doc, method, path, "limit");
        assert_eq!(limit["type"], "integer", "{path}");
        assert_eq!(limit["minimum"], 1, "{path}");
        assert_eq!(limit["maximum"], max, "{path}");
        assert_eq!(limit["default"], default, "{path}");
    }
    for name in ["before", "after"] {
        let seq = parameter(&doc, "get", "/api/v1/groups/{id}/messages", name);
        assert_eq!(seq["minimum"], 0, "{name}");
    }
    assert_eq!(property(&doc, "ReadRequest", "seq")["minimum"], 0);
    // The statuses a report can have, and the decisions an admin can take.
    let statuses = parameter(&doc, "get", "/api/v1/reports", "status");
    assert_eq!(statuses["enum"], json!(["open", "resolved", "dismissed"]));
    let decision = property(&doc, "DecideReportRequest", "status");
    assert_eq!(decision["enum"], json!(["resolved", "dismissed"]));
}

/// Request fields that take any string: each is compared with what is stored (a password at
/// login, a token), so no rule of its own applies.
const FREE: &[(&str, &str)] = &[
    ("LoginRequest", "login"),
    ("LoginRequest", "password"),
    ("RefreshRequest", "refresh_token"),
    ("LogoutRequest", "refresh_token"),
    // The access token of a browser's socket.
    ("GET /api/v1/ws", "token"),
];

/// Whether a schema states what it accepts: a string its length, pattern, values or format; a
/// number its range; a list its size.
fn states_a_rule(schema: &Value) -> bool {
    let types: Vec<&str> = match &schema["type"] {
        Value::String(t) => vec![t.as_str()],
        Value::Array(ts) => ts.iter().filter_map(Value::as_str).collect(),
        _ => vec![],
    };
    let has = |key: &str| schema.get(key).is_some();
    if types.contains(&"string") {
        has("maxLength") || has("enum") || has("pattern") || has("format")
    } else if types.contains(&"integer") {
        has("minimum") && has("maximum")
    } else if types.contains(&"array") {
        has("maxItems")
    } else {
        // A boolean has nothing more to say.
        types.contains(&"boolean")
    }
}

async fn every_request_field_states_what_it_accepts(s: &TestServer) {
    let doc = document(s).await;
    let mut checked = 0;
    for (path, item) in doc["paths"].as_object().unwrap() {
        for (method, op) in item.as_object().unwrap() {
            let operation = format!("{} {path}", method.to_uppercase());
            for p in op["parameters"].as_array().into_iter().flatten() {
                let name = p["name"].as_str().unwrap();
                if p["in"] == "path" {
                    assert_eq!(p["required"], true, "{operation} {name}");
                }
                if FREE.contains(&(operation.as_str(), name)) {
                    continue;
                }
                checked += 1;
                assert!(
                    states_a_rule(&p["schema"]),
                    "{operation}: parameter {name} does not say what it accepts: {}",
                    p["schema"]
                );
            }
            let Some(reference) =
                op["requestBody"]["content"]["application/json"]["schema"]["$ref"].as_str()
            else {
                continue;
            };
            let schema_name = reference.trim_start_matches("#/components/schemas/");
            let schema = &doc["components"]["schemas"][schema_name];
            assert_eq!(
                schema["additionalProperties"], false,
                "{schema_name}: unknown fields are refused, the document must say so"
            );
            for (name, field) in schema["properties"].as_object().unwrap() {
                if FREE.contains(&(schema_name, name.as_str())) {
                    continue;
                }
                checked += 1;
                assert!(
                    states_a_rule(field),
                    "{schema_name}.{name} does not say what it accepts: {field}"
                );
            }
        }
    }
    assert!(checked > 40, "only {checked} fields checked");
}

async fn every_operation_lists_what_it_can_answer(s: &TestServer) {
    let doc = document(s).await;
    for (path, item) in doc["paths"].as_object().unwrap() {
        for (method, op) in item.as_object().unwrap() {
            let name = format!("{method} {path}");
            let responses = op["responses"].as_object().unwrap();
            let lists = |status: u16| responses.contains_key(&status.to_string());
            let bearer = op["security"]
                .as_array()
                .is_some_and(|reqs| reqs.iter().any(|r| r.get("bearer").is_some()));
            if bearer {
                assert!(lists(401), "{name}: bearer security without 401");
            }
            if op.get("requestBody").is_some() {
                for status in [400, 413, 415] {
                    assert!(lists(status), "{name} reads JSON without {status}");
                }
            }
            let params = op["parameters"].as_array().cloned().unwrap_or_default();
            if params.iter().any(|p| p["in"] == "path") {
                assert!(lists(404), "{name}: a path id without 404");
            }
            if params.iter().any(|p| p["in"] == "query") {
                assert!(lists(400), "{name}: a query string without 400");
            }
            assert!(lists(429) && lists(503), "{name}");
            assert!(
                responses["429"]["headers"].get("Retry-After").is_some(),
                "{name}"
            );
            for (status, response) in responses {
                if status.starts_with(['4', '5']) {
                    assert_eq!(
                        response["content"]["application/json"]["schema"]["$ref"],
                        "#/components/schemas/ErrorBody",
                        "{name} {status}"
                    );
                    assert!(
                        response["description"]
                            .as_str()
                            .is_some_and(|d| !d.is_empty()),
                        "{name} {status}"
                    );
                }
            }
        }
    }
}

/// Every limit the document states is where the server draws the line: its value is accepted,
/// one more (or one less) is refused with 422 naming the field.
async fn the_stated_limits_are_where_the_server_draws_the_line(s: &TestServer) {
    let doc = document(s).await;
    let username = property(&doc, "RegisterRequest", "username");
    let (min, max) = (number(username, "minLength"), number(username, "maxLength"));
    let password = "correct horse battery";
    for (len, status) in [(min - 1, 422), (min, 201), (max, 201), (max + 1, 422)] {
        // Distinct names of each length: digits after a letter.
        let name: String = std::iter::once('u')
            .chain(format!("{len:0>width$}", width = len - 1).chars())
            .take(len)
            .collect();
        let r = s
            .post(
                "/auth/register",
                None,
                json!({"username": name, "password": password}),
            )
            .await;
        r.expect(status);
        if status == 422 {
            assert_eq!(r.field(), Some("username"));
        }
    }
    let p = property(&doc, "RegisterRequest", "password");
    for (len, status) in [
        (number(p, "minLength") - 1, 422),
        (number(p, "maxLength"), 201),
        (number(p, "maxLength") + 1, 422),
    ] {
        let r = s
            .post(
                "/auth/register",
                None,
                json!({"username": format!("pw{len}"), "password": "p".repeat(len)}),
            )
            .await;
        r.expect(status);
    }

    let owner = s.register("limits").await;
    let token = Some(owner.access.as_str());
    let name_max = number(property(&doc, "CreateGroupRequest", "name"), "maxLength");
    let r = s
        .post("/groups", token, json!({"name": "n".repeat(name_max + 1)}))
        .await;
    r.expect_error(422, "validation_failed");
    assert_eq!(r.field(), Some("name"));
    let r = s
        .post("/groups", token, json!({"name": "n".repeat(name_max)}))
        .await;
    r.expect(201);
    let group = r.json["id"].as_str().unwrap().to_owned();

    let members_max = number(
        property(&doc, "CreateGroupRequest", "member_ids"),
        "maxItems",
    );
    let ids: Vec<String> = (0..=members_max)
        .map(|i| format!("00000000-0000-7000-8000-{i:012}"))
        .collect();
    let r = s
        .post("/groups", token, json!({"name": "many", "member_ids": ids}))
        .await;
    r.expect_error(422, "validation_failed");
    assert_eq!(r.field(), Some("member_ids"));

    let messages = format!("/groups/{group}/messages");
    let body_max = number(property(&doc, "SendMessageRequest", "body"), "maxLength");
    let id_max = number(
        property(&doc, "SendMessageRequest", "client_id"),
        "maxLength",
    );
    for (body, client_id, status, field) in [
        (body_max + 1, 1, 422, Some("body")),
        (body_max, id_max + 1, 422, Some("client_id")),
        (body_max, id_max, 201, None),
    ] {
        let r = s
            .post(
                &messages,
                token,
                json!({"body": "b".repeat(body), "client_id": "c".repeat(client_id)}),
            )
            .await;
        r.expect(status);
        assert_eq!(r.field(), field);
    }

    let limit = parameter(&doc, "get", "/api/v1/groups/{id}/messages", "limit");
    let below = number(limit, "minimum") - 1;
    let r = s.get(&format!("{messages}?limit={below}"), token).await;
    r.expect_error(422, "validation_failed");
    assert_eq!(r.field(), Some("limit"));
    let r = s
        .get(
            &format!("{messages}?limit={}", number(limit, "maximum")),
            token,
        )
        .await;
    r.expect(200);

    let reason_max = number(property(&doc, "ReportRequest", "reason"), "maxLength");
    let reported = s.register("reported").await;
    for (len, status) in [(reason_max + 1, 422), (reason_max, 201)] {
        let body = json!({"user_id": reported.user_id, "reason": "r".repeat(len)});
        let r = s.post("/reports", token, body).await;
        r.expect(status);
        if status == 422 {
            assert_eq!(r.field(), Some("reason"));
        }
    }
}

confab_tests::store_tests!(
    every_limit_is_the_domains_own,
    every_request_field_states_what_it_accepts,
    every_operation_lists_what_it_can_answer,
    the_stated_limits_are_where_the_server_draws_the_line,
);
