-- Messages are indexed by confab's one definition of a search word (confab_domain::search_words:
-- NFKD, combining marks removed, lower case, split at everything but letters and digits), the
-- same words PostgreSQL indexes, so both stores find the same messages. The store registers it
-- as the SQL function confab_words on its writing connection; a tool that writes messages
-- without it (the sqlite3 shell, say) is refused by the triggers rather than mis-indexing.
DROP TRIGGER messages_fts_insert;
DROP TRIGGER messages_fts_delete;
DROP TRIGGER messages_fts_update;
DROP TABLE messages_fts;

-- The words are folded already: the tokenizer only splits them at the spaces between them.
CREATE VIRTUAL TABLE messages_fts USING fts5 (
    words,
    content = '',
    contentless_delete = 1,
    tokenize = 'unicode61 remove_diacritics 0'
);

INSERT INTO messages_fts (rowid, words)
    SELECT pk, confab_words(body) FROM messages WHERE deleted = 0;

CREATE TRIGGER messages_fts_insert AFTER INSERT ON messages BEGIN
    INSERT INTO messages_fts (rowid, words) VALUES (new.pk, confab_words(new.body));
END;

CREATE TRIGGER messages_fts_delete AFTER DELETE ON messages BEGIN
    DELETE FROM messages_fts WHERE rowid = old.pk;
END;

CREATE TRIGGER messages_fts_update AFTER UPDATE OF body ON messages BEGIN
    DELETE FROM messages_fts WHERE rowid = old.pk;
    INSERT INTO messages_fts (rowid, words) VALUES (new.pk, confab_words(new.body));
END;
