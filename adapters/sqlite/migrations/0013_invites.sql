-- Invite codes (issue 19): made by admins (API) or operators (`confab invite create`), spent by
-- registrations on a server run with --registration invite. Revoking deletes the row.
-- Times are Unix milliseconds, as everywhere.

CREATE TABLE invites (
    code       TEXT PRIMARY KEY,
    -- The admin who made it; NULL when an operator did, from the command line.
    created_by TEXT REFERENCES users (id),
    created_at INTEGER NOT NULL,
    expires_at INTEGER NOT NULL,
    max_uses   INTEGER NOT NULL CHECK (max_uses >= 1),
    uses       INTEGER NOT NULL DEFAULT 0 CHECK (uses >= 0 AND uses <= max_uses)
) STRICT;

-- The admins' list, newest first.
CREATE INDEX invites_created ON invites (created_at);
