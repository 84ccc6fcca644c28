//! `Invites` on PostgreSQL: a registration by invite locks the invite's row (`FOR UPDATE`),
//! judges it (`Invite::admits`), creates the account and counts the use in one transaction, so
//! racing registrations on one code take turns on the row. Never decides a rule itself.

use async_trait::async_trait;
use confab_domain::{Invite, InviteCode, RegistrationRefused, Timestamp, User};
use confab_ports::store::{Invites, NewSession, NewUser, rows};
use confab_ports::{Error, Result};
use sqlx::postgres::PgRow;
use sqlx::{AssertSqlSafe, PgConnection};

use crate::PgStore;
use crate::error::StoreResult;
use crate::rows::{Cols, driver, millis};
use crate::sessions::insert_session;
use crate::users::{insert_user, load_user};

const COLUMNS: &str = "code, created_by, created_at, expires_at, max_uses, uses";

fn from_row(row: &PgRow) -> sqlx::Result<Invite> {
    rows::invite(&Cols(row)).map_err(driver)
}

async fn register(
    conn: &mut PgConnection,
    code: &str,
    now: Timestamp,
    user: &NewUser,
    first_login: Option<&NewSession>,
) -> StoreResult<User> {
    let sql = format!("SELECT {COLUMNS} FROM invites WHERE code = $1 FOR UPDATE");
    let row = sqlx::query(AssertSqlSafe(sql))
        .bind(code)
        .fetch_optional(&mut *conn)
        .await?
        .ok_or(Error::from(RegistrationRefused::InviteInvalid))?;
    from_row(&row)?.admits(now).map_err(Error::from)?;
    insert_user(conn, user).await?;
    if let Some(session) = first_login {
        insert_session(conn, session).await?;
    }
    sqlx::query("UPDATE invites SET uses = uses + 1 WHERE code = $1")
        .bind(code)
        .execute(&mut *conn)
        .await?;
    Ok(load_user(conn, user.id)
        .await?
        .ok_or(Error::NotFound("user"))?)
}

#[async_trait]
impl Invites for PgStore {
    async fn create_invite(&self, invite: Invite) -> Result<()> {
        self.run(async {
            let made = sqlx::query(
                "INSERT INTO invites (code, created_by, created_at, expires_at, max_uses, uses)
                 VALUES ($1, $2, $3, $4, $5, $6) ON CONFLICT (code) DO NOTHING",
            )
            .bind(invite.code.as_str())
            .bind(invite.created_by.map(|id| id.as_uuid()))
            .bind(millis(invite.created_at))
            .bind(millis(invite.expires_at))
            .bind(i64::from(invite.max_uses))
            .bind(i64::from(invite.uses))
            .execute(&self.pool)
            .await?;
            if made.rows_affected() == 0 {
                return Err(Error::Conflict { field: "code" }.into());
            }
            crate::committed();
            Ok(())
        })
        .await
    }

    async fn list_invites(&self, limit: u32) -> Result<Vec<Invite>> {
        let sql = format!("SELECT {COLUMNS} FROM invites ORDER BY created_at DESC, code LIMIT $1");
        self.run(async {
            let rows = sqlx::query(AssertSqlSafe(sql))
                .bind(i64::from(limit))
                .fetch_all(&self.pool)
                .await?;
            Ok(rows.iter().map(from_row).collect::<sqlx::Result<_>>()?)
        })
        .await
    }

    async fn revoke_invite(&self, code: &InviteCode) -> Result<bool> {
        self.run(async {
            let gone = sqlx::query("DELETE FROM invites WHERE code = $1")
                .bind(code.as_str())
                .execute(&self.pool)
                .await?;
            crate::committed();
            Ok(gone.rows_affected() > 0)
        })
        .await
    }

    async fn create_user_with_invite(
        &self,
        code: &InviteCode,
        now: Timestamp,
        user: NewUser,
        first_login: Option<NewSession>,
    ) -> Result<User> {
        in_tx!(self, |tx| register(
            &mut tx,
            code.as_str(),
            now,
            &user,
            first_login.as_ref()
        ))
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
