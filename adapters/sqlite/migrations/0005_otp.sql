-- One-time codes sent by email: at most one live code per (purpose, target), stored as a keyed
-- digest. Short-lived: not copied by `confab port`.
CREATE TABLE otp_codes (
    purpose    TEXT    NOT NULL,
    target     TEXT    NOT NULL,
    digest     BLOB    NOT NULL,
    expires_at INTEGER NOT NULL,
    attempts   INTEGER NOT NULL DEFAULT 0,
    created_at INTEGER NOT NULL,
    PRIMARY KEY (purpose, target)
) WITHOUT ROWID;

CREATE INDEX otp_codes_expires_at ON otp_codes (expires_at);
