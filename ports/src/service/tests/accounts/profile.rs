//! Profiles and server roles: `me` and `user` (a missing account named as the caller needs
//! it), `update_me` (fields validated and normalised before the store, null clears, absent keeps,
//! a new email needs its code), `find_users` (prefix or exact email, the limit defaulted and
//! capped) and `set_role` (admins only, known roles only).

use confab_domain::UserId;

use super::expect_email_change_code;
use crate::service::tests::{
    Mocks, assert_invalid, assert_not_found, assert_unauthorized, caller, user_named,
};
use crate::service::{ProfilePatch, UserLookup};
use crate::store::{MockUsers, Principal, ProfileChange};
use crate::{AuthFailure, Error};

// ---------------------------------------------------------------------------------------------
// me, user
// ---------------------------------------------------------------------------------------------

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
