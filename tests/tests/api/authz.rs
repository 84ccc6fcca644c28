//! Authorization, table-driven: every route × every kind of caller → the expected status.
//! The table must name every operation of the OpenAPI document, so no route can be added
//! without deciding who may call it.

use std::collections::BTreeSet;
use std::sync::atomic::{AtomicUsize, Ordering};

use confab_tests::chat::id;
use confab_tests::{Body, Resp, Session, Store, TestServer};
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
/// anonymous, user and admin callers. `{id}` and `{user_id}` are another user's id, `{role}`
/// is `admin`, `{report}` a report that user filed; in bodies `"{other}"` is that user's name,
/// `"{refresh}"` one of their refresh tokens, `"{n}"` a fresh number.
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
        // Codes for other purposes need no token (202 for anyone); an email change does.
        row(
            Method::POST,
            "/api/v1/auth/otp",
            Some(json!({"purpose": "email_change", "email": "new{n}@example.com"})),
            [401, 202, 202],
        ),
        // Anyone may try a reset; without the mailed code it fails alike for every caller.
        row(
            Method::POST,
            "/api/v1/auth/password-reset",
            Some(json!({"login": "{other}", "otp": "000000", "password": "a brand new password"})),
            [401, 401, 401],
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
        row(
            Method::GET,
            "/api/v1/users/me/blocks",
            None,
            [401, 200, 200],
        ),
        row(
            Method::PUT,
            "/api/v1/users/me/blocks/{user_id}",
            None,
            [401, 204, 204],
        ),
        row(
            Method::DELETE,
            "/api/v1/users/me/blocks/{user_id}",
            None,
            [401, 204, 204],
        ),
        // Admins only, checked before the body; the body is required (`{}` is enough).
        row(
            Method::PUT,
            "/api/v1/users/{id}/ban",
            Some(json!({"reason": "spam"})),
            [401, 403, 204],
        ),
        row(
            Method::DELETE,
            "/api/v1/users/{id}/ban",
            None,
            [401, 403, 204],
        ),
        row(
            Method::POST,
            "/api/v1/announcements",
            Some(json!({"body": "hello, everyone"})),
            [401, 403, 201],
        ),
        row(Method::GET, "/api/v1/announcements", None, [401, 200, 200]),
        // Reports are read and decided by server admins only (filing one is in the group
        // table: a message report needs membership).
        row(Method::GET, "/api/v1/reports", None, [401, 403, 200]),
        row(
            Method::GET,
            "/api/v1/reports?status=open&limit=1",
            None,
            [401, 403, 200],
        ),
        row(
            Method::PATCH,
            "/api/v1/reports/{report}",
            Some(json!({"status": "resolved"})),
            [401, 403, 200],
        ),
        // Invite codes are made, read and revoked by server admins only; `{invite}` is a live
        // code another admin made.
        row(
            Method::POST,
            "/api/v1/invites",
            Some(json!({})),
            [401, 403, 201],
        ),
        row(Method::GET, "/api/v1/invites", None, [401, 403, 200]),
        row(
            Method::DELETE,
            "/api/v1/invites/{invite}",
            None,
            [401, 403, 204],
        ),
        // Each cell is a fresh user: the user waits (202), then the admin meets them (200).
        row(
            Method::POST,
            "/api/v1/pool",
            Some(json!({})),
            [401, 202, 200],
        ),
        row(Method::DELETE, "/api/v1/pool", None, [401, 204, 204]),
        row(Method::GET, "/healthz", None, [200, 200, 200]),
        row(Method::GET, "/readyz", None, [200, 200, 200]),
        row(Method::GET, "/metrics", None, [200, 200, 200]),
        row(Method::GET, "/api/v1/openapi.json", None, [200, 200, 200]),
        // Without the upgrade headers an authenticated GET is not a WebSocket request (400);
        // the socket itself is tested in ws_*.rs.
        row(Method::GET, "/api/v1/ws", None, [401, 400, 400]),
        row(Method::GET, "/", None, [200, 200, 200]),
        // The web client's files are public, like the page.
        row(Method::GET, "/assets/{asset}", None, [200, 200, 200]),
        // The API's documentation page and its files are public too.
        row(Method::GET, "/api/docs", None, [200, 200, 200]),
        row(Method::GET, "/api/docs/{file}", None, [200, 200, 200]),
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

/// A report `other` files of a fresh user: its id.
async fn report_by(s: &TestServer, other: &Session, n: usize) -> String {
    let target = s.register(&format!("target{n}")).await;
    let body = json!({"user_id": target.user_id, "reason": "rude"});
    let r = s.post("/reports", Some(&other.access), body).await;
    r.expect(201);
    id(&r.json)
}

/// A live invite code a fresh admin made.
async fn invite_by(s: &TestServer, n: usize) -> String {
    let admin = s.admin(&format!("inviter{n}")).await;
    let r = s.post("/invites", Some(&admin.access), json!({})).await;
    r.expect(201);
    r.json["code"].as_str().unwrap_or_default().to_owned()
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
            let report = if row.path.contains("{report}") {
                report_by(s, &other, n).await
            } else {
                String::new()
            };
            let invite = if row.path.contains("{invite}") {
                invite_by(s, n).await
            } else {
                String::new()
            };
            let path = row
                .path
                .replace("{invite}", &invite)
                .replace("{id}", &other.user_id)
                .replace("{user_id}", &other.user_id)
                .replace("{report}", &report)
                .replace("{role}", "admin")
                .replace("{asset}", "icon.svg")
                .replace("{file}", "swagger-ui.css");
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

// ---------------------------------------------------------------------------------------------
// Groups and messages: every route × {anonymous, non-member, member, admin, owner}, where the
// last three are roles in the group the route names.

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Caller {
    Anonymous,
    NonMember,
    Member,
    GroupAdmin,
    Owner,
}

const CALLERS: [Caller; 5] = [
    Caller::Anonymous,
    Caller::NonMember,
    Caller::Member,
    Caller::GroupAdmin,
    Caller::Owner,
];

/// One row: method, path, body and the status for each of [`CALLERS`]. Every cell runs on a
/// fresh group whose owner, admin and members are fixed users. In paths and bodies:
/// `{group}` the group; `{member}` another plain member (not the caller); `{owner}` the
/// owner; `{me}` the caller (for anonymous: `{member}`); `{stranger}` a user in no group;
/// `{msg}` a message of `{member}`; `{own_msg}` a message of the caller's own (for anonymous
/// and non-members: `{msg}`).
struct GroupRow {
    method: Method,
    path: &'static str,
    body: Option<Value>,
    expect: [u16; 5],
}

#[rustfmt::skip]
fn group_table() -> Vec<GroupRow> {
    use Method as M;
    let row = |method: Method, path, body: Option<Value>, expect| GroupRow { method, path, body, expect };
    vec![
        // Not under a group: any user.                                                        anon non  memb admn ownr
        row(M::POST, "/api/v1/groups", Some(json!({"name": "New"})),                          [401, 201, 201, 201, 201]),
        row(M::GET, "/api/v1/groups", None,                                                   [401, 200, 200, 200, 200]),
        row(M::POST, "/api/v1/direct", Some(json!({"user_id": "{stranger}"})),                [401, 201, 201, 201, 201]),
        row(M::GET, "/api/v1/search/messages?q=hello", None,                                  [401, 200, 200, 200, 200]),
        row(M::GET, "/api/v1/search/messages?q=hello&group_id={group}", None,                 [401, 404, 200, 200, 200]),
        // The group.
        row(M::GET, "/api/v1/groups/{group}", None,                                           [401, 404, 200, 200, 200]),
        row(M::PATCH, "/api/v1/groups/{group}", Some(json!({"name": "Renamed"})),             [401, 404, 403, 200, 200]),
        row(M::DELETE, "/api/v1/groups/{group}", None,                                        [401, 404, 403, 403, 204]),
        row(M::PUT, "/api/v1/groups/{group}/alias", Some(json!({"alias": "Mine"})),           [401, 404, 200, 200, 200]),
        // Members and roles.
        row(M::GET, "/api/v1/groups/{group}/members", None,                                   [401, 404, 200, 200, 200]),
        row(M::POST, "/api/v1/groups/{group}/members", Some(json!({"user_id": "{stranger}"})), [401, 404, 403, 201, 201]),
        row(M::POST, "/api/v1/groups/{group}/members",
            Some(json!({"user_id": "{stranger}", "role": "admin"})),                          [401, 404, 403, 201, 201]),
        row(M::PATCH, "/api/v1/groups/{group}/members/{member}", Some(json!({"role": "admin"})), [401, 404, 403, 403, 200]),
        row(M::PATCH, "/api/v1/groups/{group}/members/{member}", Some(json!({"role": "owner"})), [401, 404, 403, 403, 200]),
        row(M::DELETE, "/api/v1/groups/{group}/members/{member}", None,                       [401, 404, 403, 204, 204]),
        row(M::DELETE, "/api/v1/groups/{group}/members/{owner}", None,                        [401, 404, 403, 403, 204]),
        row(M::DELETE, "/api/v1/groups/{group}/members/{me}", None,                           [401, 404, 204, 204, 204]),
        // Messages.
        row(M::POST, "/api/v1/groups/{group}/messages", Some(json!({"body": "hi"})),          [401, 404, 201, 201, 201]),
        row(M::GET, "/api/v1/groups/{group}/messages", None,                                  [401, 404, 200, 200, 200]),
        row(M::POST, "/api/v1/groups/{group}/read", Some(json!({"seq": 1})),                  [401, 404, 204, 204, 204]),
        row(M::PATCH, "/api/v1/messages/{own_msg}", Some(json!({"body": "edited"})),          [401, 404, 200, 200, 200]),
        row(M::PATCH, "/api/v1/messages/{msg}", Some(json!({"body": "edited"})),              [401, 404, 403, 403, 403]),
        row(M::DELETE, "/api/v1/messages/{own_msg}", None,                                    [401, 404, 204, 204, 204]),
        row(M::DELETE, "/api/v1/messages/{msg}", None,                                        [401, 404, 403, 204, 204]),
        // Attachments: the upload's body is a small text file (see `send`). `{file}` is a text
        // file and `{image}` a PNG, each in a message of `{member}`; `{upload}` is `{member}`'s
        // upload that no message carries yet (only its uploader sees it).
        row(M::POST, "/api/v1/groups/{group}/attachments?name=a.txt", None,                  [401, 404, 201, 201, 201]),
        row(M::GET, "/api/v1/attachments/{file}", None,                                      [401, 404, 200, 200, 200]),
        row(M::GET, "/api/v1/attachments/{upload}", None,                                    [401, 404, 404, 404, 404]),
        row(M::GET, "/api/v1/attachments/{image}/thumbnail", None,                           [401, 404, 200, 200, 200]),
        row(M::GET, "/api/v1/attachments/{file}/thumbnail", None,                            [401, 404, 404, 404, 404]),
        // Replies, reactions and pins (`{emoji}` is a percent-encoded 👍).
        row(M::GET, "/api/v1/messages/{msg}/replies", None,                                  [401, 404, 200, 200, 200]),
        row(M::PUT, "/api/v1/messages/{msg}/reactions/{emoji}", None,                        [401, 404, 204, 204, 204]),
        row(M::DELETE, "/api/v1/messages/{msg}/reactions/{emoji}", None,                     [401, 404, 204, 204, 204]),
        row(M::GET, "/api/v1/groups/{group}/pins", None,                                     [401, 404, 200, 200, 200]),
        row(M::PUT, "/api/v1/groups/{group}/pins/{msg}", None,                               [401, 404, 403, 204, 204]),
        row(M::DELETE, "/api/v1/groups/{group}/pins/{msg}", None,                            [401, 404, 403, 204, 204]),
        // Reports: a message of the group needs membership (404 otherwise, as for no such
        // message); another user may be reported by anyone. Reading and deciding them is in
        // the accounts table (server admins).
        row(M::POST, "/api/v1/reports", Some(json!({"message_id": "{msg}", "reason": "spam"})), [401, 404, 201, 201, 201]),
        row(M::POST, "/api/v1/reports", Some(json!({"user_id": "{member}", "reason": "rude"})), [401, 201, 201, 201, 201]),
    ]
}

/// The users every cell's group is made of.
struct Cast {
    owner: Session,
    admin: Session,
    member: Session,
    other_member: Session,
    outsider: Session,
}

/// What the placeholders of one cell stand for.
struct Cell {
    group: String,
    msg: String,
    own_msg: String,
    me: String,
    stranger: String,
    /// `{file}`, `{image}`, `{upload}`: attachment ids (empty when the row names none).
    file: String,
    image: String,
    upload: String,
}

impl Cell {
    fn fill(&self, text: &str, cast: &Cast) -> String {
        text.replace("{group}", &self.group)
            .replace("{own_msg}", &self.own_msg)
            .replace("{msg}", &self.msg)
            .replace("{member}", &cast.other_member.user_id)
            .replace("{owner}", &cast.owner.user_id)
            .replace("{me}", &self.me)
            .replace("{stranger}", &self.stranger)
            .replace("{file}", &self.file)
            .replace("{image}", &self.image)
            .replace("{upload}", &self.upload)
            .replace("{emoji}", "%F0%9F%91%8D")
    }

    fn fill_json(&self, v: &Value, cast: &Cast) -> Value {
        match v {
            Value::String(s) => Value::String(self.fill(s, cast)),
            Value::Object(m) => Value::Object(
                m.iter()
                    .map(|(k, v)| (k.clone(), self.fill_json(v, cast)))
                    .collect(),
            ),
            other => other.clone(),
        }
    }
}

fn code_of(status: u16) -> Option<&'static str> {
    match status {
        401 => Some("unauthorized"),
        403 => Some("forbidden"),
        404 => Some("not_found"),
        _ => None,
    }
}

async fn send(
    s: &TestServer,
    row: &GroupRow,
    cell: &Cell,
    cast: &Cast,
    token: Option<&str>,
) -> Resp {
    let body = match &row.body {
        Some(b) => Body::Json(cell.fill_json(b, cast)),
        None if row.path.contains("/attachments?") => Body::Raw {
            content_type: Some("text/plain"),
            bytes: b"hello".to_vec(),
        },
        None => Body::None,
    };
    s.call(row.method.clone(), &cell.fill(row.path, cast), token, body)
        .await
}

/// The attachments a row names, made by `{member}` in `group`: a text file and a PNG, each
/// sent in a message, and an upload no message carries.
async fn attachments_for(s: &TestServer, row: &GroupRow, cast: &Cast, group: &str) -> [String; 3] {
    let [mut file, mut image, mut upload] = [String::new(), String::new(), String::new()];
    let who = &cast.other_member;
    if row.path.contains("{file}") {
        file = id(&s
            .upload(who, group, "a.txt", "text/plain", b"hello".to_vec())
            .await
            .json);
    }
    if row.path.contains("{image}") {
        image = id(&s
            .upload(
                who,
                group,
                "a.png",
                "image/png",
                confab_tests::files::tiny_png(),
            )
            .await
            .json);
    }
    let carried: Vec<&str> = [&file, &image]
        .into_iter()
        .filter(|a| !a.is_empty())
        .map(String::as_str)
        .collect();
    if !carried.is_empty() {
        s.try_send(
            who,
            group,
            json!({"body": "files", "attachment_ids": carried}),
        )
        .await
        .expect(201);
    }
    if row.path.contains("{upload}") {
        upload = id(&s
            .upload(who, group, "b.txt", "text/plain", b"hi".to_vec())
            .await
            .json);
    }
    [file, image, upload]
}

async fn every_group_route_answers_each_caller_as_the_table_says(store: Store) {
    // Hundreds of requests by the same few users: lift the request budget, which is not what
    // this test is about.
    let s = TestServer::start_with(
        store,
        &[
            "--request-burst",
            "100000",
            "--requests-per-second",
            "100000",
        ],
    )
    .await;
    let cast = Cast {
        owner: s.register("owner").await,
        admin: s.register("admin").await,
        member: s.register("member").await,
        other_member: s.register("other").await,
        outsider: s.register("outsider").await,
    };
    let mut strangers = 0;
    for row in group_table() {
        for (caller, expected) in CALLERS.iter().zip(row.expect) {
            let members = [&cast.admin, &cast.member, &cast.other_member];
            let group = id(&s.create_group(&cast.owner, "Matrix", &members).await);
            s.set_role(&cast.owner, &group, &cast.admin.user_id, "admin")
                .await
                .expect(200);
            let msg = id(&s.send(&cast.other_member, &group, "hello").await);
            let session = match caller {
                Caller::Anonymous => None,
                Caller::NonMember => Some(&cast.outsider),
                Caller::Member => Some(&cast.member),
                Caller::GroupAdmin => Some(&cast.admin),
                Caller::Owner => Some(&cast.owner),
            };
            let own_msg = match caller {
                Caller::Member | Caller::GroupAdmin | Caller::Owner => {
                    id(&s.send(session.unwrap(), &group, "my own").await)
                }
                _ => msg.clone(),
            };
            let stranger = if row.path.contains("{stranger}")
                || row
                    .body
                    .as_ref()
                    .is_some_and(|b| b.to_string().contains("{stranger}"))
            {
                strangers += 1;
                s.register(&format!("stranger{strangers}")).await.user_id
            } else {
                String::new()
            };
            let me = session.map_or(cast.other_member.user_id.clone(), |m| m.user_id.clone());
            let [file, image, upload] = attachments_for(&s, &row, &cast, &group).await;
            let cell = Cell {
                group,
                msg,
                own_msg,
                me,
                stranger,
                file,
                image,
                upload,
            };
            let token = session.map(|m| m.access.as_str());
            let r = send(&s, &row, &cell, &cast, token).await;
            assert_eq!(
                r.status, expected,
                "{} {} {:?} as {caller:?}: {}",
                row.method, row.path, row.body, r.text
            );
            if let Some(code) = code_of(expected) {
                r.expect_error(expected, code);
            }
            // A non-member learns nothing: the answer is the one for things that do not exist.
            if *caller == Caller::NonMember && expected == 404 {
                let ghost = Cell {
                    group: uuid::Uuid::now_v7().to_string(),
                    msg: uuid::Uuid::now_v7().to_string(),
                    own_msg: uuid::Uuid::now_v7().to_string(),
                    file: uuid::Uuid::now_v7().to_string(),
                    image: uuid::Uuid::now_v7().to_string(),
                    upload: uuid::Uuid::now_v7().to_string(),
                    ..cell
                };
                let g = send(&s, &row, &ghost, &cast, token).await;
                assert_eq!(
                    (g.status, &g.json),
                    (r.status, &r.json),
                    "{} {} leaks existence to non-members",
                    row.method,
                    row.path
                );
            }
        }
    }
}

/// An operation as `(METHOD, path)`, with every `{placeholder}` spelled `{}` and the query
/// dropped, so the tables may name path ids after what they hold.
fn operation(method: &Method, path: &str) -> (String, String) {
    let path = path.split('?').next().unwrap_or(path);
    let mut out = String::new();
    let mut inside = false;
    for c in path.chars() {
        match c {
            '{' => {
                inside = true;
                out.push_str("{}");
            }
            '}' => inside = false,
            c if !inside => out.push(c),
            _ => {}
        }
    }
    (method.to_string(), out)
}

async fn the_table_covers_every_documented_operation(s: &TestServer) {
    let doc = s
        .call(Method::GET, "/api/v1/openapi.json", None, Body::None)
        .await;
    let mut documented = BTreeSet::new();
    for (path, item) in doc.json["paths"].as_object().unwrap() {
        for method in item.as_object().unwrap().keys() {
            if let Ok(m) = method.to_uppercase().parse::<Method>()
                && ["GET", "POST", "PUT", "PATCH", "DELETE"].contains(&m.as_str())
            {
                documented.insert(operation(&m, path));
            }
        }
    }
    let accounts: BTreeSet<_> = table()
        .iter()
        .map(|r| operation(&r.method, r.path))
        .collect();
    let groups: BTreeSet<_> = group_table()
        .iter()
        .map(|r| operation(&r.method, r.path))
        .collect();
    assert!(
        accounts.is_disjoint(&groups),
        "an operation is in both tables: {:?}",
        accounts.intersection(&groups).collect::<Vec<_>>()
    );
    let tabled: BTreeSet<_> = accounts.union(&groups).cloned().collect();
    assert_eq!(
        documented.difference(&tabled).collect::<Vec<_>>(),
        Vec::<&(String, String)>::new(),
        "documented operations without a row"
    );
    assert_eq!(
        tabled.difference(&documented).collect::<Vec<_>>(),
        Vec::<&(String, String)>::new(),
        "rows for operations that are not documented"
    );
}

confab_tests::store_tests!(
    every_route_answers_each_caller_as_the_table_says,
    the_table_covers_every_documented_operation,
    ; own_server: every_group_route_answers_each_caller_as_the_table_says,
);
