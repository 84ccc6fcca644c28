-- Accounts, logins and server settings.
-- Times are INTEGER milliseconds since the Unix epoch (UTC); ids are UUID text.

CREATE TABLE settings (
    key   TEXT PRIMARY KEY,
    value BLOB NOT NULL
) STRICT;

CREATE TABLE users (
    id            TEXT PRIMARY KEY,
    -- Stored folded to lower case, so UNIQUE is case-insensitive uniqueness.
    username      TEXT NOT NULL UNIQUE,
    display_name  TEXT,
    -- Stored lower case; NULLs do not collide.
    email         TEXT UNIQUE,
    country       TEXT,
    password_hash TEXT NOT NULL,
    is_admin      INTEGER NOT NULL DEFAULT 0,
    two_factor    INTEGER NOT NULL DEFAULT 0,
    created_at    INTEGER NOT NULL
) STRICT;

CREATE INDEX users_display_name ON users (display_name COLLATE NOCASE);

-- One row per login; revoking it ends every token the login produced.
CREATE TABLE sessions (
    id         TEXT PRIMARY KEY,
    user_id    TEXT NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    created_at INTEGER NOT NULL,
    revoked_at INTEGER
) STRICT;

CREATE INDEX sessions_user ON sessions (user_id);

-- Refresh tokens by SHA-256 digest; a used token stays, so that its reuse is detected.
CREATE TABLE refresh_tokens (
    token_hash BLOB PRIMARY KEY,
    session_id TEXT NOT NULL REFERENCES sessions (id) ON DELETE CASCADE,
    expires_at INTEGER NOT NULL,
    used_at    INTEGER
) STRICT;

CREATE INDEX refresh_tokens_session ON refresh_tokens (session_id);
