//! The one writer: a thread that owns the read-write connection and commits in groups.
//!
//! Callers queue a closure; the thread drains the queue, runs each closure in its own savepoint
//! inside one `BEGIN IMMEDIATE` transaction, commits once (one fsync for the whole group), and
//! only then answers every caller. A closure that fails rolls back to its savepoint without
//! disturbing the others. Work that is cheaper done once per transaction than once per write
//! (indexing new messages for search) runs after the last closure, before the commit. It must
//! never answer before the commit: that is what "acknowledged means durable" rests on.

use std::any::Any;
use std::panic::AssertUnwindSafe;

use rusqlite::Connection;
use tokio::sync::{mpsc, oneshot};

use crate::error::{StoreError, StoreResult};

type Boxed = Box<dyn Any + Send>;
type Work = Box<dyn FnOnce(&Connection) -> StoreResult<Boxed> + Send>;

struct Job {
    work: Work,
    reply: oneshot::Sender<StoreResult<Boxed>>,
    /// Runs in its own savepoint. Without one, a job that fails after it wrote spoils the
    /// whole transaction (see [`Writer::write_decided`]).
    savepoint: bool,
}

/// Most jobs committed together; bounds the latency one group adds to its first caller.
const MAX_GROUP: usize = 512;
/// Queued jobs before callers wait (back-pressure instead of unbounded memory).
const QUEUE: usize = 4096;

/// Runs once per transaction after its last write and before its commit; a failure fails
/// every write of the transaction.
pub(crate) type BeforeCommit = fn(&Connection) -> StoreResult<()>;

/// A handle to the writer thread; clones queue to the same thread.
#[derive(Clone)]
pub(crate) struct Writer {
    tx: mpsc::Sender<Job>,
}

impl Writer {
    /// Starts the writer thread on `conn`.
    pub(crate) fn start(conn: Connection, before_commit: BeforeCommit) -> std::io::Result<Self> {
        let (tx, rx) = mpsc::channel(QUEUE);
        std::thread::Builder::new()
            .name("confab-sqlite-writer".into())
            .spawn(move || run(conn, rx, before_commit))?;
        Ok(Self { tx })
    }

    /// Runs `f` in the write transaction, in its own savepoint (a failure undoes its writes
    /// and nothing else), and returns its result once it is committed.
    pub(crate) async fn write<T, F>(&self, f: F) -> StoreResult<T>
    where
        T: Send + 'static,
        F: FnOnce(&Connection) -> StoreResult<T> + Send + 'static,
    {
        self.queue(f, true).await
    }

    /// Like [`Writer::write`] for work that decides before it writes: it refuses without
    /// having written anything, or writes and succeeds. It runs without a savepoint (one per
    /// message was a measurable share of the writer's time); should it fail after writing
    /// after all (an I/O error), the whole transaction is rolled back and every write in it
    /// fails, so nothing half done is ever committed.
    pub(crate) async fn write_decided<T, F>(&self, f: F) -> StoreResult<T>
    where
        T: Send + 'static,
        F: FnOnce(&Connection) -> StoreResult<T> + Send + 'static,
    {
        self.queue(f, false).await
    }

    /// Queues `f` (in its own savepoint) without waiting for it or its answer, for clean-up
    /// where nothing can wait (a `Drop`). Answers `false` when the queue is full or the
    /// writer has stopped: then `f` never runs.
    pub(crate) fn write_detached<F>(&self, f: F) -> bool
    where
        F: FnOnce(&Connection) -> StoreResult<()> + Send + 'static,
    {
        let (reply, _ignored) = oneshot::channel();
        let work: Work = Box::new(move |conn| f(conn).map(|v| Box::new(v) as Boxed));
        self.tx
            .try_send(Job {
                work,
                reply,
                savepoint: true,
            })
            .is_ok()
    }

    async fn queue<T, F>(&self, f: F, savepoint: bool) -> StoreResult<T>
    where
        T: Send + 'static,
        F: FnOnce(&Connection) -> StoreResult<T> + Send + 'static,
    {
        let (reply, answer) = oneshot::channel();
        let work: Work = Box::new(move |conn| f(conn).map(|v| Box::new(v) as Boxed));
        self.tx
            .send(Job {
                work,
                reply,
                savepoint,
            })
            .await
            .map_err(|_| StoreError::WriterGone)?;
        let value = answer.await.map_err(|_| StoreError::WriterGone)??;
        value
            .downcast::<T>()
            .map(|b| *b)
            .map_err(|_| StoreError::Internal("writer returned an unexpected type".into()))
    }
}

