-- Replies, reactions, mentions and pins (issue 17).

-- The message a message answers (of the same group, checked on append); it stays when the
-- original is deleted (a tombstone keeps its row). Messages go only with their group: CASCADE
-- keeps the group's cascade from depending on the order it deletes them in.
ALTER TABLE messages ADD COLUMN reply_to_id TEXT REFERENCES messages (id) ON DELETE CASCADE;
-- When the message was pinned (Unix ms); NULL when it is not.
ALTER TABLE messages ADD COLUMN pinned_at INTEGER;

-- A message's replies, oldest first, from one range scan.
CREATE INDEX messages_replies ON messages (reply_to_id, seq) WHERE reply_to_id IS NOT NULL;
-- A group's pins, most recent first, and their count, from the index alone.
CREATE INDEX messages_pins ON messages (group_id, pinned_at) WHERE pinned_at IS NOT NULL;

-- One user's reaction with one emoji on one message. `position` orders them: the group's
-- `rev` the reaction was added at, so a message's reactions sort by emoji first used and each
-- emoji's users by when they reacted.
CREATE TABLE reactions (
    message_id TEXT NOT NULL REFERENCES messages (id) ON DELETE CASCADE,
    emoji      TEXT NOT NULL,
    user_id    TEXT NOT NULL REFERENCES users (id),
    position   INTEGER NOT NULL,
    created_at INTEGER NOT NULL,
    PRIMARY KEY (message_id, emoji, user_id)
) STRICT;

-- A member a message mentions, in order of first mention (`position` from 0).
CREATE TABLE mentions (
    message_id TEXT NOT NULL REFERENCES messages (id) ON DELETE CASCADE,
    user_id    TEXT NOT NULL REFERENCES users (id),
    position   INTEGER NOT NULL,
    PRIMARY KEY (message_id, user_id)
) STRICT;

-- mention_count: a member's mentions, joined to their messages by id.
CREATE INDEX mentions_user ON mentions (user_id, message_id);
