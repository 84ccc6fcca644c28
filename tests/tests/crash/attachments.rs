//! SIGKILL in the middle of uploads (issue 16), on each blob store: bytes in
//! `--attachments-dir` (SQLite), and in the database (SQLite and PostgreSQL).
//!
//! A user uploads a file whole; then a 24 MiB upload starts that arrives slowly, while
//! [`UPLOADERS`] clients upload small files back to back (so that the kill also lands on
//! uploads being committed). Once some MiB of the slow one are in the server's hands (seen from
//! outside: a `tmp/*.part` file, or chunk rows under an uncommitted blob), the server is
//! SIGKILLed with bytes still flowing. A new process on the same database and directory must
//! show nothing of the cut upload in use: no attachment row, no committed blob, no file under
//! the committed layout (`<prefix>/<id>`; only `tmp/*.part` may stay, for the partial sweep),
//! a 404 for its id. Every attachment row — answered 201 or not — downloads whole, and every
//! committed blob no row names (a kill between the two commits, left for the orphan sweep) is
//! whole too: a crash never leaves part of a file where a whole one is read. New uploads work.
//!
//! What the store holds is read from outside the server, and never written: its SQL directly
//! (`TestServer::count_rows` knows only an in-process server's database), and the files.

use std::collections::{BTreeMap, BTreeSet, HashMap};
use std::path::Path;
use std::time::Duration;

use confab_tests::chat::{id, text};
use confab_tests::files::sha256_hex;
use confab_tests::{Session, Store, TestServer};
use sqlx::{Connection, PgConnection};
use tempfile::TempDir;

use crate::{Db, FLAGS};

