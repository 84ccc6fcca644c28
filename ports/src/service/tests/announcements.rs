//! Announcements: admins only, bodies checked like message bodies, published after the store
//! recorded them; the list pages with the message-history limits.

use std::sync::Arc;

use confab_domain::{Announcement, AnnouncementId, Event};
use mockall::predicate::eq;

use super::{Mocks, NOW, assert_invalid, caller};
use crate::Error;
use crate::service::{ANNOUNCEMENTS_DEFAULT, ANNOUNCEMENTS_MAX};
use crate::store::AnnouncementPage;

fn stored(sender: confab_domain::UserId, body: &str) -> Announcement {
    Announcement {
        id: AnnouncementId::new(),
        sender_id: sender,
        body: body.into(),
        created_at: NOW,
    }
}

#[tokio::test]
async fn an_admin_announces_a_trimmed_body_and_everyone_hears_it_after_the_store() {
    let admin = caller(true);
    let mut m = Mocks::default();
    let rx = Arc::clone(&m.bus);
    let answer = stored(admin.user_id, "maintenance at noon");
    let returned = answer.clone();
    m.announcements
        .expect_create_announcement()
        .withf(move |a| {
            a.sender_id == admin.user_id && a.body.as_str() == "maintenance at noon" && a.now == NOW
        })
        .times(1)
        .returning(move |_| Ok(returned.clone()));
    let got = m
        .conversations()
        .announce(&admin, "  maintenance at noon \n")
        .await
        .unwrap();
    assert_eq!(got, answer);
    assert_eq!(
        rx.try_recv().unwrap(),
        Event::AnnouncementCreated {
            announcement: answer
        }
    );
    assert!(rx.try_recv().is_none());
}

#[tokio::test]
async fn a_non_admin_is_forbidden_before_anything_else_and_nothing_is_published() {
    let mut m = Mocks::default();
    let rx = Arc::clone(&m.bus);
    m.announcements.expect_create_announcement().never();
    let c = m.conversations();
    for body in ["hello", ""] {
        match c.announce(&caller(false), body).await {
            Err(Error::Forbidden(_)) => {}
            other => panic!("expected Forbidden, got {other:?}"),
        }
    }
    assert!(rx.try_recv().is_none());
}

#[tokio::test]
async fn bad_bodies_are_refused_with_the_body_field_and_nothing_is_stored() {
    let m = Mocks::default();
    let rx = Arc::clone(&m.bus);
    let c = m.conversations();
    for bad in [
        String::new(),
        "  \n\t".into(),
        "\u{200B}".into(),
        "a\0b".into(),
        "x".repeat(4001),
    ] {
        assert_invalid(c.announce(&caller(true), &bad).await, "body");
    }
    assert!(rx.try_recv().is_none());
}

#[tokio::test]
async fn a_refusal_of_the_store_publishes_nothing() {
    let mut m = Mocks::default();
    let rx = Arc::clone(&m.bus);
    m.announcements.expect_create_announcement().returning(|_| {
        Err(Error::Forbidden(
            "only admins may make announcements".into(),
        ))
    });
    let res = m.conversations().announce(&caller(true), "hi").await;
    assert!(matches!(res, Err(Error::Forbidden(_))), "{res:?}");
    assert!(rx.try_recv().is_none());
}

#[tokio::test]
async fn the_list_passes_the_cursor_and_a_limit_defaulted_and_capped() {
    let before = AnnouncementId::new();
    let mut m = Mocks::default();
    for (cursor, limit) in [
        (None, ANNOUNCEMENTS_DEFAULT),
        (Some(before), 7),
        (Some(before), ANNOUNCEMENTS_MAX),
        (None, ANNOUNCEMENTS_MAX),
    ] {
        m.announcements
            .expect_announcements()
            .with(eq(cursor), eq(limit))
            .times(1)
            .returning(|_, _| {
                Ok(AnnouncementPage {
                    announcements: Vec::new(),
                    has_more: false,
                })
            });
    }
    let c = m.conversations();
    let user = caller(false);
    c.announcements(&user, None, None).await.unwrap();
    c.announcements(&user, Some(before), Some(7)).await.unwrap();
    c.announcements(&user, Some(before), Some(101))
        .await
        .unwrap();
    c.announcements(&user, None, Some(i64::MAX)).await.unwrap();
}

#[tokio::test]
async fn a_limit_below_one_is_refused() {
    let m = Mocks::default();
    let c = m.conversations();
    for bad in [0, -1, i64::MIN] {
        assert_invalid(
            c.announcements(&caller(false), None, Some(bad)).await,
            "limit",
        );
    }
}
