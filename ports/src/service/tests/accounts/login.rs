//! `Accounts::login`: the account lookup, then one unit of the per-IP and the per-account failure
//! budgets spent before the password is verified (refunded on success or a hasher failure);
//! unknown logins verified against no hash; the limiter keys (the account id, or the trimmed,
//! lower-cased, bounded login and IP); and the login a right password starts.

use mockall::Sequence;

use super::{
    ACCESS_EXPIRES_IN, IP, NEW_REFRESH, REFRESH_TTL, RETRY_AFTER, Spend, access_for,
    capture_start_session, expect_issue_access, expect_new_refresh, new_refresh_hash, phc,
    recording_limiter, spends,
};
use crate::hasher::MockPasswordHasher;
use crate::rate_limit::Bucket;
use crate::service::tests::{Mocks, NOW, assert_rate_limited, assert_unauthorized, user_named};
use crate::store::{Credentials, MockUsers};
use crate::{AuthFailure, Error};
use confab_domain::User;

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
