//! `confab port`: a generated history of more than 10,000 messages moved SQLite → PostgreSQL →
//! SQLite, where the server started on each target shows, through the API and to the very
//! tokens issued before the move, exactly what the first server showed; and the refusals: a
//! target that has data (nothing written), the same database twice, bad URLs.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::collections::BTreeMap;
use std::time::Instant;

use confab_ports::service::{Progress, Report};
use confab_tests::chat::{id, num, text};
use confab_tests::existing::FreshStore;
use confab_tests::files;
use confab_tests::{Session, Store, TestServer};
use futures::stream::{self, StreamExt};
use serde_json::{Value, json};

/// No rate limit gets in the way of generating the history.
const FLAGS: &[&str] = &[
    "--request-burst",
    "1000000",
    "--requests-per-second",
    "1000000",
];

/// Requests in flight while generating.
const IN_FLIGHT: usize = 16;

/// Announcements made, more than one page of the list.
const ANNOUNCEMENTS: u64 = 7;

/// Words that each match well under a page of 100 results, so the comparison sees every
/// match whichever way each store ranks them.
const SEARCH_TERMS: &[&str] = &[
    "w5",
    "w123",
    "w266",
    "cafe",
    "creme",
    "edited 38",
    "w7 note",
];

const TOPICS: &[&str] = &[
    "lunch", "deploy", "books", "weather", "music", "travel", "chess",
];

/// What the generated history is, for reading it back.
struct History {
    users: Vec<Session>,
    /// Every group and direct chat (the closed one too), with a member to read it as.
    readers: Vec<(String, Session)>,
    /// A named group, for a search within one group.
    lounge: String,
    /// Messages that have replies (one of them deleted), with a member to read the thread as.
    threads: Vec<(String, Session)>,
    /// Sends that carried a `client_id`: (sender, group, client_id, message id).
    with_client_id: Vec<(Session, String, String, String)>,
    /// A second login of frank's that logged out: its tokens must stay dead.
    logged_out: Session,
    /// Messages sent.
    sent: u64,
}

/// One message to send: its number, sender, group, body and the message it replies to.
struct Send {
    n: usize,
    sender: Session,
    group: String,
    body: String,
    reply_to: Option<String>,
}

fn body(n: usize) -> String {
    let mut b = format!("{} note {n} w{}", TOPICS[n % TOPICS.len()], n % 397);
    if n.is_multiple_of(199) {
        b.push_str(" — Café crème?");
    }
    b
}

/// Sends every message, `IN_FLIGHT` at a time; returns (n, sender, group, message) per send.
async fn send_all(s: &TestServer, sends: Vec<Send>) -> Vec<(usize, Session, String, Value)> {
    stream::iter(sends)
        .map(|m| async move {
            let mut req = json!({"body": m.body});
            if m.n.is_multiple_of(10) {
                req["client_id"] = json!(format!("c-{}", m.n));
            }
            if let Some(original) = &m.reply_to {
                req["reply_to"] = json!(original);
            }
            let r = s.try_send(&m.sender, &m.group, req).await;
            r.expect(201);
            (m.n, m.sender, m.group, r.json.clone())
        })
        .buffer_unordered(IN_FLIGHT)
        .collect()
        .await
}

/// Round-robin sends of `count` messages to `group` by `senders`, numbered from `*next`.
fn plan(next: &mut usize, group: &str, senders: &[&Session], count: usize) -> Vec<Send> {
    (0..count)
        .map(|i| {
            let n = *next;
            *next += 1;
            Send {
                n,
                sender: senders[i % senders.len()].clone(),
                group: group.to_owned(),
                body: body(n),
                reply_to: None,
            }
        })
        .collect()
}

