//! The rate-limiter conformance suite: the contract of `ports/src/rate_limit.rs` checked on
//! every adapter. Each shared case runs over the in-process limiter (`limiter::local::…`) and
//! over Redis (`limiter::redis::…`: two `RedisRateLimiter` on one private redis-server stand for
//! two server instances, and the cases spend on both in turn, so a limit must hold for the sum).
//! Sliding windows, token buckets, honest `retry_after`, `peek` that spends nothing, `refund`
//! that never lifts a budget above its limit, independent keys and buckets. The Redis-only
//! cases below break the server: buckets fail open or closed as `Bucket::fails_open` says,
//! quickly, and limits hold again once Redis is back.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::sync::Arc;
use std::time::Duration;

use confab_ports::rate_limit::{Bucket, Limited, Quotas, Rate, RateLimiter, Window};
use confab_tests::RedisServer;
use tokio::time::{Instant, sleep, timeout};

#[derive(Debug, Clone, Copy)]
enum Backend {
    Local,
    Redis,
}

/// Two limiters standing for two instances (in process: the same one twice).
struct Limiters {
    a: Arc<dyn RateLimiter>,
    b: Arc<dyn RateLimiter>,
    server: Option<RedisServer>,
}

impl Limiters {
    async fn new(backend: Backend, quotas: Quotas) -> Self {
        match backend {
            Backend::Local => {
                let one: Arc<dyn RateLimiter> =
                    Arc::new(confab_local::LocalRateLimiter::new(quotas));
                Self {
                    a: Arc::clone(&one),
                    b: one,
                    server: None,
                }
            }
            Backend::Redis => {
                let server = tokio::task::spawn_blocking(RedisServer::start)
                    .await
                    .unwrap();
                let a = redis_limiter(&server, quotas).await;
                let b = redis_limiter(&server, quotas).await;
                Self {
                    a,
                    b,
                    server: Some(server),
                }
            }
        }
    }

    /// The `i`-th instance, alternating.
    fn on(&self, i: usize) -> &dyn RateLimiter {
        self.both()[i % 2]
    }

    fn both(&self) -> [&dyn RateLimiter; 2] {
        [&*self.a, &*self.b]
    }

    fn server(&mut self) -> &mut RedisServer {
        self.server.as_mut().expect("a Redis case")
    }
}

async fn redis_limiter(server: &RedisServer, quotas: Quotas) -> Arc<dyn RateLimiter> {
    let timing = confab_redis::Timing::default();
    let redis = confab_redis::connect(&server.url(), quotas, timing, Default::default()).await;
    Arc::new(redis.expect("connect to Redis").limiter)
}

fn quotas(window: Window, rate: Rate) -> Quotas {
    Quotas {
        login_failures_per_account: window,
        login_failures_per_ip: window,
        login_failure_ceiling: window.limit,
        requests_per_user: rate,
        requests_per_ip: rate,
        typing: rate,
        otp_sends_per_address: window,
        otp_sends_per_ip: window,
        reports: window,
    }
}

/// Windows of `limit` in `window`; buckets of one unit a second.
async fn windows(backend: Backend, limit: u32, window: Duration) -> Limiters {
    let rate = Rate {
        burst: 1,
        per: Duration::from_secs(1),
    };
    Limiters::new(backend, quotas(Window { limit, window }, rate)).await
}

/// Buckets of `burst` refilled per `per`; windows of one unit a second.
async fn buckets(backend: Backend, burst: u32, per: Duration) -> Limiters {
    let window = Window {
        limit: 1,
        window: Duration::from_secs(1),
    };
    Limiters::new(backend, quotas(window, Rate { burst, per })).await
}

/// Windows of `n` in `period` and buckets of `n` refilled per `period`.
async fn alike(backend: Backend, n: u32, period: Duration) -> Limiters {
    let window = Window {
        limit: n,
        window: period,
    };
    Limiters::new(
        backend,
        quotas(
            window,
            Rate {
                burst: n,
                per: period,
            },
        ),
    )
    .await
}

/// Nothing frees up before the first spend is about 10 minutes old.
fn about_ten_minutes(wait: Duration) -> bool {
    wait > Duration::from_secs(590) && wait <= TEN_MINUTES
}

const ACCOUNT: Bucket = Bucket::LoginFailuresPerAccount;
const REQUESTS: Bucket = Bucket::RequestsPerIp;
const TEN_MINUTES: Duration = Duration::from_secs(600);

fn retry_after(result: Result<(), Limited>) -> Duration {
    match result {
        Err(Limited::Exhausted { retry_after }) => retry_after,
        other => panic!("expected Exhausted, got {other:?}"),
    }
}

