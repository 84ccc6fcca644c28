//! Mapping between PostgreSQL rows and domain values. Driver types stop here.

use confab_domain::{
    Country, DisplayName, Email, Timestamp, User, UserId, Username, from_unix_millis,
};
use sqlx::Row;
use sqlx::postgres::PgRow;

pub(crate) use confab_domain::unix_millis as millis;

/// The columns `user_from_row` expects, in order.
pub(crate) const USER_COLUMNS: &str =
    "u.id, u.username, u.display_name, u.email, u.country, u.is_admin, u.two_factor, u.created_at";

fn decode(idx: usize, what: &str) -> sqlx::Error {
    sqlx::Error::ColumnDecode {
        index: idx.to_string(),
        source: format!("bad {what}").into(),
    }
}

/// Reads a time stored as Unix milliseconds.
pub(crate) fn time_at(row: &PgRow, idx: usize) -> sqlx::Result<Timestamp> {
    let ms: i64 = row.try_get(idx)?;
    from_unix_millis(ms).ok_or_else(|| decode(idx, "time"))
}

/// Reads an optional time stored as Unix milliseconds.
pub(crate) fn opt_time_at(row: &PgRow, idx: usize) -> sqlx::Result<Option<Timestamp>> {
    match row.try_get::<Option<i64>, _>(idx)? {
        None => Ok(None),
        Some(ms) => from_unix_millis(ms)
            .map(Some)
            .ok_or_else(|| decode(idx, "time")),
    }
}

/// Reads a counter (seq, rev, count) stored as bigint.
pub(crate) fn count_at(row: &PgRow, idx: usize) -> sqlx::Result<u64> {
    let n: i64 = row.try_get(idx)?;
    u64::try_from(n).map_err(|_| decode(idx, "count"))
}

/// A counter as stored.
pub(crate) fn as_i64(n: u64) -> i64 {
    i64::try_from(n).unwrap_or(i64::MAX)
}

/// A user from a row selected with [`USER_COLUMNS`] at `at`.
pub(crate) fn user_at(row: &PgRow, at: usize) -> sqlx::Result<User> {
    Ok(User {
        id: UserId::from_uuid(row.try_get(at)?),
        username: Username::from_trusted(row.try_get(at + 1)?),
        display_name: row
            .try_get::<Option<String>, _>(at + 2)?
            .map(DisplayName::from_trusted),
        email: row
            .try_get::<Option<String>, _>(at + 3)?
            .map(Email::from_trusted),
        country: row
            .try_get::<Option<String>, _>(at + 4)?
            .map(Country::from_trusted),
        is_admin: row.try_get(at + 5)?,
        two_factor: row.try_get(at + 6)?,
        created_at: time_at(row, at + 7)?,
    })
}

/// A user from a row selected with [`USER_COLUMNS`] first.
pub(crate) fn user_from_row(row: &PgRow) -> sqlx::Result<User> {
    user_at(row, 0)
}
