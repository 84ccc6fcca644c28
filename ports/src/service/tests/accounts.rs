//! Account use cases: registration, login, tokens, profiles and server roles.

use std::sync::{Arc, Mutex};
use std::time::Duration;

use confab_domain::{SessionId, User, UserId};
use mockall::Sequence;

use super::{
    Mocks, NOW, assert_invalid, assert_not_found, assert_rate_limited, assert_unauthorized, caller,
    user_named,
};
use crate::hasher::{MockPasswordHasher, PasswordHash};
use crate::rate_limit::{Bucket, Limited, MockRateLimiter};
use crate::service::{ProfilePatch, Registration, UserLookup};
use crate::store::{
    Credentials, MockSessions, MockUsers, NewSession, NewUser, Principal, ProfileChange, Rotation,
};
use crate::tokens::{AccessClaims, AccessToken, MockTokenIssuer, RefreshToken, TokenHash};
use crate::{AuthFailure, Error};

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

// ---------------------------------------------------------------------------------------------
// register
// ---------------------------------------------------------------------------------------------

async fn register_is_rejected(reg: Registration, field: &str) {
    let mut m = Mocks::default();
    expect_no_side_effects(&mut m);
    assert_invalid(m.accounts().register(reg).await, field);
}

#[tokio::test]
async fn register_with_invalid_username_is_invalid_username_before_hashing_or_storing() {
    for bad in [
        "ab",
        "al ice",
        "\u{0430}lice",
        "a'; drop table users;--",
        "",
    ] {
        let reg = Registration {
            username: bad.into(),
            ..valid_registration()
        };
        register_is_rejected(reg, "username").await;
    }
    let reg = Registration {
        username: "a".repeat(5000),
        ..valid_registration()
    };
    register_is_rejected(reg, "username").await;
}

#[tokio::test]
async fn register_with_invalid_password_is_invalid_password_before_hashing_or_storing() {
    for bad in ["".to_owned(), "1234567".to_owned(), "x".repeat(257)] {
        let reg = Registration {
            password: bad,
            ..valid_registration()
        };
        register_is_rejected(reg, "password").await;
    }
}

#[tokio::test]
async fn register_with_invalid_email_is_invalid_email_before_hashing_or_storing() {
    for bad in [
        "",
        "ada",
        "ada@example",
        "ada @example.com",
        "ada\0@example.com",
    ] {
        let reg = Registration {
            email: Some(bad.into()),
            ..valid_registration()
        };
        register_is_rejected(reg, "email").await;
    }
}

#[tokio::test]
async fn register_with_unknown_country_is_invalid_country_before_hashing_or_storing() {
    for bad in ["XX", "DEU", "", "de "] {
        let reg = Registration {
            country: Some(bad.into()),
            ..valid_registration()
        };
        register_is_rejected(reg, "country").await;
    }
}

#[tokio::test]
async fn register_with_invalid_display_name_is_invalid_display_name_before_hashing_or_storing() {
    for bad in ["   ".to_owned(), "x".repeat(65), "nul\0byte".to_owned()] {
        let reg = Registration {
            display_name: Some(bad),
            ..valid_registration()
        };
        register_is_rejected(reg, "display_name").await;
    }
}

#[tokio::test]
async fn register_reports_the_first_invalid_field_when_several_are_invalid() {
    let reg = Registration {
        username: "x".into(),
        password: "short".into(),
        email: Some("nope".into()),
        display_name: Some(" ".into()),
        country: Some("XX".into()),
        otp: None,
    };
    register_is_rejected(reg, "username").await;
}

#[tokio::test]
async fn register_creates_the_normalised_user_and_its_first_login_in_one_call() {
    let mut m = Mocks::default();
    let mut seq = Sequence::new();
    m.hasher
        .expect_hash()
        .times(1)
        .in_sequence(&mut seq)
        .withf(|p| p.expose() == "correct horse battery")
        .returning(|_| Ok(phc("$argon2id$stored")));
    let started = Arc::new(Mutex::new(None));
    let keep = Arc::clone(&started);
    m.users
        .expect_create_user()
        .times(1)
        .in_sequence(&mut seq)
        .withf(|u, first_login| {
            u.username.as_str() == "alice"
                && u.display_name.as_ref().map(|d| d.as_str()) == Some("Ada Lovelace")
                && u.email.as_ref().map(|e| e.as_str()) == Some("ada@example.com")
                && u.country.as_ref().map(|c| c.as_str()) == Some("DE")
                && u.password_hash == phc("$argon2id$stored")
                && !u.is_admin
                && u.created_at == NOW
                && first_login.as_ref().is_some_and(|s| s.user_id == u.id)
        })
        .returning(move |u, first_login| {
            *keep.lock().unwrap() = first_login;
            Ok(stored(u))
        });
    // The login is part of the create: no separate session write that could fail on its own.
    m.sessions.expect_start_session().never();
    expect_new_refresh(&mut m.tokens);
    expect_issue_access(&mut m.tokens);

    let out = m.accounts().register(valid_registration()).await.unwrap();

    let session = started.lock().unwrap().clone().expect("a first login");
    assert_eq!(out.user.username.as_str(), "alice");
    assert!(!out.user.is_admin);
    assert_eq!(session.user_id, out.user.id);
    assert_eq!(session.refresh_hash, new_refresh_hash());
    assert_eq!(session.refresh_expires_at, NOW + REFRESH_TTL);
    assert_eq!(session.now, NOW);
    assert_eq!(out.tokens.access_token, access_for(out.user.id, session.id));
    assert_eq!(out.tokens.refresh_token, NEW_REFRESH);
    assert_eq!(out.tokens.expires_in, ACCESS_EXPIRES_IN);
}

#[tokio::test]
async fn register_without_optional_fields_creates_a_user_without_them() {
    let mut m = Mocks::default();
    m.hasher
        .expect_hash()
        .times(1)
        .returning(|_| Ok(phc("$argon2id$stored")));
    m.users
        .expect_create_user()
        .times(1)
        .withf(|u, first_login| {
            u.email.is_none()
                && u.display_name.is_none()
                && u.country.is_none()
                && first_login.is_some()
        })
        .returning(|u, _| Ok(stored(u)));
    expect_new_refresh(&mut m.tokens);
    expect_issue_access(&mut m.tokens);

    let reg = Registration {
        username: "bob".into(),
        password: "long enough".into(),
        ..Registration::default()
    };
    let out = m.accounts().register(reg).await.unwrap();
    assert_eq!(out.user.username.as_str(), "bob");
}

