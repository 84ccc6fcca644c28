//! HS256 access tokens and opaque refresh tokens.

use confab_domain::{SessionId, Timestamp, UserId};
use confab_ports::AuthFailure;
use confab_ports::tokens::{AccessClaims, AccessToken, RefreshToken, TokenHash, TokenIssuer};
use jsonwebtoken::{Algorithm, DecodingKey, EncodingKey, Header, Validation};
use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};
use uuid::Uuid;

use crate::random::random_token;

/// Signs and checks access tokens with one shared secret.
#[derive(Clone)]
pub struct JwtIssuer {
    encoding: EncodingKey,
    decoding: DecodingKey,
    access_ttl: time::Duration,
    refresh_ttl: time::Duration,
}

#[derive(Debug, Serialize, Deserialize)]
struct Claims {
    sub: Uuid,
    /// The login (session) the token belongs to.
    sid: Uuid,
    iat: i64,
    exp: i64,
}

impl JwtIssuer {
    /// An issuer for `secret`, whose access tokens live `access_ttl` and refresh tokens
    /// `refresh_ttl`. The caller checks the secret's length (see `MIN_SECRET_LEN`).
    pub fn new(secret: &[u8], access_ttl: time::Duration, refresh_ttl: time::Duration) -> Self {
        crate::hs256::install();
        Self {
            encoding: EncodingKey::from_secret(secret),
            decoding: DecodingKey::from_secret(secret),
            access_ttl,
            refresh_ttl,
        }
    }

    fn validation() -> Validation {
        let mut v = Validation::new(Algorithm::HS256);
        // Expiry is checked against the Clock port below, not the system clock.
        v.validate_exp = false;
        v.set_required_spec_claims(&["exp", "sub"]);
        v
    }
}

impl TokenIssuer for JwtIssuer {
    fn issue_access(&self, user: UserId, session: SessionId, now: Timestamp) -> AccessToken {
        let claims = Claims {
            sub: user.as_uuid(),
            sid: session.as_uuid(),
            iat: now.unix_timestamp(),
            exp: (now + self.access_ttl).unix_timestamp(),
        };
        // Encoding HS256 with a byte key cannot fail for a serializable struct; an empty
        // token would simply be refused later, never accepted.
        let token = jsonwebtoken::encode(&Header::new(Algorithm::HS256), &claims, &self.encoding)
            .unwrap_or_default();
        AccessToken {
            token,
            expires_in: u64::try_from(self.access_ttl.whole_seconds()).unwrap_or(0),
        }
    }

    fn verify_access(&self, token: &str, now: Timestamp) -> Result<AccessClaims, AuthFailure> {
        let data = jsonwebtoken::decode::<Claims>(token, &self.decoding, &Self::validation())
            .map_err(|_| AuthFailure::InvalidToken)?;
        let expires_at = Timestamp::from_unix_timestamp(data.claims.exp)
            .map_err(|_| AuthFailure::InvalidToken)?;
        if expires_at <= now {
            return Err(AuthFailure::InvalidToken);
        }
        Ok(AccessClaims {
            user_id: UserId::from_uuid(data.claims.sub),
            session_id: SessionId::from_uuid(data.claims.sid),
            expires_at,
        })
    }

    fn new_refresh(&self) -> RefreshToken {
        let token = random_token::<32>();
        let hash = self.hash_refresh(&token);
        RefreshToken { token, hash }
    }

    fn hash_refresh(&self, token: &str) -> TokenHash {
        // A refresh token has 256 random bits, so a fast hash is enough: nothing to brute-force.
        TokenHash(Sha256::digest(token.as_bytes()).to_vec())
    }

    fn refresh_ttl(&self) -> time::Duration {
        self.refresh_ttl
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use base64::Engine;
    use base64::engine::general_purpose::URL_SAFE_NO_PAD;

    fn issuer(secret: &[u8]) -> JwtIssuer {
        JwtIssuer::new(
            secret,
            time::Duration::minutes(15),
            time::Duration::days(30),
        )
    }

    fn now() -> Timestamp {
        Timestamp::from_unix_timestamp(1_800_000_000).unwrap()
    }

    #[test]
    fn a_token_verifies_until_it_expires() {
        let i = issuer(&[7; 32]);
        let (u, s) = (UserId::new(), SessionId::new());
        let t = i.issue_access(u, s, now());
        assert_eq!(t.expires_in, 900);
        let c = i.verify_access(&t.token, now()).unwrap();
        assert_eq!((c.user_id, c.session_id), (u, s));
        assert!(
            i.verify_access(&t.token, now() + time::Duration::minutes(15))
                .is_err()
        );
    }

    #[test]
    fn another_secret_is_refused() {
        let t = issuer(&[7; 32]).issue_access(UserId::new(), SessionId::new(), now());
        assert!(issuer(&[8; 32]).verify_access(&t.token, now()).is_err());
    }

    #[test]
    fn alg_none_and_tampering_are_refused() {
        let i = issuer(&[7; 32]);
        let t = i.issue_access(UserId::new(), SessionId::new(), now()).token;
        let mut parts = t.split('.');
        let (_h, p, _s) = (
            parts.next().unwrap(),
            parts.next().unwrap(),
            parts.next().unwrap(),
        );
        let none = URL_SAFE_NO_PAD.encode(br#"{"alg":"none","typ":"JWT"}"#);
        assert!(i.verify_access(&format!("{none}.{p}."), now()).is_err());
        let mut tampered = t.clone();
        tampered.pop();
        tampered.push(if t.ends_with('A') { 'B' } else { 'A' });
        assert!(i.verify_access(&tampered, now()).is_err());
        assert!(i.verify_access("not a token", now()).is_err());
        assert!(i.verify_access("", now()).is_err());
    }

    /// A token that names another algorithm is refused, even one signed with the same secret
    /// by a library that knows that algorithm: only HS256 is ever checked.
    #[test]
    fn another_algorithm_is_refused() {
        let i = issuer(&[7; 32]);
        let t = i.issue_access(UserId::new(), SessionId::new(), now()).token;
        let (_, rest) = t.split_once('.').unwrap();
        for alg in ["HS384", "HS512", "RS256", "ES256", "EdDSA", "PS256"] {
            let header = URL_SAFE_NO_PAD.encode(format!(r#"{{"alg":"{alg}","typ":"JWT"}}"#));
            assert!(
                i.verify_access(&format!("{header}.{rest}"), now()).is_err(),
                "{alg}"
            );
        }
    }

    #[test]
    fn refresh_tokens_are_random_and_hashed() {
        let i = issuer(&[7; 32]);
        let a = i.new_refresh();
        let b = i.new_refresh();
        assert_ne!(a.token, b.token);
        assert_eq!(i.hash_refresh(&a.token), a.hash);
        assert_eq!(a.hash.0.len(), 32);
    }
}
