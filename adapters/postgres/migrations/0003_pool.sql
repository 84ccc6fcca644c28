-- The matching pool: users waiting for an anonymous 1:1 room. Short-lived state: `confab port`
-- leaves it behind (NOT_COPIED).

CREATE TABLE pool_entries (
    -- One entry per user: nobody waits twice.
    user_id      uuid PRIMARY KEY REFERENCES users (id) ON DELETE CASCADE,
    -- The user's country when they joined: what same_country compares.
    country      text,
    same_country boolean NOT NULL,
    joined_at    bigint NOT NULL,
    -- After this the entry is dead: never matched, removed by the next join or sweep.
    expires_at   bigint NOT NULL
);

-- First come, first matched.
CREATE INDEX pool_entries_joined ON pool_entries (joined_at, user_id);
CREATE INDEX pool_entries_expires ON pool_entries (expires_at);

-- The expiry sweep finds the rooms to close without reading every group.
CREATE INDEX groups_expiring ON groups (expires_at)
    WHERE expires_at IS NOT NULL AND closed_at IS NULL;
