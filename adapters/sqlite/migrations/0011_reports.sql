-- Reports of messages and users to the server's admins (issue 18). Ids are UUID v7 (time-ordered),
-- stored as lower-case text, so the primary key's order is creation order: the list pages by it.
-- (0010 is another change of issue 18; this file keeps its own number whatever lands first.)

CREATE TABLE reports (
    id           TEXT PRIMARY KEY,
    reporter_id  TEXT NOT NULL REFERENCES users (id),
    -- The reported message; NULL for a user report, and set NULL when the message row goes
    -- (its group deleted): the report stays, with its copy of the body.
    message_id   TEXT REFERENCES messages (id) ON DELETE SET NULL,
    -- The reported user (of a message report: its sender).
    user_id      TEXT NOT NULL REFERENCES users (id),
    reason       TEXT NOT NULL,
    status       TEXT NOT NULL CHECK (status IN ('open', 'resolved', 'dismissed')),
    created_at   INTEGER NOT NULL,
    -- The message's body when it was reported (NULL for a user report).
    message_body TEXT
) STRICT;

-- The admins' list by status, newest first, from the index alone.
CREATE INDEX reports_status ON reports (status, id);
-- A message's row going sets its reports' message_id NULL: found by this index, not a scan.
CREATE INDEX reports_message ON reports (message_id) WHERE message_id IS NOT NULL;
