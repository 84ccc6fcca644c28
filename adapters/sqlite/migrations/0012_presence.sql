-- Presence (issue 18): when a user's last socket closed, written when they are announced
-- offline (Unix ms; NULL when never seen). Whether they are online now is not stored: it is
-- the presence board's (in process, or Redis), which holds nothing that must survive.
ALTER TABLE users ADD COLUMN last_seen_at INTEGER;
