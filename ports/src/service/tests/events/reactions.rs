//! Reactions and pins: a change is published as `message.updated`, a no-op and a refusal
//! publish nothing; an invalid emoji never reaches the store; a negative `after` of a thread
//! page is refused.

use confab_domain::{Event, GroupId, MessageId};

use super::{assert_published, assert_silent, message, mocks};
use crate::service::tests::{assert_invalid, caller};
use crate::store::Changed;

fn changed(changed: bool) -> Changed {
    Changed {
        message: message(GroupId::new(), 8, "hi"),
        changed,
        freed: Vec::new(),
    }
}

#[tokio::test]
async fn a_reaction_change_is_published_as_message_updated_and_a_no_op_is_not() {
    for change in [true, false] {
        let answer = changed(change);
        let expected = answer.message.clone();
        let (mut m, rx) = mocks();
        m.messages
            .expect_set_reaction()
            .withf(move |_, _, emoji, on, _| emoji.as_str() == "👍" && *on == change)
            .times(1)
            .returning(move |_, _, _, _, _| Ok(answer.clone()));
        m.conversations()
            .react(&caller(false), MessageId::new(), "👍", change)
            .await
            .unwrap();
        let events = if change {
            vec![Event::MessageUpdated { message: expected }]
        } else {
            vec![]
        };
        assert_published(&rx, &events);
    }
}

#[tokio::test]
async fn text_two_emoji_or_ten_kilobytes_never_reach_the_store() {
    let long = "👍".repeat(2_500);
    for bad in ["ok", "👍👍", "", long.as_str()] {
        let (m, rx) = mocks();
        // No expectation on the store: a call fails the test.
        let r = m
            .conversations()
            .react(&caller(false), MessageId::new(), bad, true)
            .await;
        assert_invalid(r, "emoji");
        assert_silent(&rx);
    }
}

#[tokio::test]
async fn a_pin_change_is_published_and_a_no_op_is_not() {
    for change in [true, false] {
        let answer = changed(change);
        let expected = answer.message.clone();
        let (mut m, rx) = mocks();
        m.messages
            .expect_set_pin()
            .times(1)
            .returning(move |_, _, _, _, _| Ok(answer.clone()));
        m.conversations()
            .pin(&caller(false), GroupId::new(), MessageId::new(), true)
            .await
            .unwrap();
        let events = if change {
            vec![Event::MessageUpdated { message: expected }]
        } else {
            vec![]
        };
        assert_published(&rx, &events);
    }
}

#[tokio::test]
async fn a_thread_page_after_a_negative_seq_is_refused() {
    let (m, _rx) = mocks();
    let r = m
        .conversations()
        .replies(&caller(false), MessageId::new(), Some(-1), None)
        .await;
    assert_invalid(r, "after");
}
