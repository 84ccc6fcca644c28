//! Rate limits in memory: sliding windows for failed logins ("at most 5 in any 10 minutes"),
//! token buckets for request budgets ("a burst, then a steady rate").

use std::collections::{HashMap, VecDeque};
use std::sync::Mutex;
use std::time::{Duration, Instant};

use async_trait::async_trait;

use crate::rate_limit::{Bucket, Exhausted, RateLimiter};

/// At most `limit` units in any `window`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Window {
    pub limit: u32,
    pub window: Duration,
}

/// Up to `burst` units at once, refilled evenly so that `burst` units return per `per`.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Rate {
    pub burst: u32,
    pub per: Duration,
}

impl Rate {
    fn per_sec(&self) -> f64 {
        f64::from(self.burst) / self.per.as_secs_f64().max(f64::EPSILON)
    }
}

/// The budgets, one per bucket.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Quotas {
    pub login_failures_per_account: Window,
    pub login_failures_per_ip: Window,
    pub requests_per_user: Rate,
    pub requests_per_ip: Rate,
    /// Typing notices per user and group (API: at most one per 2 s).
    pub typing: Rate,
    /// One-time codes asked for per address (or login) and per client address.
    pub otp_sends_per_address: Window,
    pub otp_sends_per_ip: Window,
}

impl Default for Quotas {
    /// 5 failed logins per account and 50 per address in any 10 minutes; a burst of 300
    /// requests, then 30 a second, per user and per anonymous address.
    fn default() -> Self {
        let ten_minutes = Duration::from_secs(600);
        let requests = Rate {
            burst: 300,
            per: Duration::from_secs(10),
        };
        Self {
            login_failures_per_account: Window {
                limit: 5,
                window: ten_minutes,
            },
            login_failures_per_ip: Window {
                limit: 50,
                window: ten_minutes,
            },
            requests_per_user: requests,
            requests_per_ip: requests,
            typing: TYPING,
            otp_sends_per_address: OTP_SENDS_PER_ADDRESS,
            otp_sends_per_ip: OTP_SENDS_PER_IP,
        }
    }
}

/// 5 codes per address in any 10 minutes: enough for a lost mail or two, too few to flood a
/// mailbox.
pub const OTP_SENDS_PER_ADDRESS: Window = Window {
    limit: 5,
    window: Duration::from_secs(600),
};

/// 30 codes per client address in any 10 minutes.
pub const OTP_SENDS_PER_IP: Window = Window {
    limit: 30,
    window: Duration::from_secs(600),
};

/// One typing notice per 2 seconds.
pub const TYPING: Rate = Rate {
    burst: 1,
    per: Duration::from_secs(2),
};

#[derive(Debug, Clone, Copy)]
enum Quota {
    Window(Window),
    Rate(Rate),
}

impl Quotas {
    fn get(&self, bucket: Bucket) -> Quota {
        match bucket {
            Bucket::LoginFailuresPerAccount => Quota::Window(self.login_failures_per_account),
            Bucket::LoginFailuresPerIp => Quota::Window(self.login_failures_per_ip),
            Bucket::RequestsPerUser => Quota::Rate(self.requests_per_user),
            Bucket::RequestsPerIp => Quota::Rate(self.requests_per_ip),
            Bucket::Typing => Quota::Rate(self.typing),
            Bucket::OtpSendsPerAddress => Quota::Window(self.otp_sends_per_address),
            Bucket::OtpSendsPerIp => Quota::Window(self.otp_sends_per_ip),
        }
    }
}

/// What is remembered of one key.
#[derive(Debug)]
enum Level {
    /// When each unit inside the window was spent, oldest first.
    Spent(VecDeque<Instant>),
    /// Units left, as of `at`.
    Tokens { tokens: f64, at: Instant },
}

impl Level {
    fn new(quota: Quota, now: Instant) -> Self {
        match quota {
            Quota::Window(_) => Level::Spent(VecDeque::new()),
            Quota::Rate(r) => Level::Tokens {
                tokens: f64::from(r.burst),
                at: now,
            },
        }
    }

    /// Brings the level up to `now`; returns whether it still holds anything (a full bucket
    /// or an empty window can be forgotten).
    fn settle(&mut self, quota: Quota, now: Instant) -> bool {
        match (self, quota) {
            (Level::Spent(spent), Quota::Window(w)) => {
                while spent
                    .front()
                    .is_some_and(|t| now.duration_since(*t) >= w.window)
                {
                    spent.pop_front();
                }
                !spent.is_empty()
            }
            (Level::Tokens { tokens, at }, Quota::Rate(r)) => {
                let refill = now.duration_since(*at).as_secs_f64() * r.per_sec();
                *tokens = (*tokens + refill).min(f64::from(r.burst));
                *at = now;
                *tokens < f64::from(r.burst)
            }
            // Each bucket has one kind of quota for the life of the limiter.
            _ => false,
        }
    }