/// Several users, groups and direct chats, more than 10,000 messages, edits, deletes (by
/// senders and by a group admin), aliases, read markers, role changes and an ownership
/// transfer, members removed and leaving, a renamed group, a closed direct chat and a new one
/// for the same pair, a refreshed login and a logged-out one.
async fn generate(s: &TestServer) -> History {
    let names = [
        "alice", "bob", "carol", "dave", "erin", "frank", "grace", "heidi",
    ];
    let users: Vec<Session> = futures::future::join_all(names.iter().enumerate().map(|(i, n)| {
        let mut reg = json!({"username": n, "password": "correct horse battery"});
        if i.is_multiple_of(2) {
            reg["display_name"] = json!(format!("{} Ünïcode", n.to_uppercase()));
            reg["email"] = json!(format!("{n}@example.org"));
        }
        if i.is_multiple_of(3) {
            reg["country"] = json!("DE");
        }
        s.register_with(reg)
    }))
    .await;
    s.make_admin("alice").await;
    let [alice, bob, carol, dave, erin, frank, grace, heidi] =
        <[Session; 8]>::try_from(users.clone()).unwrap();
    for n in 0..ANNOUNCEMENTS {
        s.post(
            "/announcements",
            Some(&alice.access),
            json!({"body": format!("announcement {n}: café ünïcode")}),
        )
        .await
        .expect(201);
    }

    let lounge = id(&s
        .create_group(&alice, "Lounge", &[&bob, &carol, &dave, &erin, &frank])
        .await);
    let work = id(&s
        .create_group(&alice, "Work", &[&bob, &carol, &grace])
        .await);
    let books = id(&s
        .create_group(&dave, "Books", &[&erin, &heidi, &alice])
        .await);
    let quiet = id(&s.create_group(&frank, "Quiet", &[]).await);
    s.patch(
        &format!("/groups/{quiet}"),
        Some(&frank.access),
        json!({"name": "Quiet room"}),
    )
    .await
    .expect(200);
    s.set_role(&alice, &lounge, &bob.user_id, "admin")
        .await
        .expect(200);
    // An ownership transfer: carol owns Work, alice is demoted to admin.
    s.set_role(&alice, &work, &carol.user_id, "owner")
        .await
        .expect(200);
    s.add_member(&dave, &books, &grace, Some("admin")).await;
    let ab = id(&s.direct(&alice, &bob).await.json);
    let cd_closed = id(&s.direct(&carol, &dave).await.json);
    let ef = id(&s.direct(&erin, &frank).await.json);

    let started = Instant::now();
    let mut next = 0;
    // Each group with its senders (the first may pin there) and how many messages it gets.
    let rosters: Vec<(&String, Vec<&Session>, usize)> = vec![
        (
            &lounge,
            vec![&alice, &bob, &carol, &dave, &erin, &frank],
            4_000,
        ),
        (&work, vec![&alice, &bob, &carol, &grace], 2_500),
        (&books, vec![&dave, &erin, &heidi, &alice, &grace], 1_500),
        (&ab, vec![&alice, &bob], 1_500),
        (&cd_closed, vec![&carol, &dave], 300),
    ];
    let mut sends = Vec::new();
    for (group, senders, count) in &rosters {
        sends.extend(plan(&mut next, group, senders, *count));
    }
    // Interleaved, as real traffic is.
    sends.sort_by_key(|m| (m.n * 7_919) % 10_007);
    let mut sent = send_all(s, sends).await;

    // Edits by their senders, then deletes: by senders, and in the Lounge by bob (admin).
    let edits: Vec<_> = sent.iter().filter(|(n, ..)| n % 37 == 1).collect();
    stream::iter(edits)
        .map(|(n, sender, _, m)| async move {
            s.edit(sender, &id(m), &format!("edited {n} w{}", (n * 7) % 397))
                .await;
        })
        .buffer_unordered(IN_FLIGHT)
        .collect::<Vec<()>>()
        .await;
    let deletes: Vec<_> = sent.iter().filter(|(n, ..)| n % 53 == 2).collect();
    stream::iter(deletes)
        .map(|(n, sender, group, m)| {
            let actor = if *group == lounge && n.is_multiple_of(2) {
                &bob
            } else {
                sender
            };
            async move {
                s.delete_message(actor, &id(m)).await.expect(204);
            }
        })
        .buffer_unordered(IN_FLIGHT)
        .collect::<Vec<()>>()
        .await;
    let threads = socialize(s, &rosters, &mut next, &mut sent).await;

    // The direct chat is closed (dave did not open it) and the pair gets a new one.
    s.delete(&format!("/groups/{cd_closed}"), Some(&dave.access))
        .await
        .expect(204);
    let cd = s.direct(&carol, &dave).await;
    cd.expect(201);
    let cd = id(&cd.json);
    sent.extend(send_all(s, plan(&mut next, &cd, &[&carol, &dave], 250)).await);
    eprintln!(
        "generated {} messages in {:?}",
        sent.len(),
        started.elapsed()
    );

    // heidi is removed, erin leaves; their messages stay.
    s.remove_member(&dave, &books, &heidi.user_id)
        .await
        .expect(204);
    s.remove_member(&erin, &books, &erin.user_id)
        .await
        .expect(204);
    for (who, group, alias) in [
        (&bob, &lounge, "The pub"),
        (&alice, &ab, "Bobby"),
        (&dave, &cd_closed, "old chat"),
        (&grace, &work, "Office"),
    ] {
        s.put_json(
            &format!("/groups/{group}/alias"),
            Some(&who.access),
            json!({"alias": alias}),
        )
        .await
        .expect(200);
    }
    // Read markers at a different point for everyone, and none at all for heidi.
    for (i, u) in users.iter().enumerate().take(7) {
        for g in s.groups(u).await {
            let seq = num(&g, "last_seq") * (i as u64 + 1) / 8;
            if seq > 0 {
                s.read(u, &id(&g), seq).await;
            }
        }
    }

    // A login that is refreshed (grace goes on with the new pair) and one that logs out.
    let refreshed = s
        .post(
            "/auth/refresh",
            None,
            json!({"refresh_token": grace.refresh}),
        )
        .await;
    refreshed.expect(200);
    let grace = session_after_refresh(&refreshed.json, &grace);
    let logged_out = s.login("frank", "correct horse battery").await;
    s.post(
        "/auth/logout",
        None,
        json!({"refresh_token": logged_out.refresh}),
    )
    .await
    .expect(204);

    let mut users = users;
    users[6] = grace;
    let with_client_id = sent
        .iter()
        .filter(|(n, ..)| n.is_multiple_of(10) && n % 53 != 2)
        .take(5)
        .map(|(n, sender, group, m)| (sender.clone(), group.clone(), format!("c-{n}"), id(m)))
        .collect();
    let readers = vec![
        (lounge.clone(), alice.clone()),
        (work.clone(), carol.clone()),
        (books.clone(), dave.clone()),
        (quiet, frank.clone()),
        (ab, bob.clone()),
        (cd_closed, carol.clone()),
        (cd, dave.clone()),
        (ef, erin.clone()),
    ];
    History {
        users,
        readers,
        lounge,
        threads,
        with_client_id,
        logged_out,
        sent: sent.len() as u64,
    }
}

