//! Access and refresh tokens as a port.

use confab_domain::{SessionId, Timestamp, UserId};

use crate::AuthFailure;

/// A signed, short-lived access token.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AccessToken {
    pub token: String,
    /// Seconds until it expires.
    pub expires_in: u64,
}

/// What a valid access token says.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct AccessClaims {
    pub user_id: UserId,
    /// The login this token belongs to; revoking the login revokes the token.
    pub session_id: SessionId,
    pub expires_at: Timestamp,
}

/// The digest under which a refresh token is stored; the token itself is never stored.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct TokenHash(pub Vec<u8>);

/// A new refresh token: the secret for the client, its digest for the store.
#[derive(Debug, Clone)]
pub struct RefreshToken {
    pub token: String,
    pub hash: TokenHash,
}

/// Issues and checks tokens.
#[cfg_attr(test, mockall::automock)]
pub trait TokenIssuer: Send + Sync {
    /// Signs an access token for `user` in `session`, valid from `now` for the configured time.
    fn issue_access(&self, user: UserId, session: SessionId, now: Timestamp) -> AccessToken;

    /// Checks the signature, the algorithm and the expiry against `now`.
    /// MUST reject any algorithm but the configured one (`alg: none` included).
    fn verify_access(&self, token: &str, now: Timestamp) -> Result<AccessClaims, AuthFailure>;

    /// A new random refresh token.
    fn new_refresh(&self) -> RefreshToken;

    /// The digest of a presented refresh token, to look it up.
    fn hash_refresh(&self, token: &str) -> TokenHash;

    /// How long a refresh token lives.
    fn refresh_ttl(&self) -> time::Duration;
}
