//! Mapping between SQLite rows and domain values. Driver types stop here.

use confab_domain::{Country, DisplayName, Email, Timestamp, User, UserId, Username};
use rusqlite::Row;
use rusqlite::types::{FromSqlError, Type};
use uuid::Uuid;

/// The columns `user_from_row` expects, in order.
pub(crate) const USER_COLUMNS: &str =
    "id, username, display_name, email, country, is_admin, two_factor, created_at";

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

/// A user from a row selected with [`USER_COLUMNS`].
pub(crate) fn user_from_row(row: &Row<'_>) -> rusqlite::Result<User> {
    Ok(User {
        id: UserId::from_uuid(uuid_at(row, 0)?),
        username: Username::from_trusted(row.get(1)?),
        display_name: row
            .get::<_, Option<String>>(2)?
            .map(DisplayName::from_trusted),
        email: row.get::<_, Option<String>>(3)?.map(Email::from_trusted),
        country: row.get::<_, Option<String>>(4)?.map(Country::from_trusted),
        is_admin: row.get(5)?,
        two_factor: row.get(6)?,
        created_at: time_at(row, 7)?,
    })
}