#[tokio::test]
async fn register_passes_a_conflict_from_the_store_through_without_issuing_tokens() {
    for field in ["username", "email"] {
        let mut m = Mocks::default();
        m.hasher
            .expect_hash()
            .times(1)
            .returning(|_| Ok(phc("$argon2id$stored")));
        m.users
            .expect_create_user()
            .times(1)
            .returning(move |_, _| Err(Error::Conflict { field }));
        m.sessions.expect_start_session().never();
        expect_new_refresh(&mut m.tokens);
        m.tokens.expect_issue_access().never();

        match m.accounts().register(valid_registration()).await {
            Err(Error::Conflict { field: got }) => assert_eq!(got, field),
            other => panic!("expected Conflict({field}), got {other:?}"),
        }
    }
}

#[tokio::test]
async fn register_passes_a_hasher_failure_through_without_storing() {
    let mut m = Mocks::default();
    m.hasher
        .expect_hash()
        .times(1)
        .returning(|_| Err(Error::Internal("hasher broke".into())));
    m.users.expect_create_user().never();
    m.sessions.expect_start_session().never();

    let res = m.accounts().register(valid_registration()).await;
    assert!(matches!(res, Err(Error::Internal(_))), "{res:?}");
}

// ---------------------------------------------------------------------------------------------
// login
// ---------------------------------------------------------------------------------------------

const IP: &str = "203.0.113.7";

/// Expects one lookup of `login`, answering `user` with the hash of "right password".
fn expect_credentials(users: &mut MockUsers, login: &'static str, user: &User) {
    let found = user.clone();
    users
        .expect_credentials_by_login()
        .times(1)
        .withf(move |got| got == login)
        .returning(move |_| {
            Ok(Some(Credentials {
                user: found.clone(),
                password_hash: phc("$argon2id$alice"),
            }))
        });
}

/// A stored account `alice` whose password is "right password".
fn expect_alice_credentials(users: &mut MockUsers) -> User {
    let alice = user_named("alice");
    expect_credentials(users, "alice", &alice);
    alice
}

fn expect_verify(hasher: &mut MockPasswordHasher, password: &'static str, ok: bool) {
    hasher
        .expect_verify()
        .times(1)
        .withf(move |p, hash| p.expose() == password && *hash == Some(phc("$argon2id$alice")))
        .returning(move |_, _| Ok(ok));
}

/// What a failed attempt does to the limiter: one unit of each budget spent, none given back.
fn login_failures(account: &str, ip: &str) -> Vec<Spend> {
    vec![
        Spend::Hit(Bucket::LoginFailuresPerIp, ip.to_owned()),
        Spend::Hit(Bucket::LoginFailuresPerAccount, account.to_owned()),
    ]
}

/// What a successful attempt does to the limiter: both units spent, then both given back.
fn login_success(account: &str, ip: &str) -> Vec<Spend> {
    vec![
        Spend::Hit(Bucket::LoginFailuresPerIp, ip.to_owned()),
        Spend::Hit(Bucket::LoginFailuresPerAccount, account.to_owned()),
        Spend::Refund(Bucket::LoginFailuresPerIp, ip.to_owned()),
        Spend::Refund(Bucket::LoginFailuresPerAccount, account.to_owned()),
    ]
}

#[tokio::test]
async fn login_spends_both_budgets_after_the_lookup_and_before_verifying() {
    let mut m = Mocks::default();
    let mut seq = Sequence::new();
    m.users
        .expect_credentials_by_login()
        .times(1)
        .in_sequence(&mut seq)
        .withf(|login| login == "nobody")
        .returning(|_| Ok(None));
    m.limiter
        .expect_hit()
        .times(1)
        .in_sequence(&mut seq)
        .withf(|bucket, key| *bucket == Bucket::LoginFailuresPerIp && key == IP)
        .returning(|_, _| Ok(()));
    m.limiter
        .expect_hit()
        .times(1)
        .in_sequence(&mut seq)
        .withf(|bucket, key| *bucket == Bucket::LoginFailuresPerAccount && key == "nobody")
        .returning(|_, _| Ok(()));
    m.hasher
        .expect_verify()
        .times(1)
        .in_sequence(&mut seq)
        .returning(|_, _| Ok(false));
    m.limiter.expect_peek().never();
    m.limiter.expect_refund().never();

    let res = m.accounts().login("nobody", "whatever", IP).await;
    assert_unauthorized(res, AuthFailure::InvalidCredentials);
}

#[tokio::test]
async fn login_with_exhausted_ip_budget_is_rate_limited_without_spending_the_account_budget() {
    let mut m = Mocks::default();
    let log = recording_limiter(&mut m.limiter, Some(Bucket::LoginFailuresPerIp));
    expect_alice_credentials(&mut m.users);
    m.hasher.expect_verify().never();
    m.sessions.expect_start_session().never();

    // Even the right password: a spent budget is not a password oracle.
    let res = m.accounts().login("alice", "right password", IP).await;

    assert_rate_limited(res, RETRY_AFTER);
    assert_eq!(
        spends(&log),
        vec![Spend::Hit(Bucket::LoginFailuresPerIp, IP.into())]
    );
}

#[tokio::test]
async fn login_refunds_the_ip_unit_when_the_account_budget_is_exhausted() {
    let mut m = Mocks::default();
    let log = recording_limiter(&mut m.limiter, Some(Bucket::LoginFailuresPerAccount));
    let alice = expect_alice_credentials(&mut m.users);
    m.hasher.expect_verify().never();
    m.sessions.expect_start_session().never();

    // Even the right password: a spent budget is not a password oracle.
    let res = m.accounts().login("alice", "right password", IP).await;

    assert_rate_limited(res, RETRY_AFTER);
    assert_eq!(
        spends(&log),
        vec![
            Spend::Hit(Bucket::LoginFailuresPerIp, IP.into()),
            Spend::Hit(Bucket::LoginFailuresPerAccount, alice.id.to_string()),
            Spend::Refund(Bucket::LoginFailuresPerIp, IP.into()),
        ]
    );
}

#[tokio::test]
async fn login_with_exhausted_account_budget_of_an_unknown_login_is_rate_limited_too() {
    let mut m = Mocks::default();
    let log = recording_limiter(&mut m.limiter, Some(Bucket::LoginFailuresPerAccount));
    m.users
        .expect_credentials_by_login()
        .times(1)
        .returning(|_| Ok(None));
    m.hasher.expect_verify().never();

    let res = m.accounts().login("nobody", "some password", IP).await;

    assert_rate_limited(res, RETRY_AFTER);
    assert_eq!(
        spends(&log),
        vec![
            Spend::Hit(Bucket::LoginFailuresPerIp, IP.into()),
            Spend::Hit(Bucket::LoginFailuresPerAccount, "nobody".into()),
            Spend::Refund(Bucket::LoginFailuresPerIp, IP.into()),
        ]
    );
}

