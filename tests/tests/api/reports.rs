//! Reports, filed: a member reports a message of their group (its body copied, kept whatever
//! becomes of the message) or a user; hostile input; the per-user budget. The admins' side
//! (the list and decisions) is in `reports_admin.rs`.

use confab_tests::chat::{id, is_rfc3339_ms_utc, keys, text};
use confab_tests::{Body, Resp, Session, Store, TestServer};
use reqwest::Method;
use serde_json::{Value, json};

/// `POST /reports` with `body` as `who`.
pub(crate) async fn file(s: &TestServer, who: &Session, body: Value) -> Resp {
    s.post("/reports", Some(&who.access), body).await
}

/// Reports `message` as `who` (asserts 201) and returns the report.
pub(crate) async fn report_message(s: &TestServer, who: &Session, message: &str) -> Value {
    let r = file(s, who, json!({"message_id": message, "reason": "spam"})).await;
    r.expect(201);
    r.json.clone()
}

/// Reports `user` as `who` (asserts 201) and returns the report.
pub(crate) async fn report_user(s: &TestServer, who: &Session, user: &Session) -> Value {
    let r = file(s, who, json!({"user_id": user.user_id, "reason": "rude"})).await;
    r.expect(201);
    r.json.clone()
}

/// `GET /reports?{query}` as `who` (asserts 200): `(reports, has_more)`.
pub(crate) async fn list(s: &TestServer, who: &Session, query: &str) -> (Vec<Value>, bool) {
    let r = s.get(&format!("/reports?{query}"), Some(&who.access)).await;
    r.expect(200);
    assert_eq!(keys(&r.json), ["has_more", "reports"], "{}", r.text);
    let reports = r.json["reports"].as_array().expect("an array").clone();
    (reports, r.json["has_more"].as_bool().expect("has_more"))
}

/// Ada and Bob in a group, Bob said something: (ada, bob, group, the message).
pub(crate) async fn scene(s: &TestServer) -> (Session, Session, String, Value) {
    let ada = s.register("ada").await;
    let bob = s.register("bob").await;
    let group = id(&s.create_group(&ada, "Watches", &[&bob]).await);
    let said = s.send(&bob, &group, "buy cheap watches").await;
    (ada, bob, group, said)
}

async fn a_member_reports_a_message_or_a_user_and_an_admin_reads_them(s: &TestServer) {
    let (ada, bob, _, said) = scene(s).await;
    let root = s.admin("root").await;
    let r = file(
        s,
        &ada,
        json!({"message_id": id(&said), "reason": "  spam,\n\tagain \n"}),
    )
    .await;
    r.expect(201);
    let made = r.json.clone();
    assert_eq!(
        keys(&made),
        [
            "created_at",
            "id",
            "message_body",
            "message_id",
            "reason",
            "reporter_id",
            "status",
            "user_id"
        ]
    );
    assert_eq!(made["reporter_id"], ada.user_id.as_str());
    assert_eq!(made["message_id"], id(&said).as_str());
    assert_eq!(
        made["user_id"],
        bob.user_id.as_str(),
        "the sender is reported"
    );
    assert_eq!(made["reason"], "spam,\n\tagain", "trimmed like a body");
    assert_eq!(made["status"], "open");
    assert_eq!(made["message_body"], "buy cheap watches");
    assert!(is_rfc3339_ms_utc(&text(&made, "created_at")), "{made}");
    assert_eq!(
        uuid::Uuid::parse_str(&id(&made)).unwrap().get_version_num(),
        7
    );

    let of_user = report_user(s, &bob, &ada).await;
    assert_eq!(
        (
            &of_user["user_id"],
            &of_user["message_id"],
            &of_user["message_body"]
        ),
        (&json!(ada.user_id), &Value::Null, &Value::Null)
    );
    // The longest reason, 1000 characters of two bytes each, is fine.
    let long = file(
        s,
        &bob,
        json!({"user_id": ada.user_id, "reason": "é".repeat(1000)}),
    )
    .await;
    long.expect(201);

    let (page, more) = list(s, &root, "").await;
    assert_eq!(
        (page, more),
        (vec![long.json.clone(), of_user, made], false)
    );
}

async fn the_body_copy_survives_an_edit_a_delete_and_the_groups_end(s: &TestServer) {
    let (ada, bob, group, said) = scene(s).await;
    let root = s.admin("root").await;
    let second = s.send(&bob, &group, "second offer").await;
    let first_report = report_message(s, &ada, &id(&said)).await;
    let second_report = report_message(s, &ada, &id(&second)).await;
    s.edit(&bob, &id(&said), "nothing to see here").await;
    s.delete_message(&bob, &id(&second)).await.expect(204);
    let (page, _) = list(s, &root, "").await;
    assert_eq!(page, vec![second_report.clone(), first_report.clone()]);
    // The group goes, and its messages with it: the reports stay, with their copies.
    s.delete(&format!("/groups/{group}"), Some(&ada.access))
        .await
        .expect(204);
    let (page, _) = list(s, &root, "").await;
    let mut gone = [second_report, first_report];
    for report in &mut gone {
        report["message_id"] = Value::Null;
    }
    assert_eq!(page, gone);
    assert_eq!(page[1]["message_body"], "buy cheap watches");
}

