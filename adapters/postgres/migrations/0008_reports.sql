-- Reports of messages and users to the server's admins (issue 18). Ids are UUID v7; uuid compares
-- byte by byte, so the primary key's order is creation order: the list pages by it.
-- (0007 is another change of issue 18; this file keeps its own number whatever lands first.)

CREATE TABLE reports (
    id           uuid PRIMARY KEY,
    reporter_id  uuid NOT NULL REFERENCES users (id),
    -- The reported message; NULL for a user report, and set NULL when the message row goes
    -- (its group deleted): the report stays, with its copy of the body.
    message_id   uuid REFERENCES messages (id) ON DELETE SET NULL,
    -- The reported user (of a message report: its sender).
    user_id      uuid NOT NULL REFERENCES users (id),
    reason       text NOT NULL,
    status       text NOT NULL CHECK (status IN ('open', 'resolved', 'dismissed')),
    created_at   bigint NOT NULL,
    -- The message's body when it was reported (NULL for a user report).
    message_body text
);

-- The admins' list by status, newest first, from the index alone.
CREATE INDEX reports_status ON reports (status, id);
-- A message's row going sets its reports' message_id NULL: found by this index, not a scan.
CREATE INDEX reports_message ON reports (message_id) WHERE message_id IS NOT NULL;
