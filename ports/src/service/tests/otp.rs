//! One-time codes: asking for one, and the flows that take one.

use std::sync::{Arc, Mutex};
use std::time::Duration;

use confab_domain::{Email, OtpCode, OtpPurpose, OtpTarget, User};

use super::{
    Mocks, NOW, assert_invalid, assert_rate_limited, assert_unauthorized, caller, user_named,
};
use crate::hasher::PasswordHash;
use crate::mail::Mail;
use crate::otp::CodeDigest;
use crate::rate_limit::{Bucket, Limited};
use crate::service::{OtpRequest, PasswordReset, Registration};
use crate::store::{Credentials, NewOtp};
use crate::tokens::{AccessToken, RefreshToken, TokenHash};
use crate::{AuthFailure, Error};

const IP: &str = "203.0.113.9";
const CODE: &str = "042042";

fn alice_with_email(two_factor: bool) -> User {
    let mut u = user_named("alice");
    u.email = Some(Email::parse("alice@example.com").unwrap());
    u.two_factor = two_factor;
    u
}

fn request(purpose: &str, login: Option<&str>, email: Option<&str>) -> OtpRequest {
    OtpRequest {
        purpose: purpose.into(),
        login: login.map(Into::into),
        email: email.map(Into::into),
    }
}

/// A limiter that allows everything.
fn allow_all(m: &mut Mocks) {
    m.limiter.expect_hit().returning(|_, _| Ok(()));
    m.limiter.expect_peek().returning(|_, _| Ok(()));
    m.limiter.expect_refund().returning(|_, _| ());
}

/// Codes are always `CODE`; digests spell out what they cover, so a test can see it.
fn fixed_codes(m: &mut Mocks) {
    m.codes
        .expect_new_code()
        .returning(|| OtpCode::parse(CODE).unwrap());
    m.codes.expect_digest().returning(|purpose, target, code| {
        CodeDigest(format!("{}/{target}/{}", purpose.as_str(), code.as_str()).into_bytes())
    });
}

/// Keeps what is stored and what is mailed.
type Seen<T> = Arc<Mutex<Vec<T>>>;

fn capture_sends(m: &mut Mocks) -> (Seen<NewOtp>, Seen<Mail>) {
    let stored = Arc::new(Mutex::new(Vec::new()));
    let mailed = Arc::new(Mutex::new(Vec::new()));
    let s = Arc::clone(&stored);
    m.otp_codes.expect_put_otp().returning(move |c| {
        s.lock().unwrap().push(c);
        Ok(())
    });
    let o = Arc::clone(&mailed);
    m.mailer.expect_send().returning(move |mail| {
        o.lock().unwrap().push(mail);
        Ok(())
    });
    (stored, mailed)
}

fn expect_account(m: &mut Mocks, user: &User) {
    let found = user.clone();
    m.users.expect_credentials_by_login().returning(move |_| {
        Ok(Some(Credentials {
            user: found.clone(),
            password_hash: PasswordHash("$argon2id$alice".into()),
        }))
    });
}

/// The store answers a code check with `accepted`, and the test sees what was checked.
/// Lets codes presented for any target spend from (and be refunded to) its code budget.
pub(super) fn allow_code_budget(m: &mut Mocks) {
    m.limiter
        .expect_hit()
        .withf(|b, k| *b == Bucket::LoginFailuresPerAccount && k.starts_with("code:"))
        .returning(|_, _| Ok(()));
    m.limiter
        .expect_refund()
        .withf(|b, k| *b == Bucket::LoginFailuresPerAccount && k.starts_with("code:"))
        .returning(|_, _| ());
}

fn expect_use(m: &mut Mocks, accepted: bool) -> Seen<(OtpPurpose, String, CodeDigest)> {
    allow_code_budget(m);
    let seen = Arc::new(Mutex::new(Vec::new()));
    let keep = Arc::clone(&seen);
    m.otp_codes
        .expect_use_otp()
        .times(1)
        .returning(move |p, t, d, now| {
            assert_eq!(now, NOW);
            keep.lock().unwrap().push((p, t, d));
            Ok(accepted)
        });
    seen
}

// ---------------------------------------------------------------------------------------------
// request_otp
// ---------------------------------------------------------------------------------------------

