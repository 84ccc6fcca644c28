//! Message search: every word must appear, best match first, only the caller's groups (or one
//! of them), edits re-indexed at once, deleted messages never, and no query syntax ever.

use confab_tests::TestServer;
use confab_tests::chat::id;
use serde_json::Value;

fn q(words: &str) -> String {
    let mut out = String::from("q=");
    for b in words.bytes() {
        if b.is_ascii_alphanumeric() {
            out.push(b as char);
        } else {
            out.push_str(&format!("%{b:02X}"));
        }
    }
    out
}

async fn every_word_must_appear_and_the_best_match_comes_first(s: &TestServer) {
    let alice = s.register("alice").await;
    let g = id(&s.create_group(&alice, "Zoo", &[]).await);
    let long = "a fox was seen somewhere near the river bank late in the evening by several \
                people who were walking their dogs along the old path beside the water";
    for body in [long, "fox fox fox fox", "the quick brown fox", "a dog only"] {
        s.send(&alice, &g, body).await;
    }
    let found = s.search_bodies(&alice, &q("fox")).await;
    assert_eq!(found.len(), 3, "{found:?}");
    assert_eq!(found[0], "fox fox fox fox");
    assert_eq!(found[2], long);
    assert_eq!(
        s.search_bodies(&alice, &q("quick FOX")).await,
        ["the quick brown fox"]
    );
    assert!(s.search_bodies(&alice, &q("quick dog")).await.is_empty());
    // A message is the whole answer.
    let hit = &s.search(&alice, &q("brown")).await[0];
    assert_eq!(hit["group_id"], g.as_str());
    assert_eq!(hit["sender_id"], alice.user_id.as_str());
    assert_eq!(hit["deleted"], false);
    let limited = s.search(&alice, &format!("{}&limit=2", q("fox"))).await;
    assert_eq!(limited.len(), 2);
}

async fn the_limit_defaults_to_50_and_is_capped_at_100(s: &TestServer) {
    let alice = s.register("alice").await;
    let g = id(&s.create_group(&alice, "Many", &[]).await);
    for i in 0..120 {
        s.send(&alice, &g, &format!("needle number {i}")).await;
    }
    assert_eq!(s.search(&alice, &q("needle")).await.len(), 50);
    assert_eq!(
        s.search(&alice, &format!("{}&limit=120", q("needle")))
            .await
            .len(),
        100
    );
    assert_eq!(
        s.search(&alice, &format!("{}&limit=7", q("needle")))
            .await
            .len(),
        7
    );
    // Each message once.
    let ids: std::collections::HashSet<String> = s
        .search(&alice, &format!("{}&limit=100", q("needle")))
        .await
        .iter()
        .map(id)
        .collect();
    assert_eq!(ids.len(), 100);
}

async fn case_diacritics_and_punctuation_do_not_matter(s: &TestServer) {
    let alice = s.register("alice").await;
    let g = id(&s.create_group(&alice, "Cafe", &[]).await);
    s.send(&alice, &g, "Meet at the Café, at noon!").await;
    s.send(&alice, &g, "naïve résumé").await;
    for query in ["cafe", "CAFÉ", "café noon", "noon!", "cafe,noon", "(meet)"] {
        assert_eq!(
            s.search(&alice, &q(query)).await.len(),
            1,
            "{query} should match"
        );
    }
    assert_eq!(s.search(&alice, &q("naive resume")).await.len(), 1);
}

async fn only_the_callers_groups_are_searched(s: &TestServer) {
    let alice = s.register("alice").await;
    let bob = s.register("bob").await;
    let carol = s.register("carol").await;
    let ours = id(&s.create_group(&alice, "Ours", &[&bob]).await);
    let theirs = id(&s.create_group(&carol, "Theirs", &[&bob]).await);
    let direct = id(&s.direct(&alice, &bob).await.json);
    s.send(&alice, &ours, "launch plan alpha").await;
    s.send(&carol, &theirs, "launch plan beta").await;
    s.send(&bob, &direct, "launch plan gamma").await;
    let mut mine = s.search_bodies(&alice, &q("launch plan")).await;
    mine.sort();
    assert_eq!(mine, ["launch plan alpha", "launch plan gamma"]);
    assert_eq!(s.search(&bob, &q("launch")).await.len(), 3);
    assert_eq!(
        s.search_bodies(&carol, &q("launch")).await,
        ["launch plan beta"]
    );
    // One group.
    let only = s
        .search(&bob, &format!("{}&group_id={theirs}", q("launch")))
        .await;
    assert_eq!(only.len(), 1);
    assert_eq!(only[0]["group_id"], theirs.as_str());
    // Someone else's group is 404, like one that does not exist.
    for group in [theirs.clone(), uuid::Uuid::now_v7().to_string()] {
        s.get(
            &format!("/search/messages?{}&group_id={group}", q("launch")),
            Some(&alice.access),
        )
        .await
        .expect_error(404, "not_found");
    }
    // Leaving a group leaves its messages behind.
    s.remove_member(&bob, &theirs, &bob.user_id)
        .await
        .expect(204);
    let found = s.search(&bob, &q("launch")).await;
    assert!(found.iter().all(|m| m["group_id"] != theirs.as_str()));
    assert_eq!(found.len(), 2);
}