confab_tests::adapter_tests!(
    a_window_allows_its_limit_then_refuses_until_the_oldest_leaves,
    a_window_frees_up_once_its_time_has_passed,
    a_bucket_allows_a_burst_then_refills_steadily,
    a_bucket_refills_over_time,
    retry_after_is_enough,
    peek_does_not_spend,
    a_window_refund_gives_back_one_unit_but_never_more_than_the_limit,
    a_bucket_refund_gives_back_one_unit_but_never_more_than_the_burst,
    a_refund_of_nothing_spent_gives_nothing,
    keys_and_buckets_are_independent,
    every_bucket_counts_by_its_own_quota,
    concurrent_spending_on_both_instances_never_exceeds_the_limit,
);

async fn a_window_allows_its_limit_then_refuses_until_the_oldest_leaves(backend: Backend) {
    let l = windows(backend, 5, TEN_MINUTES).await;
    for i in 0..5 {
        l.on(i).hit(ACCOUNT, "alice").await.unwrap();
    }
    for i in 0..2 {
        // Not one unit every 2 minutes: nothing until the first failure is 10 minutes old.
        let wait = retry_after(l.on(i).hit(ACCOUNT, "alice").await);
        assert!(about_ten_minutes(wait), "{wait:?}");
    }
}

async fn a_window_frees_up_once_its_time_has_passed(backend: Backend) {
    let l = windows(backend, 2, Duration::from_millis(200)).await;
    l.on(0).hit(ACCOUNT, "a").await.unwrap();
    l.on(1).hit(ACCOUNT, "a").await.unwrap();
    assert!(l.on(0).hit(ACCOUNT, "a").await.is_err());
    assert!(l.on(1).hit(ACCOUNT, "a").await.is_err());
    sleep(Duration::from_millis(220)).await;
    l.on(1).hit(ACCOUNT, "a").await.unwrap();
    l.on(0).hit(ACCOUNT, "a").await.unwrap();
    assert!(l.on(1).hit(ACCOUNT, "a").await.is_err());
}

async fn a_bucket_allows_a_burst_then_refills_steadily(backend: Backend) {
    let l = buckets(backend, 3, Duration::from_secs(30)).await;
    for i in 0..3 {
        l.on(i).hit(REQUESTS, "1.2.3.4").await.unwrap();
    }
    for i in 0..2 {
        // One unit returns every 30 / 3 = 10 s.
        let wait = retry_after(l.on(i).hit(REQUESTS, "1.2.3.4").await);
        assert!(
            wait > Duration::from_secs(9) && wait <= Duration::from_secs(10),
            "{wait:?}"
        );
    }
}

async fn a_bucket_refills_over_time(backend: Backend) {
    let l = buckets(backend, 1, Duration::from_millis(200)).await;
    l.on(0).hit(REQUESTS, "a").await.unwrap();
    assert!(l.on(1).hit(REQUESTS, "a").await.is_err());
    sleep(Duration::from_millis(220)).await;
    l.on(1).hit(REQUESTS, "a").await.unwrap();
    assert!(l.on(0).hit(REQUESTS, "a").await.is_err());
}

/// Waiting what `retry_after` says is enough, and it never says more than the quota's period.
async fn retry_after_is_enough(backend: Backend) {
    let period = Duration::from_millis(200);
    let l = alike(backend, 1, period).await;
    for bucket in [ACCOUNT, REQUESTS] {
        l.on(0).hit(bucket, "a").await.unwrap();
        let wait = retry_after(l.on(1).hit(bucket, "a").await);
        assert!(wait <= period, "{bucket:?}: {wait:?}");
        // Time only brings the retry closer.
        let later = retry_after(l.on(0).peek(bucket, "a").await);
        assert!(later <= wait, "{bucket:?}: {later:?} after {wait:?}");
        sleep(wait + Duration::from_millis(15)).await;
        l.on(1).hit(bucket, "a").await.unwrap();
    }
}

async fn peek_does_not_spend(backend: Backend) {
    let l = alike(backend, 1, TEN_MINUTES).await;
    for bucket in [ACCOUNT, REQUESTS] {
        for i in 0..10 {
            l.on(i).peek(bucket, "a").await.unwrap();
        }
        l.on(0).hit(bucket, "a").await.unwrap();
        for i in 0..2 {
            let wait = retry_after(l.on(i).peek(bucket, "a").await);
            assert!(about_ten_minutes(wait), "{bucket:?}: {wait:?}");
        }
    }
}

