//! Mapping between PostgreSQL rows and domain values. Driver types stop here.

use confab_domain::{Timestamp, User, from_unix_millis};
use confab_ports::store::rows::{self, BadColumn, ReadRow};
use sqlx::Row;
use sqlx::postgres::PgRow;
use uuid::Uuid;

pub(crate) use confab_domain::unix_millis as millis;

/// The columns `user_from_row` expects, in order.
pub(crate) const USER_COLUMNS: &str = "u.id, u.username, u.display_name, u.email, u.country, u.is_admin, u.two_factor, u.created_at, \
     u.banned_at, u.last_seen_at";

/// A PostgreSQL row as the shared conversions (`confab_ports::store::rows`) read it: ids as
/// `uuid`, booleans as `boolean`.
pub(crate) struct Cols<'a>(pub &'a PgRow);

fn column(idx: usize, e: sqlx::Error) -> BadColumn {
    BadColumn::new(idx, e.to_string())
}

impl ReadRow for Cols<'_> {
    fn id(&self, i: usize) -> Result<Uuid, BadColumn> {
        self.0.try_get(i).map_err(|e| column(i, e))
    }
    fn opt_id(&self, i: usize) -> Result<Option<Uuid>, BadColumn> {
        self.0.try_get(i).map_err(|e| column(i, e))
    }
    fn text(&self, i: usize) -> Result<String, BadColumn> {
        self.0.try_get(i).map_err(|e| column(i, e))
    }
    fn opt_text(&self, i: usize) -> Result<Option<String>, BadColumn> {
        self.0.try_get(i).map_err(|e| column(i, e))
    }
    fn int(&self, i: usize) -> Result<i64, BadColumn> {
        self.0.try_get(i).map_err(|e| column(i, e))
    }
    fn opt_int(&self, i: usize) -> Result<Option<i64>, BadColumn> {
        self.0.try_get(i).map_err(|e| column(i, e))
    }
    fn flag(&self, i: usize) -> Result<bool, BadColumn> {
        self.0.try_get(i).map_err(|e| column(i, e))
    }
}

/// A shared conversion's complaint as sqlx's own error.
pub(crate) fn driver(e: BadColumn) -> sqlx::Error {
    sqlx::Error::ColumnDecode {
        index: e.index.to_string(),
        source: Box::new(e),
    }
}

/// Reads a time stored as Unix milliseconds.
pub(crate) fn time_at(row: &PgRow, idx: usize) -> sqlx::Result<Timestamp> {
    let ms: i64 = row.try_get(idx)?;
    from_unix_millis(ms).ok_or_else(|| driver(BadColumn::new(idx, "time out of range")))
}

/// A counter as stored.
pub(crate) fn as_i64(n: u64) -> i64 {
    i64::try_from(n).unwrap_or(i64::MAX)
}

/// A user from a row selected with [`USER_COLUMNS`] at `at`.
pub(crate) fn user_at(row: &PgRow, at: usize) -> sqlx::Result<User> {
    rows::user(&Cols(row), at).map_err(driver)
}

/// A user from a row selected with [`USER_COLUMNS`] first.
pub(crate) fn user_from_row(row: &PgRow) -> sqlx::Result<User> {
    user_at(row, 0)
}

#[cfg(test)]
mod tests {
    #[test]
    fn the_user_columns_are_the_shared_ones() {
        assert_eq!(
            super::USER_COLUMNS,
            confab_ports::store::rows::select_list("u", confab_ports::store::rows::USER)
        );
    }
}
