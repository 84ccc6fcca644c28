//! Keeping the full-text index in step with the messages, once per transaction.
//!
//! A message written in a transaction is only noted in `search_pending` (by migration 7's
//! trigger); [`index_pending`] indexes every noted message with the body it has then, after
//! the transaction's last write and before its commit, so a committed message is always
//! searchable. Indexing in the triggers themselves cost one FTS5 segment per message, because
//! FTS5 writes its pending terms out at every savepoint and the writer gives each write one.
//! This must never run inside a write's savepoint.

use rusqlite::Connection;

use crate::error::StoreResult;

/// Indexes the messages written in this transaction and empties the list.
pub(crate) fn index_pending(conn: &Connection) -> StoreResult<()> {
    conn.prepare_cached(
        "INSERT INTO messages_fts (rowid, words)
         SELECT m.pk, confab_words(m.body) FROM search_pending p JOIN messages m ON m.pk = p.pk",
    )?
    .execute([])?;
    conn.prepare_cached("DELETE FROM search_pending")?
        .execute([])?;
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn store(dir: &std::path::Path) -> Connection {
        let mut conn = Connection::open(dir.join("s.db")).unwrap();
        crate::configure(&conn, crate::DEFAULT_BUSY_TIMEOUT).unwrap();
        crate::migrate::run(&mut conn).unwrap();
        conn.execute_batch(
            "INSERT INTO users (id, username, password_hash, created_at) VALUES ('u', 'u', 'x', 0);
             INSERT INTO groups (id, kind, created_by, created_at, last_activity_at)
                 VALUES ('g', 'group', 'u', 0, 0);",
        )
        .unwrap();
        conn
    }

    fn insert(conn: &Connection, pk: i64, body: &str) {
        conn.execute(
            "INSERT INTO messages (pk, id, group_id, seq, rev, created_rev, sender_id, body,
                                   created_at)
             VALUES (?1, 'm' || ?1, 'g', ?1, ?1, ?1, 'u', ?2, 0)",
            rusqlite::params![pk, body],
        )
        .unwrap();
    }

    /// The message keys the index finds for `word`.
    fn found(conn: &Connection, word: &str) -> Vec<i64> {
        conn.prepare("SELECT rowid FROM messages_fts WHERE messages_fts MATCH ?1 ORDER BY rowid")
            .unwrap()
            .query_map([word], |r| r.get(0))
            .unwrap()
            .collect::<Result<_, _>>()
            .unwrap()
    }

    #[test]
    fn a_message_written_and_rewritten_in_one_transaction_is_indexed_once_as_it_ends() {
        let dir = tempfile::tempdir().unwrap();
        let conn = store(dir.path());
        conn.execute_batch("BEGIN").unwrap();
        insert(&conn, 1, "first draft");
        insert(&conn, 2, "gone before the commit");
        conn.execute("UPDATE messages SET body = 'Final Wörds' WHERE pk = 1", [])
            .unwrap();
        conn.execute("DELETE FROM messages WHERE pk = 2", [])
            .unwrap();
        // Nothing is indexed until the transaction's end.
        assert!(found(&conn, "draft").is_empty());
        index_pending(&conn).unwrap();
        conn.execute_batch("COMMIT").unwrap();

        assert_eq!(found(&conn, "final"), vec![1]);
        assert_eq!(found(&conn, "words"), vec![1], "folded as search words are");
        assert!(found(&conn, "draft").is_empty());
        assert!(found(&conn, "commit").is_empty());
        let pending: i64 = conn
            .query_row("SELECT count(*) FROM search_pending", [], |r| r.get(0))
            .unwrap();
        assert_eq!(pending, 0);
    }

    #[test]
    fn a_message_indexed_earlier_is_reindexed_when_edited_and_removed_when_deleted() {
        let dir = tempfile::tempdir().unwrap();
        let conn = store(dir.path());
        insert(&conn, 1, "alpha");
        insert(&conn, 2, "beta");
        index_pending(&conn).unwrap();
        assert_eq!(found(&conn, "alpha"), vec![1]);

        conn.execute("UPDATE messages SET body = 'gamma' WHERE pk = 1", [])
            .unwrap();
        conn.execute("DELETE FROM messages WHERE pk = 2", [])
            .unwrap();

        assert!(found(&conn, "alpha").is_empty());
        assert_eq!(found(&conn, "gamma"), vec![1]);
        assert!(found(&conn, "beta").is_empty());
    }
}
