-- Blocks and bans (issue 18).

-- A ban: when it was made (Unix ms; NULL when the account is not banned) and the admin's
-- reason. The ban itself revokes every login; the per-request check reads `banned_at` with
-- the login, in the one query every authenticated request makes.
ALTER TABLE users
    ADD COLUMN banned_at bigint,
    ADD COLUMN ban_reason text;
-- Every instance polls for bans made since it last looked (bans made by `confab user ban`
-- reach no bus): a range scan over the few banned accounts.
CREATE INDEX users_banned ON users (banned_at) WHERE banned_at IS NOT NULL;

-- `blocker_id` blocked `blocked_id`: never matched in the pool with them, no new direct chat
-- from them. Asked both ways, hence the second index. Nobody blocks themself: the rule is
-- `confab_domain::block::check_block`'s, asked before every insert.
CREATE TABLE blocks (
    blocker_id uuid NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    blocked_id uuid NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    created_at bigint NOT NULL,
    PRIMARY KEY (blocker_id, blocked_id)
);

CREATE INDEX blocks_blocked ON blocks (blocked_id, blocker_id);
