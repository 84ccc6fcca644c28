-- Groups, direct chats, members, messages and their full-text index.

CREATE TABLE groups (
    id               TEXT PRIMARY KEY,
    kind             TEXT NOT NULL CHECK (kind IN ('group', 'direct')),
    name             TEXT,
    created_by       TEXT NOT NULL REFERENCES users (id),
    created_at       INTEGER NOT NULL,
    expires_at       INTEGER,
    closed_at        INTEGER,
    -- Seq of the newest message and the latest change; both advance in the same transaction
    -- as the message row, so they are gapless.
    last_seq         INTEGER NOT NULL DEFAULT 0,
    last_rev         INTEGER NOT NULL DEFAULT 0,
    -- Newest message's time, else creation: orders the group list.
    last_activity_at INTEGER NOT NULL,
    -- "lo:hi" user ids for chats made by POST /direct; NULL for groups and matched rooms.
    direct_key       TEXT
) STRICT;

-- At most one open direct chat per pair.
CREATE UNIQUE INDEX groups_open_direct ON groups (direct_key)
    WHERE direct_key IS NOT NULL AND closed_at IS NULL;

CREATE TABLE members (
    group_id      TEXT NOT NULL REFERENCES groups (id) ON DELETE CASCADE,
    user_id       TEXT NOT NULL REFERENCES users (id),
    role          TEXT NOT NULL CHECK (role IN ('owner', 'admin', 'member')),
    alias         TEXT,
    joined_at     INTEGER NOT NULL,
    last_read_seq INTEGER NOT NULL DEFAULT 0,
    PRIMARY KEY (group_id, user_id)
) STRICT;

CREATE INDEX members_user ON members (user_id);
-- Exactly one owner per group: a transfer demotes before it promotes.
CREATE UNIQUE INDEX members_one_owner ON members (group_id) WHERE role = 'owner';

CREATE TABLE messages (
    -- An explicit integer key for the full-text index: an implicit rowid may change on VACUUM.
    pk          INTEGER PRIMARY KEY,
    id          TEXT NOT NULL UNIQUE,
    group_id    TEXT NOT NULL REFERENCES groups (id) ON DELETE CASCADE,
    seq         INTEGER NOT NULL,
    -- The group's change counter at this message's latest change, and at its creation.
    rev         INTEGER NOT NULL,
    created_rev INTEGER NOT NULL,
    sender_id   TEXT NOT NULL REFERENCES users (id),
    body        TEXT NOT NULL,
    client_id   TEXT,
    created_at  INTEGER NOT NULL,
    edited_at   INTEGER,
    deleted     INTEGER NOT NULL DEFAULT 0,
    UNIQUE (group_id, seq)
) STRICT;

-- "What changed after rev N" is one range scan (sync and gap fill).
CREATE UNIQUE INDEX messages_rev ON messages (group_id, rev);
-- unread_count reads only this index.
CREATE INDEX messages_unread ON messages (group_id, seq, sender_id, deleted);
-- A retry with the same client_id finds the first message.
CREATE UNIQUE INDEX messages_client ON messages (group_id, sender_id, client_id)
    WHERE client_id IS NOT NULL;

CREATE VIRTUAL TABLE messages_fts USING fts5 (
    body,
    content = 'messages',
    content_rowid = 'pk',
    tokenize = 'unicode61 remove_diacritics 2'
);

CREATE TRIGGER messages_fts_insert AFTER INSERT ON messages BEGIN
    INSERT INTO messages_fts (rowid, body) VALUES (new.pk, new.body);
END;

CREATE TRIGGER messages_fts_delete AFTER DELETE ON messages BEGIN
    INSERT INTO messages_fts (messages_fts, rowid, body) VALUES ('delete', old.pk, old.body);
END;

CREATE TRIGGER messages_fts_update AFTER UPDATE OF body ON messages BEGIN
    INSERT INTO messages_fts (messages_fts, rowid, body) VALUES ('delete', old.pk, old.body);
    INSERT INTO messages_fts (rowid, body) VALUES (new.pk, new.body);
END;