/// Replies that mention the replied-to sender (to deleted messages too), reactions (some taken
/// back) and pins (one unpinned) across the `rosters`' groups; the replies join `sent`.
/// Returns the replied-to messages, each with a member to read its thread as.
async fn socialize(
    s: &TestServer,
    rosters: &[(&String, Vec<&Session>, usize)],
    next: &mut usize,
    sent: &mut Vec<(usize, Session, String, Value)>,
) -> Vec<(String, Session)> {
    let senders_of = |group: &String| &rosters.iter().find(|r| r.0 == group).unwrap().1;
    let deleted = |n: usize| n % 53 == 2;
    let originals: Vec<_> = sent
        .iter()
        .filter(|(n, ..)| n % 101 == 2)
        .cloned()
        .collect();
    assert!(originals.iter().any(|(n, ..)| deleted(*n)));
    let mut replies = Vec::new();
    for (n, sender, group, m) in &originals {
        let senders = senders_of(group);
        for k in 1..=2 {
            let by = senders[(n + k) % senders.len()];
            replies.push(Send {
                n: *next,
                sender: by.clone(),
                group: group.clone(),
                body: format!("re {n} @{} {}", sender.username, body(*next)),
                reply_to: Some(id(m)),
            });
            *next += 1;
        }
    }
    sent.extend(send_all(s, replies).await);

    const EMOJI: [&str; 4] = ["👍", "🎉", "❤️", "🦀"];
    let reactions: Vec<_> = sent
        .iter()
        .filter(|(n, ..)| n % 29 == 3 && !deleted(*n))
        .flat_map(|(n, _, group, m)| {
            let senders = senders_of(group);
            (0..=n % 3).map(move |i| (senders[(n + i) % senders.len()], EMOJI[(n + i) % 4], m, *n))
        })
        .collect();
    stream::iter(&reactions)
        .map(|(who, emoji, m, n)| async move {
            assert_eq!(s.react(who, &id(m), emoji, true).await, 204);
            if n % 58 == 3 {
                assert_eq!(s.react(who, &id(m), emoji, false).await, 204);
            }
        })
        .buffer_unordered(IN_FLIGHT)
        .collect::<Vec<()>>()
        .await;

    let mut pinned = 0;
    for (_, _, group, m) in sent.iter().filter(|(n, ..)| n % 997 == 5 && !deleted(*n)) {
        let pinner = senders_of(group)[0];
        s.pin(pinner, group, &id(m), true).await.expect(204);
        if pinned == 0 {
            s.pin(pinner, group, &id(m), false).await.expect(204);
        }
        pinned += 1;
    }
    assert!(pinned >= 5, "only {pinned} pins");
    originals
        .into_iter()
        .map(|(_, _, group, m)| (id(&m), senders_of(&group)[0].clone()))
        .collect()
}