    fn available(&self, quota: Quota, now: Instant) -> Result<(), Exhausted> {
        match (self, quota) {
            (Level::Spent(spent), Quota::Window(w)) => match spent.front() {
                Some(oldest) if spent.len() >= w.limit as usize => Err(Exhausted {
                    retry_after: w.window.saturating_sub(now.duration_since(*oldest)),
                }),
                _ => Ok(()),
            },
            (Level::Tokens { tokens, .. }, Quota::Rate(r)) if *tokens < 1.0 => Err(Exhausted {
                retry_after: Duration::from_secs_f64(((1.0 - tokens) / r.per_sec()).max(0.0)),
            }),
            _ => Ok(()),
        }
    }

    fn spend(&mut self, now: Instant) {
        match self {
            Level::Spent(spent) => spent.push_back(now),
            Level::Tokens { tokens, .. } => *tokens -= 1.0,
        }
    }

    fn give_back(&mut self, quota: Quota) {
        match (self, quota) {
            (Level::Spent(spent), _) => {
                spent.pop_back();
            }
            (Level::Tokens { tokens, .. }, Quota::Rate(r)) => {
                *tokens = (*tokens + 1.0).min(f64::from(r.burst));
            }
            (Level::Tokens { .. }, Quota::Window(_)) => {}
        }
    }
}

/// Above this many remembered keys, keys that hold nothing are forgotten…
const PRUNE_ABOVE: usize = 10_000;
/// …at most this often, so that many live keys cannot turn every request into a full scan.
const PRUNE_EVERY: Duration = Duration::from_secs(10);

#[derive(Debug)]
struct State {
    levels: HashMap<(Bucket, String), Level>,
    pruned_at: Instant,
}

/// The in-process limiter.
#[derive(Debug)]
pub struct LocalRateLimiter {
    quotas: Quotas,
    state: Mutex<State>,
}

impl LocalRateLimiter {
    /// A limiter with these quotas.
    pub fn new(quotas: Quotas) -> Self {
        Self {
            quotas,
            state: Mutex::new(State {
                levels: HashMap::new(),
                pruned_at: Instant::now(),
            }),
        }
    }

    fn take(&self, bucket: Bucket, key: &str, spend: bool) -> Result<(), Exhausted> {
        let quota = self.quotas.get(bucket);
        let now = Instant::now();
        let mut state = self.state.lock().unwrap_or_else(|p| p.into_inner());
        if state.levels.len() > PRUNE_ABOVE && now.duration_since(state.pruned_at) >= PRUNE_EVERY {
            let quotas = self.quotas;
            state
                .levels
                .retain(|(b, _), level| level.settle(quotas.get(*b), now));
            state.pruned_at = now;
        }
        let level = state
            .levels
            .entry((bucket, key.to_owned()))
            .or_insert_with(|| Level::new(quota, now));
        level.settle(quota, now);
        level.available(quota, now)?;
        if spend {
            level.spend(now);
        }
        Ok(())
    }
}

#[async_trait]
impl RateLimiter for LocalRateLimiter {
    async fn hit(&self, bucket: Bucket, key: &str) -> Result<(), Exhausted> {
        self.take(bucket, key, true)
    }

    async fn peek(&self, bucket: Bucket, key: &str) -> Result<(), Exhausted> {
        self.take(bucket, key, false)
    }

