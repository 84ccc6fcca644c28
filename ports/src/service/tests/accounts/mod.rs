//! Account use cases, one file per family: registering ([`register`]), logging in ([`login`]),
//! refresh, logout and authentication ([`tokens`]), the request budget ([`limits`]), profiles
//! and server roles ([`profile`]), and the admin commands ([`admin`]). The fixtures they share
//! are here.
//!
//! What the stores answer (conflicts, unknown accounts, outages) is the store conformance suite's
//! (`tests/tests/store/users.rs`, `sessions.rs`) and the black-box suite's: these tests hold
//! what the use cases themselves decide.

mod admin;
mod limits;
mod login;
mod profile;
mod register;
mod tokens;

use std::sync::{Arc, Mutex};
use std::time::Duration;

use confab_domain::{SessionId, User, UserId};

use super::{Mocks, NOW, user_named};
use crate::hasher::PasswordHash;
use crate::rate_limit::{Bucket, Limited, MockRateLimiter};
use crate::service::Registration;
use crate::store::{MockSessions, NewSession, NewUser, Principal};
use crate::tokens::{AccessClaims, AccessToken, MockTokenIssuer, RefreshToken, TokenHash};

// ---------------------------------------------------------------------------------------------
// Fixtures
// ---------------------------------------------------------------------------------------------

/// How long refresh tokens live in these tests.
const REFRESH_TTL: time::Duration = time::Duration::days(30);
/// What the mock issuer says an access token lives.
const ACCESS_EXPIRES_IN: u64 = 900;
/// What the mock limiter answers when a budget is spent.
const RETRY_AFTER: Duration = Duration::from_secs(42);

const NEW_REFRESH: &str = "new-refresh";

/// What a store would answer to `create_user`.
fn stored(u: NewUser) -> User {
    User {
        id: u.id,
        username: u.username,
        display_name: u.display_name,
        email: u.email,
        country: u.country,
        is_admin: u.is_admin,
        two_factor: false,
        created_at: u.created_at,
        banned: false,
        last_seen_at: None,
    }
}

fn phc(s: &str) -> PasswordHash {
    PasswordHash(s.to_owned())
}

fn new_refresh_hash() -> TokenHash {
    TokenHash(b"new-refresh-hash".to_vec())
}

/// The digest the mock issuer gives a presented refresh token.
fn digest(token: &str) -> TokenHash {
    TokenHash(format!("digest:{token}").into_bytes())
}

/// The access token the mock issuer signs: it names its user and session, to check both.
fn access_for(user: UserId, session: SessionId) -> String {
    format!("access:{user}:{session}")
}

fn valid_registration() -> Registration {
    Registration {
        username: "Alice".into(),
        password: "correct horse battery".into(),
        email: Some("Ada@Example.COM".into()),
        display_name: Some("  Ada Lovelace ".into()),
        country: Some("de".into()),
        otp: None,
        invite: None,
    }
}

/// Expects one new refresh token (and lets the TTL be read).
fn expect_new_refresh(tokens: &mut MockTokenIssuer) {
    tokens
        .expect_new_refresh()
        .times(1)
        .returning(|| RefreshToken {
            token: NEW_REFRESH.into(),
            hash: new_refresh_hash(),
        });
    tokens.expect_refresh_ttl().returning(|| REFRESH_TTL);
}

/// Expects one access token, signed at `NOW`.
fn expect_issue_access(tokens: &mut MockTokenIssuer) {
    tokens
        .expect_issue_access()
        .times(1)
        .withf(|_, _, now| *now == NOW)
        .returning(|user, session, _| AccessToken {
            token: access_for(user, session),
            expires_in: ACCESS_EXPIRES_IN,
        });
}

/// Lets any refresh token be hashed with [`digest`].
fn expect_hash_refresh(tokens: &mut MockTokenIssuer) {
    tokens.expect_hash_refresh().returning(digest);
}

/// Expects one login to start, and keeps it to look at.
fn capture_start_session(sessions: &mut MockSessions) -> Arc<Mutex<Option<NewSession>>> {
    let seen = Arc::new(Mutex::new(None));
    let keep = Arc::clone(&seen);
    sessions
        .expect_start_session()
        .times(1)
        .returning(move |s| {
            *keep.lock().unwrap() = Some(s);
            Ok(())
        });
    seen
}

/// Nothing but validation may run: no hashing, no store, no tokens.
fn expect_no_side_effects(m: &mut Mocks) {
    m.hasher.expect_hash().never();
    m.users.expect_create_user().never();
    m.sessions.expect_start_session().never();
    m.tokens.expect_new_refresh().never();
    m.tokens.expect_issue_access().never();
}

/// One call to the limiter.
#[derive(Debug, Clone, PartialEq, Eq)]
enum Spend {
    Peek(Bucket, String),
    Hit(Bucket, String),
    Refund(Bucket, String),
}

impl Spend {
    fn key(&self) -> &str {
        match self {
            Spend::Peek(_, key) | Spend::Hit(_, key) | Spend::Refund(_, key) => key,
        }
    }
}

type SpendLog = Arc<Mutex<Vec<Spend>>>;

/// A limiter that records every call, in order; `peek`s and `hit`s of `exhausted` (if any)
/// answer `Exhausted`, everything else has budget left.
fn recording_limiter(limiter: &mut MockRateLimiter, exhausted: Option<Bucket>) -> SpendLog {
    let log = SpendLog::default();
    let answer = move |bucket| {
        if Some(bucket) == exhausted {
            Err(Limited::Exhausted {
                retry_after: RETRY_AFTER,
            })
        } else {
            Ok(())
        }
    };
    let peeks = Arc::clone(&log);
    limiter.expect_peek().returning(move |bucket, key| {
        peeks
            .lock()
            .unwrap()
            .push(Spend::Peek(bucket, key.to_owned()));
        answer(bucket)
    });
    let hits = Arc::clone(&log);
    limiter.expect_hit().returning(move |bucket, key| {
        hits.lock()
            .unwrap()
            .push(Spend::Hit(bucket, key.to_owned()));
        answer(bucket)
    });
    let refunds = Arc::clone(&log);
    limiter.expect_refund().returning(move |bucket, key| {
        refunds
            .lock()
            .unwrap()
            .push(Spend::Refund(bucket, key.to_owned()));
    });
    log
}

fn spends(log: &SpendLog) -> Vec<Spend> {
    log.lock().unwrap().clone()
}

const IP: &str = "203.0.113.7";

fn claims_for(user_id: UserId, session_id: SessionId) -> AccessClaims {
    AccessClaims {
        user_id,
        session_id,
        expires_at: NOW + time::Duration::minutes(15),
    }
}

/// Expects the caller's account (with no email yet) and one try of an email-change code,
/// answered with `accepted`.
pub(super) fn expect_email_change_code(m: &mut Mocks, me: &Principal, accepted: bool) {
    super::otp::allow_code_budget(m);
    let id = me.user_id;
    m.users
        .expect_user_by_id()
        .withf(move |got| *got == id)
        .returning(|id| {
            let mut u = user_named("alice");
            u.id = id;
            Ok(Some(u))
        });
    m.codes
        .expect_digest()
        .withf(|purpose, _, _| *purpose == confab_domain::OtpPurpose::EmailChange)
        .returning(|_, target, code| {
            crate::otp::CodeDigest(format!("{target}/{}", code.as_str()).into_bytes())
        });
    m.otp_codes
        .expect_use_otp()
        .times(1)
        .returning(move |_, _, _, _| Ok(accepted));
}
