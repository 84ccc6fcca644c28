//! `Accounts::register`: every field validated (the first bad one named) before any hashing or
//! store call; the normalised account and its first login created in one store call; and what a
//! failed hash or create leaves undone.

use std::sync::{Arc, Mutex};

use mockall::Sequence;

use super::{
    ACCESS_EXPIRES_IN, NEW_REFRESH, REFRESH_TTL, access_for, expect_issue_access,
    expect_new_refresh, expect_no_side_effects, new_refresh_hash, phc, stored, valid_registration,
};
use crate::Error;
use crate::service::Registration;
use crate::service::tests::{Mocks, NOW, assert_invalid};

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
        invite: None,
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

/// The policy is decided before anything else: no hashing, no store call (the mocks expect
/// none), whatever else the registration holds.
#[tokio::test]
async fn the_registration_policy_refuses_before_anything_is_looked_at() {
    use confab_domain::{RegistrationPolicy, RegistrationRefused};
    for (policy, invite, why) in [
        (
            RegistrationPolicy::Closed,
            None,
            RegistrationRefused::Closed,
        ),
        (
            RegistrationPolicy::Closed,
            Some("abcdefgh"),
            RegistrationRefused::Closed,
        ),
        (
            RegistrationPolicy::Invite,
            None,
            RegistrationRefused::InviteRequired,
        ),
    ] {
        let m = Mocks {
            registration: policy,
            ..Mocks::default()
        };
        let reg = Registration {
            username: "x".into(),
            invite: invite.map(Into::into),
            ..Registration::default()
        };
        let err = m.accounts().register(reg).await.unwrap_err();
        assert!(
            matches!(err, Error::RegistrationRefused(r) if r == why),
            "{err:?}"
        );
    }
}