/// The upload that is cut: declared (`Content-Length`) as a browser does, never completed.
const CUT_SIZE: u64 = 24 * 1024 * 1024;
/// It arrives this many bytes at a time, one piece every [`PACE`].
const PIECE: usize = 128 * 1024;
const PACE: Duration = Duration::from_millis(20);
/// How much of it the server must have stored before the kill.
const IN_BEFORE_KILL: u64 = 4 * 1024 * 1024;
/// The file uploaded whole before the kill: several chunks, and not a multiple of one.
const WHOLE: usize = 3 * 1024 * 1024 + 17;
/// Clients uploading files of [`SMALL`] bytes back to back until the server dies.
const UPLOADERS: usize = 3;
const SMALL: usize = 512 * 1024 + 5;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn sqlite_in_a_directory() {
    a_sigkill_mid_upload_leaves_nothing_of_it_in_use(Store::Sqlite, true).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn sqlite_in_the_database() {
    a_sigkill_mid_upload_leaves_nothing_of_it_in_use(Store::Sqlite, false).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn postgres_in_the_database() {
    a_sigkill_mid_upload_leaves_nothing_of_it_in_use(Store::Postgres, false).await;
}

async fn a_sigkill_mid_upload_leaves_nothing_of_it_in_use(store: Store, in_dir: bool) {
    let started = tokio::time::Instant::now();
    let at = Stored {
        db: Db::new(store).await,
        dir: in_dir.then(|| tempfile::tempdir().expect("temp dir")),
        label: format!(
            "{store:?}, bytes in {}",
            if in_dir {
                "a directory"
            } else {
                "the database"
            }
        ),
    };
    let mut run = kill_mid_upload(&at).await;
    let (label, alice, cut) = (&at.label, &run.alice, run.cut_id.as_str());

    let server = at.spawn().await;
    let rows = at.attachment_rows().await;
    for aid in &run.answered {
        assert!(
            rows.contains_key(aid),
            "{label}: {aid} was answered 201 but is gone"
        );
    }
    assert!(!rows.contains_key(cut), "{label}: the cut upload has a row");
    assert!(
        !rows.values().any(|n| n == "cut.bin"),
        "{label}: the cut upload has a row"
    );
    let lost = server
        .download(Some(&alice.access), &format!("/attachments/{cut}"), &[])
        .await;
    assert_eq!(lost.status, 404, "{label}: the cut upload's id");
    let orphans = at.all_whole(&server, alice, &rows, &run.sent, cut).await;

    let after = bytes_of(WHOLE + 1000, 9);
    run.sent.insert("after.bin".to_owned(), sha256_hex(&after));
    let new_id = upload_and_check(&server, alice, &run.group, after).await;
    let rows_now = at.attachment_rows().await;
    assert_eq!(
        rows_now.len(),
        rows.len() + 1,
        "{label}: rows after one more upload"
    );
    assert!(rows_now.contains_key(&new_id));
    at.all_whole(&server, alice, &rows_now, &run.sent, cut)
        .await;
    let left = at.partial().await;
    eprintln!(
        "{label}: killed with {} KiB of the slow upload stored and {} uploads answered; after \
         the restart {} rows ({} unanswered), {orphans} orphan blob(s), {} partial write(s) \
         left for the sweep ({} KiB); took {:?}",
        run.stored_before_kill >> 10,
        run.answered.len(),
        rows.len(),
        rows.len() - run.answered.len(),
        left.len(),
        left.iter().map(|(_, n)| n).sum::<u64>() >> 10,
        started.elapsed()
    );
}

/// What a run did before its server was killed.
struct Killed {
    alice: Session,
    group: String,
    /// Each file name's SHA-256 as sent, whether or not it was answered.
    sent: HashMap<String, String>,
    /// The ids answered 201.
    answered: Vec<String>,
    /// The slow upload's blob, and how many of its bytes were stored when the kill came.
    cut_id: String,
    stored_before_kill: u64,
}

/// Starts a server, uploads a file whole, then starts the slow upload and the back-to-back
/// uploaders, and SIGKILLs the server once [`IN_BEFORE_KILL`] bytes of the slow one are in.
async fn kill_mid_upload(at: &Stored) -> Killed {
    let mut server = at.spawn().await;
    let alice = server.register("alice").await;
    let group = id(&server.create_group(&alice, "files", &[]).await);
    let whole = bytes_of(WHOLE, 7);
    let mut sent = HashMap::from([("whole.bin".to_owned(), sha256_hex(&whole))]);
    let up = server
        .upload(
            &alice,
            &group,
            "whole.bin",
            "application/octet-stream",
            whole,
        )
        .await;
    up.expect(201);
    let mut answered = vec![id(&up.json)];

    let base = server.url(&format!("/api/v1/groups/{group}/attachments"));
    let cut = tokio::spawn(slow_upload(
        server.http.clone(),
        format!("{base}?name=cut.bin"),
        alice.access.clone(),
    ));
    let uploaders: Vec<_> = (0..UPLOADERS)
        .map(|u| {
            let (http, base, token) = (server.http.clone(), base.clone(), alice.access.clone());
            tokio::spawn(upload_until_refused(http, base, token, u))
        })
        .collect();
    let (cut_id, stored_before_kill) = at.wait_for_partial(IN_BEFORE_KILL).await;
    server.kill().await;
    let answer = tokio::time::timeout(Duration::from_secs(10), cut)
        .await
        .expect("the cut upload ends with its server")
        .expect("the upload task");
    assert!(
        answer.is_err(),
        "{}: the cut upload was answered {answer:?}",
        at.label
    );
    for uploader in uploaders {
        let (tried, ok) = uploader.await.expect("an uploader");
        sent.extend(tried);
        answered.extend(ok);
    }
    Killed {
        alice,
        group,
        sent,
        answered,
        cut_id,
        stored_before_kill,
    }
}

/// `len` bytes that differ with `seed` and along their length.
fn bytes_of(len: usize, seed: u32) -> Vec<u8> {
    (0..len as u32)
        .map(|i| (i.wrapping_add(seed).wrapping_mul(2_654_435_761) >> 13) as u8)
        .collect()
}

/// Uploads [`CUT_SIZE`] bytes, [`PIECE`] at a time every [`PACE`]: the server dies long before
/// the end. Answers the status, or the error the request ended with.
async fn slow_upload(http: reqwest::Client, url: String, token: String) -> Result<u16, String> {
    let body = futures::stream::unfold(0u64, |sent| async move {
        if sent >= CUT_SIZE {
            return None;
        }
        tokio::time::sleep(PACE).await;
        let piece = vec![(sent / PIECE as u64) as u8 ^ 0x5a; PIECE];
        Some((Ok::<_, std::io::Error>(piece), sent + PIECE as u64))
    });
    http.post(url)
        .bearer_auth(token)
        .header("content-type", "application/octet-stream")
        .header("content-length", CUT_SIZE)
        .body(reqwest::Body::wrap_stream(body))
        .send()
        .await
        .map(|r| r.status().as_u16())
        .map_err(|e| e.to_string())
}

/// Uploads files of [`SMALL`] bytes one after another until a request fails (the server is
/// gone). Answers what each name was sent with, and the ids answered 201.
async fn upload_until_refused(
    http: reqwest::Client,
    base: String,
    token: String,
    u: usize,
) -> (Vec<(String, String)>, Vec<String>) {
    let (mut tried, mut answered) = (Vec::new(), Vec::new());
    for n in 0.. {
        let name = format!("small-{u}-{n}.bin");
        let bytes = bytes_of(SMALL, (1000 * (u + 1) + n) as u32);
        tried.push((name.clone(), sha256_hex(&bytes)));
        let res = http
            .post(format!("{base}?name={name}"))
            .bearer_auth(&token)
            .header("content-type", "application/octet-stream")
            .body(bytes)
            .send()
            .await;
        let Ok(res) = res else { break };
        let status = res.status().as_u16();
        // The server may die after the head of its answer and before its body.
        let Ok(body) = res.json::<serde_json::Value>().await else {
            break;
        };
        assert_eq!(status, 201, "{body}");
        answered.push(id(&body));
    }
    (tried, answered)
}

/// Uploads `bytes` whole, checks the answer and a download; answers the attachment's id.
async fn upload_and_check(s: &TestServer, who: &Session, g: &str, bytes: Vec<u8>) -> String {
    let hash = sha256_hex(&bytes);
    let up = s
        .upload(who, g, "after.bin", "application/octet-stream", bytes)
        .await;
    up.expect(201);
    assert_eq!(text(&up.json, "sha256"), hash);
    let aid = id(&up.json);
    let back = s
        .download(Some(&who.access), &format!("/attachments/{aid}"), &[])
        .await;
    assert_eq!((back.status, sha256_hex(&back.bytes)), (200, hash));
    aid
}

/// Where a server under test keeps its data, read from outside it: its database, and the
/// attachments directory when it has one.
struct Stored {
    db: Db,
    dir: Option<TempDir>,
    label: String,
}

impl Stored {
    /// A server process on this database (and directory).
    async fn spawn(&self) -> TestServer {
        let mut flags: Vec<String> = FLAGS.iter().map(|s| (*s).to_owned()).collect();
        if let Some(dir) = &self.dir {
            flags.push("--attachments-dir".into());
            flags.push(dir.path().display().to_string());
        }
        let flags: Vec<&str> = flags.iter().map(String::as_str).collect();
        TestServer::spawn(
            Path::new(env!("CARGO_BIN_EXE_confab-node")),
            self.db.store,
            &self.db.url,
            &flags,
        )
        .await
    }

    /// Checks that every attachment row downloads whole (the bytes its name was sent with),
    /// that every committed blob is a row's or a whole orphan, and that the cut upload `cut`
    /// has no committed blob; answers how many orphans there are. With a directory, also that
    /// every file in it is a committed blob in its place or a `tmp/*.part`.
    async fn all_whole(
        &self,
        s: &TestServer,
        who: &Session,
        rows: &BTreeMap<String, String>,
        sent: &HashMap<String, String>,
        cut: &str,
    ) -> usize {
        let label = &self.label;
        for (aid, name) in rows {
            let back = s
                .download(Some(&who.access), &format!("/attachments/{aid}"), &[])
                .await;
            assert_eq!(back.status, 200, "{label}: {name} ({aid})");
            assert_eq!(
                sha256_hex(&back.bytes),
                sent[name],
                "{label}: {name} ({aid})"
            );
        }
        let committed = self.committed().await;
        assert!(
            !committed.contains_key(cut),
            "{label}: the cut upload is committed"
        );
        for aid in rows.keys() {
            assert!(
                committed.contains_key(aid),
                "{label}: {aid} has no committed blob"
            );
        }
        let orphans: Vec<_> = committed
            .iter()
            .filter(|(aid, _)| !rows.contains_key(*aid))
            .collect();
        for (aid, size) in &orphans {
            assert_eq!(
                **size, SMALL as u64,
                "{label}: orphan blob {aid} is not whole"
            );
        }
        if let Some(dir) = &self.dir {
            self.files_in_place(dir.path(), &orphans, sent);
        }
        orphans.len()
    }

    /// Every file under the directory is a committed blob under its prefix (an orphan holding
    /// what some upload sent) or a write in progress (`tmp/*.part`).
    fn files_in_place(
        &self,
        root: &Path,
        orphans: &[(&String, &u64)],
        sent: &HashMap<String, String>,
    ) {
        let label = &self.label;
        let known: BTreeSet<&String> = sent.values().collect();
        for entry in std::fs::read_dir(root).unwrap().flatten() {
            let dir = entry.file_name().to_string_lossy().into_owned();
            assert!(entry.path().is_dir(), "{label}: a file at the top: {dir}");
            for file in std::fs::read_dir(entry.path()).unwrap().flatten() {
                let name = file.file_name().to_string_lossy().into_owned();
                if dir == "tmp" {
                    assert!(name.ends_with(".part"), "{label}: tmp/{name}");
                    continue;
                }
                assert!(name.starts_with(&dir), "{label}: {dir}/{name} out of place");
                if orphans.iter().any(|(aid, _)| **aid == name) {
                    let bytes = std::fs::read(file.path()).unwrap();
                    let hash = sha256_hex(&bytes);
                    assert!(
                        known.contains(&hash),
                        "{label}: orphan {name} holds bytes never sent"
                    );
                }
            }
        }
    }

    /// Waits until one blob being written holds at least `bytes`; answers its id and size.
    async fn wait_for_partial(&self, bytes: u64) -> (String, u64) {
        let deadline = tokio::time::Instant::now() + Duration::from_secs(30);
        loop {
            let partial = self.partial().await;
            if let Some((id, n)) = partial.iter().find(|(_, n)| *n >= bytes) {
                return (id.clone(), *n);
            }
            assert!(
                tokio::time::Instant::now() < deadline,
                "{}: the upload never reached {bytes} bytes in the server: {partial:?}",
                self.label
            );
            tokio::time::sleep(Duration::from_millis(20)).await;
        }
    }

    /// Blobs being written (or left by a crash): their ids and the bytes they hold.
    async fn partial(&self) -> Vec<(String, u64)> {
        if let Some(dir) = &self.dir {
            return sizes(&dir.path().join("tmp"))
                .into_iter()
                .filter_map(|(name, n)| {
                    let id = name.strip_suffix(".part")?.split('.').next()?.to_owned();
                    Some((id, n))
                })
                .collect();
        }
        self.blobs(false).await.into_iter().collect()
    }

    /// Committed blobs: their ids and the bytes they hold.
    async fn committed(&self) -> BTreeMap<String, u64> {
        let Some(dir) = &self.dir else {
            return self.blobs(true).await;
        };
        std::fs::read_dir(dir.path())
            .unwrap()
            .flatten()
            .filter(|e| e.file_name() != "tmp")
            .flat_map(|e| sizes(&e.path()))
            .collect()
    }

    /// The in-database blobs, committed or not: ids and bytes held.
    async fn blobs(&self, committed: bool) -> BTreeMap<String, u64> {
        let (sqlite, postgres) = if committed {
            ("b.committed = 1", "b.committed")
        } else {
            ("b.committed = 0", "NOT b.committed")
        };
        let query = |id: &str, size: &str, cond: &str| {
            format!(
                "SELECT b.{id}, {size} FROM blobs b LEFT JOIN blob_chunks c ON c.blob_id = b.id
                  WHERE {cond} GROUP BY b.id"
            )
        };
        let rows = self
            .rows(
                query(
                    "id",
                    "CAST(coalesce(sum(length(c.data)), 0) AS TEXT)",
                    sqlite,
                ),
                query(
                    "id::text",
                    "coalesce(sum(length(c.data)), 0)::text",
                    postgres,
                ),
            )
            .await;
        rows.into_iter()
            .map(|(id, n)| (id, n.parse().unwrap()))
            .collect()
    }

    /// Attachment rows: id → file name.
    async fn attachment_rows(&self) -> BTreeMap<String, String> {
        self.rows(
            "SELECT id, name FROM attachments".into(),
            "SELECT id::text, name FROM attachments".into(),
        )
        .await
        .into_iter()
        .collect()
    }

    /// The `(text, text)` rows a query answers, in SQLite's or PostgreSQL's words.
    async fn rows(&self, sqlite: String, postgres: String) -> Vec<(String, String)> {
        match self.db.store {
            Store::Sqlite => {
                let path = self.db.url.strip_prefix("sqlite://").unwrap().to_owned();
                tokio::task::spawn_blocking(move || {
                    let db = rusqlite::Connection::open(path).unwrap();
                    db.busy_timeout(Duration::from_secs(5)).unwrap();
                    let mut stmt = db.prepare(&sqlite).unwrap();
                    stmt.query_map([], |r| Ok((r.get(0)?, r.get(1)?)))
                        .unwrap()
                        .collect::<rusqlite::Result<Vec<_>>>()
                        .unwrap()
                })
                .await
                .unwrap()
            }
            Store::Postgres => {
                let mut conn = PgConnection::connect(&self.db.url).await.unwrap();
                let rows = sqlx::query_as::<_, (String, String)>(sqlx::AssertSqlSafe(postgres))
                    .fetch_all(&mut conn)
                    .await
                    .unwrap();
                let _ = conn.close().await;
                rows
            }
        }
    }
}

/// The files in `dir`: names and sizes.
fn sizes(dir: &Path) -> Vec<(String, u64)> {
    std::fs::read_dir(dir)
        .unwrap()
        .flatten()
        .filter_map(|e| {
            Some((
                e.file_name().to_string_lossy().into_owned(),
                e.metadata().ok()?.len(),
            ))
        })
        .collect()
}
