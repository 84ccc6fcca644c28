-- Server-wide announcements. Ids are UUID v7 (time-ordered), stored as lower-case text, so
-- the primary key's order is creation order: the list pages by it.

CREATE TABLE announcements (
    id         TEXT PRIMARY KEY,
    sender_id  TEXT NOT NULL REFERENCES users (id),
    body       TEXT NOT NULL,
    created_at INTEGER NOT NULL
) STRICT;
