-- Attachments: what is known about uploaded files, and their bytes when the database holds them
-- (the in-database `Blobs` adapter; with `--attachments-dir` the blob tables stay empty).

CREATE TABLE attachments (
    id             TEXT PRIMARY KEY,
    -- A deleted group takes its attachment rows with it; their blobs become orphans, which the
    -- sweep removes (it lists blobs no attachment names).
    group_id       TEXT NOT NULL REFERENCES groups (id) ON DELETE CASCADE,
    uploader_id    TEXT NOT NULL REFERENCES users (id),
    -- NULL until a message of the uploader takes it; unused ones are swept after a day.
    -- Messages are deleted only with their group (a deleted message is a tombstone that
    -- removes its attachments itself): CASCADE keeps the group's cascade independent of the
    -- order it visits the two tables in.
    message_id     TEXT REFERENCES messages (id) ON DELETE CASCADE,
    name           TEXT NOT NULL,
    content_type   TEXT NOT NULL,
    size           INTEGER NOT NULL CHECK (size >= 0),
    sha256         TEXT NOT NULL,
    width          INTEGER,
    height         INTEGER,
    created_at     INTEGER NOT NULL,
    thumbnail      BLOB,
    thumbnail_type TEXT,
    -- Its place among its message's attachments (from 0), so they are listed as sent.
    position       INTEGER,
    CHECK ((message_id IS NULL) = (position IS NULL)),
    CHECK ((thumbnail IS NULL) = (thumbnail_type IS NULL))
) STRICT;

-- A page of messages loads its attachments in one range scan per message, in order.
CREATE UNIQUE INDEX attachments_message ON attachments (message_id, position);
-- The quota is a sum over one uploader's rows, read from the index alone.
CREATE INDEX attachments_uploader ON attachments (uploader_id, size);
-- The sweep finds old unused uploads without reading the used ones.
CREATE INDEX attachments_unused ON attachments (created_at) WHERE message_id IS NULL;
-- A group's deletion finds its files without reading them all.
CREATE INDEX attachments_group ON attachments (group_id);

-- A blob's bytes, in chunks. Written by one writer, invisible until `committed` becomes 1.
CREATE TABLE blobs (
    id         TEXT PRIMARY KEY,
    size       INTEGER NOT NULL DEFAULT 0,
    created_at INTEGER NOT NULL,
    committed  INTEGER NOT NULL DEFAULT 0 CHECK (committed IN (0, 1))
) STRICT;

-- Writes that never committed, for `remove_partial`.
CREATE INDEX blobs_partial ON blobs (created_at) WHERE committed = 0;

-- Chunks in order (`idx` from 0); each is at most a few hundred KiB, so no row is ever large.
-- A rowid table, not WITHOUT ROWID: its rows are far larger than a page.
CREATE TABLE blob_chunks (
    blob_id TEXT NOT NULL REFERENCES blobs (id) ON DELETE CASCADE,
    idx     INTEGER NOT NULL,
    data    BLOB NOT NULL,
    PRIMARY KEY (blob_id, idx)
) STRICT;
