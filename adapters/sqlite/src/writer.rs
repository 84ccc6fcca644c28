//! The one writer: a thread that owns the read-write connection and commits in groups.
//!
//! Callers queue a closure; the thread drains the queue, runs each closure in its own savepoint
//! inside one `BEGIN IMMEDIATE` transaction, commits once (one fsync for the whole group), and
//! only then answers every caller. A closure that fails rolls back to its savepoint without
//! disturbing the others. It must never answer before the commit: that is what "acknowledged
//! means durable" rests on.

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
}

/// Most jobs committed together; bounds the latency one group adds to its first caller.
const MAX_GROUP: usize = 512;
/// Queued jobs before callers wait (back-pressure instead of unbounded memory).
const QUEUE: usize = 4096;

/// A handle to the writer thread.
pub(crate) struct Writer {
    tx: mpsc::Sender<Job>,
}

impl Writer {
    /// Starts the writer thread on `conn`.
    pub(crate) fn start(conn: Connection) -> std::io::Result<Self> {
        let (tx, rx) = mpsc::channel(QUEUE);
        std::thread::Builder::new()
            .name("confab-sqlite-writer".into())
            .spawn(move || run(conn, rx))?;
        Ok(Self { tx })
    }

    /// Runs `f` in the write transaction and returns its result once it is committed.
    pub(crate) async fn write<T, F>(&self, f: F) -> StoreResult<T>
    where
        T: Send + 'static,
        F: FnOnce(&Connection) -> StoreResult<T> + Send + 'static,
    {
        let (reply, answer) = oneshot::channel();
        let work: Work = Box::new(move |conn| f(conn).map(|v| Box::new(v) as Boxed));
        self.tx
            .send(Job { work, reply })
            .await
            .map_err(|_| StoreError::WriterGone)?;
        let value = answer.await.map_err(|_| StoreError::WriterGone)??;
        value
            .downcast::<T>()
            .map(|b| *b)
            .map_err(|_| StoreError::Internal("writer returned an unexpected type".into()))
    }
}

fn run(conn: Connection, mut rx: mpsc::Receiver<Job>) {
    while let Some(first) = rx.blocking_recv() {
        let mut group = vec![first];
        while group.len() < MAX_GROUP {
            match rx.try_recv() {
                Ok(job) => group.push(job),
                Err(_) => break,
            }
        }
        commit_group(&conn, group);
    }
    tracing::debug!("SQLite writer stopped");
}

fn commit_group(conn: &Connection, group: Vec<Job>) {
    if let Err(e) = conn.execute_batch("BEGIN IMMEDIATE") {
        let msg = e.to_string();
        for job in group {
            let _ = job.reply.send(Err(StoreError::Commit(msg.clone())));
        }
        return;
    }
    let mut done = Vec::with_capacity(group.len());
    let mut jobs = group.into_iter();
    for job in jobs.by_ref() {
        done.push((job.reply, in_savepoint(conn, job.work)));
        if conn.is_autocommit() {
            // SQLite rolled the whole transaction back (disk full, I/O error): nothing of this
            // group is committed, and running the rest would commit each of them on its own.
            tracing::error!("SQLite aborted the transaction; failing the whole group");
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
    match conn.execute_batch("COMMIT") {
        Ok(()) => {
            for (reply, result) in done {
                let _ = reply.send(result);
            }
        }
        Err(e) => {
            tracing::error!(error = %e, "SQLite commit failed; the whole group is rolled back");
            let _ = conn.execute_batch("ROLLBACK");
            let msg = e.to_string();
            for (reply, _) in done {
                let _ = reply.send(Err(StoreError::Commit(msg.clone())));
            }
        }
    }
}

fn in_savepoint(conn: &Connection, work: Work) -> StoreResult<Boxed> {
    conn.execute_batch("SAVEPOINT job")?;
    // A panicking job must not take the writer (and with it every later write) down.
    let result = std::panic::catch_unwind(AssertUnwindSafe(|| work(conn)))
        .unwrap_or_else(|_| Err(StoreError::Internal("a store operation panicked".into())));
    match result {
        Ok(v) => {
            conn.execute_batch("RELEASE job")?;
            Ok(v)
        }
        Err(e) => {
            conn.execute_batch("ROLLBACK TO job; RELEASE job")?;
            Err(e)
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::sync::Arc;

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
        let writer = Arc::new(Writer::start(open(&path)).unwrap());
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

    #[tokio::test]
    async fn a_panicking_job_does_not_stop_the_writer() {
        let dir = tempfile::tempdir().unwrap();
        let writer = Writer::start(open(&dir.path().join("w.db"))).unwrap();
        let r: StoreResult<()> = writer.write(|_| panic!("bug in a store operation")).await;
        assert!(matches!(r, Err(StoreError::Internal(_))));
        let n = writer
            .write(|c| Ok(c.execute("INSERT INTO t (n) VALUES (1)", [])?))
            .await
            .unwrap();
        assert_eq!(n, 1);
    }
}
