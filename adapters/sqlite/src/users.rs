//! `Users` on SQLite.

use async_trait::async_trait;
use confab_domain::decide;
use confab_domain::{BanReason, Email, Timestamp, User, UserId, Username};
use confab_ports::hasher::PasswordHash;
use confab_ports::store::{Credentials, Erasure, NewSession, NewUser, ProfileChange, Users};
use confab_ports::{Error, Result};
use rusqlite::{Connection, OptionalExtension, params};

use crate::SqliteStore;
use crate::error::StoreResult;
use crate::rows::{USER_COLUMNS, millis, user_from_row};
use crate::sessions::insert_session;

pub(crate) fn load_user(conn: &Connection, id: UserId) -> StoreResult<Option<User>> {
    let sql = format!("SELECT {USER_COLUMNS} FROM users WHERE id = ?1");
    Ok(conn
        .query_row(&sql, [id.to_string()], user_from_row)
        .optional()?)
}

fn taken(
    conn: &Connection,
    column: &str,
    value: &str,
    except: Option<UserId>,
) -> StoreResult<bool> {
    let sql = format!("SELECT 1 FROM users WHERE {column} = ?1 AND id IS NOT ?2");
    let except = except.map(|id| id.to_string());
    Ok(conn
        .query_row(&sql, params![value, except], |_| Ok(()))
        .optional()?
        .is_some())
}

pub(crate) fn insert_user(conn: &Connection, u: &NewUser) -> StoreResult<()> {
    // The writer is the only writer, so this check cannot race with another insert.
    let username_taken = taken(conn, "username", u.username.as_str(), None)?;
    let email_taken = match &u.email {
        Some(email) => taken(conn, "email", email.as_str(), None)?,
        None => false,
    };
    decide::new_account(username_taken, email_taken).map_err(Error::from)?;
    conn.execute(
        "INSERT INTO users (id, username, display_name, email, country, password_hash, is_admin, created_at)
         VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8)",
        params![
            u.id.to_string(),
            u.username.as_str(),
            u.display_name.as_ref().map(|d| d.as_str()),
            u.email.as_ref().map(|e| e.as_str()),
            u.country.as_ref().map(|c| c.as_str()),
            u.password_hash.0,
            u.is_admin,
            millis(u.created_at),
        ],
    )?;
    Ok(())
}

fn apply_change(conn: &Connection, id: UserId, change: ProfileChange) -> StoreResult<User> {
    let user = load_user(conn, id)?.ok_or(Error::NotFound("user"))?;
    let email_taken = match &change.email {
        Some(Some(email)) => taken(conn, "email", email.as_str(), Some(id))?,
        _ => false,
    };
    decide::email_change(email_taken).map_err(Error::from)?;
    let user = change.apply(user).map_err(Error::from)?;
    conn.execute(
        "UPDATE users SET display_name = ?2, country = ?3, email = ?4, two_factor = ?5 WHERE id = ?1",
        params![
            id.to_string(),
            user.display_name.as_ref().map(|d| d.as_str()),
            user.country.as_ref().map(|c| c.as_str()),
            user.email.as_ref().map(|e| e.as_str()),
            user.two_factor,
        ],
    )?;
    Ok(user)
}

/// Escapes `%`, `_` and the escape character itself for a `LIKE … ESCAPE '\'` pattern.
fn like_prefix(prefix: &str) -> String {
    let mut p = String::with_capacity(prefix.len() + 1);
    for c in prefix.chars() {
        if matches!(c, '%' | '_' | '\\') {
            p.push('\\');
        }
        p.push(c);
    }
    p.push('%');
    p
}

#[async_trait]
impl Users for SqliteStore {
    async fn create_user(&self, user: NewUser, first_login: Option<NewSession>) -> Result<User> {
        Ok(self
            .writer
            .write(move |conn| {
                insert_user(conn, &user)?;
                if let Some(session) = &first_login {
                    insert_session(conn, session)?;
                }
                load_user(conn, user.id)?.ok_or_else(|| Error::NotFound("user").into())
            })
            .await?)
    }

    async fn user_by_id(&self, id: UserId) -> Result<Option<User>> {
        Ok(self.readers.read(move |conn| load_user(conn, id)).await?)
    }

    async fn credentials_by_login(&self, login: &str) -> Result<Option<Credentials>> {
        let login = login.to_lowercase();
        Ok(self
            .readers
            .read(move |conn| {
                let sql = format!(
                    "SELECT {USER_COLUMNS}, password_hash FROM users WHERE username = ?1 OR email = ?1"
                );
                Ok(conn
                    .query_row(&sql, [login], |row| {
                        Ok(Credentials {
                            user: user_from_row(row)?,
                            password_hash: PasswordHash(row.get(confab_ports::store::rows::USER.len())?),
                        })
                    })
                    .optional()?)
            })
            .await?)
    }

    async fn user_by_username(&self, username: &Username) -> Result<Option<User>> {
        self.user_where("username", username.as_str().to_owned())
            .await
    }

    async fn user_by_email(&self, email: &Email) -> Result<Option<User>> {
        self.user_where("email", email.as_str().to_owned()).await
    }

