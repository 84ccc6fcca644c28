//! `Accounts::login`: the account lookup, then the login-throttling policy
//! (`service/accounts/throttle.rs`) before the password is verified — one unit each of the
//! client address's budget, the (account, address) budget, the account's ceiling and the
//! address's mark, refunded on success or a fault of ours; while the ceiling is reached, a
//! marked address is refused and an unmarked one is still checked. Then the limiter keys (the
//! account id or the trimmed, lower-cased, bounded login, namespaced; the address), unknown
//! logins verified against no hash, and the login a right password starts.

use std::sync::{Arc, Mutex};
use std::time::Duration;

use mockall::Sequence;

use super::{
    ACCESS_EXPIRES_IN, IP, NEW_REFRESH, REFRESH_TTL, RETRY_AFTER, Spend, SpendLog, access_for,
    capture_start_session, expect_issue_access, expect_new_refresh, new_refresh_hash, phc,
    recording_limiter, spends,
};
use crate::hasher::MockPasswordHasher;
use crate::otp::CodeDigest;
use crate::rate_limit::{Bucket, Limited, MockRateLimiter};
use crate::service::tests::{Mocks, NOW, assert_rate_limited, assert_unauthorized, user_named};
use crate::store::{Credentials, MockUsers, NewSession};
use crate::{AuthFailure, Error};
use confab_domain::User;

/// What the mock limiter answers for an address's mark (distinct from [`RETRY_AFTER`], to see
/// which budget a refusal names).
const MARK_RETRY_AFTER: Duration = Duration::from_secs(77);

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

/// A login that gets past its checks: a session is started and its tokens issued. What the
/// session store was given.
fn expect_session_issued(m: &mut Mocks) -> Arc<Mutex<Option<NewSession>>> {
    let started = capture_start_session(&mut m.sessions);
    expect_new_refresh(&mut m.tokens);
    expect_issue_access(&mut m.tokens);
    started
}

fn expect_verify(hasher: &mut MockPasswordHasher, password: &'static str, ok: bool) {
    hasher
        .expect_verify()
        .times(1)
        .withf(move |p, hash| p.expose() == password && *hash == Some(phc("$argon2id$alice")))
        .returning(move |_, _| Ok(ok));
}

/// The account key of a stored account.
fn user_key(user: &User) -> String {
    format!("user:{}", user.id)
}

/// The account key of an unknown login (as the limiter folds it).
fn login_key(folded: &str) -> String {
    format!("login:{folded}")
}

/// The key of one account and one address.
fn pair(account: &str, ip: &str) -> String {
    format!("{account}|{ip}")
}

/// What every admitted attempt spends first: the address, the pair, the ceiling, the mark.
fn admitted(account: &str, ip: &str) -> Vec<Spend> {
    vec![
        Spend::Hit(Bucket::LoginFailuresPerIp, ip.to_owned()),
        Spend::Hit(Bucket::LoginFailuresPerAccount, pair(account, ip)),
        Spend::Hit(Bucket::LoginFailuresAccountCeiling, account.to_owned()),
        Spend::Hit(Bucket::LoginFailureMark, pair(account, ip)),
    ]
}

/// What a failed attempt does to the limiter: every unit spent, none given back, and a look
/// at the ceiling (to log an account that just reached it).
fn login_failures(account: &str, ip: &str) -> Vec<Spend> {
    let mut log = admitted(account, ip);
    log.push(Spend::Peek(
        Bucket::LoginFailuresAccountCeiling,
        account.to_owned(),
    ));
    log
}

/// What a successful attempt does to the limiter: every unit spent, then every one given back.
fn login_success(account: &str, ip: &str) -> Vec<Spend> {
    let mut log = admitted(account, ip);
    log.extend(refunds(
        account,
        ip,
        &[
            Bucket::LoginFailuresPerIp,
            Bucket::LoginFailuresPerAccount,
            Bucket::LoginFailuresAccountCeiling,
            Bucket::LoginFailureMark,
        ],
    ));
    log
}

/// The refunds of `buckets`, in order, with the keys a login attempt uses for them.
fn refunds(account: &str, ip: &str, buckets: &[Bucket]) -> Vec<Spend> {
    buckets
        .iter()
        .map(|b| {
            let key = match b {
                Bucket::LoginFailuresPerIp => ip.to_owned(),
                Bucket::LoginFailuresAccountCeiling => account.to_owned(),
                _ => pair(account, ip),
            };
            Spend::Refund(*b, key)
        })
        .collect()
}

