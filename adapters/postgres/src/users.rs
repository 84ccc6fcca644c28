//! `Users` on PostgreSQL.

use async_trait::async_trait;
use confab_domain::decide;
use confab_domain::{BanReason, Email, Timestamp, User, UserId, Username};
use confab_ports::hasher::PasswordHash;
use confab_ports::store::{Credentials, Erasure, NewSession, NewUser, ProfileChange, Users};
use confab_ports::{Error, Result};
use sqlx::{AssertSqlSafe, PgConnection, Row};

use crate::PgStore;
use crate::error::StoreResult;
use crate::rows::{USER_COLUMNS, millis, user_from_row};
use crate::sessions::insert_session;

pub(crate) async fn load_user(conn: &mut PgConnection, id: UserId) -> StoreResult<Option<User>> {
    let sql = format!("SELECT {USER_COLUMNS} FROM users u WHERE u.id = $1");
    let row = sqlx::query(AssertSqlSafe(sql))
        .bind(id.as_uuid())
        .fetch_optional(conn)
        .await?;
    Ok(row.as_ref().map(user_from_row).transpose()?)
}

/// Whether another account holds `value` in `column`. Checked first so that the answer names
/// the right field when both are taken; the constraints still decide a race.
async fn taken(
    conn: &mut PgConnection,
    column: &'static str,
    value: &str,
    except: Option<UserId>,
) -> StoreResult<bool> {
    let sql = format!("SELECT 1 FROM users WHERE {column} = $1 AND id IS DISTINCT FROM $2");
    Ok(sqlx::query(AssertSqlSafe(sql))
        .bind(value)
        .bind(except.map(|id| id.as_uuid()))
        .fetch_optional(conn)
        .await?
        .is_some())
}

pub(crate) async fn insert_user(conn: &mut PgConnection, u: &NewUser) -> StoreResult<()> {
    let username_taken = taken(conn, "username", u.username.as_str(), None).await?;
    let email_taken = match &u.email {
        Some(email) => taken(conn, "email", email.as_str(), None).await?,
        None => false,
    };
    decide::new_account(username_taken, email_taken).map_err(Error::from)?;
    sqlx::query(
        "INSERT INTO users (id, username, display_name, email, country, password_hash, is_admin, created_at)
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8)",
    )
    .bind(u.id.as_uuid())
    .bind(u.username.as_str())
    .bind(u.display_name.as_ref().map(|d| d.as_str()))
    .bind(u.email.as_ref().map(|e| e.as_str()))
    .bind(u.country.as_ref().map(|c| c.as_str()))
    .bind(&u.password_hash.0)
    .bind(u.is_admin)
    .bind(millis(u.created_at))
    .execute(conn)
    .await?;
    Ok(())
}

async fn apply_change(
    conn: &mut PgConnection,
    id: UserId,
    change: ProfileChange,
) -> StoreResult<User> {
    let sql = format!("SELECT {USER_COLUMNS} FROM users u WHERE u.id = $1 FOR NO KEY UPDATE");
    let row = sqlx::query(AssertSqlSafe(sql))
        .bind(id.as_uuid())
        .fetch_optional(&mut *conn)
        .await?
        .ok_or(Error::NotFound("user"))?;
    let user = user_from_row(&row)?;
    let email_taken = match &change.email {
        Some(Some(email)) => taken(conn, "email", email.as_str(), Some(id)).await?,
        _ => false,
    };
    decide::email_change(email_taken).map_err(Error::from)?;
    let user = change.apply(user).map_err(Error::from)?;
    sqlx::query(
        "UPDATE users SET display_name = $2, country = $3, email = $4, two_factor = $5 WHERE id = $1",
    )
    .bind(id.as_uuid())
    .bind(user.display_name.as_ref().map(|d| d.as_str()))
    .bind(user.country.as_ref().map(|c| c.as_str()))
    .bind(user.email.as_ref().map(|e| e.as_str()))
    .bind(user.two_factor)
    .execute(conn)
    .await?;
    Ok(user)
}

