//! `Circles` on SQLite: who shares a group with whom (a self-join of `members` on the
//! `members_user` index), the blocks touching a batch of users (both of `blocks`' indexes),
//! every group of a batch of users, and `last_seen_at` written for a
//! batch in one write. A list of ids travels as one JSON array read by `json_each`, so each
//! list is one statement whatever its length (no limit on bound parameters).

use async_trait::async_trait;
use confab_domain::{GroupId, Timestamp, UserId};
use confab_ports::Result;
use confab_ports::store::Circles;
use rusqlite::params;

use crate::SqliteStore;
use crate::rows::{millis, uuid_at};

/// `["id", …]`: ids are hyphenated UUIDs, which need no escaping.
fn json_ids(users: &[UserId]) -> String {
    let quoted: Vec<String> = users.iter().map(|u| format!("\"{u}\"")).collect();
    format!("[{}]", quoted.join(","))
}

#[async_trait]
impl Circles for SqliteStore {
    async fn sharing_with(&self, user: UserId, others: &[UserId]) -> Result<Vec<UserId>> {
        let others = json_ids(others);
        Ok(self
            .readers
            .read(move |conn| {
                conn.prepare_cached(
                    "SELECT DISTINCT theirs.user_id FROM members mine
                       JOIN members theirs ON theirs.group_id = mine.group_id
                      WHERE mine.user_id = ?1
                        AND theirs.user_id IN (SELECT value FROM json_each(?2))",
                )?
                .query_map(params![user.to_string(), others], |row| {
                    uuid_at(row, 0).map(UserId::from_uuid)
                })?
                .collect::<rusqlite::Result<_>>()
                .map_err(Into::into)
            })
            .await?)
    }

    async fn blocks_touching(&self, users: &[UserId]) -> Result<Vec<(UserId, UserId)>> {
        let users = json_ids(users);
        Ok(self
            .readers
            .read(move |conn| {
                conn.prepare_cached(
                    "SELECT blocker_id, blocked_id FROM blocks
                      WHERE blocker_id IN (SELECT value FROM json_each(?1))
                     UNION ALL
                     SELECT blocked_id, blocker_id FROM blocks
                      WHERE blocked_id IN (SELECT value FROM json_each(?1))",
                )?
                .query_map([users], |row| {
                    Ok((
                        UserId::from_uuid(uuid_at(row, 0)?),
                        UserId::from_uuid(uuid_at(row, 1)?),
                    ))
                })?
                .collect::<rusqlite::Result<_>>()
                .map_err(Into::into)
            })
            .await?)
    }

    async fn memberships(&self, users: &[UserId]) -> Result<Vec<(UserId, GroupId)>> {
        let users = json_ids(users);
        Ok(self
            .readers
            .read(move |conn| {
                conn.prepare_cached(
                    "SELECT user_id, group_id FROM members
                      WHERE user_id IN (SELECT value FROM json_each(?1))",
                )?
                .query_map([users], |row| {
                    Ok((
                        UserId::from_uuid(uuid_at(row, 0)?),
                        GroupId::from_uuid(uuid_at(row, 1)?),
                    ))
                })?
                .collect::<rusqlite::Result<_>>()
                .map_err(Into::into)
            })
            .await?)
    }

    async fn record_last_seen(&self, seen: &[(UserId, Timestamp)]) -> Result<()> {
        let seen: Vec<(String, i64)> = seen
            .iter()
            .map(|(u, t)| (u.to_string(), millis(*t)))
            .collect();
        Ok(self
            .writer
            .write(move |conn| {
                let mut update = conn.prepare_cached(
                    "UPDATE users SET last_seen_at = ?2
                      WHERE id = ?1 AND (last_seen_at IS NULL OR last_seen_at < ?2)",
                )?;
                for (user, at) in &seen {
                    update.execute(params![user, at])?;
                }
                Ok(())
            })
            .await?)
    }
}