/// The session in a refresh answer, for the user of `before`.
fn session_after_refresh(body: &Value, before: &Session) -> Session {
    Session {
        user_id: before.user_id.clone(),
        username: before.username.clone(),
        access: text(&body["tokens"], "access_token"),
        refresh: text(&body["tokens"], "refresh_token"),
    }
}

/// Everything the API shows of the history, by a name saying where it was seen, read with the
/// tokens issued by the first server.
async fn snapshot(s: &TestServer, h: &History) -> BTreeMap<String, Value> {
    let mut out = BTreeMap::new();
    for u in &h.users {
        let me = s.get("/users/me", Some(&u.access)).await;
        me.expect(200);
        out.insert(format!("{}: /users/me", u.username), me.json);
        out.insert(
            format!("{}: /groups", u.username),
            Value::Array(s.groups(u).await),
        );
        for term in SEARCH_TERMS {
            let mut found = s.search(u, &format!("q={term}&limit=100")).await;
            assert!(found.len() < 100, "{term:?} matches too much to compare");
            // The stores rank alike but not identically: compare what is found.
            found.sort_by_key(id);
            out.insert(
                format!("{}: search {term}", u.username),
                Value::Array(found),
            );
        }
        for query in ["q=a", "q=GR", "email=carol@example.org"] {
            let r = s.get(&format!("/users?{query}"), Some(&u.access)).await;
            r.expect(200);
            out.insert(format!("{}: /users?{query}", u.username), r.json);
        }
    }
    let alice = &h.users[0];
    let mut in_lounge = s
        .search(alice, &format!("q=w5&group_id={}&limit=100", h.lounge))
        .await;
    in_lounge.sort_by_key(id);
    out.insert(
        "alice: search w5 in the lounge".into(),
        Value::Array(in_lounge),
    );
    for (group, reader) in &h.readers {
        out.insert(
            format!("{group}: as {}", reader.username),
            s.group(reader, group).await,
        );
        out.insert(
            format!("{group}: members"),
            Value::Array(s.members(reader, group).await),
        );
        out.insert(
            format!("{group}: history"),
            Value::Array(s.all_messages(reader, group).await),
        );
        let (latest, has_more) = s.history(reader, group, "limit=20").await;
        out.insert(
            format!("{group}: latest page"),
            json!({"messages": latest, "has_more": has_more}),
        );
    }
    for (group, reader) in &h.readers {
        let pins = s
            .get(&format!("/groups/{group}/pins"), Some(&reader.access))
            .await;
        out.insert(format!("{group}: pins"), json!([pins.status, pins.json]));
    }
    for (message, reader) in &h.threads {
        let r = s
            .get(
                &format!("/messages/{message}/replies?limit=100"),
                Some(&reader.access),
            )
            .await;
        r.expect(200);
        out.insert(format!("{message}: replies"), r.json);
    }
    // Every announcement, through pages of the list (ids, order, bodies and times moved).
    let mut query = "limit=3".to_owned();
    for page in 0.. {
        let r = s
            .get(&format!("/announcements?{query}"), Some(&alice.access))
            .await;
        r.expect(200);
        let last = r.json["announcements"].as_array().unwrap().last().map(id);
        let more = r.json["has_more"].as_bool().unwrap();
        out.insert(format!("announcements page {page}"), r.json);
        match last {
            Some(last) if more => query = format!("limit=3&before={last}"),
            _ => break,
        }
    }
    let dead = s.get("/users/me", Some(&h.logged_out.access)).await;
    out.insert("a logged-out access token".into(), json!(dead.status));
    out
}