#[tokio::test]
async fn login_with_unknown_login_verifies_against_no_hash_and_keeps_both_units_spent() {
    let mut m = Mocks::default();
    let log = recording_limiter(&mut m.limiter, None);
    m.users
        .expect_credentials_by_login()
        .times(1)
        .withf(|login| login == "nobody")
        .returning(|_| Ok(None));
    m.hasher
        .expect_verify()
        .times(1)
        .withf(|p, hash| p.expose() == "some password" && hash.is_none())
        .returning(|_, _| Ok(false));
    m.sessions.expect_start_session().never();
    m.tokens.expect_issue_access().never();

    let res = m.accounts().login("nobody", "some password", IP).await;

    assert_unauthorized(res, AuthFailure::InvalidCredentials);
    assert_eq!(spends(&log), login_failures("nobody", IP));
}

#[tokio::test]
async fn login_with_unknown_login_is_refused_even_if_the_hasher_says_yes() {
    // Belt and braces: with no account there is nobody to log in as, whatever verify says.
    let mut m = Mocks::default();
    let log = recording_limiter(&mut m.limiter, None);
    m.users
        .expect_credentials_by_login()
        .times(1)
        .returning(|_| Ok(None));
    m.hasher.expect_verify().times(1).returning(|_, _| Ok(true));
    m.sessions.expect_start_session().never();

    let res = m.accounts().login("nobody", "some password", IP).await;

    assert_unauthorized(res, AuthFailure::InvalidCredentials);
    assert_eq!(spends(&log), login_failures("nobody", IP));
}

#[tokio::test]
async fn login_with_wrong_password_keeps_both_units_spent() {
    let mut m = Mocks::default();
    let log = recording_limiter(&mut m.limiter, None);
    let alice = expect_alice_credentials(&mut m.users);
    expect_verify(&mut m.hasher, "wrong password", false);
    m.sessions.expect_start_session().never();
    m.tokens.expect_issue_access().never();

    let res = m.accounts().login("alice", "wrong password", IP).await;

    assert_unauthorized(res, AuthFailure::InvalidCredentials);
    assert_eq!(spends(&log), login_failures(&alice.id.to_string(), IP));
}

#[tokio::test]
async fn login_refunds_both_units_when_the_hasher_fails() {
    let mut m = Mocks::default();
    let log = recording_limiter(&mut m.limiter, None);
    let alice = expect_alice_credentials(&mut m.users);
    m.hasher
        .expect_verify()
        .times(1)
        .returning(|_, _| Err(Error::Internal("hasher broke".into())));
    m.sessions.expect_start_session().never();

    let res = m.accounts().login("alice", "correct horse", IP).await;

    assert!(matches!(res, Err(Error::Internal(_))), "{res:?}");
    assert_eq!(spends(&log), login_success(&alice.id.to_string(), IP));
}

#[tokio::test]
async fn login_with_a_password_over_256_characters_fails_without_hashing() {
    // Characters, not bytes, and whether or not the account exists.
    for password in ["x".repeat(257), "é".repeat(257), "x".repeat(1_000_000)] {
        for known in [true, false] {
            let mut m = Mocks::default();
            let log = recording_limiter(&mut m.limiter, None);
            let account_key = if known {
                expect_alice_credentials(&mut m.users).id.to_string()
            } else {
                m.users
                    .expect_credentials_by_login()
                    .times(1)
                    .returning(|_| Ok(None));
                "alice".to_owned()
            };
            m.hasher.expect_verify().never();
            m.sessions.expect_start_session().never();

            let res = m.accounts().login("alice", &password, IP).await;

            assert_unauthorized(res, AuthFailure::InvalidCredentials);
            assert_eq!(spends(&log), login_failures(&account_key, IP));
        }
    }
}

#[tokio::test]
async fn login_with_a_password_of_exactly_256_characters_is_verified() {
    let mut m = Mocks::default();
    let log = recording_limiter(&mut m.limiter, None);
    let alice = expect_alice_credentials(&mut m.users);
    m.hasher
        .expect_verify()
        .times(1)
        .withf(|p, _| p.expose() == "é".repeat(256))
        .returning(|_, _| Ok(true));
    capture_start_session(&mut m.sessions);
    expect_new_refresh(&mut m.tokens);
    expect_issue_access(&mut m.tokens);

    let out = m
        .accounts()
        .login("alice", &"é".repeat(256), IP)
        .await
        .unwrap();

    assert_eq!(out.user, alice);
    assert_eq!(spends(&log), login_success(&alice.id.to_string(), IP));
}

#[tokio::test]
async fn login_with_right_password_starts_a_session_and_refunds_both_units() {
    let mut m = Mocks::default();
    let log = recording_limiter(&mut m.limiter, None);
    let alice = expect_alice_credentials(&mut m.users);
    expect_verify(&mut m.hasher, "right password", true);
    let started = capture_start_session(&mut m.sessions);
    expect_new_refresh(&mut m.tokens);
    expect_issue_access(&mut m.tokens);

    let out = m
        .accounts()
        .login("alice", "right password", IP)
        .await
        .unwrap();

    let session = started.lock().unwrap().clone().expect("a session started");
    assert_eq!(out.user, alice);
    assert_eq!(session.user_id, alice.id);
    assert_eq!(session.refresh_hash, new_refresh_hash());
    assert_eq!(session.refresh_expires_at, NOW + REFRESH_TTL);
    assert_eq!(session.now, NOW);
    assert_eq!(out.tokens.access_token, access_for(alice.id, session.id));
    assert_eq!(out.tokens.refresh_token, NEW_REFRESH);
    assert_eq!(out.tokens.expires_in, ACCESS_EXPIRES_IN);
    assert_eq!(spends(&log), login_success(&alice.id.to_string(), IP));
}

#[tokio::test]
async fn login_does_not_validate_the_presented_password_as_a_new_one() {
    // A password shorter than today's minimum may predate the rule: it is still checked.
    let mut m = Mocks::default();
    recording_limiter(&mut m.limiter, None);
    expect_alice_credentials(&mut m.users);
    expect_verify(&mut m.hasher, "short", true);
    capture_start_session(&mut m.sessions);
    expect_new_refresh(&mut m.tokens);
    expect_issue_access(&mut m.tokens);

    assert!(m.accounts().login("alice", "short", IP).await.is_ok());
}

#[tokio::test]
async fn login_budget_of_an_existing_account_is_keyed_by_its_id_whatever_the_login_spelling() {
    let alice = user_named("alice");
    for (login, looked_up) in [
        ("alice", "alice"),
        (" ALICE ", "ALICE"),
        ("Ada@Example.COM", "Ada@Example.COM"),
        ("\tada@example.com  ", "ada@example.com"),
    ] {
        let mut m = Mocks::default();
        let log = recording_limiter(&mut m.limiter, None);
        expect_credentials(&mut m.users, looked_up, &alice);
        expect_verify(&mut m.hasher, "wrong password", false);

        let res = m.accounts().login(login, "wrong password", IP).await;

        assert_unauthorized(res, AuthFailure::InvalidCredentials);
        assert_eq!(
            spends(&log),
            login_failures(&alice.id.to_string(), IP),
            "login {login:?}"
        );
    }
}

