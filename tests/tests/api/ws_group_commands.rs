//! Client frames about groups and members, good and bad: `group.create`, `group.update`,
//! `group.delete`, `member.add`, `member.remove`. Each goes through the same use case as its
//! HTTP route: every refusal is checked over the socket *and* over HTTP, with the same code.

use confab_tests::chat::id;
use confab_tests::ws::kind;
use confab_tests::{Session, TestServer, Ws};
use reqwest::Method;
use serde_json::{Value, json};

/// A refusal: who asks, the frame, the equivalent HTTP request, and the answer both must get.
struct Refusal<'a> {
    who: usize,
    frame: Value,
    http: (Method, String, Option<Value>),
    status: u16,
    code: &'a str,
}

/// Checks each refusal over the socket of its asker, then over HTTP.
async fn refused(s: &TestServer, people: &[&Session], sockets: &mut [Ws], cases: Vec<Refusal<'_>>) {
    for (n, case) in cases.into_iter().enumerate() {
        let mut frame = case.frame.clone();
        frame["ref"] = json!(format!("case-{n}"));
        let e = sockets[case.who].fails(frame.clone(), case.code).await;
        assert_eq!(e["ref"], format!("case-{n}"), "{e}");
        let (method, path, body) = case.http;
        let body = match body {
            Some(v) => confab_tests::Body::Json(v),
            None => confab_tests::Body::None,
        };
        let token = &people[case.who].access;
        s.call(method, &format!("/api/v1{path}"), Some(token), body)
            .await
            .expect_error(case.status, case.code);
    }
}

async fn group_create_update_and_delete_over_the_socket(s: &TestServer) {
    let alice = s.register("alice").await;
    let bob = s.register("bob").await;
    let carol = s.register("carol").await;
    let mut a = s.ws(&alice).await;
    let mut b = s.ws(&bob).await;

    let ack = a
        .ok(json!({"type": "group.create", "ref": "mk", "name": "team", "member_ids": [bob.user_id]}))
        .await;
    let group = ack["group"].clone();
    let g = id(&group);
    assert_eq!(group["name"], "team");
    assert_eq!(group["my"]["role"], "owner");
    assert_eq!(group["member_count"], 2);
    assert_eq!(
        s.group(&alice, &g).await,
        group,
        "the acked group is the stored one"
    );
    let f = b.next_of("group.created").await;
    assert_eq!(f["group"]["id"], g.as_str());
    assert_eq!(f["group"]["my"]["role"], "member", "{f}");
    // Without member_ids: a group of one.
    let solo = a
        .ok(json!({"type": "group.create", "ref": 1, "name": "solo"}))
        .await;
    assert_eq!(solo["group"]["member_count"], 1);

    let ack = a
        .ok(json!({"type": "group.update", "ref": "rn", "group_id": g, "name": "renamed"}))
        .await;
    assert_eq!(ack["ref"], "rn");
    assert_eq!(ack["group"]["name"], "renamed");
    assert_eq!(ack["group"]["id"], g.as_str());
    let f = b.next_of("group.updated").await;
    assert_eq!(f["group"]["name"], "renamed");

    let d = id(&s.direct(&alice, &bob).await.json);
    b.next_of("group.created").await;
    let unknown = uuid::Uuid::now_v7().to_string();
    let stranger = uuid::Uuid::now_v7().to_string();
    let people = [&alice, &bob, &carol];
    let mut sockets = vec![a, b, s.ws(&carol).await];
    let (alice_, bob_, carol_) = (0, 1, 2);
    let create = |body: Value| {
        let mut frame = body.clone();
        frame["type"] = json!("group.create");
        Refusal {
            who: alice_,
            frame,
            http: (Method::POST, "/groups".into(), Some(body)),
            status: 422,
            code: "validation_failed",
        }
    };
    let rename = |who, group: &str, name: &str, status, code| Refusal {
        who,
        frame: json!({"type": "group.update", "group_id": group, "name": name}),
        http: (
            Method::PATCH,
            format!("/groups/{group}"),
            Some(json!({"name": name})),
        ),
        status,
        code,
    };
    let delete = |who, group: &str, status, code| Refusal {
        who,
        frame: json!({"type": "group.delete", "group_id": group}),
        http: (Method::DELETE, format!("/groups/{group}"), None),
        status,
        code,
    };
    refused(
        s,
        &people,
        &mut sockets,
        vec![
            create(json!({"name": "  "})),
            create(json!({"name": "x".repeat(101)})),
            create(json!({"name": "ok", "member_ids": [stranger]})),
            rename(bob_, &g, "mine now", 403, "forbidden"),
            rename(carol_, &g, "hijack", 404, "not_found"),
            rename(alice_, &unknown, "nothing", 404, "not_found"),
            rename(alice_, &g, "", 422, "validation_failed"),
            rename(alice_, &d, "a name", 403, "forbidden"),
            delete(bob_, &g, 403, "forbidden"),
            delete(carol_, &g, 404, "not_found"),
            delete(alice_, &unknown, 404, "not_found"),
        ],
    )
    .await;
    let [a, b, _] = &mut sockets[..] else {
        unreachable!()
    };
    assert_eq!(s.group(&alice, &g).await["name"], "renamed");

    // Either member closes a direct chat; both hear group.closed, and writes are gone.
    let ack = b
        .ok(json!({"type": "group.delete", "ref": "close", "group_id": d}))
        .await;
    assert_eq!(ack, json!({"type": "ack", "ref": "close"}));
    for ws in [&mut *a, &mut *b] {
        assert_eq!(
            ws.take_of("group.closed").await,
            json!({"type": "group.closed", "group_id": d})
        );
    }
    assert!(s.group(&alice, &d).await["closed_at"].is_string());
    a.fails(
        json!({"type": "message.send", "ref": "late", "group_id": d, "body": "hello?"}),
        "gone",
    )
    .await;

    // The owner deletes the group: both hear group.deleted, and it is gone.
    let ack = a
        .ok(json!({"type": "group.delete", "ref": 3, "group_id": g}))
        .await;
    assert_eq!(ack, json!({"type": "ack", "ref": 3}));
    for ws in [&mut *a, &mut *b] {
        assert_eq!(
            ws.take_of("group.deleted").await,
            json!({"type": "group.deleted", "group_id": g})
        );
    }
    s.get(&format!("/groups/{g}"), Some(&alice.access))
        .await
        .expect_error(404, "not_found");
}

