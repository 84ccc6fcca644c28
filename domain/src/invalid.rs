//! The one error a validator returns: which field, and why, in words a client can show.

/// Input that is well-formed but breaks a rule (HTTP 422 `validation_failed`).
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{field}: {reason}")]
pub struct Invalid {
    /// The name of the offending field as the API spells it.
    pub field: &'static str,
    /// A human explanation, safe to show to the client.
    pub reason: String,
}

impl Invalid {
    /// Builds the error for `field`.
    pub fn new(field: &'static str, reason: impl Into<String>) -> Self {
        Self {
            field,
            reason: reason.into(),
        }
    }
}