/// A limiter that records every call, in order, and answers each `hit` and `peek` as
/// `answer` says for its bucket.
fn scripted_limiter(
    limiter: &mut MockRateLimiter,
    answer: fn(Bucket) -> Result<(), Limited>,
) -> SpendLog {
    let log = SpendLog::default();
    let peeks = log.clone();
    limiter.expect_peek().returning(move |bucket, key| {
        peeks
            .lock()
            .unwrap()
            .push(Spend::Peek(bucket, key.to_owned()));
        answer(bucket)
    });
    let hits = log.clone();
    limiter.expect_hit().returning(move |bucket, key| {
        hits.lock()
            .unwrap()
            .push(Spend::Hit(bucket, key.to_owned()));
        answer(bucket)
    });
    let refunds = log.clone();
    limiter.expect_refund().returning(move |bucket, key| {
        refunds
            .lock()
            .unwrap()
            .push(Spend::Refund(bucket, key.to_owned()));
    });
    log
}

fn exhausted(retry_after: Duration) -> Result<(), Limited> {
    Err(Limited::Exhausted { retry_after })
}

/// The account's ceiling is reached; this address has no failure against it.
fn under_attack(bucket: Bucket) -> Result<(), Limited> {
    match bucket {
        Bucket::LoginFailuresAccountCeiling => exhausted(RETRY_AFTER),
        _ => Ok(()),
    }
}

/// The account's ceiling is reached, and this address failed against it lately.
fn under_attack_and_marked(bucket: Bucket) -> Result<(), Limited> {
    match bucket {
        Bucket::LoginFailuresAccountCeiling => exhausted(RETRY_AFTER),
        Bucket::LoginFailureMark => exhausted(MARK_RETRY_AFTER),
        _ => Ok(()),
    }
}

/// This address failed against the account lately, but the account is not under attack.
fn marked(bucket: Bucket) -> Result<(), Limited> {
    match bucket {
        Bucket::LoginFailureMark => exhausted(MARK_RETRY_AFTER),
        _ => Ok(()),
    }
}

// ---- the order of the calls, and the budgets each outcome keeps ----------------------------

#[tokio::test]
async fn login_spends_every_budget_after_the_lookup_and_before_verifying() {
    let mut m = Mocks::default();
    let mut seq = Sequence::new();
    m.users
        .expect_credentials_by_login()
        .times(1)
        .in_sequence(&mut seq)
        .withf(|login| login == "nobody")
        .returning(|_| Ok(None));
    for (bucket, key) in [
        (Bucket::LoginFailuresPerIp, IP.to_owned()),
        (
            Bucket::LoginFailuresPerAccount,
            format!("login:nobody|{IP}"),
        ),
        (
            Bucket::LoginFailuresAccountCeiling,
            "login:nobody".to_owned(),
        ),
        (Bucket::LoginFailureMark, format!("login:nobody|{IP}")),
    ] {
        m.limiter
            .expect_hit()
            .times(1)
            .in_sequence(&mut seq)
            .withf(move |b, k| *b == bucket && k == key)
            .returning(|_, _| Ok(()));
    }
    m.hasher
        .expect_verify()
        .times(1)
        .in_sequence(&mut seq)
        .returning(|_, _| Ok(false));
    m.limiter
        .expect_peek()
        .times(1)
        .in_sequence(&mut seq)
        .withf(|b, k| *b == Bucket::LoginFailuresAccountCeiling && k == "login:nobody")
        .returning(|_, _| Ok(()));
    m.limiter.expect_refund().never();

    let res = m.accounts().login("nobody", "whatever", IP).await;
    assert_unauthorized(res, AuthFailure::InvalidCredentials);
}

#[tokio::test]
async fn login_with_exhausted_ip_budget_is_rate_limited_without_spending_anything_else() {
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
async fn login_with_exhausted_account_and_address_budget_is_rate_limited_and_refunds_the_ip_unit() {
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
            Spend::Hit(Bucket::LoginFailuresPerAccount, pair(&user_key(&alice), IP)),
            Spend::Refund(Bucket::LoginFailuresPerIp, IP.into()),
        ]
    );
}

#[tokio::test]
async fn login_with_exhausted_account_and_address_budget_of_an_unknown_login_is_limited_too() {
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
            Spend::Hit(Bucket::LoginFailuresPerAccount, pair("login:nobody", IP)),
            Spend::Refund(Bucket::LoginFailuresPerIp, IP.into()),
        ]
    );
}

#[tokio::test]
async fn login_with_unknown_login_verifies_against_no_hash_and_keeps_every_unit_spent() {
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
    assert_eq!(spends(&log), login_failures(&login_key("nobody"), IP));
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
    assert_eq!(spends(&log), login_failures(&login_key("nobody"), IP));
}

