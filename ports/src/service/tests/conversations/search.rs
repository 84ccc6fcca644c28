//! Search: `search_terms` (the domain's search words, at most 16, a query of at most 256
//! characters holding at least one word) and `search` (the terms, group and limit handed to the
//! store, nothing asked of it for a bad query or limit).

use confab_domain::GroupId;

use super::message;
use crate::service::search_terms;
use crate::service::tests::{Mocks, assert_invalid, caller};

fn words(terms: &[&str]) -> Vec<String> {
    terms.iter().map(|&t| t.to_owned()).collect()
}

#[test]
fn search_terms_are_the_domains_search_words() {
    // What a word is (folding, splitting, operators) is tested in domain::search.
    assert_eq!(
        search_terms("Hello, WORLD! Grüße-ÄRGER v2").unwrap(),
        confab_domain::search_words("Hello, WORLD! Grüße-ÄRGER v2")
    );
    assert_eq!(search_terms("Café ﬁne").unwrap(), words(&["cafe", "fine"]));
}

#[test]
fn search_terms_keeps_at_most_the_first_16_words() {
    let q: Vec<String> = (0..20).map(|i| format!("w{i}")).collect();
    let terms = search_terms(&q.join(" ")).unwrap();
    assert_eq!(terms, q[..16].to_vec());
}

#[test]
fn search_terms_of_a_query_over_256_characters_is_invalid_q() {
    assert_eq!(
        search_terms(&"x".repeat(256)).unwrap(),
        vec!["x".repeat(256)]
    );
    assert_eq!(
        search_terms(&"É".repeat(256)).unwrap(),
        vec!["e".repeat(256)]
    );
    assert_invalid(search_terms(&"x".repeat(257)), "q");
    assert_invalid(search_terms(&" ".repeat(257)), "q");
}

#[test]
fn search_terms_of_a_query_without_a_word_is_invalid_q() {
    for bad in ["", "   ", "!!! --- ***", "\"\"", "_"] {
        assert_invalid(search_terms(bad), "q");
    }
}

#[tokio::test]
async fn search_with_a_query_without_a_word_or_over_256_characters_is_invalid_q_without_a_store_call()
 {
    let long = "a ".repeat(129);
    for bad in ["", " ", "?!", "--", long.as_str()] {
        let mut m = Mocks::default();
        m.messages.expect_search_messages().never();
        let res = m
            .conversations()
            .search(&caller(false), bad, None, None)
            .await;
        assert_invalid(res, "q");
    }
}

#[tokio::test]
async fn search_passes_the_terms_group_and_limit_and_returns_the_matches() {
    for group in [None, Some(GroupId::new())] {
        let me = caller(false);
        let id = me.user_id;
        let found = vec![message(GroupId::new(), 9, "Rust is fun")];
        let answer = found.clone();
        let mut m = Mocks::default();
        m.messages
            .expect_search_messages()
            .times(1)
            .withf(move |user, terms, g, limit| {
                *user == id && *terms == words(&["rust", "fun"]) && *g == group && *limit == 10
            })
            .returning(move |_, _, _, _| Ok(answer.clone()));
        let out = m
            .conversations()
            .search(&me, "Rust; FUN!", group, Some(10))
            .await
            .unwrap();
        assert_eq!(out, found);
    }
}

#[tokio::test]
async fn search_limit_defaults_to_50_and_is_capped_at_100() {
    for (raw, limit) in [(None, 50), (Some(1), 1), (Some(100), 100), (Some(101), 100)] {
        let mut m = Mocks::default();
        m.messages
            .expect_search_messages()
            .times(1)
            .withf(move |_, _, _, l| *l == limit)
            .returning(|_, _, _, _| Ok(vec![]));
        m.conversations()
            .search(&caller(false), "rust", None, raw)
            .await
            .unwrap();
    }
}

#[tokio::test]
async fn search_with_a_limit_below_one_is_invalid_limit_without_a_store_call() {
    for bad in [0, -5] {
        let mut m = Mocks::default();
        m.messages.expect_search_messages().never();
        let res = m
            .conversations()
            .search(&caller(false), "rust", None, Some(bad))
            .await;
        assert_invalid(res, "limit");
    }
}
