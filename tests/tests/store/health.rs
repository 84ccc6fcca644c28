//! `Health`: the round trip and the shared signing secret.

use crate::fixtures::Fresh;

crate::store_cases!(
    ping_answers,
    the_first_secret_is_kept_and_later_candidates_are_ignored
);

async fn ping_answers(s: &Fresh) {
    s.health.ping().await.unwrap();
}

/// MUST be atomic, so that instances starting at once all end up with the same secret.
async fn the_first_secret_is_kept_and_later_candidates_are_ignored(s: &Fresh) {
    let candidates: Vec<Vec<u8>> = (0u8..8).map(|i| vec![i; 48]).collect();
    let answers = futures::future::join_all(
        candidates
            .iter()
            .map(|c| s.health.signing_secret_or_init(c.clone())),
    )
    .await;
    let first = answers[0].as_ref().unwrap().clone();
    assert!(candidates.contains(&first));
    for answer in answers {
        assert_eq!(
            answer.unwrap(),
            first,
            "every caller gets the one stored secret"
        );
    }
    assert_eq!(
        s.health.signing_secret_or_init(vec![9; 48]).await.unwrap(),
        first
    );
}