#[tokio::test]
async fn login_limiter_keys_of_an_unknown_login_are_trimmed_and_lower_cased() {
    let mut m = Mocks::default();
    let log = recording_limiter(&mut m.limiter, None);
    m.users
        .expect_credentials_by_login()
        .times(1)
        .withf(|login| login == "Ada@Example.COM")
        .returning(|_| Ok(None));
    m.hasher
        .expect_verify()
        .times(1)
        .returning(|_, _| Ok(false));

    let res = m
        .accounts()
        .login("  Ada@Example.COM \t", "whatever", " 2001:DB8::1 ")
        .await;

    assert_unauthorized(res, AuthFailure::InvalidCredentials);
    assert_eq!(
        spends(&log),
        login_failures("ada@example.com", "2001:db8::1")
    );
}

#[tokio::test]
async fn login_limiter_keys_of_5000_character_logins_and_ips_are_at_most_256_characters() {
    for (login, ip, account_key, ip_key) in [
        (
            "A".repeat(5000),
            IP.to_owned(),
            "a".repeat(256),
            IP.to_owned(),
        ),
        (
            format!("   {}", "É".repeat(5000)),
            IP.to_owned(),
            "é".repeat(256),
            IP.to_owned(),
        ),
        (
            "nobody".to_owned(),
            format!(" {}", "F".repeat(5000)),
            "nobody".to_owned(),
            "f".repeat(256),
        ),
    ] {
        let mut m = Mocks::default();
        let log = recording_limiter(&mut m.limiter, None);
        m.users
            .expect_credentials_by_login()
            .times(1)
            .returning(|_| Ok(None));
        m.hasher
            .expect_verify()
            .times(1)
            .returning(|_, _| Ok(false));

        let res = m.accounts().login(&login, "whatever", &ip).await;

        assert_unauthorized(res, AuthFailure::InvalidCredentials);
        let log = spends(&log);
        assert_eq!(log, login_failures(&account_key, &ip_key));
        for spend in log {
            let key = spend.key();
            assert!(key.chars().count() <= 256, "key of {} chars", key.len());
        }
    }
}

#[tokio::test]
async fn login_passes_a_store_outage_through_before_touching_the_limiter() {
    let mut m = Mocks::default();
    let log = recording_limiter(&mut m.limiter, None);
    m.users
        .expect_credentials_by_login()
        .times(1)
        .returning(|_| Err(Error::Unavailable("db down".into())));
    m.hasher.expect_verify().never();

    let res = m.accounts().login("alice", "right password", IP).await;

    assert!(matches!(res, Err(Error::Unavailable(_))), "{res:?}");
    assert_eq!(spends(&log), Vec::new());
}

// ---------------------------------------------------------------------------------------------
// refresh
// ---------------------------------------------------------------------------------------------

/// Expects the presented token to be rotated into the new one, answering `rotation`.
fn expect_rotation(sessions: &mut MockSessions, presented: &'static str, rotation: Rotation) {
    sessions
        .expect_rotate_refresh()
        .times(1)
        .withf(move |p, next, next_expires_at, now| {
            *p == digest(presented)
                && *next == new_refresh_hash()
                && *next_expires_at == NOW + REFRESH_TTL
                && *now == NOW
        })
        .returning(move |_, _, _, _| Ok(rotation.clone()));
}

#[tokio::test]
async fn refresh_of_a_live_token_rotates_it_and_issues_a_new_pair_for_its_user() {
    let mut m = Mocks::default();
    let alice = user_named("alice");
    let session_id = SessionId::new();
    expect_hash_refresh(&mut m.tokens);
    expect_new_refresh(&mut m.tokens);
    expect_issue_access(&mut m.tokens);
    expect_rotation(
        &mut m.sessions,
        "old-refresh",
        Rotation::Rotated {
            session_id,
            user: alice.clone(),
        },
    );
    m.sessions.expect_start_session().never();

    let out = m.accounts().refresh("old-refresh").await.unwrap();

    assert_eq!(out.user, alice);
    assert_eq!(out.tokens.access_token, access_for(alice.id, session_id));
    assert_eq!(out.tokens.refresh_token, NEW_REFRESH);
    assert_eq!(out.tokens.expires_in, ACCESS_EXPIRES_IN);
}

#[tokio::test]
async fn refresh_never_looks_the_user_up_again_after_the_rotation() {
    // The user comes with the rotation, read in its transaction: nothing may fail in between.
    let mut m = Mocks::default();
    let mut bob = user_named("bob");
    bob.is_admin = true;
    expect_hash_refresh(&mut m.tokens);
    expect_new_refresh(&mut m.tokens);
    expect_issue_access(&mut m.tokens);
    expect_rotation(
        &mut m.sessions,
        "old-refresh",
        Rotation::Rotated {
            session_id: SessionId::new(),
            user: bob.clone(),
        },
    );
    m.users.expect_user_by_id().never();
    m.users.expect_user_by_username().never();
    m.users.expect_credentials_by_login().never();

    let out = m.accounts().refresh("old-refresh").await.unwrap();
    assert_eq!(out.user, bob);
}

async fn refresh_is_refused_when(rotation: Rotation) {
    let mut m = Mocks::default();
    expect_hash_refresh(&mut m.tokens);
    expect_new_refresh(&mut m.tokens);
    expect_rotation(&mut m.sessions, "old-refresh", rotation);
    m.users.expect_user_by_id().never();
    m.tokens.expect_issue_access().never();

    let res = m.accounts().refresh("old-refresh").await;
    assert_unauthorized(res, AuthFailure::InvalidToken);
}

#[tokio::test]
async fn refresh_of_a_reused_token_is_unauthorized_invalid_token() {
    refresh_is_refused_when(Rotation::Reused).await;
}

#[tokio::test]
async fn refresh_of_a_rejected_token_is_unauthorized_invalid_token() {
    refresh_is_refused_when(Rotation::Rejected).await;
}

#[tokio::test]
async fn refresh_passes_a_store_outage_through_without_issuing_tokens() {
    let mut m = Mocks::default();
    expect_hash_refresh(&mut m.tokens);
    expect_new_refresh(&mut m.tokens);
    m.sessions
        .expect_rotate_refresh()
        .times(1)
        .returning(|_, _, _, _| Err(Error::Unavailable("db down".into())));
    m.tokens.expect_issue_access().never();

    let res = m.accounts().refresh("old-refresh").await;
    assert!(matches!(res, Err(Error::Unavailable(_))), "{res:?}");
}

