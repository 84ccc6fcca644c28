-- The whole schema of confab on PostgreSQL: the same tables as the SQLite store, so a move
-- between the two copies rows one to one. Times are bigint milliseconds since the Unix epoch
-- (UTC), as on SQLite, so a move is exact.

CREATE TABLE settings (
    key   text PRIMARY KEY,
    value bytea NOT NULL
);

CREATE TABLE users (
    id            uuid PRIMARY KEY,
    -- Stored folded to lower case, so UNIQUE is case-insensitive uniqueness.
    -- Byte order and ASCII-only case folding (COLLATE "C"), as on SQLite, whatever the
    -- database's locale: the same sort order and the same prefix matches on both stores.
    username      text COLLATE "C" NOT NULL CONSTRAINT users_username_key UNIQUE,
    display_name  text COLLATE "C",
    -- Stored lower case; NULLs do not collide.
    email         text COLLATE "C" CONSTRAINT users_email_key UNIQUE,
    country       text,
    password_hash text NOT NULL,
    is_admin      boolean NOT NULL DEFAULT false,
    two_factor    boolean NOT NULL DEFAULT false,
    created_at    bigint NOT NULL,
    CHECK (username = lower(username)),
    CHECK (email = lower(email))
);

-- Prefix search on usernames and display names (LIKE 'x%'), case-insensitive.
CREATE INDEX users_username_prefix ON users (username text_pattern_ops);
CREATE INDEX users_display_name_prefix ON users (lower(display_name) text_pattern_ops);

-- One row per login; revoking it ends every token the login produced.
CREATE TABLE sessions (
    id         uuid PRIMARY KEY,
    user_id    uuid NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    created_at bigint NOT NULL,
    revoked_at bigint
);

CREATE INDEX sessions_user ON sessions (user_id);

-- Refresh tokens by SHA-256 digest; a used token stays, so that its reuse is detected.
CREATE TABLE refresh_tokens (
    token_hash bytea PRIMARY KEY,
    session_id uuid NOT NULL REFERENCES sessions (id) ON DELETE CASCADE,
    expires_at bigint NOT NULL,
    used_at    bigint
);

CREATE INDEX refresh_tokens_session ON refresh_tokens (session_id);

CREATE TABLE groups (
    id               uuid PRIMARY KEY,
    kind             text NOT NULL CHECK (kind IN ('group', 'direct')),
    name             text,
    created_by       uuid NOT NULL REFERENCES users (id),
    created_at       bigint NOT NULL,
    expires_at       bigint,
    closed_at        bigint,
    -- Seq of the newest message and the latest change: advanced by UPDATE … RETURNING, which
    -- holds the row lock until commit, so they are gapless and never repeat.
    last_seq         bigint NOT NULL DEFAULT 0,
    last_rev         bigint NOT NULL DEFAULT 0,
    -- Newest message's time, else creation: orders the group list.
    last_activity_at bigint NOT NULL,
    -- "lo:hi" user ids for chats made by POST /direct; NULL for groups and matched rooms.
    direct_key       text
);

-- At most one open direct chat per pair.
CREATE UNIQUE INDEX groups_open_direct ON groups (direct_key)
    WHERE direct_key IS NOT NULL AND closed_at IS NULL;

CREATE TABLE members (
    group_id      uuid NOT NULL REFERENCES groups (id) ON DELETE CASCADE,
    user_id       uuid NOT NULL REFERENCES users (id),
    role          text NOT NULL CHECK (role IN ('owner', 'admin', 'member')),
    alias         text,
    joined_at     bigint NOT NULL,
    last_read_seq bigint NOT NULL DEFAULT 0,
    PRIMARY KEY (group_id, user_id)
);

CREATE INDEX members_user ON members (user_id);
-- Exactly one owner per group: a transfer demotes before it promotes.
CREATE UNIQUE INDEX members_one_owner ON members (group_id) WHERE role = 'owner';

CREATE TABLE messages (
    id          uuid PRIMARY KEY,
    group_id    uuid NOT NULL REFERENCES groups (id) ON DELETE CASCADE,
    seq         bigint NOT NULL,
    -- The group's change counter at this message's latest change, and at its creation.
    rev         bigint NOT NULL,
    created_rev bigint NOT NULL,
    sender_id   uuid NOT NULL REFERENCES users (id),
    body        text NOT NULL,
    client_id   text,
    created_at  bigint NOT NULL,
    edited_at   bigint,
    deleted     boolean NOT NULL DEFAULT false,
    -- The body's words, folded (lower case, no diacritics) by the store, as lexemes.
    words       tsvector NOT NULL,
    -- Also what unread_count reads: the index alone answers it.
    CONSTRAINT messages_group_seq UNIQUE (group_id, seq) INCLUDE (sender_id, deleted)
);

-- "What changed after rev N" is one range scan (sync and gap fill).
CREATE UNIQUE INDEX messages_rev ON messages (group_id, rev);
-- A retry with the same client_id finds the first message.
CREATE UNIQUE INDEX messages_client ON messages (group_id, sender_id, client_id)
    WHERE client_id IS NOT NULL;
-- Full-text search.
CREATE INDEX messages_words ON messages USING gin (words);
