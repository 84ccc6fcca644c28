//! Driver errors, mapped into `confab_ports::Error` once, here.

use confab_ports::Error;

/// The database could not be reached or migrated at start-up.
#[derive(Debug, thiserror::Error)]
#[error("{0}")]
pub struct OpenError(pub String);

/// SQLSTATE of a unique violation.
const PG_UNIQUE_VIOLATION: &str = "23505";
/// SQLSTATE classes meaning "the database is not there right now": connection exceptions (08),
/// insufficient resources (53), operator intervention such as a shutdown (57), system errors (58).
const UNAVAILABLE_CLASSES: [&str; 4] = ["08", "53", "57", "58"];
/// Serialization failure and deadlock (the transaction was rolled back; a retry may succeed).
const PG_RETRYABLE: [&str; 2] = ["40001", "40P01"];
/// A statement or lock wait hit its timeout, and a read-only transaction (a standby, or a
/// primary demoted by a failover).
const PG_STUCK: [&str; 3] = ["57014", "55P03", "25006"];

/// What a store operation can fail with inside this adapter.
#[derive(Debug, thiserror::Error)]
pub(crate) enum StoreError {
    #[error(transparent)]
    Sql(#[from] sqlx::Error),
    /// A rule's answer (not found, conflict…) decided inside the transaction.
    #[error(transparent)]
    Port(#[from] Error),
    #[error("{0}")]
    Internal(String),
}

impl From<StoreError> for Error {
    fn from(e: StoreError) -> Self {
        match e {
            StoreError::Port(e) => e,
            StoreError::Internal(m) => Error::Internal(m),
            StoreError::Sql(e) => from_sql(e),
        }
    }
}

/// Whether `e` says the database is out of reach (no connection, shut down, timed out, read
/// only) rather than anything about the statement: nothing can be known to have happened.
pub(crate) fn out_of_reach(e: &sqlx::Error) -> bool {
    match e {
        sqlx::Error::Database(db) => {
            let code = db.code().unwrap_or_default();
            UNAVAILABLE_CLASSES.iter().any(|c| code.starts_with(c))
                || PG_STUCK.contains(&code.as_ref())
        }
        sqlx::Error::Io(_)
        | sqlx::Error::Tls(_)
        | sqlx::Error::PoolTimedOut
        | sqlx::Error::PoolClosed
        | sqlx::Error::WorkerCrashed
        | sqlx::Error::Protocol(_) => true,
        _ => false,
    }
}

fn from_sql(e: sqlx::Error) -> Error {
    if out_of_reach(&e) {
        return Error::Unavailable(e.to_string());
    }
    match &e {
        sqlx::Error::Database(db) => {
            let code = db.code().map(|c| c.into_owned()).unwrap_or_default();
            if code == PG_UNIQUE_VIOLATION {
                return Error::Conflict {
                    field: conflict_field(db.constraint()),
                };
            }
            if PG_RETRYABLE.contains(&code.as_str()) {
                return Error::Unavailable(e.to_string());
            }
            Error::Internal(e.to_string())
        }
        _ => Error::Internal(e.to_string()),
    }
}

/// The request field a unique constraint protects. Most are checked before writing; this
/// answers when two requests race past the check.
fn conflict_field(constraint: Option<&str>) -> &'static str {
    match constraint {
        Some("users_username_key") => "username",
        Some("users_email_key") => "email",
        Some("members_pkey") => "user_id",
        Some("messages_client") => "client_id",
        _ => "value",
    }
}

/// Result inside the adapter.
pub(crate) type StoreResult<T> = Result<T, StoreError>;

#[cfg(test)]
mod tests {
    use super::conflict_field;

    #[test]
    fn constraints_name_their_fields() {
        assert_eq!(conflict_field(Some("users_username_key")), "username");
        assert_eq!(conflict_field(Some("users_email_key")), "email");
        assert_eq!(conflict_field(None), "value");
    }
}