async fn hostile_input_is_refused_and_records_nothing(s: &TestServer) {
    let (ada, bob, group, said) = scene(s).await;
    let root = s.admin("root").await;
    let mine = s.send(&ada, &group, "my own words").await;
    let m = id(&said);
    // Rule breaks: 422 naming the field.
    let fields: Vec<(Value, &str)> = vec![
        (json!({"reason": "spam"}), "message_id"),
        (
            json!({"message_id": null, "user_id": null, "reason": "spam"}),
            "message_id",
        ),
        (
            json!({"message_id": m, "user_id": bob.user_id, "reason": "spam"}),
            "message_id",
        ),
        (json!({"message_id": m, "reason": ""}), "reason"),
        (
            json!({"message_id": m, "reason": " \n\t\u{200B} "}),
            "reason",
        ),
        (
            json!({"message_id": m, "reason": "x".repeat(1001)}),
            "reason",
        ),
        (
            json!({"message_id": m, "reason": "y".repeat(10 * 1024)}),
            "reason",
        ),
        (json!({"message_id": m, "reason": "bell\u{7}"}), "reason"),
        (json!({"message_id": m, "reason": "nul\u{0}"}), "reason"),
        (json!({"message_id": m, "reason": "esc\u{1b}[2J"}), "reason"),
        (
            json!({"message_id": id(&mine), "reason": "spam"}),
            "message_id",
        ),
        (json!({"user_id": ada.user_id, "reason": "spam"}), "user_id"),
    ];
    for (body, field) in fields {
        let r = file(s, &ada, body.clone()).await;
        r.expect_error(422, "validation_failed");
        assert_eq!(r.field(), Some(field), "{body}: {}", r.text);
    }
    // Wrong shapes: 400.
    for body in [
        json!({"message_id": "not-a-uuid", "reason": "spam"}),
        json!({"user_id": 42, "reason": "spam"}),
        json!({"message_id": m}),
        json!({"message_id": m, "reason": null}),
        json!({"message_id": m, "reason": ["spam"]}),
        json!({"message_id": m, "reason": "spam", "severity": "high"}),
        json!([m, "spam"]),
        json!("spam"),
    ] {
        file(s, &ada, body).await.expect_error(400, "bad_request");
    }
    let raw = |bytes: &[u8], content_type| Body::Raw {
        content_type: Some(content_type),
        bytes: bytes.to_vec(),
    };
    let token = Some(ada.access.as_str());
    for (bytes, status) in [
        (&b"{\"reason\": \"spam\""[..], 400),
        (b"not json", 400),
        (b"", 400),
    ] {
        let r = s
            .call(
                Method::POST,
                "/api/v1/reports",
                token,
                raw(bytes, "application/json"),
            )
            .await;
        r.expect_error(status, "bad_request");
    }
    let r = s
        .call(
            Method::POST,
            "/api/v1/reports",
            token,
            raw(b"{}", "text/plain"),
        )
        .await;
    r.expect(415);
    let huge = json!({"message_id": m, "reason": "x".repeat(70 * 1024)});
    file(s, &ada, huge)
        .await
        .expect_error(413, "payload_too_large");
    // A message of a group the caller is not in reads exactly as one that does not exist.
    let mallory = s.register("mallory").await;
    let unseen = file(s, &mallory, json!({"message_id": m, "reason": "spam"})).await;
    let ghost = json!({"message_id": uuid::Uuid::now_v7(), "reason": "spam"});
    let unknown = file(s, &mallory, ghost).await;
    unseen.expect_error(404, "not_found");
    assert_eq!(
        (unseen.status, &unseen.text),
        (unknown.status, &unknown.text)
    );
    let r = file(
        s,
        &ada,
        json!({"user_id": uuid::Uuid::now_v7(), "reason": "x"}),
    )
    .await;
    r.expect_error(404, "not_found");
    // A deleted message: gone.
    s.delete_message(&bob, &m).await.expect(204);
    let r = file(s, &ada, json!({"message_id": m, "reason": "spam"})).await;
    r.expect_error(410, "gone");
    // No token: 401.
    s.post(
        "/reports",
        None,
        json!({"user_id": bob.user_id, "reason": "x"}),
    )
    .await
    .expect_error(401, "unauthorized");
    let (page, _) = list(s, &root, "").await;
    assert!(page.is_empty(), "{page:?}");
}

async fn a_user_files_at_most_the_hourly_budget(store: Store) {
    let s = TestServer::start_with(store, &["--reports-per-hour", "3"]).await;
    let (ada, bob, _, said) = scene(&s).await;
    let carol = s.register("carol").await;
    // Refused reports do not count.
    for _ in 0..5 {
        file(&s, &ada, json!({"user_id": ada.user_id, "reason": "me"}))
            .await
            .expect(422);
        file(
            &s,
            &ada,
            json!({"message_id": uuid::Uuid::now_v7(), "reason": "x"}),
        )
        .await
        .expect(404);
    }
    report_message(&s, &ada, &id(&said)).await;
    report_user(&s, &ada, &bob).await;
    report_user(&s, &ada, &carol).await;
    let r = file(&s, &ada, json!({"user_id": bob.user_id, "reason": "again"})).await;
    r.expect_error(429, "rate_limited");
    let retry: u64 = r.headers["retry-after"].to_str().unwrap().parse().unwrap();
    assert!((1..=3600).contains(&retry), "retry-after {retry}");
    // Others keep their own budget.
    report_user(&s, &bob, &ada).await;
    file(&s, &ada, json!({"user_id": carol.user_id, "reason": "x"}))
        .await
        .expect_error(429, "rate_limited");
    let root = s.admin("root").await;
    assert_eq!(list(&s, &root, "").await.0.len(), 4);
}

confab_tests::store_tests!(
    a_member_reports_a_message_or_a_user_and_an_admin_reads_them,
    the_body_copy_survives_an_edit_a_delete_and_the_groups_end,
    hostile_input_is_refused_and_records_nothing,
    ; own_server: a_user_files_at_most_the_hourly_budget,
);
