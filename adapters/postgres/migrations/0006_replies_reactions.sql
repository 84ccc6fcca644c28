-- Replies, reactions, mentions and pins (issue 17). Every change to them is a change of the
-- message (the group's next rev), made under the group's row lock like edits and deletes.

-- The message a message answers, always of the same group (checked by the append, in its
-- transaction). Messages go only with their group: CASCADE keeps the group's cascade from
-- depending on the order it deletes them in.
ALTER TABLE messages
    ADD COLUMN reply_to_id uuid REFERENCES messages (id) ON DELETE CASCADE,
    -- When it was pinned (Unix ms); NULL when not pinned (always NULL once deleted).
    ADD COLUMN pinned_at bigint;

-- A thread: the replies to a message, in seq order.
CREATE INDEX messages_replies ON messages (reply_to_id, seq) WHERE reply_to_id IS NOT NULL;
-- A group's pins, most recently pinned first; and how many it has.
CREATE INDEX messages_pins ON messages (group_id, pinned_at) WHERE pinned_at IS NOT NULL;

-- One row per user and emoji on a message. `position` orders them: one more than the
-- message's highest, taken under the group's row lock (a per-message counter rather than a
-- sequence, so that rows copied by `confab port` keep ordering after new ones).
CREATE TABLE reactions (
    message_id uuid NOT NULL REFERENCES messages (id) ON DELETE CASCADE,
    emoji      text COLLATE "C" NOT NULL,
    user_id    uuid NOT NULL REFERENCES users (id),
    position   bigint NOT NULL,
    created_at bigint NOT NULL,
    PRIMARY KEY (message_id, emoji, user_id)
);

-- The members a message mentions, in order of first mention (`position`).
CREATE TABLE mentions (
    message_id uuid NOT NULL REFERENCES messages (id) ON DELETE CASCADE,
    user_id    uuid NOT NULL REFERENCES users (id),
    position   bigint NOT NULL,
    PRIMARY KEY (message_id, user_id)
);

-- `my.mention_count`: a member's mentions, joined to their messages.
CREATE INDEX mentions_user ON mentions (user_id, message_id);