async fn member_add_and_remove_over_the_socket(s: &TestServer) {
    let alice = s.register("alice").await;
    let bob = s.register("bob").await;
    let carol = s.register("carol").await;
    let dave = s.register("dave").await;
    let g = id(&s.create_group(&alice, "team", &[&bob]).await);
    let d = id(&s.direct(&alice, &bob).await.json);
    let people = [&alice, &bob, &carol, &dave];
    let mut sockets = vec![
        s.ws(&alice).await,
        s.ws(&bob).await,
        s.ws(&carol).await,
        s.ws(&dave).await,
    ];

    let ack = sockets[0]
        .ok(json!({"type": "member.add", "ref": "add", "group_id": g, "user_id": carol.user_id, "role": "admin"}))
        .await;
    assert_eq!(ack, json!({"type": "ack", "ref": "add"}));
    assert_eq!(
        s.role_of(&alice, &g, &carol).await.as_deref(),
        Some("admin")
    );
    // Carol's socket learns of the group, then of her joining; Bob hears the join.
    let f = sockets[2].next_of("group.created").await;
    assert_eq!(f["group"]["id"], g.as_str());
    assert_eq!(f["group"]["my"]["role"], "admin");
    let joined =
        json!({"type": "member.joined", "group_id": g, "user_id": carol.user_id, "role": "admin"});
    assert_eq!(sockets[2].next().await, joined);
    assert_eq!(sockets[1].take_of("member.joined").await, joined);

    let unknown_user = uuid::Uuid::now_v7().to_string();
    let unknown_group = uuid::Uuid::now_v7().to_string();
    let add = |who, group: &str, user: &str, role: Option<&str>, status, code| {
        let mut body = json!({"user_id": user});
        if let Some(r) = role {
            body["role"] = json!(r);
        }
        let mut frame = body.clone();
        frame["type"] = json!("member.add");
        frame["group_id"] = json!(group);
        Refusal {
            who,
            frame,
            http: (Method::POST, format!("/groups/{group}/members"), Some(body)),
            status,
            code,
        }
    };
    let remove = |who, group: &str, user: &str, status, code| Refusal {
        who,
        frame: json!({"type": "member.remove", "group_id": group, "user_id": user}),
        http: (
            Method::DELETE,
            format!("/groups/{group}/members/{user}"),
            None,
        ),
        status,
        code,
    };
    let (alice_, bob_, carol_, dave_) = (0, 1, 2, 3);
    refused(
        s,
        &people,
        &mut sockets,
        vec![
            add(bob_, &g, &dave.user_id, None, 403, "forbidden"),
            add(dave_, &g, &dave.user_id, None, 404, "not_found"),
            add(alice_, &g, &bob.user_id, None, 409, "conflict"),
            add(alice_, &g, &unknown_user, None, 404, "not_found"),
            add(
                alice_,
                &unknown_group,
                &dave.user_id,
                None,
                404,
                "not_found",
            ),
            add(
                alice_,
                &g,
                &dave.user_id,
                Some("owner"),
                422,
                "validation_failed",
            ),
            add(alice_, &d, &dave.user_id, None, 403, "forbidden"),
            remove(bob_, &g, &carol.user_id, 403, "forbidden"),
            remove(carol_, &g, &alice.user_id, 403, "forbidden"),
            remove(dave_, &g, &bob.user_id, 404, "not_found"),
            remove(alice_, &d, &bob.user_id, 403, "forbidden"),
        ],
    )
    .await;
    // A role that is not a string is a malformed frame.
    sockets[0]
        .fails(
            json!({"type": "member.add", "ref": "r", "group_id": g, "user_id": dave.user_id, "role": 5}),
            "bad_request",
        )
        .await;

    // The admin removes Bob; Bob leaves nothing behind and hears his removal.
    let ack = sockets[2]
        .ok(json!({"type": "member.remove", "ref": "rm", "group_id": g, "user_id": bob.user_id}))
        .await;
    assert_eq!(ack, json!({"type": "ack", "ref": "rm"}));
    let left = json!({"type": "member.left", "group_id": g, "user_id": bob.user_id});
    for k in [alice_, bob_, carol_] {
        assert_eq!(sockets[k].take_of("member.left").await, left, "socket {k}");
    }
    // Carol leaves by herself.
    sockets[2]
        .ok(json!({"type": "member.remove", "ref": "bye", "group_id": g, "user_id": carol.user_id}))
        .await;
    let members = s.members(&alice, &g).await;
    assert_eq!(members.len(), 1, "{members:?}");
    // Dave heard none of it.
    let d_group = id(&s.create_group(&dave, "dave's", &[]).await);
    let before = sockets[3].fence(s, &dave, &d_group).await;
    assert_eq!(before.len(), 1, "{before:?}");
    assert_eq!(kind(&before[0]), "group.created");
    assert_eq!(before[0]["group"]["id"], d_group.as_str());
}

confab_tests::store_tests!(
    group_create_update_and_delete_over_the_socket,
    member_add_and_remove_over_the_socket,
);