#[tokio::test]
async fn malformed_requests_are_invalid_before_any_budget_or_lookup() {
    let cases = [
        (request("reset", Some("alice"), None), "purpose"),
        (request("register", None, None), "email"),
        (request("register", None, Some("not-an-address")), "email"),
        (
            request("register", Some("alice"), Some("a@example.com")),
            "login",
        ),
        (request("login", None, None), "login"),
        (request("password_reset", Some("  "), None), "login"),
        (
            request("login", Some("alice"), Some("a@example.com")),
            "email",
        ),
    ];
    for (req, field) in cases {
        // No expectations: any limiter, store or mail call fails the test.
        let m = Mocks::default();
        assert_invalid(m.accounts().request_otp(None, req, IP).await, field);
    }
}

#[tokio::test]
async fn email_change_needs_a_caller() {
    let m = Mocks::default();
    let res = m
        .accounts()
        .request_otp(
            None,
            request("email_change", None, Some("new@example.com")),
            IP,
        )
        .await;
    assert_unauthorized(res, AuthFailure::InvalidToken);
}

#[tokio::test]
async fn register_code_is_stored_hashed_for_ten_minutes_and_mailed() {
    let mut m = Mocks::default();
    allow_all(&mut m);
    fixed_codes(&mut m);
    let (stored, mailed) = capture_sends(&mut m);

    m.accounts()
        .request_otp(None, request("register", None, Some("Ada@Example.com")), IP)
        .await
        .unwrap();

    let stored = stored.lock().unwrap();
    assert_eq!(stored.len(), 1);
    assert_eq!(stored[0].purpose, OtpPurpose::Register);
    assert_eq!(stored[0].target, "email:ada@example.com");
    assert_eq!(
        stored[0].digest,
        CodeDigest(format!("register/email:ada@example.com/{CODE}").into_bytes())
    );
    assert_eq!(stored[0].expires_at, NOW + time::Duration::minutes(10));
    let mailed = mailed.lock().unwrap();
    assert_eq!(mailed[0].to.as_str(), "ada@example.com");
    assert!(mailed[0].text.contains(CODE));
}

#[tokio::test]
async fn unknown_accounts_get_the_same_answer_and_no_mail() {
    for purpose in ["login", "password_reset"] {
        let mut m = Mocks::default();
        allow_all(&mut m);
        m.users
            .expect_credentials_by_login()
            .returning(|_| Ok(None));
        // No put_otp or send expectation: storing or mailing fails the test.
        m.accounts()
            .request_otp(None, request(purpose, Some("nobody"), None), IP)
            .await
            .unwrap();
    }
}

#[tokio::test]
async fn login_codes_go_only_to_accounts_with_two_factor() {
    let mut m = Mocks::default();
    allow_all(&mut m);
    expect_account(&mut m, &alice_with_email(false));
    m.accounts()
        .request_otp(None, request("login", Some("alice"), None), IP)
        .await
        .unwrap();
}

#[tokio::test]
async fn password_reset_code_goes_to_the_accounts_email() {
    let mut m = Mocks::default();
    allow_all(&mut m);
    fixed_codes(&mut m);
    let alice = alice_with_email(false);
    expect_account(&mut m, &alice);
    let (stored, mailed) = capture_sends(&mut m);

    m.accounts()
        .request_otp(None, request("password_reset", Some("alice"), None), IP)
        .await
        .unwrap();

    assert_eq!(
        stored.lock().unwrap()[0].target,
        format!("user:{}", alice.id)
    );
    assert_eq!(mailed.lock().unwrap()[0].to.as_str(), "alice@example.com");
}

#[tokio::test]
async fn over_the_address_budget_is_rate_limited_and_gives_the_ip_unit_back() {
    let mut m = Mocks::default();
    m.limiter
        .expect_hit()
        .withf(|b, _| *b == Bucket::OtpSendsPerIp)
        .returning(|_, _| Ok(()));
    m.limiter
        .expect_hit()
        .withf(|b, k| *b == Bucket::OtpSendsPerAddress && k == "register:ada@example.com")
        .returning(|_, _| {
            Err(Limited::Exhausted {
                retry_after: Duration::from_secs(60),
            })
        });
    m.limiter
        .expect_refund()
        .times(1)
        .withf(|b, k| *b == Bucket::OtpSendsPerIp && k == IP)
        .returning(|_, _| ());

    let res = m
        .accounts()
        .request_otp(None, request("register", None, Some("ada@example.com")), IP)
        .await;
    assert_rate_limited(res, Duration::from_secs(60));
}

