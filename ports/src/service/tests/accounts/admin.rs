//! The use cases behind the `confab user` commands: `admin_create_user` (validated like a
//! registration, the requested role, no login), `admin_set_admin` (by username, the account
//! reloaded after the change) and `admin_reset_password` (the password checked first, hashed,
//! then replaced).

use mockall::Sequence;

use confab_domain::User;

use super::{expect_no_side_effects, phc, stored, valid_registration};
use crate::service::Registration;
use crate::service::tests::{Mocks, NOW, assert_invalid, assert_not_found, user_named};
use crate::store::MockUsers;

// ---------------------------------------------------------------------------------------------
// admin_create_user
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

// ---------------------------------------------------------------------------------------------
// admin_set_admin
// ---------------------------------------------------------------------------------------------

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

// ---------------------------------------------------------------------------------------------
// admin_reset_password
// ---------------------------------------------------------------------------------------------

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