fn run(conn: Connection, mut rx: mpsc::Receiver<Job>, before_commit: BeforeCommit) {
    while let Some(first) = rx.blocking_recv() {
        let mut group = vec![first];
        while group.len() < MAX_GROUP {
            match rx.try_recv() {
                Ok(job) => group.push(job),
                Err(_) => break,
            }
        }
        commit_group(&conn, group, before_commit);
    }
    tracing::debug!("SQLite writer stopped");
}

/// Runs a statement without parameters through the statement cache: the transaction and
/// savepoint statements run for every write, and parsing them each time was measurable.
fn exec(conn: &Connection, sql: &str) -> rusqlite::Result<()> {
    conn.prepare_cached(sql)?.execute([]).map(|_| ())
}

fn commit_group(conn: &Connection, group: Vec<Job>, before_commit: BeforeCommit) {
    if let Err(e) = exec(conn, "BEGIN IMMEDIATE") {
        let msg = e.to_string();
        for job in group {
            let _ = job.reply.send(Err(StoreError::Commit(msg.clone())));
        }
        return;
    }
    let mut done = Vec::with_capacity(group.len());
    let mut jobs = group.into_iter();
    for job in jobs.by_ref() {
        let (result, spoiled) = if job.savepoint {
            (in_savepoint(conn, job.work), false)
        } else {
            decided(conn, job.work)
        };
        done.push((job.reply, result));
        if spoiled || conn.is_autocommit() {
            // SQLite rolled the whole transaction back (disk full, I/O error), or a job failed
            // half way without a savepoint: nothing of this group may be committed, and
            // running the rest would commit each of them on its own.
            tracing::error!("the SQLite transaction cannot commit; failing the whole group");
            if !conn.is_autocommit() {
                let _ = exec(conn, "ROLLBACK");
            }
            let why = "the transaction was aborted by the database";
            for (reply, _) in done {
                let _ = reply.send(Err(StoreError::Commit(why.into())));
            }
            for job in jobs {
                let _ = job.reply.send(Err(StoreError::Commit(why.into())));
            }
            return;
        }
    }
    if let Err(e) = before_commit(conn) {
        tracing::error!(error = %e, "SQLite work before the commit failed; rolling back the group");
        let _ = exec(conn, "ROLLBACK");
        let msg = e.to_string();
        for (reply, _) in done {
            let _ = reply.send(Err(StoreError::Commit(msg.clone())));
        }
        return;
    }
    match exec(conn, "COMMIT") {
        Ok(()) => {
            metrics::counter!("confab_store_commits_total").increment(1);
            for (reply, result) in done {
                let _ = reply.send(result);
            }
        }
        Err(e) => {
            tracing::error!(error = %e, "SQLite commit failed; the whole group is rolled back");
            let _ = exec(conn, "ROLLBACK");
            let msg = e.to_string();
            for (reply, _) in done {
                let _ = reply.send(Err(StoreError::Commit(msg.clone())));
            }
        }
    }
}

/// Runs `work`; a panicking job must not take the writer (and with it every later write)
/// down, so a panic is its error.
fn run_caught(conn: &Connection, work: Work) -> StoreResult<Boxed> {
    std::panic::catch_unwind(AssertUnwindSafe(|| work(conn)))
        .unwrap_or_else(|_| Err(StoreError::Internal("a store operation panicked".into())))
}

/// Runs work that decides before it writes, without a savepoint; also says whether it failed
/// after writing (SQLite undoes a failed statement itself, so a write counted in
/// `total_changes` is one that completed).
fn decided(conn: &Connection, work: Work) -> (StoreResult<Boxed>, bool) {
    let before = conn.total_changes();
    let result = run_caught(conn, work);
    let spoiled = result.is_err() && conn.total_changes() != before;
    (result, spoiled)
}

