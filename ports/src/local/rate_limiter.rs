//! Token buckets in memory, one per (bucket, key).

use std::collections::HashMap;
use std::sync::Mutex;
use std::time::{Duration, Instant};

use async_trait::async_trait;

use crate::rate_limit::{Bucket, Exhausted, RateLimiter};

/// A budget: up to `burst` units at once, refilled evenly so that `burst` units return per `per`.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Quota {
    pub burst: u32,
    pub per: Duration,
}

impl Quota {
    fn rate_per_sec(&self) -> f64 {
        f64::from(self.burst) / self.per.as_secs_f64().max(f64::EPSILON)
    }
}

/// One quota per bucket.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Quotas {
    pub login_failures_per_account: Quota,
    pub login_failures_per_ip: Quota,
    pub requests_per_user: Quota,
    pub requests_per_ip: Quota,
}

impl Default for Quotas {
    /// 5 failed logins per account and 50 per address in 10 minutes; a burst of 300 requests,
    /// then 30 a second, per user and per anonymous address.
    fn default() -> Self {
        let ten_minutes = Duration::from_secs(600);
        let requests = Quota {
            burst: 300,
            per: Duration::from_secs(10),
        };
        Self {
            login_failures_per_account: Quota {
                burst: 5,
                per: ten_minutes,
            },
            login_failures_per_ip: Quota {
                burst: 50,
                per: ten_minutes,
            },
            requests_per_user: requests,
            requests_per_ip: requests,
        }
    }
}

impl Quotas {
    fn get(&self, bucket: Bucket) -> Quota {
        match bucket {
            Bucket::LoginFailuresPerAccount => self.login_failures_per_account,
            Bucket::LoginFailuresPerIp => self.login_failures_per_ip,
            Bucket::RequestsPerUser => self.requests_per_user,
            Bucket::RequestsPerIp => self.requests_per_ip,
        }
    }
}

#[derive(Debug, Clone, Copy)]
struct Level {
    tokens: f64,
    at: Instant,
}

/// Above this many tracked keys, full buckets are forgotten (they hold no information).
const PRUNE_ABOVE: usize = 100_000;

/// The in-process limiter.
#[derive(Debug)]
pub struct LocalRateLimiter {
    quotas: Quotas,
    levels: Mutex<HashMap<(Bucket, String), Level>>,
}

impl LocalRateLimiter {
    /// A limiter with these quotas.
    pub fn new(quotas: Quotas) -> Self {
        Self {
            quotas,
            levels: Mutex::new(HashMap::new()),
        }
    }

    fn take(&self, bucket: Bucket, key: &str, spend: bool) -> Result<(), Exhausted> {
        let quota = self.quotas.get(bucket);
        let rate = quota.rate_per_sec();
        let burst = f64::from(quota.burst);
        let now = Instant::now();
        let mut levels = self.levels.lock().unwrap_or_else(|p| p.into_inner());
        if levels.len() > PRUNE_ABOVE {
            levels.retain(|(b, _), l| {
                let q = self.quotas.get(*b);
                l.tokens + now.duration_since(l.at).as_secs_f64() * q.rate_per_sec()
                    < f64::from(q.burst)
            });
        }
        let level = levels.entry((bucket, key.to_owned())).or_insert(Level {
            tokens: burst,
            at: now,
        });
        level.tokens =
            (level.tokens + now.duration_since(level.at).as_secs_f64() * rate).min(burst);
        level.at = now;
        if level.tokens >= 1.0 {
            if spend {
                level.tokens -= 1.0;
            }
            Ok(())
        } else {
            let wait = (1.0 - level.tokens) / rate;
            Err(Exhausted {
                retry_after: Duration::from_secs_f64(wait.max(0.0)),
            })
        }
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
        let burst = f64::from(self.quotas.get(bucket).burst);
        let mut levels = self.levels.lock().unwrap_or_else(|p| p.into_inner());
        if let Some(level) = levels.get_mut(&(bucket, key.to_owned())) {
            level.tokens = (level.tokens + 1.0).min(burst);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn limiter(burst: u32, per_secs: u64) -> LocalRateLimiter {
        let q = Quota {
            burst,
            per: Duration::from_secs(per_secs),
        };
        LocalRateLimiter::new(Quotas {
            login_failures_per_account: q,
            login_failures_per_ip: q,
            requests_per_user: q,
            requests_per_ip: q,
        })
    }

    #[tokio::test]
    async fn a_burst_is_allowed_then_refused_with_a_wait() {
        let l = limiter(5, 600);
        for _ in 0..5 {
            l.hit(Bucket::LoginFailuresPerAccount, "alice")
                .await
                .unwrap();
        }
        let e = l
            .hit(Bucket::LoginFailuresPerAccount, "alice")
            .await
            .unwrap_err();
        // One unit returns every 600 / 5 = 120 s.
        assert!(
            e.retry_after > Duration::from_secs(110) && e.retry_after <= Duration::from_secs(120)
        );
    }

    #[tokio::test]
    async fn peek_does_not_spend() {
        let l = limiter(1, 600);
        for _ in 0..10 {
            l.peek(Bucket::RequestsPerIp, "1.2.3.4").await.unwrap();
        }
        l.hit(Bucket::RequestsPerIp, "1.2.3.4").await.unwrap();
        assert!(l.peek(Bucket::RequestsPerIp, "1.2.3.4").await.is_err());
    }

    #[tokio::test]
    async fn a_refund_gives_back_one_unit_but_never_more_than_the_burst() {
        let l = limiter(2, 600);
        l.hit(Bucket::LoginFailuresPerIp, "a").await.unwrap();
        l.hit(Bucket::LoginFailuresPerIp, "a").await.unwrap();
        assert!(l.peek(Bucket::LoginFailuresPerIp, "a").await.is_err());
        l.refund(Bucket::LoginFailuresPerIp, "a").await;
        l.hit(Bucket::LoginFailuresPerIp, "a").await.unwrap();
        for _ in 0..5 {
            l.refund(Bucket::LoginFailuresPerIp, "a").await;
        }
        l.hit(Bucket::LoginFailuresPerIp, "a").await.unwrap();
        l.hit(Bucket::LoginFailuresPerIp, "a").await.unwrap();
        assert!(l.hit(Bucket::LoginFailuresPerIp, "a").await.is_err());
    }

    #[tokio::test]
    async fn keys_and_buckets_are_independent() {
        let l = limiter(1, 600);
        l.hit(Bucket::RequestsPerIp, "a").await.unwrap();
        l.hit(Bucket::RequestsPerIp, "b").await.unwrap();
        l.hit(Bucket::RequestsPerUser, "a").await.unwrap();
        assert!(l.hit(Bucket::RequestsPerIp, "a").await.is_err());
    }

    #[tokio::test]
    async fn budget_refills_over_time() {
        let l = LocalRateLimiter::new(Quotas {
            requests_per_ip: Quota {
                burst: 1,
                per: Duration::from_millis(100),
            },
            ..Quotas::default()
        });
        l.hit(Bucket::RequestsPerIp, "a").await.unwrap();
        assert!(l.hit(Bucket::RequestsPerIp, "a").await.is_err());
        tokio::time::sleep(Duration::from_millis(120)).await;
        l.hit(Bucket::RequestsPerIp, "a").await.unwrap();
    }
}
