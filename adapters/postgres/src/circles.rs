//! `Circles` on PostgreSQL: who shares a group with whom (a self-join of `members` on the
//! `members_user` index), the blocks touching a batch of users (both of `blocks`' indexes),
//! every group of a batch of users, and `last_seen_at` written for a
//! batch in one statement. Whole lists travel as arrays (`= ANY($1)`, `unnest`): one round
//! trip per list, never one per user.

use async_trait::async_trait;
use confab_domain::{GroupId, Timestamp, UserId};
use confab_ports::Result;
use confab_ports::store::Circles;
use uuid::Uuid;

use crate::PgStore;
use crate::rows::millis;

fn uuids(users: &[UserId]) -> Vec<Uuid> {
    users.iter().map(|u| u.as_uuid()).collect()
}

#[async_trait]
impl Circles for PgStore {
    async fn sharing_with(&self, user: UserId, others: &[UserId]) -> Result<Vec<UserId>> {
        self.run(async {
            let ids: Vec<Uuid> = sqlx::query_scalar(
                "SELECT DISTINCT theirs.user_id FROM members mine
                   JOIN members theirs ON theirs.group_id = mine.group_id
                  WHERE mine.user_id = $1 AND theirs.user_id = ANY($2)",
            )
            .bind(user.as_uuid())
            .bind(uuids(others))
            .fetch_all(&self.pool)
            .await?;
            Ok(ids.into_iter().map(UserId::from_uuid).collect())
        })
        .await
    }

    async fn blocks_touching(&self, users: &[UserId]) -> Result<Vec<(UserId, UserId)>> {
        self.run(async {
            let pairs: Vec<(Uuid, Uuid)> = sqlx::query_as(
                "SELECT blocker_id, blocked_id FROM blocks WHERE blocker_id = ANY($1)
                 UNION ALL
                 SELECT blocked_id, blocker_id FROM blocks WHERE blocked_id = ANY($1)",
            )
            .bind(uuids(users))
            .fetch_all(&self.pool)
            .await?;
            Ok(pairs
                .into_iter()
                .map(|(u, o)| (UserId::from_uuid(u), UserId::from_uuid(o)))
                .collect())
        })
        .await
    }

    async fn memberships(&self, users: &[UserId]) -> Result<Vec<(UserId, GroupId)>> {
        self.run(async {
            let pairs: Vec<(Uuid, Uuid)> =
                sqlx::query_as("SELECT user_id, group_id FROM members WHERE user_id = ANY($1)")
                    .bind(uuids(users))
                    .fetch_all(&self.pool)
                    .await?;
            Ok(pairs
                .into_iter()
                .map(|(u, g)| (UserId::from_uuid(u), GroupId::from_uuid(g)))
                .collect())
        })
        .await
    }

    async fn record_last_seen(&self, seen: &[(UserId, Timestamp)]) -> Result<()> {
        let (ids, times): (Vec<Uuid>, Vec<i64>) =
            seen.iter().map(|(u, t)| (u.as_uuid(), millis(*t))).unzip();
        self.run(async {
            sqlx::query(
                "UPDATE users u SET last_seen_at = s.at
                   FROM (SELECT id, max(at) AS at FROM unnest($1::uuid[], $2::bigint[]) AS t (id, at)
                          GROUP BY id) s
                  WHERE u.id = s.id AND (u.last_seen_at IS NULL OR u.last_seen_at < s.at)",
            )
            .bind(ids)
            .bind(times)
            .execute(&self.pool)
            .await?;
            crate::committed();
            Ok(())
        })
        .await
    }
}
