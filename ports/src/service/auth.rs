//! Who is calling, and whether they may call again so soon.

use confab_domain::Timestamp;

use crate::rate_limit::Bucket;
use crate::service::Accounts;
use crate::service::accounts::limiter_key;
use crate::store::Principal;
use crate::tokens::AccessClaims;
use crate::{AuthFailure, Error, Result};

impl Accounts {
    /// The caller behind an access token. The login behind it must still be live, so logout,
    /// refresh-token reuse and a password reset end access at once, not at token expiry.
    pub async fn authenticate(&self, access_token: &str) -> Result<Principal> {
        Ok(self.authenticate_until(access_token).await?.0)
    }

    /// Like [`Accounts::authenticate`], also telling when the token expires: a WebSocket lives
    /// only as long as the access token it was opened (or last renewed) with.
    pub async fn authenticate_until(&self, access_token: &str) -> Result<(Principal, Timestamp)> {
        let claims = self.verify_access(access_token)?;
        Ok((self.principal_for(&claims).await?, claims.expires_at))
    }

    /// Checks an access token's signature and expiry, without the database.
    pub fn verify_access(&self, access_token: &str) -> Result<AccessClaims> {
        self.ports
            .tokens
            .verify_access(access_token, self.ports.clock.now())
            .map_err(Error::Unauthorized)
    }

    /// The caller behind claims already verified by [`Accounts::verify_access`] (or by
    /// [`Accounts::admit_request`]): the login behind them must still be live.
    /// A banned account's tokens answer 403 `banned` (read in the same query, so a ban stops
    /// every token at once, on every instance).
    pub async fn principal_for(&self, claims: &AccessClaims) -> Result<Principal> {
        let principal = self
            .ports
            .sessions
            .principal(claims.session_id, claims.user_id)
            .await?
            .ok_or(Error::Unauthorized(AuthFailure::InvalidToken))?;
        if principal.banned {
            return Err(Error::Banned);
        }
        Ok(principal)
    }

    /// Spends one request from an authenticated user's budget: a command over the WebSocket
    /// costs what the same request over HTTP costs.
    pub async fn admit_user(&self, user: confab_domain::UserId) -> Result<()> {
        self.ports
            .limiter
            .hit(Bucket::RequestsPerUser, &user.to_string())
            .await?;
        Ok(())
    }

    /// Spends one request from the caller's budget: per user when the access token is valid
    /// (checked without the database, so throttling stays cheap), per client address otherwise.
    /// Returns the token's claims when it was valid, so the request need not verify it again.
    pub async fn admit_request(
        &self,
        access_token: Option<&str>,
        client_ip: &str,
    ) -> Result<Option<AccessClaims>> {
        let claims = access_token.and_then(|t| self.verify_access(t).ok());
        match &claims {
            Some(claims) => {
                self.ports
                    .limiter
                    .hit(Bucket::RequestsPerUser, &claims.user_id.to_string())
                    .await?
            }
            None => {
                self.ports
                    .limiter
                    .hit(Bucket::RequestsPerIp, &limiter_key(client_ip))
                    .await?
            }
        }
        Ok(claims)
    }
}