// ---------------------------------------------------------------------------------------------
// logout
// ---------------------------------------------------------------------------------------------

#[tokio::test]
async fn logout_ends_the_session_holding_the_hash_of_the_presented_token() {
    let mut m = Mocks::default();
    m.tokens
        .expect_hash_refresh()
        .times(1)
        .withf(|t| t == "presented-refresh")
        .returning(digest);
    m.tokens.expect_new_refresh().never();
    m.sessions
        .expect_end_session()
        .times(1)
        .withf(|presented, now| *presented == digest("presented-refresh") && *now == NOW)
        .returning(|_, _| Ok(()));

    m.accounts().logout("presented-refresh").await.unwrap();
}

#[tokio::test]
async fn logout_passes_a_store_outage_through() {
    let mut m = Mocks::default();
    expect_hash_refresh(&mut m.tokens);
    m.sessions
        .expect_end_session()
        .times(1)
        .returning(|_, _| Err(Error::Unavailable("db down".into())));

    let res = m.accounts().logout("presented-refresh").await;
    assert!(matches!(res, Err(Error::Unavailable(_))), "{res:?}");
}

// ---------------------------------------------------------------------------------------------
// authenticate
// ---------------------------------------------------------------------------------------------

fn claims_for(user_id: UserId, session_id: SessionId) -> AccessClaims {
    AccessClaims {
        user_id,
        session_id,
        expires_at: NOW + time::Duration::minutes(15),
    }
}

#[tokio::test]
async fn authenticate_with_a_bad_token_is_unauthorized_without_a_store_call() {
    let mut m = Mocks::default();
    m.tokens
        .expect_verify_access()
        .times(1)
        .withf(|token, now| token == "forged" && *now == NOW)
        .returning(|_, _| Err(AuthFailure::InvalidToken));
    m.sessions.expect_principal().never();

    let res = m.accounts().authenticate("forged").await;
    assert_unauthorized(res, AuthFailure::InvalidToken);
}

#[tokio::test]
async fn authenticate_with_a_valid_token_of_a_revoked_login_is_unauthorized_invalid_token() {
    let mut m = Mocks::default();
    let (user_id, session_id) = (UserId::new(), SessionId::new());
    m.tokens
        .expect_verify_access()
        .times(1)
        .returning(move |_, _| Ok(claims_for(user_id, session_id)));
    m.sessions
        .expect_principal()
        .times(1)
        .withf(move |s, u| *s == session_id && *u == user_id)
        .returning(|_, _| Ok(None));

    let res = m.accounts().authenticate("valid-but-revoked").await;
    assert_unauthorized(res, AuthFailure::InvalidToken);
}

#[tokio::test]
async fn authenticate_with_a_live_token_returns_the_principal_from_the_store() {
    let mut m = Mocks::default();
    let (user_id, session_id) = (UserId::new(), SessionId::new());
    let principal = Principal {
        user_id,
        session_id,
        is_admin: true,
    };
    m.tokens
        .expect_verify_access()
        .times(1)
        .withf(|token, now| token == "good" && *now == NOW)
        .returning(move |_, _| Ok(claims_for(user_id, session_id)));
    m.sessions
        .expect_principal()
        .times(1)
        .withf(move |s, u| *s == session_id && *u == user_id)
        .returning(move |_, _| Ok(Some(principal)));

    assert_eq!(m.accounts().authenticate("good").await.unwrap(), principal);
}

// ---------------------------------------------------------------------------------------------
// admit_request
// ---------------------------------------------------------------------------------------------

#[tokio::test]
async fn admit_request_with_a_valid_token_spends_the_users_request_budget() {
    let mut m = Mocks::default();
    let user_id = UserId::new();
    m.tokens
        .expect_verify_access()
        .times(1)
        .withf(|token, now| token == "good" && *now == NOW)
        .returning(move |_, _| Ok(claims_for(user_id, SessionId::new())));
    let log = recording_limiter(&mut m.limiter, None);
    // Throttling stays off the database.
    m.sessions.expect_principal().never();

    m.accounts().admit_request(Some("good"), IP).await.unwrap();

    assert_eq!(
        spends(&log),
        vec![Spend::Hit(Bucket::RequestsPerUser, user_id.to_string())]
    );
}

#[tokio::test]
async fn admit_request_without_a_token_spends_the_ip_request_budget() {
    let mut m = Mocks::default();
    m.tokens.expect_verify_access().never();
    let log = recording_limiter(&mut m.limiter, None);

    m.accounts().admit_request(None, IP).await.unwrap();

    assert_eq!(
        spends(&log),
        vec![Spend::Hit(Bucket::RequestsPerIp, IP.into())]
    );
}

#[tokio::test]
async fn admit_request_with_an_invalid_token_spends_the_ip_request_budget() {
    let mut m = Mocks::default();
    m.tokens
        .expect_verify_access()
        .times(1)
        .returning(|_, _| Err(AuthFailure::InvalidToken));
    let log = recording_limiter(&mut m.limiter, None);

    m.accounts()
        .admit_request(Some("expired"), IP)
        .await
        .unwrap();

    assert_eq!(
        spends(&log),
        vec![Spend::Hit(Bucket::RequestsPerIp, IP.into())]
    );
}

#[tokio::test]
async fn admit_request_with_an_exhausted_user_budget_is_rate_limited_with_its_retry_after() {
    let mut m = Mocks::default();
    m.tokens
        .expect_verify_access()
        .returning(|_, _| Ok(claims_for(UserId::new(), SessionId::new())));
    m.limiter
        .expect_hit()
        .times(1)
        .withf(|bucket, _| *bucket == Bucket::RequestsPerUser)
        .returning(|_, _| {
            Err(Limited::Exhausted {
                retry_after: Duration::from_millis(1500),
            })
        });

    let res = m.accounts().admit_request(Some("good"), IP).await;
    assert_rate_limited(res, Duration::from_millis(1500));
}

#[tokio::test]
async fn admit_request_with_an_exhausted_ip_budget_is_rate_limited_with_its_retry_after() {
    let mut m = Mocks::default();
    m.limiter
        .expect_hit()
        .times(1)
        .withf(|bucket, key| *bucket == Bucket::RequestsPerIp && key == IP)
        .returning(|_, _| {
            Err(Limited::Exhausted {
                retry_after: RETRY_AFTER,
            })
        });

    let res = m.accounts().admit_request(None, IP).await;
    assert_rate_limited(res, RETRY_AFTER);
}