async fn edits_are_searchable_at_once_and_deleted_messages_never_match(s: &TestServer) {
    let alice = s.register("alice").await;
    let g = id(&s.create_group(&alice, "Team", &[]).await);
    let m = id(&s.send(&alice, &g, "apple pie").await);
    assert_eq!(s.search(&alice, &q("apple")).await.len(), 1);
    s.edit(&alice, &m, "banana bread").await;
    assert!(s.search(&alice, &q("apple")).await.is_empty());
    let hits = s.search(&alice, &q("banana")).await;
    assert_eq!(hits.len(), 1);
    assert_eq!(hits[0]["body"], "banana bread");
    s.delete_message(&alice, &m).await.expect(204);
    assert!(s.search(&alice, &q("banana")).await.is_empty());
    assert!(s.search(&alice, &q("bread")).await.is_empty());
}

async fn query_syntax_is_never_interpreted(s: &TestServer) {
    let alice = s.register("alice").await;
    let g = id(&s.create_group(&alice, "Team", &[]).await);
    s.send(&alice, &g, "fox").await;
    s.send(&alice, &g, "dog").await;
    s.send(&alice, &g, "foxes").await;
    s.send(&alice, &g, "Robert'); DROP TABLE messages;--").await;
    // Operators are words like any other: "fox OR dog" needs a message with all three.
    for query in [
        "fox OR dog",
        "fox AND dog",
        "NEAR(fox dog)",
        "fox NOT dog",
        "body:fox dog",
    ] {
        assert!(
            s.search(&alice, &q(query)).await.is_empty(),
            "{query} was interpreted"
        );
    }
    // Punctuation is a word break, never a prefix, phrase or column operator.
    for query in [
        "fox*", "\"fox\"", "-fox", "^fox", "fox\"", "'fox'", "{fox}", "fox:",
    ] {
        let r = s
            .get(
                &format!("/search/messages?{}", q(query)),
                Some(&alice.access),
            )
            .await;
        r.expect(200);
        let bodies: Vec<&Value> = r.json["messages"]
            .as_array()
            .unwrap()
            .iter()
            .map(|m| &m["body"])
            .collect();
        assert_eq!(bodies, ["fox"], "{query}");
    }
    let found = s
        .search_bodies(&alice, &q("'; DROP TABLE messages; --"))
        .await;
    assert_eq!(found, ["Robert'); DROP TABLE messages;--"]);
    // Nothing to search for.
    for query in ["", "!!!", "*", "\"\"", "-- ;"] {
        let r = s
            .get(
                &format!("/search/messages?{}", q(query)),
                Some(&alice.access),
            )
            .await;
        r.expect_error(422, "validation_failed");
        assert_eq!(r.field(), Some("q"), "{query}");
    }
    let r = s
        .get(
            &format!("/search/messages?{}", q(&"a".repeat(257))),
            Some(&alice.access),
        )
        .await;
    r.expect_error(422, "validation_failed");
    // The table is still there.
    assert_eq!(s.search(&alice, &q("dog")).await.len(), 1);
}

confab_tests::store_tests!(
    every_word_must_appear_and_the_best_match_comes_first,
    the_limit_defaults_to_50_and_is_capped_at_100,
    case_diacritics_and_punctuation_do_not_matter,
    only_the_callers_groups_are_searched,
    edits_are_searchable_at_once_and_deleted_messages_never_match,
    query_syntax_is_never_interpreted,
);