    async fn refund(&self, bucket: Bucket, key: &str) {
        let quota = self.quotas.get(bucket);
        let mut state = self.state.lock().unwrap_or_else(|p| p.into_inner());
        if let Some(level) = state.levels.get_mut(&(bucket, key.to_owned())) {
            level.give_back(quota);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn limiter(window: Window, rate: Rate) -> LocalRateLimiter {
        LocalRateLimiter::new(Quotas {
            login_failures_per_account: window,
            login_failures_per_ip: window,
            requests_per_user: rate,
            requests_per_ip: rate,
            typing: rate,
            otp_sends_per_address: window,
            otp_sends_per_ip: window,
        })
    }

    fn window(limit: u32, window: Duration) -> LocalRateLimiter {
        limiter(
            Window { limit, window },
            Rate {
                burst: 1,
                per: Duration::from_secs(1),
            },
        )
    }

    fn rate(burst: u32, per: Duration) -> LocalRateLimiter {
        limiter(
            Window {
                limit: 1,
                window: Duration::from_secs(1),
            },
            Rate { burst, per },
        )
    }

    const ACCOUNT: Bucket = Bucket::LoginFailuresPerAccount;
    const REQUESTS: Bucket = Bucket::RequestsPerIp;

    #[tokio::test]
    async fn a_window_allows_its_limit_then_refuses_until_the_oldest_leaves() {
        let l = window(5, Duration::from_secs(600));
        for _ in 0..5 {
            l.hit(ACCOUNT, "alice").await.unwrap();
        }
        let e = l.hit(ACCOUNT, "alice").await.unwrap_err();
        // Not one unit every 2 minutes: nothing until the first failure is 10 minutes old.
        assert!(
            e.retry_after > Duration::from_secs(590) && e.retry_after <= Duration::from_secs(600)
        );
    }

    #[tokio::test]
    async fn a_window_frees_up_once_its_time_has_passed() {
        let l = window(2, Duration::from_millis(100));
        l.hit(ACCOUNT, "a").await.unwrap();
        l.hit(ACCOUNT, "a").await.unwrap();
        assert!(l.hit(ACCOUNT, "a").await.is_err());
        tokio::time::sleep(Duration::from_millis(120)).await;
        l.hit(ACCOUNT, "a").await.unwrap();
        l.hit(ACCOUNT, "a").await.unwrap();
        assert!(l.hit(ACCOUNT, "a").await.is_err());
    }

    #[tokio::test]
    async fn a_bucket_allows_a_burst_then_refills_steadily() {
        let l = rate(3, Duration::from_secs(30));
        for _ in 0..3 {
            l.hit(REQUESTS, "1.2.3.4").await.unwrap();
        }
        let e = l.hit(REQUESTS, "1.2.3.4").await.unwrap_err();
        // One unit returns every 30 / 3 = 10 s.
        assert!(e.retry_after > Duration::from_secs(9) && e.retry_after <= Duration::from_secs(10));
    }

    #[tokio::test]
    async fn a_bucket_refills_over_time() {
        let l = rate(1, Duration::from_millis(100));
        l.hit(REQUESTS, "a").await.unwrap();
        assert!(l.hit(REQUESTS, "a").await.is_err());
        tokio::time::sleep(Duration::from_millis(120)).await;
        l.hit(REQUESTS, "a").await.unwrap();
    }

    #[tokio::test]
    async fn peek_does_not_spend() {
        let l = window(1, Duration::from_secs(600));
        for _ in 0..10 {
            l.peek(ACCOUNT, "a").await.unwrap();
        }
        l.hit(ACCOUNT, "a").await.unwrap();
        assert!(l.peek(ACCOUNT, "a").await.is_err());
    }

    async fn refund_gives_back_one_unit_but_never_more_than_the_budget(
        l: LocalRateLimiter,
        b: Bucket,
    ) {
        l.hit(b, "a").await.unwrap();
        l.hit(b, "a").await.unwrap();
        assert!(l.peek(b, "a").await.is_err());
        l.refund(b, "a").await;
        l.hit(b, "a").await.unwrap();
        for _ in 0..5 {
            l.refund(b, "a").await;
        }
        l.hit(b, "a").await.unwrap();
        l.hit(b, "a").await.unwrap();
        assert!(l.hit(b, "a").await.is_err());
    }

    #[tokio::test]
    async fn a_window_refund_gives_back_one_unit_but_never_more_than_the_limit() {
        refund_gives_back_one_unit_but_never_more_than_the_budget(
            window(2, Duration::from_secs(600)),
            ACCOUNT,
        )
        .await;
    }

    #[tokio::test]
    async fn a_bucket_refund_gives_back_one_unit_but_never_more_than_the_burst() {
        refund_gives_back_one_unit_but_never_more_than_the_budget(
            rate(2, Duration::from_secs(600)),
            REQUESTS,
        )
        .await;
    }

    #[tokio::test]
    async fn keys_and_buckets_are_independent() {
        let l = window(1, Duration::from_secs(600));
        l.hit(ACCOUNT, "a").await.unwrap();
        l.hit(ACCOUNT, "b").await.unwrap();
        l.hit(Bucket::LoginFailuresPerIp, "a").await.unwrap();
        assert!(l.hit(ACCOUNT, "a").await.is_err());
    }
}
