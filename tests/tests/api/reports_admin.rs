//! Reports, decided: only server admins list them (newest first, by status, paged by `before`)
//! and decide them (`resolved` or `dismissed`, never back to `open`); everyone else gets 403
//! before anything they sent is looked at.

use confab_tests::chat::id;
use confab_tests::{Body, Resp, Session, Store, TestServer};
use reqwest::Method;
use serde_json::{Value, json};

use crate::announcements::BAD_PAGE_QUERIES;
use crate::reports::{file, list, report_message, report_user, scene};

async fn decide(s: &TestServer, who: &Session, report: &str, body: Value) -> Resp {
    s.patch(&format!("/reports/{report}"), Some(&who.access), body)
        .await
}

async fn the_list_pages_newest_first_by_status_with_before_and_limit(store: Store) {
    // One reporter files more than an hour's default budget here.
    let s = TestServer::start_with(store, &["--reports-per-hour", "1000"]).await;
    let root = s.admin("root").await;
    let ada = s.register("ada").await;
    let bob = s.register("bob").await;
    let mut made = Vec::new();
    for _ in 0..7 {
        made.push(report_user(&s, &ada, &bob).await);
    }
    let newest_first: Vec<Value> = made.iter().rev().cloned().collect();
    assert_eq!(list(&s, &root, "").await, (newest_first.clone(), false));
    // Pages of 3 by `before`: 3 + 3 + 1.
    let (p1, more) = list(&s, &root, "limit=3").await;
    assert_eq!((&p1[..], more), (&newest_first[0..3], true));
    let (p2, more) = list(&s, &root, &format!("limit=3&before={}", id(&p1[2]))).await;
    assert_eq!((&p2[..], more), (&newest_first[3..6], true));
    let (p3, more) = list(&s, &root, &format!("before={}&limit=3", id(&p2[2]))).await;
    assert_eq!((&p3[..], more), (&newest_first[6..], false));
    let (p, more) = list(&s, &root, &format!("before={}", uuid::Uuid::nil())).await;
    assert_eq!((p.len(), more), (0, false));

    // Decide some: the status filter follows, and pages within a status.
    for (i, status) in [(1, "resolved"), (4, "dismissed"), (5, "resolved")] {
        let r = decide(&s, &root, &id(&made[i]), json!({"status": status})).await;
        r.expect(200);
        made[i] = r.json.clone();
    }
    let of = |idx: &[usize]| idx.iter().map(|&i| made[i].clone()).collect::<Vec<_>>();
    assert_eq!(
        list(&s, &root, "status=resolved").await,
        (of(&[5, 1]), false)
    );
    assert_eq!(list(&s, &root, "status=dismissed").await, (of(&[4]), false));
    assert_eq!(
        list(&s, &root, "status=open&limit=2").await,
        (of(&[6, 3]), true)
    );
    let after = id(&made[3]);
    assert_eq!(
        list(&s, &root, &format!("status=open&limit=2&before={after}")).await,
        (of(&[2, 0]), false)
    );

    // The limit: 50 by default, at most 100.
    for _ in 0..100 {
        report_user(&s, &bob, &ada).await;
    }
    let (p, more) = list(&s, &root, "").await;
    assert_eq!((p.len(), more), (50, true));
    let (p, more) = list(&s, &root, "limit=1000").await;
    assert_eq!((p.len(), more), (100, true));
    let (p, more) = list(&s, &root, "limit=9223372036854775807&status=open").await;
    assert_eq!((p.len(), more), (100, true));
}

