//! The use-case error: what went wrong, in terms a transport can map to a status once.

use std::time::Duration;

/// Why a request could not be authenticated.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum AuthFailure {
    /// Missing, malformed, expired, revoked or tampered token (401 `unauthorized`).
    InvalidToken,
    /// Unknown login or wrong password, deliberately indistinguishable (401 `invalid_credentials`).
    InvalidCredentials,
    /// Right password, but the account has two-factor login and no code came with it; a code
    /// has been sent (401 `otp_required`).
    OtpRequired,
}

/// Every failure a use case can report. Each variant's doc names the HTTP status it maps to.
#[derive(Debug, thiserror::Error)]
pub enum Error {
    /// 401: see [`AuthFailure`].
    #[error("not authenticated")]
    Unauthorized(AuthFailure),
    /// 403: authenticated, but the role does not allow this.
    #[error("{0}")]
    Forbidden(String),
    /// 403 `banned`: the account is banned by an admin (login, refresh, every request).
    #[error("this account is banned")]
    Banned,
    /// 403 `registration_closed` / `invite_required` / `invite_invalid`: the registration
    /// policy refuses a registration.
    #[error(transparent)]
    RegistrationRefused(#[from] confab_domain::RegistrationRefused),
    /// 404: does not exist, or the caller may not know that it does.
    #[error("{0} not found")]
    NotFound(&'static str),
    /// 409: a uniqueness rule; the field names what is taken.
    #[error("{field} is already taken")]
    Conflict { field: &'static str },
    /// 410: writing to something closed or expired.
    #[error("{0}")]
    Gone(String),
    /// 422: well-formed but against a rule.
    #[error(transparent)]
    Invalid(#[from] confab_domain::Invalid),
    /// 413: a body (an upload) over its size limit; the text says the limit.
    #[error("{0}")]
    TooLarge(String),
    /// 422 `quota_exceeded`: an upload would take its uploader past their storage quota.
    #[error(transparent)]
    QuotaExceeded(#[from] confab_domain::QuotaExceeded),
    /// 400: the request's shape is wrong in a way the transport could not see.
    #[error("{0}")]
    BadRequest(String),
    /// 429: come back after `retry_after`.
    #[error("too many requests")]
    RateLimited { retry_after: Duration },
    /// 503: a backend (database, bus) is unreachable; retrying later may work.
    #[error("service unavailable: {0}")]
    Unavailable(String),
    /// 500: a bug or an unexpected backend answer. The text is for logs, never for clients.
    #[error("internal error: {0}")]
    Internal(String),
}

/// Result of a use case or port call.
pub type Result<T, E = Error> = std::result::Result<T, E>;

impl From<confab_domain::Closed> for Error {
    fn from(closed: confab_domain::Closed) -> Self {
        confab_domain::Refusal::from(closed).into()
    }
}

impl From<confab_domain::Refusal> for Error {
    fn from(r: confab_domain::Refusal) -> Self {
        match r {
            confab_domain::Refusal::Forbidden(why) => Error::Forbidden(why.into()),
            confab_domain::Refusal::Invalid(invalid) => Error::Invalid(invalid),
            confab_domain::Refusal::Closed(closed) => Error::Gone(closed.0.into()),
            confab_domain::Refusal::NotFound(what) => Error::NotFound(what),
            confab_domain::Refusal::Conflict(field) => Error::Conflict { field },
        }
    }
}

impl Error {
    /// Shorthand for a validation error on `field`.
    pub fn invalid(field: &'static str, reason: impl Into<String>) -> Self {
        Error::Invalid(confab_domain::Invalid::new(field, reason))
    }
}