    async fn search_users(&self, prefix: &str, limit: u32) -> Result<Vec<User>> {
        let pattern = like_prefix(prefix);
        Ok(self
            .readers
            .read(move |conn| {
                let sql = format!(
                    "SELECT {USER_COLUMNS} FROM users
                     WHERE username LIKE ?1 ESCAPE '\\' OR display_name LIKE ?1 ESCAPE '\\'
                     ORDER BY username LIMIT ?2"
                );
                let mut stmt = conn.prepare_cached(&sql)?;
                let users = stmt
                    .query_map(params![pattern, limit], user_from_row)?
                    .collect::<rusqlite::Result<Vec<_>>>()?;
                Ok(users)
            })
            .await?)
    }

    async fn update_profile(&self, id: UserId, change: ProfileChange) -> Result<User> {
        Ok(self
            .writer
            .write(move |conn| apply_change(conn, id, change))
            .await?)
    }

    async fn set_admin(&self, id: UserId, admin: bool) -> Result<()> {
        Ok(self
            .writer
            .write(move |conn| {
                let n = conn.execute(
                    "UPDATE users SET is_admin = ?2 WHERE id = ?1",
                    params![id.to_string(), admin],
                )?;
                if n == 0 {
                    return Err(Error::NotFound("user").into());
                }
                Ok(())
            })
            .await?)
    }

    async fn replace_password(&self, id: UserId, hash: PasswordHash, now: Timestamp) -> Result<()> {
        Ok(self
            .writer
            .write(move |conn| {
                let n = conn.execute(
                    "UPDATE users SET password_hash = ?2 WHERE id = ?1",
                    params![id.to_string(), hash.0],
                )?;
                if n == 0 {
                    return Err(Error::NotFound("user").into());
                }
                revoke_logins(conn, id, now)
            })
            .await?)
    }

    async fn set_banned(
        &self,
        id: UserId,
        banned: bool,
        reason: Option<BanReason>,
        now: Timestamp,
    ) -> Result<bool> {
        Ok(self
            .writer
            .write(move |conn| set_banned(conn, id, banned, reason.as_ref(), now))
            .await?)
    }

    async fn erase_user(&self, id: UserId, erasure: Erasure, now: Timestamp) -> Result<()> {
        Ok(self
            .writer
            .write(move |conn| erase_user(conn, id, &erasure, now))
            .await?)
    }

    async fn banned_since(&self, since: Timestamp) -> Result<Vec<UserId>> {
        Ok(self
            .readers
            .read(move |conn| {
                conn.prepare_cached("SELECT id FROM users WHERE banned_at >= ?1")?
                    .query_map([millis(since)], |row| {
                        Ok(UserId::from_uuid(crate::rows::uuid_at(row, 0)?))
                    })?
                    .collect::<rusqlite::Result<_>>()
                    .map_err(Into::into)
            })
            .await?)
    }
}

/// `Users::erase_user`, in the writer's transaction.
fn erase_user(conn: &Connection, id: UserId, erasure: &Erasure, now: Timestamp) -> StoreResult<()> {
    let done = conn.execute(
        "UPDATE users SET username = ?2, password_hash = ?3, display_name = NULL, email = NULL,
                country = NULL, is_admin = 0, two_factor = 0
         WHERE id = ?1",
        params![
            id.to_string(),
            erasure.username.as_str(),
            erasure.password_hash.0
        ],
    )?;
    if done == 0 {
        return Err(Error::NotFound("user").into());
    }
    revoke_logins(conn, id, now)?;
    conn.execute("DELETE FROM blocks WHERE blocker_id = ?1", [id.to_string()])?;
    Ok(())
}

/// Ends every login of the account.
fn revoke_logins(conn: &Connection, id: UserId, now: Timestamp) -> StoreResult<()> {
    conn.execute(
        "UPDATE sessions SET revoked_at = ?2 WHERE user_id = ?1 AND revoked_at IS NULL",
        params![id.to_string(), millis(now)],
    )?;
    Ok(())
}

/// `Users::set_banned`: a ban also ends every login and leaves the pool, in the writer's
/// transaction.
fn set_banned(
    conn: &Connection,
    id: UserId,
    banned: bool,
    reason: Option<&BanReason>,
    now: Timestamp,
) -> StoreResult<bool> {
    let was: Option<bool> = conn
        .query_row(
            "SELECT banned_at IS NOT NULL FROM users WHERE id = ?1",
            [id.to_string()],
            |row| row.get(0),
        )
        .optional()?;
    let was = was.ok_or(Error::NotFound("user"))?;
    if was == banned {
        return Ok(false);
    }
    if !banned {
        conn.execute(
            "UPDATE users SET banned_at = NULL, ban_reason = NULL WHERE id = ?1",
            [id.to_string()],
        )?;
        return Ok(true);
    }
    conn.execute(
        "UPDATE users SET banned_at = ?2, ban_reason = ?3 WHERE id = ?1",
        params![id.to_string(), millis(now), reason.map(BanReason::as_str)],
    )?;
    revoke_logins(conn, id, now)?;
    conn.execute(
        "DELETE FROM pool_entries WHERE user_id = ?1",
        [id.to_string()],
    )?;
    Ok(true)
}

impl SqliteStore {
    async fn user_where(&self, column: &'static str, value: String) -> Result<Option<User>> {
        Ok(self
            .readers
            .read(move |conn| {
                let sql = format!("SELECT {USER_COLUMNS} FROM users WHERE {column} = ?1");
                Ok(conn.query_row(&sql, [value], user_from_row).optional()?)
            })
            .await?)
    }
}

#[cfg(test)]
mod tests {
    use super::like_prefix;

    #[test]
    fn like_wildcards_are_escaped() {
        assert_eq!(like_prefix("a%b_c\\"), "a\\%b\\_c\\\\%");
    }
}