/// Two units; one refunded comes back; refunds beyond what was spent add nothing.
async fn refund_gives_back_one_unit_but_never_more_than_the_budget(l: Limiters, b: Bucket) {
    l.on(0).hit(b, "a").await.unwrap();
    l.on(1).hit(b, "a").await.unwrap();
    assert!(l.on(0).peek(b, "a").await.is_err());
    l.on(1).refund(b, "a").await;
    l.on(0).hit(b, "a").await.unwrap();
    assert!(l.on(1).peek(b, "a").await.is_err());
    for i in 0..5 {
        l.on(i).refund(b, "a").await;
    }
    l.on(0).hit(b, "a").await.unwrap();
    l.on(1).hit(b, "a").await.unwrap();
    assert!(l.on(0).hit(b, "a").await.is_err());
    assert!(l.on(1).hit(b, "a").await.is_err());
}

async fn a_window_refund_gives_back_one_unit_but_never_more_than_the_limit(backend: Backend) {
    let l = windows(backend, 2, TEN_MINUTES).await;
    refund_gives_back_one_unit_but_never_more_than_the_budget(l, ACCOUNT).await;
}

async fn a_bucket_refund_gives_back_one_unit_but_never_more_than_the_burst(backend: Backend) {
    let l = buckets(backend, 2, TEN_MINUTES).await;
    refund_gives_back_one_unit_but_never_more_than_the_budget(l, REQUESTS).await;
}

async fn a_refund_of_nothing_spent_gives_nothing(backend: Backend) {
    let l = alike(backend, 2, TEN_MINUTES).await;
    for bucket in [ACCOUNT, REQUESTS] {
        for i in 0..3 {
            l.on(i).refund(bucket, "fresh").await;
        }
        l.on(0).hit(bucket, "fresh").await.unwrap();
        l.on(1).hit(bucket, "fresh").await.unwrap();
        assert!(l.on(0).hit(bucket, "fresh").await.is_err(), "{bucket:?}");
    }
}

async fn keys_and_buckets_are_independent(backend: Backend) {
    let l = alike(backend, 1, TEN_MINUTES).await;
    for (i, bucket) in Bucket::ALL.into_iter().enumerate() {
        l.on(i).hit(bucket, "a").await.unwrap();
        l.on(i + 1).hit(bucket, "b").await.unwrap();
    }
    for (i, bucket) in Bucket::ALL.into_iter().enumerate() {
        assert!(l.on(i).hit(bucket, "a").await.is_err(), "{bucket:?}");
        assert!(l.on(i + 1).hit(bucket, "b").await.is_err(), "{bucket:?}");
        l.on(i).hit(bucket, "c").await.unwrap();
    }
}

/// Each bucket has its own quota (the mapping from bucket to quota is the same everywhere).
async fn every_bucket_counts_by_its_own_quota(backend: Backend) {
    let window = |limit| Window {
        limit,
        window: TEN_MINUTES,
    };
    let rate = |burst| Rate {
        burst,
        per: TEN_MINUTES,
    };
    let q = Quotas {
        login_failures_per_account: window(1),
        login_failures_per_ip: window(2),
        login_failure_ceiling: 100,
        requests_per_user: rate(3),
        requests_per_ip: rate(4),
        typing: rate(5),
        otp_sends_per_address: window(6),
        otp_sends_per_ip: window(7),
        reports: window(8),
    };
    let l = Limiters::new(backend, q).await;
    for (expected, bucket) in (1..).zip(Bucket::ALL) {
        let mut spent = 0;
        while l.on(spent).hit(bucket, "k").await.is_ok() {
            spent += 1;
            assert!(spent <= 10, "{bucket:?} never refuses");
        }
        assert_eq!(spent, expected, "{bucket:?}");
    }
}

/// Many hits at once, spread over both instances: exactly the limit gets through.
async fn concurrent_spending_on_both_instances_never_exceeds_the_limit(backend: Backend) {
    let l = Arc::new(alike(backend, 10, TEN_MINUTES).await);
    for bucket in [ACCOUNT, REQUESTS] {
        let hits: Vec<_> = (0..40)
            .map(|i| {
                let l = Arc::clone(&l);
                tokio::spawn(async move { l.on(i).hit(bucket, "shared").await })
            })
            .collect();
        let mut allowed = 0;
        for hit in hits {
            match hit.await.unwrap() {
                Ok(()) => allowed += 1,
                Err(Limited::Exhausted { .. }) => {}
                Err(e) => panic!("{bucket:?}: {e:?}"),
            }
        }
        assert_eq!(allowed, 10, "{bucket:?}");
    }
}

