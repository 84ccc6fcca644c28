-- One-time codes sent by email: at most one live code per (purpose, target), stored as a keyed
-- digest. Short-lived: not copied by `confab port`.
CREATE TABLE otp_codes (
    purpose    text    NOT NULL,
    target     text    NOT NULL,
    digest     bytea   NOT NULL,
    expires_at bigint  NOT NULL,
    attempts   integer NOT NULL DEFAULT 0,
    created_at bigint  NOT NULL,
    PRIMARY KEY (purpose, target)
);

CREATE INDEX otp_codes_expires_at ON otp_codes (expires_at);