/// Asserts both snapshots are equal, naming the first place they differ.
#[track_caller]
fn assert_same(before: &BTreeMap<String, Value>, after: &BTreeMap<String, Value>, step: &str) {
    assert_eq!(
        before.keys().collect::<Vec<_>>(),
        after.keys().collect::<Vec<_>>(),
        "{step}: a different set of views"
    );
    for (key, was) in before {
        let is = &after[key];
        if was != is {
            let (was, is) = (was.to_string(), is.to_string());
            let at = was
                .bytes()
                .zip(is.bytes())
                .position(|(a, b)| a != b)
                .unwrap_or(was.len().min(is.len()));
            let from = at.saturating_sub(200);
            panic!(
                "{step}: {key} differs at byte {at}\n  before: …{}\n  after:  …{}",
                &was[from..(at + 200).min(was.len())],
                &is[from..(at + 200).min(is.len())],
            );
        }
    }
}

/// Runs `confab::port`, returning its report and the progress it reported.
async fn port(from: &str, to: &str) -> Result<(Report, Vec<Progress>), String> {
    let mut seen = Vec::new();
    let report = confab::port(from, to, &mut |p: &Progress| seen.push(p.clone()))
        .await
        .map_err(|e| e.0)?;
    Ok((report, seen))
}

/// Every table verified equal, with the history's messages in it; progress ended with every
/// table complete, in batches of at most 1,000.
#[track_caller]
fn assert_complete(report: &Report, progress: &[Progress], messages: u64) {
    assert!(report.tables.iter().all(|t| t.matches()), "{report:?}");
    let count = |name: &str| {
        report
            .tables
            .iter()
            .find(|t| t.table == name)
            .unwrap()
            .target
    };
    assert_eq!(count("messages"), messages);
    assert_eq!(count("users"), 8);
    assert_eq!(count("announcements"), ANNOUNCEMENTS);
    assert_eq!(count("settings"), 1, "the signing secret");
    for social in ["reactions", "mentions"] {
        assert!(count(social) > 100, "{social}: {}", count(social));
    }
    for t in &report.tables {
        let last = progress.iter().rev().find(|p| p.table == t.table).unwrap();
        assert_eq!(
            (last.copied, last.total),
            (t.source, t.source),
            "{}",
            t.table
        );
    }
    let steps: Vec<u64> = progress
        .iter()
        .filter(|p| p.table == "messages")
        .map(|p| p.copied)
        .collect();
    assert!(
        steps
            .windows(2)
            .all(|w| w[1] > w[0] && w[1] - w[0] <= 1_000),
        "{steps:?}"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_history_moves_sqlite_to_postgres_to_sqlite_and_every_server_shows_the_same() {
    let started = Instant::now();
    let mut first = TestServer::start_generated_with(Store::Sqlite, FLAGS).await;
    let history = generate(&first).await;
    let before = snapshot(&first, &history).await;
    let messages = history.sent;
    assert!(messages >= 10_000, "only {messages} messages");
    first.stop().await;
    eprintln!("history and first snapshot: {:?}", started.elapsed());

    // SQLite → PostgreSQL.
    let t = Instant::now();
    let pg = FreshStore::new(Store::Postgres).await;
    let (report, progress) = port(&first.database_url(), &pg.url()).await.unwrap();
    assert_complete(&report, &progress, messages);
    eprintln!("SQLite → PostgreSQL: {:?}: {report}", t.elapsed());
    let mut second = TestServer::start_over(pg, FLAGS).await;
    assert_same(
        &before,
        &snapshot(&second, &history).await,
        "SQLite → PostgreSQL",
    );

    // A login made on the first server goes on on the second: its refresh token moved.
    let heidi = &history.users[7];
    let refreshed = second
        .post(
            "/auth/refresh",
            None,
            json!({"refresh_token": heidi.refresh}),
        )
        .await;
    refreshed.expect(200);
    let heidi_later = session_after_refresh(&refreshed.json, heidi);
    // A retried send finds the message it retries: client ids moved.
    for (sender, group, client_id, message) in &history.with_client_id {
        let r = second
            .try_send(
                sender,
                group,
                json!({"body": "retry", "client_id": client_id}),
            )
            .await;
        assert!(r.status == 200 || r.status == 201, "{}", r.text);
        assert_eq!(&id(&r.json), message);
    }
    second.stop().await;

    // PostgreSQL → SQLite.
    let t = Instant::now();
    let sqlite = FreshStore::new(Store::Sqlite).await;
    let (report, progress) = port(&second.database_url(), &sqlite.url()).await.unwrap();
    assert_complete(&report, &progress, messages);
    eprintln!("PostgreSQL → SQLite: {:?}: {report}", t.elapsed());
    let third = TestServer::start_over(sqlite, FLAGS).await;
    assert_same(
        &before,
        &snapshot(&third, &history).await,
        "PostgreSQL → SQLite",
    );
    // The login refreshed on the second server goes on on the third.
    third
        .post(
            "/auth/refresh",
            None,
            json!({"refresh_token": heidi_later.refresh}),
        )
        .await
        .expect(200);
    // New writes continue each group's sequence.
    let (lounge, alice) = (&history.lounge, &history.users[0]);
    let last_seq = num(&third.group(alice, lounge).await, "last_seq");
    assert_eq!(
        num(&third.send(alice, lounge, "after the move").await, "seq"),
        last_seq + 1
    );
    eprintln!("whole test: {:?}", started.elapsed());
}

/// A small history on a server of its own, stopped: its store is the source of a port.
async fn small_source(store: Store) -> TestServer {
    let mut s = TestServer::start_generated_with(store, &[]).await;
    let alice = s.register("alice").await;
    let bob = s.register("bob").await;
    let g = id(&s.create_group(&alice, "G", &[&bob]).await);
    s.send(&bob, &g, "hello").await;
    s.stop().await;
    s
}

/// The counts of every table, by a port of `url` into a fresh SQLite store.
async fn counts(url: &str) -> Vec<(&'static str, u64)> {
    let copy = FreshStore::new(Store::Sqlite).await;
    let (report, _) = port(url, &copy.url()).await.unwrap();
    report.tables.iter().map(|t| (t.table, t.target)).collect()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_target_with_data_is_refused_and_nothing_is_written() {
    let source = small_source(Store::Sqlite).await;
    for kind in [Store::Sqlite, Store::Postgres] {
        let target = FreshStore::new(kind).await;
        let (first, _) = port(&source.database_url(), &target.url()).await.unwrap();
        let expected: Vec<_> = first.tables.iter().map(|t| (t.table, t.target)).collect();

        let err = port(&source.database_url(), &target.url())
            .await
            .unwrap_err();
        assert!(
            err.starts_with("the target already has data (settings: 1 row, users: 2 rows"),
            "{err}"
        );
        assert_eq!(counts(&target.url()).await, expected, "{kind:?}");
    }
    // A PostgreSQL database a server ran on is refused just the same.
    let other = small_source(Store::Postgres).await;
    let err = port(&source.database_url(), &other.database_url())
        .await
        .unwrap_err();
    assert!(err.contains("already has data"), "{err}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_same_database_twice_is_refused() {
    let source = small_source(Store::Sqlite).await;
    let url = source.database_url();
    let err = port(&url, &url).await.unwrap_err();
    assert!(err.contains("the same database"), "{err}");
    // However the path is spelt.
    let path = source.sqlite_path();
    let respelt = format!(
        "sqlite://{}/./{}",
        path.parent().unwrap().display(),
        path.file_name().unwrap().to_str().unwrap()
    );
    let err = port(&url, &respelt).await.unwrap_err();
    assert!(err.contains("the same database"), "{err}");

    let pg = small_source(Store::Postgres).await;
    let err = port(&pg.database_url(), &pg.database_url())
        .await
        .unwrap_err();
    assert!(err.contains("the same database"), "{err}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn bad_urls_are_refused_and_create_nothing() {
    let source = small_source(Store::Sqlite).await;
    let from = source.database_url();
    let dir = tempfile::tempdir().unwrap();
    let missing = dir.path().join("missing.db");
    let target = dir.path().join("target.db");
    let target_url = format!("sqlite://{}", target.display());
    for (from, to, says) in [
        (
            "mysql://h/db".to_owned(),
            target_url.clone(),
            "--from: cannot parse",
        ),
        (
            String::new(),
            target_url.clone(),
            "--from: the database URL is empty",
        ),
        (from.clone(), "confab.db".to_owned(), "--to: cannot parse"),
        (
            from.clone(),
            "sqlite://".to_owned(),
            "--to: the database URL sqlite://",
        ),
        (
            format!("sqlite://{}", missing.display()),
            target_url.clone(),
            "--from: there is no SQLite database",
        ),
        (
            from.clone(),
            "postgres://postgres@127.0.0.1:1/nothing".to_owned(),
            "--to: cannot connect to PostgreSQL",
        ),
    ] {
        let err = port(&from, &to).await.unwrap_err();
        assert!(err.starts_with(says), "{from} → {to}: {err}");
    }
    assert!(!missing.exists(), "the missing source was created");
    assert!(
        !target.exists(),
        "a target was created although the copy was refused"
    );
}

/// Attachments move with their bytes (read back from the target and checked), and the server
/// on the target serves the same files, thumbnails included.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn attachments_move_with_their_bytes_sqlite_to_postgres_to_sqlite() {
    let mut first = TestServer::start_generated_with(Store::Sqlite, &[]).await;
    let alice = first.register("alice").await;
    let bob = first.register("bob").await;
    let g = id(&first.create_group(&alice, "Files", &[&bob]).await);
    let data: Vec<u8> = (0..3_000_000u32)
        .map(|i| (i.wrapping_mul(2_654_435_761) >> 11) as u8)
        .collect();
    let image = files::png(700, 300);
    let mut ids = Vec::new();
    for (name, ct, bytes) in [
        ("data.bin", "application/octet-stream", data.clone()),
        ("pic.png", "image/png", image.clone()),
    ] {
        let up = first.upload(&alice, &g, name, ct, bytes).await;
        up.expect(201);
        ids.push(id(&up.json));
    }
    first
        .try_send(&alice, &g, json!({"body": "files", "attachment_ids": ids}))
        .await
        .expect(201);
    // An upload no message took yet moves too (it is still its uploader's).
    let unused = id(&first
        .upload(&alice, &g, "later.txt", "text/plain", b"later".to_vec())
        .await
        .json);
    first.stop().await;

    let pg = FreshStore::new(Store::Postgres).await;
    let (report, _) = port(&first.database_url(), &pg.url()).await.unwrap();
    assert!(report.tables.iter().all(|t| t.matches()), "{report:?}");
    assert_eq!(report.files, 3, "{report}");
    assert!(
        report.to_string().contains("attachment files 3"),
        "{report}"
    );
    let mut second = TestServer::start_over(pg, &[]).await;
    let expect = [(&ids[0], &data), (&ids[1], &image)];
    check_files(&second, &expect, &ids[1], &unused).await;
    second.stop().await;

    let sqlite = FreshStore::new(Store::Sqlite).await;
    let (report, _) = port(&second.database_url(), &sqlite.url()).await.unwrap();
    assert_eq!(report.files, 3, "{report}");
    let third = TestServer::start_over(sqlite, &[]).await;
    check_files(&third, &expect, &ids[1], &unused).await;
}

/// Bob downloads each file (same bytes), the image's thumbnail, and alice her unused upload.
async fn check_files(s: &TestServer, expect: &[(&String, &Vec<u8>)], image: &str, unused: &str) {
    let alice = s.login("alice", "correct horse battery").await;
    let bob = s.login("bob", "correct horse battery").await;
    for (aid, bytes) in expect {
        let d = s
            .download(Some(&bob.access), &format!("/attachments/{aid}"), &[])
            .await;
        assert_eq!(d.status, 200);
        assert_eq!(files::sha256_hex(&d.bytes), files::sha256_hex(bytes));
    }
    let thumb = s
        .download(
            Some(&bob.access),
            &format!("/attachments/{image}/thumbnail"),
            &[],
        )
        .await;
    assert_eq!(thumb.status, 200);
    let later = s
        .download(Some(&alice.access), &format!("/attachments/{unused}"), &[])
        .await;
    assert_eq!((later.status, later.bytes.as_slice()), (200, &b"later"[..]));
}
