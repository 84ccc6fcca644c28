//! `confab backup PATH`: a round trip under write load (messages acknowledged before the backup
//! started are all in the restored copy, which passes SQLite's integrity check, and so is an
//! attachment's file), and the refusals: PATH taken, PATH not creatable, PATH empty, no
//! database, PostgreSQL.

use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use crate::h::{
    self, Server, assert_one_error_line, assert_usage_error, bearer, call, create_users, created,
    dir, get, json_str, migrated_dir, poll, run, run_env, text,
};

/// Posts messages to `group` until `stop`, recording each acknowledged (201) id in order.
fn writer(
    port: u16,
    token: String,
    group: String,
    stop: Arc<AtomicBool>,
    acked: Arc<Mutex<Vec<String>>>,
) -> std::thread::JoinHandle<()> {
    std::thread::spawn(move || {
        let path = format!("/api/v1/groups/{group}/messages");
        let mut n = 0;
        while !stop.load(Ordering::SeqCst) {
            n += 1;
            let r = call(
                port,
                "POST",
                &path,
                &token,
                &format!(r#"{{"body":"m{n}"}}"#),
            );
            assert_eq!(r.status, 201, "{}", r.body);
            acked
                .lock()
                .unwrap()
                .push(json_str(&r.body, "id").expect("id"));
        }
    })
}

/// Every message id of `group`, oldest first, paging through.
fn all_messages(port: u16, token: &str, group: &str) -> Vec<String> {
    let mut ids = Vec::new();
    let mut after = 0u64;
    loop {
        let page = get(
            port,
            &format!("/api/v1/groups/{group}/messages?after={after}&limit=100"),
            &[("Authorization", token)],
        );
        assert_eq!(page.status, 200, "{page:?}");
        let seqs: Vec<u64> = page
            .body
            .match_indices(r#""seq":"#)
            .filter_map(|(i, m)| {
                let rest = &page.body[i + m.len()..];
                rest[..rest.find(|c: char| !c.is_ascii_digit())?]
                    .parse()
                    .ok()
            })
            .collect();
        ids.extend(
            page.body
                .match_indices(r#"{"id":""#)
                .map(|(i, m)| page.body[i + m.len()..i + m.len() + 36].to_owned()),
        );
        match seqs.iter().max() {
            Some(&max) if page.body.contains(r#""has_more":true"#) => after = max,
            _ => return ids,
        }
    }
}

#[test]
fn a_backup_under_write_load_restores_every_acknowledged_message() {
    let d = dir();
    let files = d.path().join("files");
    let files_flag = files.to_str().unwrap().to_owned();
    create_users(d.path(), &[("ada", false)]);
    // No rate limit in the way of the writer: the load is the point.
    let unlimited = [
        "--request-burst",
        "1000000",
        "--requests-per-second",
        "1000000",
    ];
    let server = Server::start(
        d.path(),
        &[&["--attachments-dir", &files_flag][..], &unlimited[..]].concat(),
    );
    let port = server.port;
    let ada = bearer(port, "ada");
    let group = created(&call(
        port,
        "POST",
        "/api/v1/groups",
        &ada,
        r#"{"name":"Log"}"#,
    ));
    let upload = h::http(
        port,
        "POST",
        &format!("/api/v1/groups/{group}/attachments?name=notes.txt"),
        &[("Content-Type", "text/plain"), ("Authorization", &ada)],
        Some("kept across the backup"),
    )
    .unwrap();
    let attachment = created(&upload);

    let stop = Arc::new(AtomicBool::new(false));
    let acked = Arc::new(Mutex::new(Vec::new()));
    let load = writer(
        port,
        ada.clone(),
        group.clone(),
        stop.clone(),
        acked.clone(),
    );
    assert!(
        poll(Duration::from_secs(60), || acked.lock().unwrap().len()
            >= 30),
        "the writer made no progress"
    );
    let before: Vec<String> = acked.lock().unwrap().clone();
    let out = run_env(
        d.path(),
        ["backup", "copy"],
        &[("CONFAB_ATTACHMENTS_DIR", &files_flag)],
    );
    stop.store(true, Ordering::SeqCst);
    load.join().expect("the writer failed");
    assert!(out.status.success(), "{}", text(&out));
    assert!(h::stdout(&out).starts_with("backed up "), "{}", text(&out));
    server.stop();

    let copy = d.path().join("copy");
    let db = copy.join("confab.db");
    let conn =
        rusqlite::Connection::open_with_flags(&db, rusqlite::OpenFlags::SQLITE_OPEN_READ_ONLY)
            .unwrap();
    let check: String = conn
        .query_row("PRAGMA integrity_check", [], |r| r.get(0))
        .unwrap();
    assert_eq!(check, "ok");
    drop(conn);

    let restored = dir();
    let url = format!("sqlite://{}", db.display());
    let attachments = copy.join("attachments");
    let server = Server::start(
        restored.path(),
        &[
            "--database-url",
            &url,
            "--attachments-dir",
            attachments.to_str().unwrap(),
        ],
    );
    let port = server.port;
    let ada = bearer(port, "ada");
    let there = all_messages(port, &ada, &group);
    let missing: Vec<&String> = before.iter().filter(|id| !there.contains(id)).collect();
    assert!(
        missing.is_empty(),
        "{} of {} acknowledged messages missing",
        missing.len(),
        before.len()
    );
    let file = get(
        port,
        &format!("/api/v1/attachments/{attachment}"),
        &[("Authorization", &ada)],
    );
    assert_eq!(file.status, 200, "{file:?}");
    assert_eq!(file.body, "kept across the backup");
    server.stop();
}

#[test]
fn a_backup_never_overwrites_and_says_why_it_cannot_write() {
    let d = migrated_dir();
    std::fs::create_dir(d.path().join("taken")).unwrap();
    std::fs::write(d.path().join("file"), "x").unwrap();
    for taken in ["taken", "file", "confab.db"] {
        let out = run(d.path(), ["backup", taken]);
        assert_one_error_line(&out, &[taken, "already exists"]);
    }
    assert_eq!(std::fs::read_to_string(d.path().join("file")).unwrap(), "x");
    for unwritable in ["file/inside", "no/such/parent"] {
        let out = run(d.path(), ["backup", unwritable]);
        assert_one_error_line(&out, &["cannot create", unwritable]);
    }
    assert_usage_error(&run(d.path(), ["backup", ""]), &["<PATH>"]);
    assert_usage_error(&run(d.path(), ["backup"]), &["<PATH>"]);

    let out = run(
        d.path(),
        ["backup", "x", "--database-url", "sqlite://none.db"],
    );
    assert_one_error_line(&out, &["no database", "none.db"]);
    assert!(
        !d.path().join("x").exists(),
        "a failed backup leaves nothing"
    );
    std::fs::write(
        d.path().join("junk.db"),
        "not a database at all, just text: ".repeat(200),
    )
    .unwrap();
    std::fs::write(d.path().join("empty.db"), "").unwrap();
    for (db, says) in [
        ("junk.db", "not a database"),
        ("empty.db", "not a confab database"),
    ] {
        let url = format!("sqlite://{db}");
        let out = run(d.path(), ["backup", "w", "--database-url", &url]);
        assert_one_error_line(&out, &[db, says]);
        assert!(
            !d.path().join("w").exists(),
            "a failed backup leaves nothing"
        );
    }
    let out = run(d.path(), ["backup", "y", "--attachments-dir", "missing"]);
    assert_one_error_line(&out, &["no attachments directory", "missing"]);
    assert!(
        !d.path().join("y").exists(),
        "a failed backup leaves nothing"
    );

    let out = run(
        d.path(),
        [
            "backup",
            "z",
            "--database-url",
            "postgres://u:secret@127.0.0.1:1/db",
        ],
    );
    let line = assert_one_error_line(&out, &["pg_dump", "docs/operations.md"]);
    assert!(!line.contains("secret"), "{line}");
    assert!(!d.path().join("z").exists());
}
