-- Server-wide announcements. Ids are UUID v7 (time-ordered); uuid compares byte by byte, so
-- the primary key's order is creation order: the list pages by it.

CREATE TABLE announcements (
    id         uuid PRIMARY KEY,
    sender_id  uuid NOT NULL REFERENCES users (id),
    body       text NOT NULL,
    created_at bigint NOT NULL
);