#[tokio::test]
async fn a_mail_that_cannot_be_sent_does_not_change_the_answer() {
    let mut m = Mocks::default();
    allow_all(&mut m);
    fixed_codes(&mut m);
    m.otp_codes.expect_put_otp().returning(|_| Ok(()));
    m.mailer
        .expect_send()
        .returning(|_| Err(crate::mail::MailError("relay down".into())));
    m.accounts()
        .request_otp(None, request("register", None, Some("ada@example.com")), IP)
        .await
        .unwrap();
}

#[tokio::test]
async fn email_change_code_is_for_the_caller_and_the_new_address() {
    let mut m = Mocks::default();
    allow_all(&mut m);
    fixed_codes(&mut m);
    let (stored, mailed) = capture_sends(&mut m);
    let me = caller(false);

    m.accounts()
        .request_otp(
            Some(&me),
            request("email_change", None, Some("new@example.com")),
            IP,
        )
        .await
        .unwrap();

    let key = OtpTarget::AccountAddress(me.user_id, Email::parse("new@example.com").unwrap()).key();
    assert_eq!(stored.lock().unwrap()[0].target, key);
    assert_eq!(mailed.lock().unwrap()[0].to.as_str(), "new@example.com");
}

// ---------------------------------------------------------------------------------------------
// login with two-factor
// ---------------------------------------------------------------------------------------------

fn password_ok(m: &mut Mocks, user: &User) {
    expect_account(m, user);
    m.hasher.expect_verify().returning(|_, _| Ok(true));
}

#[tokio::test]
async fn two_factor_login_without_a_code_sends_one_and_answers_otp_required() {
    let mut m = Mocks::default();
    allow_all(&mut m);
    fixed_codes(&mut m);
    let alice = alice_with_email(true);
    password_ok(&mut m, &alice);
    let (stored, mailed) = capture_sends(&mut m);
    m.sessions.expect_start_session().never();

    let res = m
        .accounts()
        .login_with_otp("alice", "right password", None, IP)
        .await;

    assert_unauthorized(res, AuthFailure::OtpRequired);
    assert_eq!(stored.lock().unwrap()[0].purpose, OtpPurpose::Login);
    assert_eq!(mailed.lock().unwrap()[0].to.as_str(), "alice@example.com");
}

#[tokio::test]
async fn two_factor_login_with_a_wrong_code_is_invalid_credentials() {
    let mut m = Mocks::default();
    allow_all(&mut m);
    fixed_codes(&mut m);
    password_ok(&mut m, &alice_with_email(true));
    expect_use(&mut m, false);
    m.sessions.expect_start_session().never();

    let res = m
        .accounts()
        .login_with_otp("alice", "right password", Some("111111"), IP)
        .await;
    assert_unauthorized(res, AuthFailure::InvalidCredentials);
}

#[tokio::test]
async fn two_factor_login_with_the_right_code_starts_a_session() {
    let mut m = Mocks::default();
    allow_all(&mut m);
    fixed_codes(&mut m);
    let alice = alice_with_email(true);
    password_ok(&mut m, &alice);
    let used = expect_use(&mut m, true);
    m.sessions
        .expect_start_session()
        .times(1)
        .returning(|_| Ok(()));
    m.tokens.expect_new_refresh().returning(|| RefreshToken {
        token: "refresh".into(),
        hash: TokenHash(vec![1]),
    });
    m.tokens
        .expect_refresh_ttl()
        .returning(|| time::Duration::days(30));
    m.tokens
        .expect_issue_access()
        .returning(|_, _, _| AccessToken {
            token: "access".into(),
            expires_in: 900,
        });

    let out = m
        .accounts()
        .login_with_otp("alice", "right password", Some(CODE), IP)
        .await
        .unwrap();

    assert_eq!(out.user.id, alice.id);
    let used = used.lock().unwrap();
    assert_eq!(used[0].0, OtpPurpose::Login);
    assert_eq!(used[0].1, format!("user:{}", alice.id));
}

