//! `open_direct`: the other user by id or by (folded) username, never oneself, looked up before
//! the chat is opened at the clock's time; whether it was created comes back with it.

use confab_domain::UserId;

use super::direct_view;
use crate::Error;
use crate::service::DirectWith;
use crate::service::tests::{Mocks, NOW, assert_invalid, assert_not_found, caller, user_named};
use crate::store::GroupView;

/// Expects one `open_direct` of `me` with `other` at `NOW`, answering a chat and `created`.
fn expect_open_direct(m: &mut Mocks, me: UserId, other: UserId, created: bool) -> GroupView {
    let chat = direct_view(me);
    let answer = chat.clone();
    m.groups
        .expect_open_direct()
        .times(1)
        .withf(move |a, b, _, now| *a == me && *b == other && *now == NOW)
        .returning(move |_, _, _, _| Ok((answer.clone(), created)));
    chat
}

#[tokio::test]
async fn open_direct_with_oneself_by_id_is_invalid_user_id_without_a_store_call() {
    let me = caller(false);
    let mut m = Mocks::default();
    m.groups.expect_open_direct().never();
    let res = m
        .conversations()
        .open_direct(&me, DirectWith::Id(me.user_id))
        .await;
    assert_invalid(res, "user_id");
}

#[tokio::test]
async fn open_direct_with_ones_own_username_is_invalid_username_without_opening_a_chat() {
    let me = caller(false);
    let mut own = user_named("alice");
    own.id = me.user_id;
    let mut m = Mocks::default();
    m.users
        .expect_user_by_username()
        .times(1)
        .returning(move |_| Ok(Some(own.clone())));
    m.groups.expect_open_direct().never();
    let res = m
        .conversations()
        .open_direct(&me, DirectWith::Username("alice".into()))
        .await;
    assert_invalid(res, "username");
}

#[tokio::test]
async fn open_direct_by_id_opens_the_chat_of_the_pair_and_passes_the_created_flag_through() {
    for created in [true, false] {
        let me = caller(false);
        let bob = UserId::new();
        let mut m = Mocks::default();
        let chat = expect_open_direct(&mut m, me.user_id, bob, created);
        let out = m
            .conversations()
            .open_direct(&me, DirectWith::Id(bob))
            .await
            .unwrap();
        assert_eq!(out, (chat, created));
    }
}

#[tokio::test]
async fn open_direct_by_username_looks_the_folded_name_up_and_opens_the_chat_with_that_user() {
    let me = caller(false);
    let bob = user_named("bob");
    let bob_id = bob.id;
    let mut m = Mocks::default();
    m.users
        .expect_user_by_username()
        .times(1)
        .withf(|u| u.as_str() == "bob")
        .returning(move |_| Ok(Some(bob.clone())));
    let chat = expect_open_direct(&mut m, me.user_id, bob_id, true);
    let out = m
        .conversations()
        .open_direct(&me, DirectWith::Username("BoB".into()))
        .await
        .unwrap();
    assert_eq!(out, (chat, true));
}

#[tokio::test]
async fn open_direct_with_an_unknown_username_is_not_found_user_without_opening_a_chat() {
    let mut m = Mocks::default();
    m.users
        .expect_user_by_username()
        .times(1)
        .withf(|u| u.as_str() == "ghost")
        .returning(|_| Ok(None));
    m.groups.expect_open_direct().never();
    let res = m
        .conversations()
        .open_direct(&caller(false), DirectWith::Username("ghost".into()))
        .await;
    assert_not_found(res, "user");
}

#[tokio::test]
async fn open_direct_with_a_malformed_username_is_invalid_username_without_a_store_call() {
    let long = "x".repeat(33);
    for bad in ["", "ab", "no such name!", "\u{0430}lice", long.as_str()] {
        let mut m = Mocks::default();
        m.users.expect_user_by_username().never();
        m.groups.expect_open_direct().never();
        let res = m
            .conversations()
            .open_direct(&caller(false), DirectWith::Username(bad.into()))
            .await;
        assert_invalid(res, "username");
    }
}

#[tokio::test]
async fn open_direct_passes_a_failed_user_lookup_through_without_opening_a_chat() {
    let mut m = Mocks::default();
    m.users
        .expect_user_by_username()
        .times(1)
        .returning(|_| Err(Error::Unavailable("database is down".into())));
    m.groups.expect_open_direct().never();
    let res = m
        .conversations()
        .open_direct(&caller(false), DirectWith::Username("bob".into()))
        .await;
    assert!(
        matches!(&res, Err(Error::Unavailable(why)) if why == "database is down"),
        "{res:?}"
    );
}
