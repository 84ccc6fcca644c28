//! The token use cases: `refresh` (the presented token's digest rotated into a new one, the
//! user taken from the rotation, reuse and rejection refused), `logout` (the login holding the
//! presented token ended) and `authenticate` (the access token verified first, then its login).

use confab_domain::{SessionId, UserId};

use super::{
    ACCESS_EXPIRES_IN, NEW_REFRESH, REFRESH_TTL, access_for, claims_for, digest,
    expect_hash_refresh, expect_issue_access, expect_new_refresh, new_refresh_hash,
};
use crate::service::tests::{Mocks, NOW, assert_unauthorized, user_named};
use crate::store::{MockSessions, Principal, Rotation};
use crate::{AuthFailure, Error};

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

// ---------------------------------------------------------------------------------------------
// authenticate
// ---------------------------------------------------------------------------------------------

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
        banned: false,
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