#[tokio::test]
async fn a_malformed_login_code_is_invalid_before_any_lookup() {
    let m = Mocks::default();
    let res = m
        .accounts()
        .login_with_otp("alice", "right password", Some("12345"), IP)
        .await;
    assert_invalid(res, "otp");
}

// ---------------------------------------------------------------------------------------------
// register with verified emails, password reset
// ---------------------------------------------------------------------------------------------

fn verifying() -> Mocks {
    let mut m = Mocks::default();
    m.otp.verify_emails = true;
    m.hasher
        .expect_hash()
        .returning(|_| Ok(PasswordHash("$argon2id$new".into())));
    m.tokens.expect_new_refresh().returning(|| RefreshToken {
        token: "refresh".into(),
        hash: TokenHash(vec![1]),
    });
    m.tokens
        .expect_refresh_ttl()
        .returning(|| time::Duration::days(30));
    m
}

fn registration(email: Option<&str>, otp: Option<&str>) -> Registration {
    Registration {
        username: "ada".into(),
        password: "long enough password".into(),
        email: email.map(Into::into),
        otp: otp.map(Into::into),
        ..Registration::default()
    }
}

#[tokio::test]
async fn verified_registration_needs_an_email_and_a_code() {
    let m = verifying();
    assert_invalid(
        m.accounts().register(registration(None, Some(CODE))).await,
        "email",
    );
    let m = verifying();
    assert_invalid(
        m.accounts()
            .register(registration(Some("ada@example.com"), None))
            .await,
        "otp",
    );
    let m = verifying();
    assert_invalid(
        m.accounts()
            .register(registration(Some("ada@example.com"), Some("abcdef")))
            .await,
        "otp",
    );
}

#[tokio::test]
async fn verified_registration_with_a_wrong_code_creates_nothing() {
    let mut m = verifying();
    fixed_codes(&mut m);
    expect_use(&mut m, false);
    m.users.expect_create_user().never();
    let res = m
        .accounts()
        .register(registration(Some("ada@example.com"), Some("999999")))
        .await;
    assert_invalid(res, "otp");
}

#[tokio::test]
async fn verified_registration_with_the_right_code_creates_the_account() {
    let mut m = verifying();
    fixed_codes(&mut m);
    let used = expect_use(&mut m, true);
    m.users.expect_create_user().times(1).returning(|u, _| {
        let mut user = user_named("ada");
        user.id = u.id;
        user.email = u.email;
        Ok(user)
    });
    m.tokens
        .expect_issue_access()
        .returning(|_, _, _| AccessToken {
            token: "access".into(),
            expires_in: 900,
        });
    m.accounts()
        .register(registration(Some("Ada@example.com"), Some(CODE)))
        .await
        .unwrap();
    assert_eq!(used.lock().unwrap()[0].1, "email:ada@example.com");
}

fn reset(login: &str, otp: &str, password: &str) -> PasswordReset {
    PasswordReset {
        login: login.into(),
        otp: otp.into(),
        password: password.into(),
    }
}

#[tokio::test]
async fn password_reset_with_the_right_code_replaces_the_password() {
    let mut m = Mocks::default();
    allow_all(&mut m);
    fixed_codes(&mut m);
    let alice = alice_with_email(false);
    expect_account(&mut m, &alice);
    m.hasher
        .expect_hash()
        .returning(|_| Ok(PasswordHash("$argon2id$new".into())));
    expect_use(&mut m, true);
    let id = alice.id;
    m.users
        .expect_replace_password()
        .times(1)
        .withf(move |got, hash, now| *got == id && hash.0 == "$argon2id$new" && *now == NOW)
        .returning(|_, _, _| Ok(()));
    m.accounts()
        .reset_password(reset("alice", CODE, "a new password"), IP)
        .await
        .unwrap();
}