#[tokio::test]
async fn login_with_wrong_password_keeps_every_unit_spent() {
    let mut m = Mocks::default();
    let log = recording_limiter(&mut m.limiter, None);
    let alice = expect_alice_credentials(&mut m.users);
    expect_verify(&mut m.hasher, "wrong password", false);
    m.sessions.expect_start_session().never();
    m.tokens.expect_issue_access().never();

    let res = m.accounts().login("alice", "wrong password", IP).await;

    assert_unauthorized(res, AuthFailure::InvalidCredentials);
    assert_eq!(spends(&log), login_failures(&user_key(&alice), IP));
}

#[tokio::test]
async fn login_refunds_every_unit_when_the_hasher_fails() {
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
    assert_eq!(spends(&log), login_success(&user_key(&alice), IP));
}

#[tokio::test]
async fn login_with_a_password_over_256_characters_fails_without_hashing() {
    // Characters, not bytes, and whether or not the account exists.
    for password in ["x".repeat(257), "é".repeat(257), "x".repeat(1_000_000)] {
        for known in [true, false] {
            let mut m = Mocks::default();
            let log = recording_limiter(&mut m.limiter, None);
            let account_key = if known {
                user_key(&expect_alice_credentials(&mut m.users))
            } else {
                m.users
                    .expect_credentials_by_login()
                    .times(1)
                    .returning(|_| Ok(None));
                login_key("alice")
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
    expect_session_issued(&mut m);

    let out = m
        .accounts()
        .login("alice", &"é".repeat(256), IP)
        .await
        .unwrap();

    assert_eq!(out.user, alice);
    assert_eq!(spends(&log), login_success(&user_key(&alice), IP));
}

#[tokio::test]
async fn login_with_right_password_starts_a_session_and_refunds_every_unit() {
    let mut m = Mocks::default();
    let log = recording_limiter(&mut m.limiter, None);
    let alice = expect_alice_credentials(&mut m.users);
    expect_verify(&mut m.hasher, "right password", true);
    let started = expect_session_issued(&mut m);

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
    assert_eq!(spends(&log), login_success(&user_key(&alice), IP));
}

#[tokio::test]
async fn login_does_not_validate_the_presented_password_as_a_new_one() {
    // A password shorter than today's minimum may predate the rule: it is still checked.
    let mut m = Mocks::default();
    recording_limiter(&mut m.limiter, None);
    expect_alice_credentials(&mut m.users);
    expect_verify(&mut m.hasher, "short", true);
    expect_session_issued(&mut m);

    assert!(m.accounts().login("alice", "short", IP).await.is_ok());
}

// ---- an account under attack: the ceiling and the marks ------------------------------------

#[tokio::test]
async fn login_from_an_address_without_failures_is_checked_while_the_account_is_under_attack() {
    let mut m = Mocks::default();
    let log = scripted_limiter(&mut m.limiter, under_attack);
    let alice = expect_alice_credentials(&mut m.users);
    expect_verify(&mut m.hasher, "right password", true);
    expect_session_issued(&mut m);

    let out = m.accounts().login("alice", "right password", IP).await;

    assert_eq!(out.unwrap().user, alice);
    // The ceiling was full: its unit was not taken, so it is not given back.
    let account = user_key(&alice);
    let mut expected = admitted(&account, IP);
    expected.extend(refunds(
        &account,
        IP,
        &[
            Bucket::LoginFailuresPerIp,
            Bucket::LoginFailuresPerAccount,
            Bucket::LoginFailureMark,
        ],
    ));
    assert_eq!(spends(&log), expected);
}

#[tokio::test]
async fn a_wrong_password_from_a_clean_address_under_attack_marks_it_and_is_not_logged_again() {
    let mut m = Mocks::default();
    let log = scripted_limiter(&mut m.limiter, under_attack);
    let alice = expect_alice_credentials(&mut m.users);
    expect_verify(&mut m.hasher, "wrong password", false);

    let res = m.accounts().login("alice", "wrong password", IP).await;

    assert_unauthorized(res, AuthFailure::InvalidCredentials);
    // Address, pair and mark stay spent; the full ceiling took nothing, so this failure did
    // not bring it to the ceiling and nothing is looked at to log.
    assert_eq!(spends(&log), admitted(&user_key(&alice), IP));
}

#[tokio::test]
async fn login_from_an_address_with_failures_is_refused_while_the_account_is_under_attack() {
    let mut m = Mocks::default();
    let log = scripted_limiter(&mut m.limiter, under_attack_and_marked);
    let alice = expect_alice_credentials(&mut m.users);
    m.hasher.expect_verify().never();
    m.sessions.expect_start_session().never();

    // Even the right password, and the wait is until this address's failure leaves the window.
    let res = m.accounts().login("alice", "right password", IP).await;

    assert_rate_limited(res, MARK_RETRY_AFTER);
    let account = user_key(&alice);
    let mut expected = admitted(&account, IP);
    expected.extend(refunds(
        &account,
        IP,
        &[Bucket::LoginFailuresPerIp, Bucket::LoginFailuresPerAccount],
    ));
    assert_eq!(spends(&log), expected);
}

#[tokio::test]
async fn login_from_an_address_with_failures_is_checked_while_the_account_is_not_under_attack() {
    let mut m = Mocks::default();
    let log = scripted_limiter(&mut m.limiter, marked);
    let alice = expect_alice_credentials(&mut m.users);
    expect_verify(&mut m.hasher, "right password", true);
    expect_session_issued(&mut m);

    m.accounts()
        .login("alice", "right password", IP)
        .await
        .unwrap();

    // The mark was set before: this attempt took none, so it gives none back (the earlier
    // failure stays marked).
    let account = user_key(&alice);
    let mut expected = admitted(&account, IP);
    expected.extend(refunds(
        &account,
        IP,
        &[
            Bucket::LoginFailuresPerIp,
            Bucket::LoginFailuresPerAccount,
            Bucket::LoginFailuresAccountCeiling,
        ],
    ));
    assert_eq!(spends(&log), expected);
}

#[tokio::test]
async fn the_failure_that_brings_an_account_to_its_ceiling_is_looked_at_and_kept() {
    // The ceiling takes this unit (its last), and the look afterwards finds it full: the
    // warning is logged (its text is the operator's, in docs/operations.md).
    let mut m = Mocks::default();
    let log = SpendLog::default();
    let (hits, peeks) = (log.clone(), log.clone());
    m.limiter.expect_hit().returning(move |b, k| {
        hits.lock().unwrap().push(Spend::Hit(b, k.to_owned()));
        Ok(())
    });
    m.limiter.expect_peek().times(1).returning(move |b, k| {
        peeks.lock().unwrap().push(Spend::Peek(b, k.to_owned()));
        exhausted(RETRY_AFTER)
    });
    m.limiter.expect_refund().never();
    let alice = expect_alice_credentials(&mut m.users);
    expect_verify(&mut m.hasher, "wrong password", false);

    let res = m.accounts().login("alice", "wrong password", IP).await;

    assert_unauthorized(res, AuthFailure::InvalidCredentials);
    assert_eq!(spends(&log), login_failures(&user_key(&alice), IP));
}

// ---- counters out of reach: every login bucket fails closed ---------------------------------

#[tokio::test]
async fn login_answers_unavailable_when_any_budget_is_out_of_reach_and_gives_back_what_it_took() {
    let all = [
        Bucket::LoginFailuresPerIp,
        Bucket::LoginFailuresPerAccount,
        Bucket::LoginFailuresAccountCeiling,
        Bucket::LoginFailureMark,
    ];
    for (i, down) in all.into_iter().enumerate() {
        let mut m = Mocks::default();
        let log = SpendLog::default();
        let (hits, refunds_log) = (log.clone(), log.clone());
        m.limiter.expect_hit().returning(move |b, k| {
            hits.lock().unwrap().push(Spend::Hit(b, k.to_owned()));
            if b == down {
                Err(Limited::Unavailable)
            } else {
                Ok(())
            }
        });
        m.limiter.expect_refund().returning(move |b, k| {
            refunds_log
                .lock()
                .unwrap()
                .push(Spend::Refund(b, k.to_owned()));
        });
        m.limiter.expect_peek().never();
        let alice = expect_alice_credentials(&mut m.users);
        m.hasher.expect_verify().never();

        let res = m.accounts().login("alice", "right password", IP).await;

        assert!(
            matches!(res, Err(Error::Unavailable(_))),
            "{down:?}: {res:?}"
        );
        let account = user_key(&alice);
        let mut expected = admitted(&account, IP)[..=i].to_vec();
        expected.extend(refunds(&account, IP, &all[..i]));
        assert_eq!(spends(&log), expected, "{down:?}");
    }
}

// ---- two-factor logins ----------------------------------------------------------------------

/// `alice` with two-factor login on (and no email: no code to mail).
fn expect_two_factor_alice(m: &mut Mocks) -> User {
    let mut alice = user_named("alice");
    alice.two_factor = true;
    expect_credentials(&mut m.users, "alice", &alice);
    expect_verify(&mut m.hasher, "right password", true);
    alice
}

#[tokio::test]
async fn a_right_password_without_the_code_gives_every_unit_back() {
    let mut m = Mocks::default();
    let log = recording_limiter(&mut m.limiter, None);
    let alice = expect_two_factor_alice(&mut m);
    m.sessions.expect_start_session().never();

    let res = m.accounts().login("alice", "right password", IP).await;

    assert_unauthorized(res, AuthFailure::OtpRequired);
    assert_eq!(spends(&log), login_success(&user_key(&alice), IP));
}

#[tokio::test]
async fn a_right_password_with_a_wrong_code_is_a_failed_login() {
    let mut m = Mocks::default();
    let log = recording_limiter(&mut m.limiter, None);
    let alice = expect_two_factor_alice(&mut m);
    m.codes
        .expect_digest()
        .returning(|_, _, _| CodeDigest(b"digest".to_vec()));
    m.otp_codes
        .expect_use_otp()
        .times(1)
        .returning(|_, _, _, _| Ok(false));
    m.sessions.expect_start_session().never();

    let res = m
        .accounts()
        .login_with_otp("alice", "right password", Some("111111"), IP)
        .await;

    assert_unauthorized(res, AuthFailure::InvalidCredentials);
    let account = user_key(&alice);
    let mut expected = admitted(&account, IP);
    // The code's own budget (per account, across codes) keeps its unit too.
    expected.push(Spend::Hit(
        Bucket::LoginFailuresPerAccount,
        format!("code:user:{}", alice.id),
    ));
    expected.push(Spend::Peek(Bucket::LoginFailuresAccountCeiling, account));
    assert_eq!(spends(&log), expected);
}

// ---- keys ------------------------------------------------------------------------------------

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
            login_failures(&user_key(&alice), IP),
            "login {login:?}"
        );
    }
}