#[tokio::test]
async fn admit_request_ip_key_is_trimmed_and_lower_cased() {
    let mut m = Mocks::default();
    let log = recording_limiter(&mut m.limiter, None);

    m.accounts()
        .admit_request(None, " 2001:DB8::1\t")
        .await
        .unwrap();

    assert_eq!(
        spends(&log),
        vec![Spend::Hit(Bucket::RequestsPerIp, "2001:db8::1".into())]
    );
}

#[tokio::test]
async fn admit_request_ip_key_of_a_5000_character_client_ip_is_at_most_256_characters() {
    for (ip, expected) in [
        ("F".repeat(5000), "f".repeat(256)),
        (format!("  {}", "É".repeat(5000)), "é".repeat(256)),
    ] {
        let mut m = Mocks::default();
        let log = recording_limiter(&mut m.limiter, None);

        m.accounts().admit_request(None, &ip).await.unwrap();

        let log = spends(&log);
        assert_eq!(log, vec![Spend::Hit(Bucket::RequestsPerIp, expected)]);
        for spend in log {
            let key = spend.key();
            assert!(key.chars().count() <= 256, "key of {} chars", key.len());
        }
    }
}

// ---------------------------------------------------------------------------------------------
// me, user
// ---------------------------------------------------------------------------------------------

#[tokio::test]
async fn me_returns_the_callers_own_account() {
    let mut m = Mocks::default();
    let alice = user_named("alice");
    let me = Principal {
        user_id: alice.id,
        session_id: SessionId::new(),
        is_admin: false,
    };
    let found = alice.clone();
    m.users
        .expect_user_by_id()
        .times(1)
        .withf(move |id| *id == found.id)
        .returning(move |_| Ok(Some(found.clone())));

    assert_eq!(m.accounts().me(&me).await.unwrap(), alice);
}

#[tokio::test]
async fn me_of_a_deleted_account_is_unauthorized_invalid_token() {
    let mut m = Mocks::default();
    m.users.expect_user_by_id().times(1).returning(|_| Ok(None));

    let res = m.accounts().me(&caller(false)).await;
    assert_unauthorized(res, AuthFailure::InvalidToken);
}

#[tokio::test]
async fn user_with_an_unknown_id_is_not_found() {
    let mut m = Mocks::default();
    m.users.expect_user_by_id().times(1).returning(|_| Ok(None));

    let res = m.accounts().user(UserId::new()).await;
    assert_not_found(res, "user");
}

// ---------------------------------------------------------------------------------------------
// update_me
// ---------------------------------------------------------------------------------------------