#[async_trait]
impl Users for PgStore {
    async fn create_user(&self, user: NewUser, first_login: Option<NewSession>) -> Result<User> {
        self.run(async {
            let mut tx = self.begin().await?;
            insert_user(&mut tx, &user).await?;
            if let Some(session) = &first_login {
                insert_session(&mut tx, session).await?;
            }
            let created = load_user(&mut tx, user.id)
                .await?
                .ok_or(Error::NotFound("user"))?;
            tx.commit().await?;
            crate::committed();
            Ok(created)
        })
        .await
    }

    async fn user_by_id(&self, id: UserId) -> Result<Option<User>> {
        self.run(async { load_user(&mut *self.conn().await?, id).await })
            .await
    }

    async fn credentials_by_login(&self, login: &str) -> Result<Option<Credentials>> {
        let sql = format!(
            "SELECT {USER_COLUMNS}, u.password_hash FROM users u
              WHERE u.username = $1 OR u.email = $1"
        );
        // PostgreSQL text cannot hold NUL, so no account has it: not found, as on SQLite.
        if login.contains('\0') {
            return Ok(None);
        }
        self.run(async {
            let row = sqlx::query(AssertSqlSafe(sql))
                .bind(login.to_lowercase())
                .fetch_optional(&self.pool)
                .await?;
            let Some(row) = row else { return Ok(None) };
            Ok(Some(Credentials {
                user: user_from_row(&row)?,
                password_hash: PasswordHash(row.try_get(confab_ports::store::rows::USER.len())?),
            }))
        })
        .await
    }

    async fn user_by_username(&self, username: &Username) -> Result<Option<User>> {
        self.user_where("username", username.as_str()).await
    }

    async fn user_by_email(&self, email: &Email) -> Result<Option<User>> {
        self.user_where("email", email.as_str()).await
    }

