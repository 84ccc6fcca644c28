//! `Invites` on SQLite: a registration by invite loads the invite, judges it
//! (`Invite::admits`), creates the account and counts the use in one writer transaction; the
//! single writer makes racing registrations on one code take turns. Never decides a rule itself.

use async_trait::async_trait;
use confab_domain::{Invite, InviteCode, RegistrationRefused, Timestamp, User};
use confab_ports::store::{Invites, NewSession, NewUser, rows};
use confab_ports::{Error, Result};
use rusqlite::{Connection, OptionalExtension, Row, params};

use crate::SqliteStore;
use crate::error::StoreResult;
use crate::rows::{Cols, driver, millis};
use crate::sessions::insert_session;
use crate::users::{insert_user, load_user};

const COLUMNS: &str = "code, created_by, created_at, expires_at, max_uses, uses";

fn from_row(row: &Row<'_>) -> rusqlite::Result<Invite> {
    rows::invite(&Cols(row)).map_err(driver)
}

fn load(conn: &Connection, code: &str) -> StoreResult<Option<Invite>> {
    let sql = format!("SELECT {COLUMNS} FROM invites WHERE code = ?1");
    Ok(conn.query_row(&sql, [code], from_row).optional()?)
}

fn register(
    conn: &Connection,
    code: &str,
    now: Timestamp,
    user: &NewUser,
    first_login: Option<&NewSession>,
) -> StoreResult<User> {
    let invite = load(conn, code)?.ok_or(Error::from(RegistrationRefused::InviteInvalid))?;
    invite.admits(now).map_err(Error::from)?;
    insert_user(conn, user)?;
    if let Some(session) = first_login {
        insert_session(conn, session)?;
    }
    conn.execute("UPDATE invites SET uses = uses + 1 WHERE code = ?1", [code])?;
    Ok(load_user(conn, user.id)?.ok_or(Error::NotFound("user"))?)
}

#[async_trait]
impl Invites for SqliteStore {
    async fn create_invite(&self, invite: Invite) -> Result<()> {
        Ok(self
            .writer
            .write(move |conn| {
                let made = conn.execute(
                    "INSERT INTO invites (code, created_by, created_at, expires_at, max_uses, uses)
                     VALUES (?1, ?2, ?3, ?4, ?5, ?6) ON CONFLICT (code) DO NOTHING",
                    params![
                        invite.code.as_str(),
                        invite.created_by.map(|id| id.to_string()),
                        millis(invite.created_at),
                        millis(invite.expires_at),
                        invite.max_uses,
                        invite.uses,
                    ],
                )?;
                if made == 0 {
                    return Err(Error::Conflict { field: "code" }.into());
                }
                Ok(())
            })
            .await?)
    }

    async fn list_invites(&self, limit: u32) -> Result<Vec<Invite>> {
        Ok(self
            .readers
            .read(move |conn| {
                let sql = format!(
                    "SELECT {COLUMNS} FROM invites ORDER BY created_at DESC, code LIMIT ?1"
                );
                let mut stmt = conn.prepare_cached(&sql)?;
                let found = stmt
                    .query_map([limit], from_row)?
                    .collect::<rusqlite::Result<Vec<_>>>()?;
                Ok(found)
            })
            .await?)
    }

    async fn revoke_invite(&self, code: &InviteCode) -> Result<bool> {
        let code = code.as_str().to_owned();
        Ok(self
            .writer
            .write(move |conn| Ok(conn.execute("DELETE FROM invites WHERE code = ?1", [code])? > 0))
            .await?)
    }

    async fn create_user_with_invite(
        &self,
        code: &InviteCode,
        now: Timestamp,
        user: NewUser,
        first_login: Option<NewSession>,
    ) -> Result<User> {
        let code = code.as_str().to_owned();
        Ok(self
            .writer
            .write(move |conn| register(conn, &code, now, &user, first_login.as_ref()))
            .await?)
    }
}

#[cfg(test)]
mod tests {
    #[test]
    fn the_columns_are_the_shared_ones() {
        assert_eq!(
            super::COLUMNS,
            confab_ports::store::rows::select_list("", confab_ports::store::rows::INVITE)
        );
    }
}
