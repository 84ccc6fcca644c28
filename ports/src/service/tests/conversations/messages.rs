//! Writing messages: `send_message` (the body trimmed and checked before the client id, both
//! before the store; the caller the sender at the clock's time), `edit_message` and
//! `delete_message` (as the caller, at the clock's time).

use confab_domain::{Body, ClientId, GroupId, MessageId};

use super::{Seen, appended, changed};
use crate::service::tests::{Mocks, NOW, assert_invalid, caller};
use crate::store::NewMessage;

// ---------------------------------------------------------------------------------------------
// send_message
// ---------------------------------------------------------------------------------------------

/// Expects one `append_message`, answered like a store would, and keeps what it was given.
fn capture_append(m: &mut Mocks, duplicate: bool) -> Seen<NewMessage> {
    let seen = Seen::default();
    let keep = seen.clone();
    m.messages
        .expect_append_message()
        .times(1)
        .returning(move |msg| {
            let out = appended(&msg, duplicate);
            keep.put(msg);
            Ok(out)
        });
    seen
}

#[tokio::test]
async fn send_message_with_an_invalid_body_is_invalid_body_before_the_store() {
    for bad in [
        String::new(),
        " ".into(),
        " \n\t\r ".into(),
        "x".repeat(4001),
        "é".repeat(4001),
        format!(" {} ", "x".repeat(4001)),
        "nul\0byte".into(),
        "\0".into(),
        "bell\u{7}".into(),
        "esc\u{1b}[2J".into(),
    ] {
        let mut m = Mocks::default();
        m.messages.expect_append_message().never();
        let res = m
            .conversations()
            .send_message(&caller(false), GroupId::new(), &bad, Some("c1"))
            .await;
        assert_invalid(res, "body");
    }
}

#[tokio::test]
async fn send_message_with_an_invalid_client_id_is_invalid_client_id_before_the_store() {
    for bad in [String::new(), "x".repeat(65), "a\nb".into(), "nul\0".into()] {
        let mut m = Mocks::default();
        m.messages.expect_append_message().never();
        let res = m
            .conversations()
            .send_message(&caller(false), GroupId::new(), "hello", Some(&bad))
            .await;
        assert_invalid(res, "client_id");
    }
}

#[tokio::test]
async fn send_message_checks_the_body_before_the_client_id() {
    let mut m = Mocks::default();
    m.messages.expect_append_message().never();
    let res = m
        .conversations()
        .send_message(&caller(false), GroupId::new(), "   ", Some(""))
        .await;
    assert_invalid(res, "body");
}

#[tokio::test]
async fn send_message_appends_the_trimmed_body_from_the_caller_at_the_clocks_time() {
    let me = caller(false);
    let gid = GroupId::new();
    let mut m = Mocks::default();
    let seen = capture_append(&mut m, false);
    let out = m
        .conversations()
        .send_message(&me, gid, " \n hello\n\tworld \r\n", Some("c-1"))
        .await
        .unwrap();
    let msg = seen.take();
    assert_eq!(msg.body, Body::parse("hello\n\tworld").unwrap());
    assert_eq!(msg.body.as_str(), "hello\n\tworld");
    assert_eq!(msg.group_id, gid);
    assert_eq!(msg.sender_id, me.user_id);
    assert_eq!(msg.now, NOW);
    assert_eq!(msg.client_id, Some(ClientId::parse("c-1").unwrap()));
    assert_eq!(msg.id.as_uuid().get_version_num(), 7);
    assert_eq!(out, appended(&msg, false));
}

#[tokio::test]
async fn send_message_accepts_4000_characters_after_trimming() {
    let mut m = Mocks::default();
    let seen = capture_append(&mut m, false);
    let body = format!("  {}\n", "é".repeat(4000));
    m.conversations()
        .send_message(&caller(false), GroupId::new(), &body, None)
        .await
        .unwrap();
    assert_eq!(seen.take().body.as_str(), "é".repeat(4000));
}

#[tokio::test]
async fn send_message_passes_the_client_id_untrimmed_and_none_as_none() {
    let spaced = format!(" {} ", "k".repeat(62));
    for client_id in [Some(spaced.as_str()), Some("x"), None] {
        let mut m = Mocks::default();
        let seen = capture_append(&mut m, false);
        m.conversations()
            .send_message(&caller(false), GroupId::new(), "hi", client_id)
            .await
            .unwrap();
        assert_eq!(
            seen.take().client_id.as_ref().map(ClientId::as_str),
            client_id
        );
    }
}

// ---------------------------------------------------------------------------------------------
// edit_message, delete_message
// ---------------------------------------------------------------------------------------------

#[tokio::test]
async fn edit_message_with_an_invalid_body_is_invalid_body_without_a_store_call() {
    for bad in [
        String::new(),
        " \t ".into(),
        "x".repeat(4001),
        "nul\0".into(),
    ] {
        let mut m = Mocks::default();
        m.messages.expect_edit_message().never();
        let res = m
            .conversations()
            .edit_message(&caller(false), MessageId::new(), &bad)
            .await;
        assert_invalid(res, "body");
    }
}

#[tokio::test]
async fn edit_message_replaces_the_body_with_the_trimmed_one_as_the_caller_at_the_clocks_time() {
    let me = caller(false);
    let id = me.user_id;
    let mid = MessageId::new();
    let out = changed(GroupId::new(), "fixed\ntypo", true);
    let answer = out.clone();
    let mut m = Mocks::default();
    m.messages
        .expect_edit_message()
        .times(1)
        .withf(move |actor, message, body, now| {
            *actor == id && *message == mid && body.as_str() == "fixed\ntypo" && *now == NOW
        })
        .returning(move |_, _, _, _| Ok(answer.clone()));
    let got = m
        .conversations()
        .edit_message(&me, mid, "  fixed\ntypo \n")
        .await
        .unwrap();
    assert_eq!(got, out);
}

#[tokio::test]
async fn delete_message_deletes_as_the_caller_at_the_clocks_time_and_says_whether_it_changed() {
    for was_live in [true, false] {
        let me = caller(false);
        let id = me.user_id;
        let mid = MessageId::new();
        let out = changed(GroupId::new(), "", was_live);
        let answer = out.clone();
        let mut m = Mocks::default();
        m.messages
            .expect_delete_message()
            .times(1)
            .withf(move |actor, message, now| *actor == id && *message == mid && *now == NOW)
            .returning(move |_, _, _| Ok(answer.clone()));
        let got = m.conversations().delete_message(&me, mid).await.unwrap();
        assert_eq!(got, out);
    }
}
