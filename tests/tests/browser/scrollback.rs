//! Scroll-back: a group of 500 messages (made over HTTP) opened in the page shows its newest;
//! scrolling up loads older pages until the first: then every stored seq is shown exactly
//! once, in order, with its own text.

use std::time::Duration;

use confab_tests::browser::{BrowserServer, tid};

use crate::NODE;
use crate::ui;

const COUNT: u64 = 500;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn scrolling_up_shows_all_500_messages_in_order() {
    let server = BrowserServer::start(NODE, &[]).await;
    let alice_api = server.register("alice").await;
    let bob_api = server.register("bob").await;
    let group = server
        .create_group(&alice_api, "Long history", &[&bob_api])
        .await;
    let group = group["id"].as_str().expect("id").to_owned();
    for i in 1..=COUNT {
        let sender = if i % 3 == 0 { &alice_api } else { &bob_api };
        server
            .send(sender, &group, &format!("message number {i}"))
            .await;
    }

    let alice = server.browser("scrollback").await;
    ui::login(&alice, "alice", "alice").await;
    ui::open(&alice, "Long history").await;
    ui::wait_message(&alice, &format!("message number {COUNT}")).await;
    let first_seq = server
        .history(&alice_api, &group, "after=0&limit=1")
        .await
        .0[0]["seq"]
        .to_string();
    let first_page = alice.count(&tid("message")).await;
    assert!(
        first_page < usize::try_from(COUNT).expect("small"),
        "the whole history was loaded at once ({first_page} messages): nothing to scroll back"
    );

    // Scroll to the top again and again; each time an older page is loaded, until seq 1.
    let deadline = tokio::time::Instant::now() + Duration::from_secs(90);
    loop {
        let seqs = alice.attrs(&tid("message"), "data-seq").await;
        if seqs.contains(&first_seq) {
            break;
        }
        if tokio::time::Instant::now() > deadline {
            alice
                .fail(&format!(
                    "scrolled up for 90 s and seq {first_seq} never came: {} messages shown, the oldest \
                     seq {:?}",
                    seqs.len(),
                    seqs.first()
                ))
                .await;
        }
        ui::scroll_messages_to_top(&alice).await;
        // Wait for the next page (or give the scroll handler another go).
        let before = seqs.len();
        let _ = tokio::time::timeout(Duration::from_secs(5), async {
            while alice.count(&tid("message")).await == before {
                tokio::time::sleep(Duration::from_millis(50)).await;
            }
        })
        .await;
    }

    let messages = ui::messages(&alice).await;
    let seqs: Vec<u64> = messages
        .iter()
        .map(|m| {
            m["seq"]
                .as_str()
                .and_then(|s| s.parse().ok())
                .unwrap_or_else(|| panic!("a message without a numeric data-seq: {m}"))
        })
        .collect();
    let stored = server.all_messages(&alice_api, &group).await;
    let expected: Vec<u64> = stored
        .iter()
        .map(|m| confab_tests::chat::num(m, "seq"))
        .collect();
    assert_eq!(expected.len(), usize::try_from(COUNT).expect("small"));
    if seqs != expected {
        let mut sorted = seqs.clone();
        sorted.sort_unstable();
        sorted.dedup();
        let missing: Vec<u64> = expected
            .iter()
            .copied()
            .filter(|s| sorted.binary_search(s).is_err())
            .collect();
        panic!(
            "the page shows {} messages ({} distinct), not the {COUNT} stored seqs in order; missing \
             {missing:?}; first 20 shown {:?}",
            seqs.len(),
            sorted.len(),
            &seqs[..seqs.len().min(20)]
        );
    }
    for (shown, stored) in messages.iter().zip(&stored) {
        assert_eq!(
            shown["body"], stored["body"],
            "message {} shows another text",
            stored["seq"]
        );
    }
    ui::assert_clean_console(&alice, "alice").await;
    alice.close().await;
}
