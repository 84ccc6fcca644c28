-- Attachments: what an uploaded file is (`attachments`), and the in-database blob store that
-- holds its bytes (`blobs`, `blob_chunks`), so that several instances share files with nothing
-- more to run.

-- The columns of `confab_ports::store::rows::ATTACHMENT` first, in that order, then what only
-- the store reads itself: the thumbnail and the attachment's place in its message.
CREATE TABLE attachments (
    id             uuid PRIMARY KEY,
    -- A group's files go with it; their blobs are then orphans, which the sweep removes.
    group_id       uuid NOT NULL REFERENCES groups (id) ON DELETE CASCADE,
    uploader_id    uuid NOT NULL REFERENCES users (id),
    -- NULL while unused. Messages are never deleted but with their group (a deleted message is
    -- a tombstone, and takes its attachments' rows with it itself): CASCADE only keeps the
    -- group's cascade from depending on the order it visits the two tables in.
    message_id     uuid REFERENCES messages (id) ON DELETE CASCADE,
    name           text NOT NULL,
    content_type   text NOT NULL,
    size           bigint NOT NULL CHECK (size >= 0),
    -- Lower-case hex.
    sha256         text NOT NULL,
    -- Pixels, for raster images only (bigint: the shared conversions read integers as i64).
    width          bigint,
    height         bigint,
    created_at     bigint NOT NULL,
    thumbnail      bytea,
    thumbnail_type text,
    -- From 0, in the order the message lists its attachments; set with message_id.
    position       bigint,
    CHECK ((message_id IS NULL) = (position IS NULL)),
    CHECK ((thumbnail IS NULL) = (thumbnail_type IS NULL))
);

-- A page of messages reads its attachments with `message_id = ANY(…)`, in position order.
CREATE UNIQUE INDEX attachments_message ON attachments (message_id, position)
    WHERE message_id IS NOT NULL;
-- The quota: one uploader's bytes, summed from the index alone.
CREATE INDEX attachments_uploader ON attachments (uploader_id) INCLUDE (size);
-- The sweep of uploads no message took.
CREATE INDEX attachments_unused ON attachments (created_at) WHERE message_id IS NULL;
-- A group's deletion finds its files without reading them all.
CREATE INDEX attachments_group ON attachments (group_id);

-- A blob's bytes, in rows of at most `confab_ports::blobs::BLOB_CHUNK` bytes. A writer inserts
-- its chunks under an uncommitted row and flips `committed` last: until then nothing of it is
-- visible. `writer` is the writer's own token, so that a writer whose blob was taken over or
-- removed (a cleanup after a drop, a sweep) never writes into or commits another's.
CREATE TABLE blobs (
    id         uuid PRIMARY KEY,
    size       bigint NOT NULL DEFAULT 0,
    created_at bigint NOT NULL,
    committed  boolean NOT NULL DEFAULT false,
    writer     uuid NOT NULL
);

-- `remove_partial` finds what writers left behind.
CREATE INDEX blobs_partial ON blobs (created_at) WHERE NOT committed;

CREATE TABLE blob_chunks (
    blob_id uuid NOT NULL REFERENCES blobs (id) ON DELETE CASCADE,
    -- Chunk `idx` holds the bytes from idx * BLOB_CHUNK.
    idx     bigint NOT NULL,
    data    bytea NOT NULL,
    PRIMARY KEY (blob_id, idx)
);

-- Files are mostly compressed already (images, archives): no time spent trying again, and a
-- range read (`substring`) fetches only the TOAST pieces it needs.
ALTER TABLE blob_chunks ALTER COLUMN data SET STORAGE EXTERNAL;
