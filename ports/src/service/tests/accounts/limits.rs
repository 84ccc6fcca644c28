//! `Accounts::admit_request`: every request spends one unit of a budget, the user's when its
//! access token is valid (checked without the database), else the client IP's; the keys, and
//! the retry-after of a spent budget.

use std::time::Duration;

use confab_domain::{SessionId, UserId};

use super::{IP, RETRY_AFTER, Spend, claims_for, recording_limiter, spends};
use crate::AuthFailure;
use crate::rate_limit::{Bucket, Limited};
use crate::service::tests::{Mocks, NOW, assert_rate_limited};

#[tokio::test]
async fn admit_request_with_a_valid_token_spends_the_users_request_budget() {
    let mut m = Mocks::default();
    let user_id = UserId::new();
    m.tokens
        .expect_verify_access()
        .times(1)
        .withf(|token, now| token == "good" && *now == NOW)
        .returning(move |_, _| Ok(claims_for(user_id, SessionId::new())));
    let log = recording_limiter(&mut m.limiter, None);
    // Throttling stays off the database.
    m.sessions.expect_principal().never();

    let claims = m.accounts().admit_request(Some("good"), IP).await.unwrap();

    // The verified claims go on with the request, so it is not verified twice.
    assert_eq!(claims.map(|c| c.user_id), Some(user_id));
    assert_eq!(
        spends(&log),
        vec![Spend::Hit(Bucket::RequestsPerUser, user_id.to_string())]
    );
}

#[tokio::test]
async fn admit_request_without_a_token_spends_the_ip_request_budget() {
    let mut m = Mocks::default();
    m.tokens.expect_verify_access().never();
    let log = recording_limiter(&mut m.limiter, None);

    m.accounts().admit_request(None, IP).await.unwrap();

    assert_eq!(
        spends(&log),
        vec![Spend::Hit(Bucket::RequestsPerIp, IP.into())]
    );
}

#[tokio::test]
async fn admit_request_with_an_invalid_token_spends_the_ip_request_budget() {
    let mut m = Mocks::default();
    m.tokens
        .expect_verify_access()
        .times(1)
        .returning(|_, _| Err(AuthFailure::InvalidToken));
    let log = recording_limiter(&mut m.limiter, None);

    let claims = m
        .accounts()
        .admit_request(Some("expired"), IP)
        .await
        .unwrap();

    assert_eq!(claims, None);

    assert_eq!(
        spends(&log),
        vec![Spend::Hit(Bucket::RequestsPerIp, IP.into())]
    );
}

#[tokio::test]
async fn admit_request_with_an_exhausted_user_budget_is_rate_limited_with_its_retry_after() {
    let mut m = Mocks::default();
    m.tokens
        .expect_verify_access()
        .returning(|_, _| Ok(claims_for(UserId::new(), SessionId::new())));
    m.limiter
        .expect_hit()
        .times(1)
        .withf(|bucket, _| *bucket == Bucket::RequestsPerUser)
        .returning(|_, _| {
            Err(Limited::Exhausted {
                retry_after: Duration::from_millis(1500),
            })
        });

    let res = m.accounts().admit_request(Some("good"), IP).await;
    assert_rate_limited(res, Duration::from_millis(1500));
}

#[tokio::test]
async fn admit_request_with_an_exhausted_ip_budget_is_rate_limited_with_its_retry_after() {
    let mut m = Mocks::default();
    m.limiter
        .expect_hit()
        .times(1)
        .withf(|bucket, key| *bucket == Bucket::RequestsPerIp && key == IP)
        .returning(|_, _| {
            Err(Limited::Exhausted {
                retry_after: RETRY_AFTER,
            })
        });

    let res = m.accounts().admit_request(None, IP).await;
    assert_rate_limited(res, RETRY_AFTER);
}

#[tokio::test]
async fn admit_request_ip_key_is_trimmed_and_lower_cased() {
    let mut m = Mocks::default();
    let log = recording_limiter(&mut m.limiter, None);

    m.accounts()
        .admit_request(None, " 2001:DB8::1\t")
        .await
        .unwrap();

    assert_eq!(
        spends(&log),
        vec![Spend::Hit(Bucket::RequestsPerIp, "2001:db8::1".into())]
    );
}

#[tokio::test]
async fn admit_request_ip_key_of_a_5000_character_client_ip_is_at_most_256_characters() {
    for (ip, expected) in [
        ("F".repeat(5000), "f".repeat(256)),
        (format!("  {}", "É".repeat(5000)), "é".repeat(256)),
    ] {
        let mut m = Mocks::default();
        let log = recording_limiter(&mut m.limiter, None);

        m.accounts().admit_request(None, &ip).await.unwrap();

        let log = spends(&log);
        assert_eq!(log, vec![Spend::Hit(Bucket::RequestsPerIp, expected)]);
        for spend in log {
            let key = spend.key();
            assert!(key.chars().count() <= 256, "key of {} chars", key.len());
        }
    }
}
