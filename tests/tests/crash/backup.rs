//! PostgreSQL's backup round trip, as docs/operations.md tells an operator to make it: `pg_dump
//! -Fc` while a server keeps taking messages, `pg_restore` into an empty database, a server on
//! the restored one. Every message acknowledged before the dump started is there, and a login
//! from before the backup still works on the restored server. (SQLite's `confab backup` has the
//! same round trip in app/tests/cli/backup.rs.)

use std::path::PathBuf;
use std::process::Command;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::Duration;

use confab_tests::chat::id;
use confab_tests::{PgCluster, Store, TestServer};
use tokio::sync::Mutex;

use crate::{Db, FLAGS};

/// A PostgreSQL client program from the same directory as the `initdb` the harness runs.
fn pg_program(name: &str) -> PathBuf {
    let initdb = std::env::var_os("PATH")
        .and_then(|paths| {
            std::env::split_paths(&paths)
                .map(|dir| dir.join("initdb"))
                .find(|p| p.is_file())
        })
        .expect("initdb on PATH (the harness needs it too)");
    // Through any link on PATH to the installation's own directory, where pg_dump sits too.
    let initdb = std::fs::canonicalize(&initdb).unwrap_or(initdb);
    let program = initdb.with_file_name(name);
    assert!(program.is_file(), "{} is missing", program.display());
    program
}

/// Runs a PostgreSQL client program to completion; panics with its stderr when it fails.
fn run(program: &str, args: &[&str]) {
    let out = Command::new(pg_program(program))
        .args(args)
        .output()
        .unwrap_or_else(|e| panic!("cannot run {program}: {e}"));
    assert!(
        out.status.success(),
        "{program} failed: {}",
        String::from_utf8_lossy(&out.stderr)
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn postgres_pg_dump_under_write_load_restores_every_acknowledged_message() {
    let db = Db::new(Store::Postgres).await;
    let server = Arc::new(db.spawn().await);
    let ada = server.register("ada").await;
    let group = id(&server.create_group(&ada, "log", &[]).await);

    let stop = Arc::new(AtomicBool::new(false));
    let acked = Arc::new(Mutex::new(Vec::<String>::new()));
    let writer = tokio::spawn({
        let (server, ada, group) = (server.clone(), ada.clone(), group.clone());
        let (stop, acked) = (stop.clone(), acked.clone());
        async move {
            let mut n = 0;
            while !stop.load(Ordering::SeqCst) {
                n += 1;
                let m = server.send(&ada, &group, &format!("entry {n}")).await;
                acked.lock().await.push(id(&m));
            }
        }
    });
    let deadline = tokio::time::Instant::now() + Duration::from_secs(60);
    while acked.lock().await.len() < 30 {
        assert!(
            tokio::time::Instant::now() < deadline,
            "the writer made no progress"
        );
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    let before: Vec<String> = acked.lock().await.clone();

    let dir = tempfile::tempdir().expect("temp dir");
    let dump = dir.path().join("confab.dump");
    let dump_arg = dump.to_str().expect("a UTF-8 path").to_owned();
    let url = db.url().to_owned();
    tokio::task::spawn_blocking(move || run("pg_dump", &["-Fc", "-f", &dump_arg, &url]))
        .await
        .expect("pg_dump ran");
    stop.store(true, Ordering::SeqCst);
    writer
        .await
        .expect("the writer kept going until told to stop");
    let written = acked.lock().await.len();
    assert!(
        written > before.len(),
        "no message was written during the dump"
    );
    drop(server);

    // An empty database, as `createdb` makes it, restored from the dump.
    let cluster = PgCluster::shared().await;
    let name = format!("restored_{}", uuid::Uuid::new_v4().simple());
    let admin = sqlx::PgPool::connect(&cluster.url("postgres"))
        .await
        .expect("the cluster");
    sqlx::raw_sql(sqlx::AssertSqlSafe(format!("CREATE DATABASE {name}")))
        .execute(&admin)
        .await
        .expect("create the database to restore into");
    let restored_url = cluster.url(&name);
    let (target, from) = (restored_url.clone(), dump.clone());
    tokio::task::spawn_blocking(move || {
        run(
            "pg_restore",
            &[
                "--no-owner",
                "-d",
                &target,
                from.to_str().unwrap_or_default(),
            ],
        );
    })
    .await
    .expect("pg_restore ran");

    let restored = TestServer::spawn(
        std::path::Path::new(env!("CARGO_BIN_EXE_confab-node")),
        Store::Postgres,
        &restored_url,
        FLAGS,
    )
    .await;
    // The login made before the backup is in it (same signing secret, same sessions).
    let there: Vec<String> = restored
        .all_messages(&ada, &group)
        .await
        .iter()
        .map(id)
        .collect();
    let missing: Vec<&String> = before.iter().filter(|m| !there.contains(m)).collect();
    assert!(
        missing.is_empty(),
        "{} of {} messages acknowledged before the dump are missing",
        missing.len(),
        before.len()
    );
    // Nothing invented: what is there was acknowledged (or in flight when the dump began).
    assert!(
        there.len() <= written + 1,
        "{} > {written} + 1",
        there.len()
    );
    drop(restored);
    sqlx::raw_sql(sqlx::AssertSqlSafe(format!(
        "DROP DATABASE {name} WITH (FORCE)"
    )))
    .execute(&admin)
    .await
    .expect("drop the restored database");
}