#[tokio::test]
async fn password_reset_for_an_unknown_login_or_with_a_wrong_code_is_invalid_credentials() {
    let mut m = Mocks::default();
    allow_all(&mut m);
    m.hasher
        .expect_hash()
        .returning(|_| Ok(PasswordHash("$argon2id$new".into())));
    m.users
        .expect_credentials_by_login()
        .returning(|_| Ok(None));
    let res = m
        .accounts()
        .reset_password(reset("nobody", CODE, "a new password"), IP)
        .await;
    assert_unauthorized(res, AuthFailure::InvalidCredentials);

    let mut m = Mocks::default();
    allow_all(&mut m);
    fixed_codes(&mut m);
    expect_account(&mut m, &alice_with_email(false));
    m.hasher
        .expect_hash()
        .returning(|_| Ok(PasswordHash("$argon2id$new".into())));
    expect_use(&mut m, false);
    m.users.expect_replace_password().never();
    let res = m
        .accounts()
        .reset_password(reset("alice", "000000", "a new password"), IP)
        .await;
    assert_unauthorized(res, AuthFailure::InvalidCredentials);
}

#[tokio::test]
async fn password_reset_checks_its_fields_first() {
    for (r, field) in [
        (reset("", CODE, "a new password"), "login"),
        (reset("alice", "12", "a new password"), "otp"),
        (reset("alice", CODE, "short"), "password"),
    ] {
        let m = Mocks::default();
        match m.accounts().reset_password(r, IP).await {
            Err(Error::Invalid(i)) => assert_eq!(i.field, field),
            other => panic!("expected Invalid({field}), got {other:?}"),
        }
    }
}

#[tokio::test]
async fn email_change_without_or_with_a_wrong_code_is_invalid_otp() {
    let mut m = Mocks::default();
    let me = caller(false);
    m.users.expect_user_by_id().returning(|id| {
        let mut u = user_named("alice");
        u.id = id;
        Ok(Some(u))
    });
    m.users.expect_update_profile().never();
    let patch = crate::service::ProfilePatch {
        email: Some(Some("new@example.com".into())),
        ..Default::default()
    };
    assert_invalid(m.accounts().update_me(&me, patch).await, "otp");

    let mut m = Mocks::default();
    super::accounts::expect_email_change_code(&mut m, &me, false);
    m.users.expect_update_profile().never();
    let patch = crate::service::ProfilePatch {
        email: Some(Some("new@example.com".into())),
        otp: Some("123456".into()),
        ..Default::default()
    };
    assert_invalid(m.accounts().update_me(&me, patch).await, "otp");
}

#[tokio::test]
async fn a_spent_code_budget_refuses_before_the_code_is_looked_at() {
    let mut m = verifying();
    fixed_codes(&mut m);
    m.limiter
        .expect_hit()
        .withf(|b, k| *b == Bucket::LoginFailuresPerAccount && k == "code:email:ada@example.com")
        .returning(|_, _| {
            Err(Limited::Exhausted {
                retry_after: Duration::from_secs(60),
            })
        });
    m.otp_codes.expect_use_otp().never();
    m.users.expect_create_user().never();
    let res = m
        .accounts()
        .register(registration(Some("ada@example.com"), Some(CODE)))
        .await;
    assert_rate_limited(res, Duration::from_secs(60));
}

#[tokio::test]
async fn a_wrong_code_keeps_its_budget_unit_spent_and_a_right_one_gives_it_back() {
    for (accepted, refunds) in [(false, 0), (true, 1)] {
        let mut m = verifying();
        fixed_codes(&mut m);
        m.limiter
            .expect_hit()
            .times(1)
            .withf(|b, k| *b == Bucket::LoginFailuresPerAccount && k.starts_with("code:"))
            .returning(|_, _| Ok(()));
        m.limiter
            .expect_refund()
            .times(refunds)
            .returning(|_, _| ());
        m.otp_codes
            .expect_use_otp()
            .times(1)
            .returning(move |_, _, _, _| Ok(accepted));
        m.users.expect_create_user().returning(|u, _| {
            let mut user = user_named("ada");
            user.id = u.id;
            Ok(user)
        });
        m.tokens
            .expect_issue_access()
            .returning(|_, _, _| AccessToken {
                token: "access".into(),
                expires_in: 900,
            });
        let _ = m
            .accounts()
            .register(registration(Some("ada@example.com"), Some(CODE)))
            .await;
    }
}