/// Expects one profile update of `me` with exactly `change`.
fn expect_update(users: &mut MockUsers, me: &Principal, change: ProfileChange) {
    let id = me.user_id;
    users
        .expect_update_profile()
        .times(1)
        .withf(move |got_id, got| *got_id == id && *got == change)
        .returning(|id, _| {
            let mut u = user_named("alice");
            u.id = id;
            Ok(u)
        });
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

#[tokio::test]
async fn update_me_enabling_two_factor_passes_it_to_the_store_which_checks_the_email() {
    let mut m = Mocks::default();
    let me = caller(false);
    expect_update(
        &mut m.users,
        &me,
        ProfileChange {
            two_factor: Some(true),
            ..ProfileChange::default()
        },
    );

    let patch = ProfilePatch {
        two_factor: Some(true),
        ..ProfilePatch::default()
    };
    m.accounts().update_me(&me, patch).await.unwrap();
}

#[tokio::test]
async fn update_me_with_null_fields_clears_them() {
    let mut m = Mocks::default();
    let me = caller(false);
    expect_update(
        &mut m.users,
        &me,
        ProfileChange {
            display_name: Some(None),
            country: Some(None),
            email: Some(None),
            two_factor: None,
        },
    );

    let patch = ProfilePatch {
        display_name: Some(None),
        country: Some(None),
        email: Some(None),
        two_factor: None,
        otp: None,
    };
    let out = m.accounts().update_me(&me, patch).await.unwrap();
    assert_eq!(out.id, me.user_id);
}

#[tokio::test]
async fn update_me_with_absent_fields_keeps_them() {
    let mut m = Mocks::default();
    let me = caller(false);
    expect_update(&mut m.users, &me, ProfileChange::default());

    m.accounts()
        .update_me(&me, ProfilePatch::default())
        .await
        .unwrap();
}

#[tokio::test]
async fn update_me_with_values_passes_them_normalised() {
    let mut m = Mocks::default();
    let me = caller(false);
    expect_update(
        &mut m.users,
        &me,
        ProfileChange {
            display_name: Some(Some(confab_domain::DisplayName::parse("Ada").unwrap())),
            country: Some(Some(confab_domain::Country::parse("GB").unwrap())),
            email: Some(Some(
                confab_domain::Email::parse("ada@example.com").unwrap(),
            )),
            two_factor: None,
        },
    );

    expect_email_change_code(&mut m, &me, true);
    let patch = ProfilePatch {
        display_name: Some(Some("  Ada ".into())),
        country: Some(Some("gb".into())),
        email: Some(Some("Ada@Example.COM".into())),
        two_factor: None,
        otp: Some("123456".into()),
    };
    m.accounts().update_me(&me, patch).await.unwrap();
}

#[tokio::test]
async fn update_me_turning_two_factor_off_passes_it_to_the_store() {
    let mut m = Mocks::default();
    let me = caller(false);
    expect_update(
        &mut m.users,
        &me,
        ProfileChange {
            two_factor: Some(false),
            ..ProfileChange::default()
        },
    );

    let patch = ProfilePatch {
        two_factor: Some(false),
        ..ProfilePatch::default()
    };
    m.accounts().update_me(&me, patch).await.unwrap();
}

#[tokio::test]
async fn update_me_with_invalid_values_is_invalid_with_the_field_and_no_store_call() {
    let cases: [(ProfilePatch, &str); 4] = [
        (
            ProfilePatch {
                display_name: Some(Some("   ".into())),
                ..ProfilePatch::default()
            },
            "display_name",
        ),
        (
            ProfilePatch {
                display_name: Some(Some("x".repeat(65))),
                ..ProfilePatch::default()
            },
            "display_name",
        ),
        (
            ProfilePatch {
                country: Some(Some("XX".into())),
                ..ProfilePatch::default()
            },
            "country",
        ),
        (
            ProfilePatch {
                email: Some(Some("not an email".into())),
                ..ProfilePatch::default()
            },
            "email",
        ),
    ];
    for (patch, field) in cases {
        let mut m = Mocks::default();
        m.users.expect_update_profile().never();
        let res = m.accounts().update_me(&caller(false), patch).await;
        assert_invalid(res, field);
    }
}

#[tokio::test]
async fn update_me_passes_an_email_conflict_through() {
    let mut m = Mocks::default();
    let me = caller(false);
    expect_email_change_code(&mut m, &me, true);
    m.users
        .expect_update_profile()
        .times(1)
        .returning(|_, _| Err(Error::Conflict { field: "email" }));

    let patch = ProfilePatch {
        email: Some(Some("taken@example.com".into())),
        otp: Some("123456".into()),
        ..ProfilePatch::default()
    };
    let res = m.accounts().update_me(&me, patch).await;
    assert!(
        matches!(res, Err(Error::Conflict { field: "email" })),
        "{res:?}"
    );
}

// ---------------------------------------------------------------------------------------------
// find_users
// ---------------------------------------------------------------------------------------------

fn prefix(q: &str, limit: Option<i64>) -> UserLookup {
    UserLookup::Prefix { q: q.into(), limit }
}

/// Expects one search for `q` with `limit`, answering one user.
fn expect_search(users: &mut MockUsers, q: &'static str, limit: u32) {
    users
        .expect_search_users()
        .times(1)
        .withf(move |got_q, got_limit| got_q == q && *got_limit == limit)
        .returning(|_, _| Ok(vec![user_named("alice")]));
}

#[tokio::test]
async fn find_users_with_limit_below_one_is_invalid_limit_without_a_store_call() {
    for limit in [0, -1, i64::MIN] {
        let mut m = Mocks::default();
        m.users.expect_search_users().never();
        let res = m.accounts().find_users(prefix("al", Some(limit))).await;
        assert_invalid(res, "limit");
    }
}

#[tokio::test]
async fn find_users_with_limit_above_50_clamps_to_50() {
    for limit in [51, 1000, i64::from(u32::MAX) + 1, i64::MAX] {
        let mut m = Mocks::default();
        expect_search(&mut m.users, "al", 50);
        let out = m
            .accounts()
            .find_users(prefix("al", Some(limit)))
            .await
            .unwrap();
        assert_eq!(out.len(), 1);
    }
}

#[tokio::test]
async fn find_users_without_limit_uses_the_default_of_20() {
    let mut m = Mocks::default();
    expect_search(&mut m.users, "al", 20);
    m.accounts().find_users(prefix("al", None)).await.unwrap();
}

#[tokio::test]
async fn find_users_with_limit_in_range_uses_it() {
    for (limit, expected) in [(1, 1), (7, 7), (50, 50)] {
        let mut m = Mocks::default();
        expect_search(&mut m.users, "al", expected);
        m.accounts()
            .find_users(prefix("al", Some(limit)))
            .await
            .unwrap();
    }
}

#[tokio::test]
async fn find_users_searches_the_trimmed_prefix() {
    let mut m = Mocks::default();
    expect_search(&mut m.users, "al", 20);
    m.accounts()
        .find_users(prefix("  al \t", None))
        .await
        .unwrap();
}

#[tokio::test]
async fn find_users_with_a_query_over_256_characters_is_invalid_q() {
    let mut m = Mocks::default();
    m.users.expect_search_users().never();
    let res = m
        .accounts()
        .find_users(prefix(&"é".repeat(257), None))
        .await;
    assert_invalid(res, "q");

    let mut m = Mocks::default();
    m.users
        .expect_search_users()
        .times(1)
        .withf(|q, _| q.chars().count() == 256)
        .returning(|_, _| Ok(Vec::new()));
    let out = m
        .accounts()
        .find_users(prefix(&"é".repeat(256), None))
        .await
        .unwrap();
    assert!(out.is_empty());
}

#[tokio::test]
async fn find_users_with_a_malformed_email_is_invalid_email_without_a_store_call() {
    for bad in ["", "ada", "ada@example", "ada@@example.com"] {
        let mut m = Mocks::default();
        m.users.expect_user_by_email().never();
        m.users.expect_search_users().never();
        let res = m.accounts().find_users(UserLookup::Email(bad.into())).await;
        assert_invalid(res, "email");
    }
}

#[tokio::test]
async fn find_users_by_email_returns_the_one_account_with_it() {
    let mut m = Mocks::default();
    let alice = user_named("alice");
    let found = alice.clone();
    m.users
        .expect_user_by_email()
        .times(1)
        .withf(|email| email.as_str() == "ada@example.com")
        .returning(move |_| Ok(Some(found.clone())));
    m.users.expect_search_users().never();

    let out = m
        .accounts()
        .find_users(UserLookup::Email("Ada@Example.com".into()))
        .await
        .unwrap();
    assert_eq!(out, vec![alice]);
}

#[tokio::test]
async fn find_users_by_email_without_a_match_returns_nobody() {
    let mut m = Mocks::default();
    m.users
        .expect_user_by_email()
        .times(1)
        .returning(|_| Ok(None));

    let out = m
        .accounts()
        .find_users(UserLookup::Email("nobody@example.com".into()))
        .await
        .unwrap();
    assert!(out.is_empty());
}

// ---------------------------------------------------------------------------------------------
// set_role
// ---------------------------------------------------------------------------------------------

#[tokio::test]
async fn set_role_by_a_non_admin_is_forbidden_without_a_store_call() {
    for role in ["admin", "owner"] {
        for grant in [true, false] {
            let mut m = Mocks::default();
            m.users.expect_set_admin().never();
            let res = m
                .accounts()
                .set_role(&caller(false), UserId::new(), role, grant)
                .await;
            assert!(matches!(res, Err(Error::Forbidden(_))), "{res:?}");
        }
    }
}

#[tokio::test]
async fn set_role_with_an_unknown_role_is_invalid_role_without_a_store_call() {
    for role in ["owner", "Admin", ""] {
        let mut m = Mocks::default();
        m.users.expect_set_admin().never();
        let res = m
            .accounts()
            .set_role(&caller(true), UserId::new(), role, true)
            .await;
        assert_invalid(res, "role");
    }
}

#[tokio::test]
async fn set_role_admin_by_an_admin_grants_and_revokes_admin_on_the_target() {
    for grant in [true, false] {
        let mut m = Mocks::default();
        let target = UserId::new();
        m.users
            .expect_set_admin()
            .times(1)
            .withf(move |id, admin| *id == target && *admin == grant)
            .returning(|_, _| Ok(()));

        m.accounts()
            .set_role(&caller(true), target, "admin", grant)
            .await
            .unwrap();
    }
}

#[tokio::test]
async fn set_role_for_an_unknown_target_passes_not_found_through() {
    let mut m = Mocks::default();
    m.users
        .expect_set_admin()
        .times(1)
        .returning(|_, _| Err(Error::NotFound("user")));

    let res = m
        .accounts()
        .set_role(&caller(true), UserId::new(), "admin", true)
        .await;
    assert_not_found(res, "user");
}

// ---------------------------------------------------------------------------------------------
// admin_create_user, admin_set_admin, admin_reset_password
// ---------------------------------------------------------------------------------------------

#[tokio::test]
async fn admin_create_user_creates_the_account_with_the_requested_role_and_no_login() {
    for is_admin in [true, false] {
        let mut m = Mocks::default();
        m.hasher
            .expect_hash()
            .times(1)
            .withf(|p| p.expose() == "correct horse battery")
            .returning(|_| Ok(phc("$argon2id$stored")));
        m.users
            .expect_create_user()
            .times(1)
            .withf(move |u, first_login| {
                u.username.as_str() == "alice"
                    && u.is_admin == is_admin
                    && u.password_hash == phc("$argon2id$stored")
                    && u.created_at == NOW
                    && first_login.is_none()
            })
            .returning(|u, _| Ok(stored(u)));
        m.sessions.expect_start_session().never();
        m.tokens.expect_new_refresh().never();
        m.tokens.expect_issue_access().never();

        let user = m
            .accounts()
            .admin_create_user(valid_registration(), is_admin)
            .await
            .unwrap();
        assert_eq!(user.is_admin, is_admin);
    }
}

#[tokio::test]
async fn admin_create_user_validates_before_hashing_or_storing() {
    let mut m = Mocks::default();
    expect_no_side_effects(&mut m);
    let reg = Registration {
        password: "short".into(),
        ..valid_registration()
    };
    assert_invalid(m.accounts().admin_create_user(reg, true).await, "password");
}

#[tokio::test]
async fn admin_create_user_passes_a_conflict_through() {
    let mut m = Mocks::default();
    m.hasher
        .expect_hash()
        .returning(|_| Ok(phc("$argon2id$stored")));
    m.users
        .expect_create_user()
        .times(1)
        .returning(|_, _| Err(Error::Conflict { field: "username" }));

    let res = m
        .accounts()
        .admin_create_user(valid_registration(), false)
        .await;
    assert!(
        matches!(res, Err(Error::Conflict { field: "username" })),
        "{res:?}"
    );
}

/// Expects one lookup of `name`, answering `found`.
fn expect_by_username(users: &mut MockUsers, name: &'static str, found: Option<User>) {
    users
        .expect_user_by_username()
        .times(1)
        .withf(move |u| u.as_str() == name)
        .returning(move |_| Ok(found.clone()));
}

#[tokio::test]
async fn admin_set_admin_for_an_unknown_username_is_not_found_without_changing_anything() {
    let mut m = Mocks::default();
    expect_by_username(&mut m.users, "ghost", None);
    m.users.expect_set_admin().never();

    let res = m.accounts().admin_set_admin("Ghost", true).await;
    assert_not_found(res, "user");
}

#[tokio::test]
async fn admin_set_admin_with_an_invalid_username_is_invalid_username_without_a_store_call() {
    let mut m = Mocks::default();
    m.users.expect_user_by_username().never();
    m.users.expect_set_admin().never();

    let res = m.accounts().admin_set_admin("no such name!", true).await;
    assert_invalid(res, "username");
}

#[tokio::test]
async fn admin_set_admin_sets_the_flag_and_returns_the_reloaded_user() {
    for admin in [true, false] {
        let mut m = Mocks::default();
        let alice = user_named("alice");
        let id = alice.id;
        let mut seq = Sequence::new();
        m.users
            .expect_user_by_username()
            .times(1)
            .in_sequence(&mut seq)
            .withf(|u| u.as_str() == "alice")
            .returning(move |_| Ok(Some(alice.clone())));
        m.users
            .expect_set_admin()
            .times(1)
            .in_sequence(&mut seq)
            .withf(move |got, flag| *got == id && *flag == admin)
            .returning(|_, _| Ok(()));
        m.users
            .expect_user_by_id()
            .times(1)
            .in_sequence(&mut seq)
            .withf(move |got| *got == id)
            .returning(move |id| {
                let mut u = user_named("alice");
                u.id = id;
                u.is_admin = admin;
                Ok(Some(u))
            });

        let out = m.accounts().admin_set_admin("alice", admin).await.unwrap();
        assert_eq!(out.id, id);
        assert_eq!(out.is_admin, admin);
    }
}

#[tokio::test]
async fn admin_reset_password_for_an_unknown_username_is_not_found_without_hashing() {
    let mut m = Mocks::default();
    expect_by_username(&mut m.users, "ghost", None);
    m.hasher.expect_hash().never();
    m.users.expect_replace_password().never();

    let res = m
        .accounts()
        .admin_reset_password("ghost", "a brand new password")
        .await;
    assert_not_found(res, "user");
}

#[tokio::test]
async fn admin_reset_password_hashes_the_new_password_then_replaces_it() {
    let mut m = Mocks::default();
    let alice = user_named("alice");
    let id = alice.id;
    let mut seq = Sequence::new();
    let found = alice.clone();
    m.users
        .expect_user_by_username()
        .times(1)
        .in_sequence(&mut seq)
        .withf(|u| u.as_str() == "alice")
        .returning(move |_| Ok(Some(found.clone())));
    m.hasher
        .expect_hash()
        .times(1)
        .in_sequence(&mut seq)
        .withf(|p| p.expose() == "a brand new password")
        .returning(|_| Ok(phc("$argon2id$new")));
    m.users
        .expect_replace_password()
        .times(1)
        .in_sequence(&mut seq)
        .withf(move |got, hash, now| *got == id && *hash == phc("$argon2id$new") && *now == NOW)
        .returning(|_, _, _| Ok(()));

    let out = m
        .accounts()
        .admin_reset_password("Alice", "a brand new password")
        .await
        .unwrap();
    assert_eq!(out, alice);
}

#[tokio::test]
async fn admin_reset_password_with_an_invalid_password_is_invalid_password_without_a_store_call() {
    // The password is checked first: whether the user exists, or the username is even valid,
    // does not matter.
    for (username, password) in [
        ("alice", "short".to_owned()),
        ("ghost", "short".to_owned()),
        ("ghost", "x".repeat(257)),
        ("no such name!", String::new()),
    ] {
        let mut m = Mocks::default();
        m.users.expect_user_by_username().never();
        m.hasher.expect_hash().never();
        m.users.expect_replace_password().never();

        let res = m.accounts().admin_reset_password(username, &password).await;
        assert_invalid(res, "password");
    }
}

#[tokio::test]
async fn admin_reset_password_with_an_invalid_username_is_invalid_username_without_a_store_call() {
    let mut m = Mocks::default();
    m.users.expect_user_by_username().never();
    m.hasher.expect_hash().never();
    m.users.expect_replace_password().never();

    let res = m
        .accounts()
        .admin_reset_password("no such name!", "a brand new password")
        .await;
    assert_invalid(res, "username");
}
