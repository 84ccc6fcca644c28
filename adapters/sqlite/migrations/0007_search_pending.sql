-- New and rewritten messages are indexed once per commit, not once per write. FTS5 writes its
-- pending terms out as a new index segment at every savepoint, and the writer runs each write in
-- its own savepoint: indexing in the triggers made one segment (and later merges) per message.
-- Now a message written in a transaction is only noted here; the writer indexes every noted
-- message just before it commits (in the same transaction, so a committed message is always
-- searchable), and empties the list.
CREATE TABLE search_pending (
    pk INTEGER PRIMARY KEY
) STRICT;

DROP TRIGGER messages_fts_insert;
DROP TRIGGER messages_fts_delete;
DROP TRIGGER messages_fts_update;

CREATE TRIGGER messages_fts_insert AFTER INSERT ON messages BEGIN
    INSERT OR IGNORE INTO search_pending (pk) VALUES (new.pk);
END;

-- A message still waiting to be indexed has nothing in the index to remove.
CREATE TRIGGER messages_fts_delete AFTER DELETE ON messages BEGIN
    DELETE FROM messages_fts WHERE rowid = old.pk
       AND NOT EXISTS (SELECT 1 FROM search_pending WHERE pk = old.pk);
    DELETE FROM search_pending WHERE pk = old.pk;
END;

-- A message waiting to be indexed is indexed with the body it has at commit.
CREATE TRIGGER messages_fts_update AFTER UPDATE OF body ON messages
    WHEN NOT EXISTS (SELECT 1 FROM search_pending WHERE pk = old.pk) BEGIN
    DELETE FROM messages_fts WHERE rowid = old.pk;
    INSERT INTO messages_fts (rowid, words) VALUES (new.pk, confab_words(new.body));
END;