#[tokio::test]
async fn login_budgets_of_one_account_from_two_addresses_are_two_budgets_and_one_ceiling() {
    let alice = user_named("alice");
    let mut seen = Vec::new();
    for ip in ["203.0.113.7", "198.51.100.1"] {
        let mut m = Mocks::default();
        let log = recording_limiter(&mut m.limiter, None);
        expect_credentials(&mut m.users, "alice", &alice);
        expect_verify(&mut m.hasher, "wrong password", false);

        let res = m.accounts().login("alice", "wrong password", ip).await;

        assert_unauthorized(res, AuthFailure::InvalidCredentials);
        seen.push(spends(&log));
    }
    let key_of = |log: &[Spend], bucket: Bucket| {
        log.iter()
            .find_map(|s| match s {
                Spend::Hit(b, k) if *b == bucket => Some(k.clone()),
                _ => None,
            })
            .unwrap()
    };
    for bucket in [Bucket::LoginFailuresPerAccount, Bucket::LoginFailureMark] {
        assert_ne!(key_of(&seen[0], bucket), key_of(&seen[1], bucket));
    }
    let ceiling = Bucket::LoginFailuresAccountCeiling;
    assert_eq!(key_of(&seen[0], ceiling), key_of(&seen[1], ceiling));
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
        login_failures(&login_key("ada@example.com"), "2001:db8::1")
    );
}

#[tokio::test]
async fn an_unknown_login_named_like_a_code_budget_never_spends_that_budget() {
    // One-time-code budgets share the account bucket under `code:…`; a login typed as one
    // must not spend (and so exhaust) a real account's code budget.
    let victim = user_named("alice");
    let typed = format!("code:user:{}", victim.id);
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

    let res = m.accounts().login(&typed, "whatever", IP).await;

    assert_unauthorized(res, AuthFailure::InvalidCredentials);
    for spend in spends(&log) {
        assert!(!spend.key().starts_with("code:"), "{spend:?}");
    }
}

#[tokio::test]
async fn login_limiter_keys_of_empty_and_5000_character_logins_and_ips_are_bounded() {
    // Each part of a key is at most 256 characters: the login (after its prefix) and the IP.
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
        (String::new(), IP.to_owned(), String::new(), IP.to_owned()),
        (
            " \t ".to_owned(),
            String::new(),
            String::new(),
            String::new(),
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
        assert_eq!(log, login_failures(&login_key(&account_key), &ip_key));
        for spend in log {
            let key = spend.key();
            assert!(
                key.chars().count() <= "login:".len() + 256 + 1 + 256,
                "key of {} chars",
                key.len()
            );
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