async fn an_admin_decides_and_may_change_the_decision_but_never_reopens(s: &TestServer) {
    let (ada, _, _, said) = scene(s).await;
    let root = s.admin("root").await;
    let made = report_message(s, &ada, &id(&said)).await;
    let report = id(&made);
    let r = decide(s, &root, &report, json!({"status": "dismissed"})).await;
    r.expect(200);
    let mut expected = made.clone();
    expected["status"] = json!("dismissed");
    assert_eq!(r.json, expected, "only the status changes");
    // The same again changes nothing; the other decision is taken.
    let again = decide(s, &root, &report, json!({"status": "dismissed"})).await;
    assert_eq!(again.json, expected);
    let r = decide(s, &root, &report, json!({"status": "resolved"})).await;
    r.expect(200);
    expected["status"] = json!("resolved");
    assert_eq!(r.json, expected);
    // Never back to open, nor anything else.
    for status in ["open", "closed", "", "Resolved"] {
        let r = decide(s, &root, &report, json!({"status": status})).await;
        r.expect_error(422, "validation_failed");
        assert_eq!(r.field(), Some("status"), "{status:?}");
    }
    for body in [
        json!({}),
        json!({"status": null}),
        json!({"status": 1}),
        json!({"status": "resolved", "note": "done"}),
        json!(["resolved"]),
    ] {
        decide(s, &root, &report, body)
            .await
            .expect_error(400, "bad_request");
    }
    let ghost = uuid::Uuid::now_v7().to_string();
    decide(s, &root, &ghost, json!({"status": "resolved"}))
        .await
        .expect_error(404, "not_found");
    decide(s, &root, "not-a-uuid", json!({"status": "resolved"}))
        .await
        .expect_error(404, "not_found");
    assert_eq!(list(s, &root, "").await, (vec![expected], false));
}

async fn only_admins_list_or_decide_whatever_they_send(s: &TestServer) {
    let (ada, bob, _, said) = scene(s).await;
    let root = s.admin("root").await;
    let report = id(&report_message(s, &ada, &id(&said)).await);
    // 403 before the query's or the body's values are looked at (their shape is still read).
    for who in [&ada, &bob] {
        for query in ["", "status=open", "status=bogus", "limit=0", "limit=-5"] {
            let r = s.get(&format!("/reports?{query}"), Some(&who.access)).await;
            r.expect_error(403, "forbidden");
        }
        for status in ["resolved", "open", "bogus"] {
            decide(s, who, &report, json!({"status": status}))
                .await
                .expect_error(403, "forbidden");
        }
    }
    s.get("/reports", None)
        .await
        .expect_error(401, "unauthorized");
    let r = s
        .call(
            Method::PATCH,
            &format!("/api/v1/reports/{report}"),
            None,
            Body::Json(json!({"status": "resolved"})),
        )
        .await;
    r.expect_error(401, "unauthorized");
    // A revoked admin is refused at once.
    let path = format!("/users/{}/roles/admin", bob.user_id);
    s.put(&path, Some(&root.access)).await.expect(204);
    list(s, &bob, "").await;
    s.delete(&path, Some(&root.access)).await.expect(204);
    s.get("/reports", Some(&bob.access))
        .await
        .expect_error(403, "forbidden");
    // Nothing was decided by any of it.
    let (page, _) = list(s, &root, "").await;
    assert_eq!(page[0]["status"], "open");
}

async fn the_lists_query_is_checked(s: &TestServer) {
    let root = s.admin("root").await;
    let token = Some(root.access.as_str());
    let repeated_status = "status=open&status=resolved";
    for query in BAD_PAGE_QUERIES.into_iter().chain([repeated_status]) {
        let r = s.get(&format!("/reports?{query}"), token).await;
        r.expect_error(400, "bad_request");
    }
    for (query, field) in [
        ("limit=0", "limit"),
        ("limit=-1", "limit"),
        ("status=bogus", "status"),
        ("status=", "status"),
        ("status=all", "status"),
        ("status=OPEN", "status"),
    ] {
        let r = s.get(&format!("/reports?{query}"), token).await;
        r.expect_error(422, "validation_failed");
        assert_eq!(r.field(), Some(field), "{query}");
    }
    // A user report cannot be seen through someone else's token either.
    let ada = s.register("ada").await;
    let bob = s.register("bob").await;
    let r = file(s, &ada, json!({"user_id": bob.user_id, "reason": "rude"})).await;
    r.expect(201);
    assert_eq!(list(s, &root, "status=open").await.0, vec![r.json.clone()]);
}

confab_tests::store_tests!(
    an_admin_decides_and_may_change_the_decision_but_never_reopens,
    only_admins_list_or_decide_whatever_they_send,
    the_lists_query_is_checked,
    ; own_server: the_list_pages_newest_first_by_status_with_before_and_limit,
);