    async fn search_users(&self, prefix: &str, limit: u32) -> Result<Vec<User>> {
        // starts_with takes the prefix literally: no LIKE wildcards to escape. lower() in the
        // "C" collation folds ASCII only, as SQLite does, whatever the database's locale.
        let sql = format!(
            "SELECT {USER_COLUMNS} FROM users u
              WHERE starts_with(u.username, lower($1 COLLATE \"C\"))
                 OR starts_with(lower(u.display_name), lower($1 COLLATE \"C\"))
              ORDER BY u.username LIMIT $2"
        );
        if prefix.contains('\0') {
            return Ok(Vec::new());
        }
        self.run(async {
            let rows = sqlx::query(AssertSqlSafe(sql))
                .bind(prefix)
                .bind(i64::from(limit))
                .fetch_all(&self.pool)
                .await?;
            Ok(rows
                .iter()
                .map(user_from_row)
                .collect::<sqlx::Result<_>>()?)
        })
        .await
    }

    async fn update_profile(&self, id: UserId, change: ProfileChange) -> Result<User> {
        self.run(async {
            let mut tx = self.begin().await?;
            let user = apply_change(&mut tx, id, change).await?;
            tx.commit().await?;
            crate::committed();
            Ok(user)
        })
        .await
    }

    async fn set_admin(&self, id: UserId, admin: bool) -> Result<()> {
        self.run(async {
            let done = sqlx::query("UPDATE users SET is_admin = $2 WHERE id = $1")
                .bind(id.as_uuid())
                .bind(admin)
                .execute(&self.pool)
                .await?;
            if done.rows_affected() == 0 {
                return Err(Error::NotFound("user").into());
            }
            Ok(())
        })
        .await
    }

    async fn replace_password(&self, id: UserId, hash: PasswordHash, now: Timestamp) -> Result<()> {
        self.run(async {
            let mut tx = self.begin().await?;
            let done = sqlx::query("UPDATE users SET password_hash = $2 WHERE id = $1")
                .bind(id.as_uuid())
                .bind(&hash.0)
                .execute(&mut *tx)
                .await?;
            if done.rows_affected() == 0 {
                return Err(Error::NotFound("user").into());
            }
            revoke_logins(&mut tx, id, now).await?;
            tx.commit().await?;
            crate::committed();
            Ok(())
        })
        .await
    }

    async fn set_banned(
        &self,
        id: UserId,
        banned: bool,
        reason: Option<BanReason>,
        now: Timestamp,
    ) -> Result<bool> {
        in_tx!(self, |tx| set_banned(
            &mut tx,
            id,
            banned,
            reason.as_ref(),
            now
        ))
    }

    async fn erase_user(&self, id: UserId, erasure: Erasure, now: Timestamp) -> Result<()> {
        in_tx!(self, |tx| erase_user(&mut tx, id, &erasure, now))
    }

    async fn banned_since(&self, since: Timestamp) -> Result<Vec<UserId>> {
        self.run(async {
            let ids: Vec<uuid::Uuid> =
                sqlx::query_scalar("SELECT id FROM users WHERE banned_at >= $1")
                    .bind(millis(since))
                    .fetch_all(&self.pool)
                    .await?;
            Ok(ids.into_iter().map(UserId::from_uuid).collect())
        })
        .await
    }
}

/// `Users::erase_user`, in its transaction.
async fn erase_user(
    conn: &mut PgConnection,
    id: UserId,
    erasure: &Erasure,
    now: Timestamp,
) -> StoreResult<()> {
    let done = sqlx::query(
        "UPDATE users SET username = $2, password_hash = $3, display_name = NULL, email = NULL,
                country = NULL, is_admin = FALSE, two_factor = FALSE
         WHERE id = $1",
    )
    .bind(id.as_uuid())
    .bind(erasure.username.as_str())
    .bind(&erasure.password_hash.0)
    .execute(&mut *conn)
    .await?;
    if done.rows_affected() == 0 {
        return Err(Error::NotFound("user").into());
    }
    revoke_logins(conn, id, now).await?;
    sqlx::query("DELETE FROM blocks WHERE blocker_id = $1")
        .bind(id.as_uuid())
        .execute(&mut *conn)
        .await?;
    Ok(())
}

/// Ends every login of the account.
async fn revoke_logins(conn: &mut PgConnection, id: UserId, now: Timestamp) -> StoreResult<()> {
    sqlx::query("UPDATE sessions SET revoked_at = $2 WHERE user_id = $1 AND revoked_at IS NULL")
        .bind(id.as_uuid())
        .bind(millis(now))
        .execute(conn)
        .await?;
    Ok(())
}

/// `Users::set_banned`, in its transaction: the account's row locked first, so concurrent bans
/// and lifts are judged one after the other; a ban also ends every login and leaves the pool.
async fn set_banned(
    conn: &mut PgConnection,
    id: UserId,
    banned: bool,
    reason: Option<&BanReason>,
    now: Timestamp,
) -> StoreResult<bool> {
    let was: Option<bool> =
        sqlx::query_scalar("SELECT banned_at IS NOT NULL FROM users WHERE id = $1 FOR UPDATE")
            .bind(id.as_uuid())
            .fetch_optional(&mut *conn)
            .await?;
    let was = was.ok_or(Error::NotFound("user"))?;
    if was == banned {
        return Ok(false);
    }
    if !banned {
        sqlx::query("UPDATE users SET banned_at = NULL, ban_reason = NULL WHERE id = $1")
            .bind(id.as_uuid())
            .execute(&mut *conn)
            .await?;
        return Ok(true);
    }
    sqlx::query("UPDATE users SET banned_at = $2, ban_reason = $3 WHERE id = $1")
        .bind(id.as_uuid())
        .bind(millis(now))
        .bind(reason.map(BanReason::as_str))
        .execute(&mut *conn)
        .await?;
    revoke_logins(conn, id, now).await?;
    sqlx::query("DELETE FROM pool_entries WHERE user_id = $1")
        .bind(id.as_uuid())
        .execute(&mut *conn)
        .await?;
    Ok(true)
}

impl PgStore {
    async fn user_where(&self, column: &'static str, value: &str) -> Result<Option<User>> {
        let sql = format!("SELECT {USER_COLUMNS} FROM users u WHERE u.{column} = $1");
        self.run(async {
            let row = sqlx::query(AssertSqlSafe(sql))
                .bind(value)
                .fetch_optional(&self.pool)
                .await?;
            Ok(row.as_ref().map(user_from_row).transpose()?)
        })
        .await
    }
}
