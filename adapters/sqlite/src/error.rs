//! Driver errors, mapped into `confab_ports::Error` once, here.

use confab_ports::Error;
use rusqlite::ErrorCode;

/// The database could not be opened or migrated at start-up.
#[derive(Debug, thiserror::Error)]
#[error("{0}")]
pub struct OpenError(pub String);

/// What a store operation can fail with inside this adapter.
#[derive(Debug, thiserror::Error)]
pub(crate) enum StoreError {
    #[error(transparent)]
    Sqlite(#[from] rusqlite::Error),
    /// A rule's answer (not found, conflict…) decided inside the transaction.
    #[error(transparent)]
    Port(#[from] Error),
    #[error("the writer thread has stopped")]
    WriterGone,
    #[error("the transaction could not commit: {0}")]
    Commit(String),
    #[error("{0}")]
    Internal(String),
}

impl From<StoreError> for Error {
    fn from(e: StoreError) -> Self {
        match e {
            StoreError::Port(e) => e,
            StoreError::Sqlite(e) if unique_violation(&e).is_some() => Error::Conflict {
                field: unique_violation(&e).unwrap_or("value"),
            },
            StoreError::Sqlite(e) => match e.sqlite_error_code() {
                Some(
                    ErrorCode::DatabaseBusy
                    | ErrorCode::DatabaseLocked
                    | ErrorCode::CannotOpen
                    | ErrorCode::DiskFull
                    | ErrorCode::SystemIoFailure
                    | ErrorCode::ReadOnly,
                ) => Error::Unavailable(e.to_string()),
                _ => Error::Internal(e.to_string()),
            },
            StoreError::WriterGone | StoreError::Commit(_) => Error::Unavailable(e.to_string()),
            StoreError::Internal(m) => Error::Internal(m),
        }
    }
}

/// The field named by a UNIQUE or PRIMARY KEY constraint failure (`UNIQUE constraint failed:
/// users.email`); PostgreSQL reports both as one unique violation, so both are a conflict here.
/// Inside the writer such checks are made first, so this answers for writes from another
/// process (an operator's CLI command racing the server).
fn unique_violation(e: &rusqlite::Error) -> Option<&'static str> {
    let rusqlite::Error::SqliteFailure(f, Some(msg)) = e else {
        return None;
    };
    if f.extended_code != rusqlite::ffi::SQLITE_CONSTRAINT_UNIQUE
        && f.extended_code != rusqlite::ffi::SQLITE_CONSTRAINT_PRIMARYKEY
    {
        return None;
    }
    // The same fields PostgreSQL's constraints name (its error.rs, conflict_field).
    Some(if msg.contains("users.username") {
        "username"
    } else if msg.contains("users.email") {
        "email"
    } else if msg.contains("members.group_id, members.user_id") {
        "user_id"
    } else if msg.contains("messages.client_id") {
        "client_id"
    } else {
        "value"
    })
}

/// Result inside the adapter.
pub(crate) type StoreResult<T> = Result<T, StoreError>;