// ---- Redis only -------------------------------------------------------------------------

/// How long one call may take while Redis is gone.
const QUICK: Duration = Duration::from_millis(1500);

/// Every call on both instances answers within [`QUICK`] what `Bucket::fails_open` says.
async fn assert_fallbacks(l: &Limiters) {
    for (i, limiter) in l.both().into_iter().enumerate() {
        for bucket in Bucket::ALL {
            let expected = if bucket.fails_open() {
                Ok(())
            } else {
                Err(Limited::Unavailable)
            };
            let started = Instant::now();
            let hit = timeout(QUICK, limiter.hit(bucket, "k")).await;
            assert_eq!(
                hit.expect("hit answers in time"),
                expected,
                "{i}: hit {bucket:?}"
            );
            let peek = timeout(QUICK, limiter.peek(bucket, "k")).await;
            assert_eq!(
                peek.expect("peek answers in time"),
                expected,
                "{i}: peek {bucket:?}"
            );
            timeout(QUICK, limiter.refund(bucket, "k"))
                .await
                .expect("refund answers in time");
            assert!(
                started.elapsed() < QUICK,
                "{i}: {bucket:?} took {:?}",
                started.elapsed()
            );
        }
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn redis_with_the_server_killed_requests_and_typing_fail_open_logins_and_codes_fail_closed() {
    let mut l = buckets(Backend::Redis, 1, TEN_MINUTES).await;
    // Spent before the outage: fail-open buckets then allow what Redis would have refused.
    for limiter in l.both() {
        limiter.hit(REQUESTS, "k").await.ok();
    }
    tokio::task::block_in_place(|| l.server().kill());
    // The first calls find the connection dead, later ones skip Redis for a moment.
    assert_fallbacks(&l).await;
    assert_fallbacks(&l).await;
    // Once that moment has passed, each call tries Redis again and still answers quickly.
    sleep(Duration::from_millis(1100)).await;
    assert_fallbacks(&l).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn redis_after_a_restart_limits_hold_again() {
    let mut l = windows(Backend::Redis, 2, TEN_MINUTES).await;
    tokio::task::block_in_place(|| l.server().kill());
    assert_fallbacks(&l).await;
    tokio::task::block_in_place(|| l.server().restart());
    // Each instance pauses its use of Redis for 1 s after a failure: allow a few seconds.
    let deadline = Instant::now() + Duration::from_secs(5);
    for limiter in l.both() {
        while limiter.peek(ACCOUNT, "probe").await == Err(Limited::Unavailable) {
            assert!(Instant::now() < deadline, "Redis is not used again");
            sleep(Duration::from_millis(50)).await;
        }
    }
    // The restarted server is empty: a fresh count, shared by both instances again.
    l.on(0).hit(ACCOUNT, "k").await.unwrap();
    l.on(1).hit(ACCOUNT, "k").await.unwrap();
    for i in 0..2 {
        let wait = retry_after(l.on(i).hit(ACCOUNT, "k").await);
        assert!(about_ten_minutes(wait), "{wait:?}");
    }
    // Fail-open buckets count again too (one unit a second).
    l.on(0).hit(REQUESTS, "k").await.unwrap();
    assert!(matches!(
        l.on(1).hit(REQUESTS, "k").await,
        Err(Limited::Exhausted { .. })
    ));
}

/// A silent server (SIGSTOP: connections stay open, nothing answers) costs each call at most
/// about one timeout, also when many calls come at once.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn redis_a_silent_server_costs_each_call_about_one_timeout_also_when_calls_come_at_once() {
    let l = Arc::new(buckets(Backend::Redis, 1, TEN_MINUTES).await);
    for limiter in l.both() {
        limiter.peek(REQUESTS, "warm").await.unwrap();
    }
    l.server.as_ref().expect("Redis").pause();
    assert_fallbacks(&l).await;
    // Once the pause after the failure has passed, calls come at once and try Redis again.
    sleep(Duration::from_millis(1100)).await;
    let calls: Vec<_> = (0..6)
        .flat_map(|i| [(i, REQUESTS), (i, ACCOUNT)])
        .map(|(i, bucket)| {
            let l = Arc::clone(&l);
            tokio::spawn(async move { timeout(QUICK, l.on(i).hit(bucket, "k")).await })
        })
        .collect();
    for call in calls {
        let answer = call.await.unwrap().expect("each call answers within 1.5 s");
        assert!(
            matches!(answer, Ok(()) | Err(Limited::Unavailable)),
            "{answer:?}"
        );
    }
    l.server.as_ref().expect("Redis").resume();
}
