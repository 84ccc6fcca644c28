//! Mapping between SQLite rows and domain values. Driver types stop here.

use confab_domain::{Timestamp, User};
use confab_ports::store::rows::{self, BadColumn, ReadRow};
use rusqlite::Row;
use rusqlite::types::{FromSqlError, Type};
use uuid::Uuid;

/// The columns `user_from_row` expects, in order.
pub(crate) const USER_COLUMNS: &str = "id, username, display_name, email, country, is_admin, two_factor, created_at, banned_at, \
     last_seen_at";

fn conversion(idx: usize, e: impl std::error::Error + Send + Sync + 'static) -> rusqlite::Error {
    rusqlite::Error::FromSqlConversionFailure(idx, Type::Text, Box::new(e))
}

/// Reads a UUID stored as text.
pub(crate) fn uuid_at(row: &Row<'_>, idx: usize) -> rusqlite::Result<Uuid> {
    let s: String = row.get(idx)?;
    Uuid::parse_str(&s).map_err(|e| conversion(idx, e))
}

/// Reads a time stored as Unix milliseconds.
pub(crate) fn time_at(row: &Row<'_>, idx: usize) -> rusqlite::Result<Timestamp> {
    let ms: i64 = row.get(idx)?;
    from_millis(ms).ok_or_else(|| conversion(idx, FromSqlError::OutOfRange(ms)))
}

/// Unix milliseconds → time.
pub(crate) use confab_domain::from_unix_millis as from_millis;

/// Time → Unix milliseconds, as stored.
pub(crate) use confab_domain::unix_millis as millis;

/// A rusqlite row as the shared conversions (`confab_ports::store::rows`) read it: ids as text,
/// booleans as 0/1.
pub(crate) struct Cols<'a, 'b>(pub &'a Row<'b>);

fn column(idx: usize, e: rusqlite::Error) -> BadColumn {
    BadColumn::new(idx, e.to_string())
}

impl ReadRow for Cols<'_, '_> {
    fn id(&self, i: usize) -> Result<Uuid, BadColumn> {
        let s: String = self.0.get(i).map_err(|e| column(i, e))?;
        Uuid::parse_str(&s).map_err(|e| BadColumn::new(i, e.to_string()))
    }
    fn opt_id(&self, i: usize) -> Result<Option<Uuid>, BadColumn> {
        let s: Option<String> = self.0.get(i).map_err(|e| column(i, e))?;
        s.map(|s| Uuid::parse_str(&s).map_err(|e| BadColumn::new(i, e.to_string())))
            .transpose()
    }
    fn text(&self, i: usize) -> Result<String, BadColumn> {
        self.0.get(i).map_err(|e| column(i, e))
    }
    fn opt_text(&self, i: usize) -> Result<Option<String>, BadColumn> {
        self.0.get(i).map_err(|e| column(i, e))
    }
    fn int(&self, i: usize) -> Result<i64, BadColumn> {
        self.0.get(i).map_err(|e| column(i, e))
    }
    fn opt_int(&self, i: usize) -> Result<Option<i64>, BadColumn> {
        self.0.get(i).map_err(|e| column(i, e))
    }
    fn flag(&self, i: usize) -> Result<bool, BadColumn> {
        self.0.get(i).map_err(|e| column(i, e))
    }
}

/// A shared conversion's complaint as rusqlite's own error.
pub(crate) fn driver(e: BadColumn) -> rusqlite::Error {
    rusqlite::Error::FromSqlConversionFailure(e.index, Type::Text, Box::new(e))
}

/// A user from a row selected with [`USER_COLUMNS`].
pub(crate) fn user_from_row(row: &Row<'_>) -> rusqlite::Result<User> {
    rows::user(&Cols(row), 0).map_err(driver)
}

#[cfg(test)]
mod tests {
    #[test]
    fn the_user_columns_are_the_shared_ones() {
        assert_eq!(
            super::USER_COLUMNS,
            confab_ports::store::rows::select_list("", confab_ports::store::rows::USER)
        );
    }
}