fn in_savepoint(conn: &Connection, work: Work) -> StoreResult<Boxed> {
    exec(conn, "SAVEPOINT job")?;
    match run_caught(conn, work) {
        Ok(v) => {
            exec(conn, "RELEASE job")?;
            Ok(v)
        }
        Err(e) => {
            exec(conn, "ROLLBACK TO job")?;
            exec(conn, "RELEASE job")?;
            Err(e)
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::sync::Arc;

    fn nothing_before_commit(_: &Connection) -> StoreResult<()> {
        Ok(())
    }

    fn open(path: &std::path::Path) -> Connection {
        let conn = Connection::open(path).unwrap();
        crate::configure(&conn, crate::DEFAULT_BUSY_TIMEOUT).unwrap();
        conn.execute_batch("CREATE TABLE IF NOT EXISTS t (n INTEGER PRIMARY KEY)")
            .unwrap();
        conn
    }

    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn concurrent_writes_commit_in_groups_and_a_failure_spoils_only_itself() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("w.db");
        let writer = Arc::new(Writer::start(open(&path), nothing_before_commit).unwrap());
        let tasks: Vec<_> = (0..300i64)
            .map(|n| {
                let writer = writer.clone();
                tokio::spawn(async move {
                    writer
                        .write(move |c| {
                            c.execute("INSERT INTO t (n) VALUES (?1)", [n])?;
                            if n % 7 == 0 {
                                // Fails after writing: its insert must be rolled back alone.
                                return Err(StoreError::Internal("refused".into()));
                            }
                            Ok(n)
                        })
                        .await
                })
            })
            .collect();
        let mut acknowledged = Vec::new();
        for t in tasks {
            if let Ok(n) = t.await.unwrap() {
                acknowledged.push(n);
            }
        }
        drop(writer);
        // Every acknowledged write is in the file, read by a fresh connection; no failed one is.
        let conn = open(&path);
        let mut stored: Vec<i64> = conn
            .prepare("SELECT n FROM t ORDER BY n")
            .unwrap()
            .query_map([], |r| r.get(0))
            .unwrap()
            .collect::<Result<_, _>>()
            .unwrap();
        acknowledged.sort_unstable();
        stored.sort_unstable();
        assert_eq!(stored, acknowledged);
        assert_eq!(stored.len(), 300 - (0..300).filter(|n| n % 7 == 0).count());
    }

    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn a_failure_before_the_commit_fails_every_write_of_the_transaction() {
        fn refuse(_: &Connection) -> StoreResult<()> {
            Err(StoreError::Internal(
                "the index could not be written".into(),
            ))
        }
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("w.db");
        let writer = Arc::new(Writer::start(open(&path), refuse).unwrap());
        let tasks: Vec<_> = (0..50i64)
            .map(|n| {
                let writer = writer.clone();
                tokio::spawn(async move {
                    writer
                        .write(move |c| Ok(c.execute("INSERT INTO t (n) VALUES (?1)", [n])?))
                        .await
                })
            })
            .collect();
        for t in tasks {
            let r = t.await.unwrap();
            assert!(matches!(r, Err(StoreError::Commit(_))), "{r:?}");
        }
        drop(writer);
        let stored: i64 = open(&path)
            .query_row("SELECT count(*) FROM t", [], |r| r.get(0))
            .unwrap();
        assert_eq!(stored, 0, "nothing of a failed transaction is kept");
    }

    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn decided_work_that_refuses_spoils_nothing_but_one_failing_after_writing_spoils_all() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("w.db");
        let writer = Arc::new(Writer::start(open(&path), nothing_before_commit).unwrap());
        // A refusal before writing: the others in its transaction commit.
        let tasks: Vec<_> = (0..40i64)
            .map(|n| {
                let writer = writer.clone();
                tokio::spawn(async move {
                    writer
                        .write_decided(move |c| {
                            if n % 4 == 0 {
                                return Err(StoreError::Internal("refused".into()));
                            }
                            Ok(c.execute("INSERT INTO t (n) VALUES (?1)", [n])?)
                        })
                        .await
                })
            })
            .collect();
        let mut ok = 0;
        for t in tasks {
            if t.await.unwrap().is_ok() {
                ok += 1;
            }
        }
        assert_eq!(ok, 30);
        // A failure after a write: nothing of that transaction is kept, whatever else is in it.
        let r = writer
            .write_decided(|c| {
                c.execute("INSERT INTO t (n) VALUES (1000)", [])?;
                Err::<(), _>(StoreError::Internal("failed half way".into()))
            })
            .await;
        assert!(matches!(r, Err(StoreError::Commit(_))), "{r:?}");
        let later = writer
            .write(|c| Ok(c.execute("INSERT INTO t (n) VALUES (2000)", [])?))
            .await;
        assert!(later.is_ok(), "the writer goes on: {later:?}");
        drop(writer);
        let stored: Vec<i64> = open(&path)
            .prepare("SELECT n FROM t WHERE n >= 1000 ORDER BY n")
            .unwrap()
            .query_map([], |r| r.get(0))
            .unwrap()
            .collect::<Result<_, _>>()
            .unwrap();
        assert_eq!(stored, vec![2000]);
        let all: i64 = open(&path)
            .query_row("SELECT count(*) FROM t", [], |r| r.get(0))
            .unwrap();
        assert_eq!(all, 31);
    }

    #[tokio::test]
    async fn a_panicking_job_does_not_stop_the_writer() {
        let dir = tempfile::tempdir().unwrap();
        let writer = Writer::start(open(&dir.path().join("w.db")), nothing_before_commit).unwrap();
        let r: StoreResult<()> = writer.write(|_| panic!("bug in a store operation")).await;
        assert!(matches!(r, Err(StoreError::Internal(_))));
        let n = writer
            .write(|c| Ok(c.execute("INSERT INTO t (n) VALUES (1)", [])?))
            .await
            .unwrap();
        assert_eq!(n, 1);
    }
}
