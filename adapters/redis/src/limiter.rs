//! The rate limiter over Redis: every instance counts in the same keys, so a limit holds for
//! the sum over all instances. Each check is one Lua script — read, decide and spend in one
//! atomic step on the server, timed by the server's own clock (`TIME`), so neither a race
//! between instances nor their clock skew can overspend. The quotas are the same
//! [`Quotas`] the in-process limiter counts, and the arithmetic mirrors it: sliding windows as
//! sorted sets of spend times, token buckets as `{tokens, at}` hashes; every key expires once
//! it holds nothing, so Redis memory stays bounded by the active keys.
//!
//! When Redis cannot be reached (or does not answer within the timeout), a bucket fails open
//! or closed as `Bucket::fails_open` says, and Redis is left alone for a moment so that an
//! outage costs each request at most one timeout per [`PAUSE_AFTER_FAILURE`], not one each.

use std::sync::Mutex;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::{Duration, Instant};

use async_trait::async_trait;
use confab_ports::rate_limit::{Bucket, Limited, Quota, Quotas, RateLimiter};
use redis::Script;

use crate::link::{Link, LinkError};

/// How long the limiter answers without Redis after a failed call.
const PAUSE_AFTER_FAILURE: Duration = Duration::from_secs(1);

/// Spends (ARGV[3] = 1) or checks one unit of a sliding window. Returns -1 when allowed, else
/// the milliseconds until the oldest spend leaves the window.
const WINDOW: &str = r"
local t = redis.call('TIME')
local now = tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000)
local window = tonumber(ARGV[1])
redis.call('ZREMRANGEBYSCORE', KEYS[1], '-inf', now - window)
if redis.call('ZCARD', KEYS[1]) >= tonumber(ARGV[2]) then
  local oldest = redis.call('ZRANGE', KEYS[1], 0, 0, 'WITHSCORES')
  if oldest[2] == nil then return window end
  return math.max(1, window - (now - tonumber(oldest[2])))
end
if ARGV[3] == '1' then
  redis.call('ZADD', KEYS[1], now, ARGV[4])
  redis.call('PEXPIRE', KEYS[1], window)
end
return -1
";

/// Gives back the latest spend of a window.
const WINDOW_REFUND: &str = r"
redis.call('ZPOPMAX', KEYS[1])
return 0
";

/// Spends (ARGV[3] = 1) or checks one token of a bucket of ARGV[1] tokens refilled at ARGV[2]
/// per second. Returns -1 when allowed, else the milliseconds until a token is back.
const RATE: &str = r"
local t = redis.call('TIME')
local now = tonumber(t[1]) * 1000 + tonumber(t[2]) / 1000
local burst = tonumber(ARGV[1])
local rate = tonumber(ARGV[2])
local v = redis.call('HMGET', KEYS[1], 't', 'a')
local tokens = tonumber(v[1]) or burst
local at = tonumber(v[2]) or now
if now > at then tokens = math.min(burst, tokens + (now - at) / 1000 * rate) end
if tokens < 1 then
  return math.max(1, math.ceil((1 - tokens) / rate * 1000))
end
if ARGV[3] == '1' then
  redis.call('HSET', KEYS[1], 't', tostring(tokens - 1), 'a', tostring(now))
  redis.call('PEXPIRE', KEYS[1], math.ceil(burst / rate * 1000) + 1000)
end
return -1
";

/// Gives back one token, never above the burst (ARGV[1]).
const RATE_REFUND: &str = r"
local tokens = tonumber(redis.call('HGET', KEYS[1], 't'))
if tokens == nil then return 0 end
redis.call('HSET', KEYS[1], 't', tostring(math.min(tonumber(ARGV[1]), tokens + 1)))
return 0
";

/// Shared rate limits.
pub struct RedisRateLimiter {
    link: Link,
    quotas: Quotas,
    window: Script,
    window_refund: Script,
    rate: Script,
    rate_refund: Script,
    /// Until when Redis is left alone after a failure.
    paused_until: Mutex<Option<Instant>>,
    /// Whether the last call failed (for logging the outage once).
    down: AtomicBool,
}

impl std::fmt::Debug for RedisRateLimiter {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("RedisRateLimiter")
            .field("quotas", &self.quotas)
            .finish_non_exhaustive()
    }
}

fn key(bucket: Bucket, key: &str) -> String {
    format!("confab:limit:{}:{key}", bucket.as_str())
}

fn millis(d: Duration) -> u64 {
    u64::try_from(d.as_millis()).unwrap_or(u64::MAX).max(1)
}

impl RedisRateLimiter {
    pub(crate) fn new(link: Link, quotas: Quotas) -> Self {
        Self {
            link,
            quotas,
            window: Script::new(WINDOW),
            window_refund: Script::new(WINDOW_REFUND),
            rate: Script::new(RATE),
            rate_refund: Script::new(RATE_REFUND),
            paused_until: Mutex::new(None),
            down: AtomicBool::new(false),
        }
    }

    fn paused(&self) -> bool {
        let mut until = self.paused_until.lock().unwrap_or_else(|p| p.into_inner());
        match *until {
            Some(t) if Instant::now() < t => true,
            Some(_) => {
                *until = None;
                false
            }
            None => false,
        }
    }

    fn pause(&self, error: &LinkError) {
        let mut until = self.paused_until.lock().unwrap_or_else(|p| p.into_inner());
        *until = Some(Instant::now() + PAUSE_AFTER_FAILURE);
        // Once per outage, not once per pause. The error says whether Redis is unreachable
        // or refused the script (an ACL without EVALSHA, say).
        if !self.down.swap(true, Ordering::Relaxed) {
            tracing::warn!(
                error = %error,
                "rate limits cannot use Redis: they fail open for requests and typing, closed for logins and codes"
            );
        } else {
            tracing::debug!(error = %error, "a rate-limit call on Redis failed");
        }
    }

    fn reached(&self) {
        if self.down.swap(false, Ordering::Relaxed) {
            tracing::info!("Redis answers again: rate limits are shared again");
        }
    }

    /// Runs the check (and spend) of one unit on Redis.
    async fn take(&self, bucket: Bucket, raw_key: &str, spend: bool) -> Result<(), Limited> {
        let fallback = if bucket.fails_open() {
            Ok(())
        } else {
            Err(Limited::Unavailable)
        };
        if self.paused() {
            return fallback;
        }
        let k = key(bucket, raw_key);
        let spend = if spend { "1" } else { "0" };
        let answer = match self.quotas.get(bucket) {
            Quota::Window(w) => {
                let member = rand::random::<u64>();
                let mut call = self.window.key(&k);
                call.arg(millis(w.window))
                    .arg(w.limit)
                    .arg(spend)
                    .arg(member);
                self.link
                    .run(|mut c| async move { call.invoke_async::<i64>(&mut c).await })
                    .await
            }
            Quota::Rate(r) => {
                let mut call = self.rate.key(&k);
                call.arg(r.burst).arg(r.per_sec()).arg(spend);
                self.link
                    .run(|mut c| async move { call.invoke_async::<i64>(&mut c).await })
                    .await
            }
        };
        match answer {
            Ok(wait) => {
                self.reached();
                if wait < 0 {
                    Ok(())
                } else {
                    Err(Limited::Exhausted {
                        retry_after: Duration::from_millis(wait.unsigned_abs()),
                    })
                }
            }
            Err(e) => {
                self.pause(&e);
                fallback
            }
        }
    }
}

#[async_trait]
impl RateLimiter for RedisRateLimiter {
    async fn hit(&self, bucket: Bucket, key: &str) -> Result<(), Limited> {
        self.take(bucket, key, true).await
    }

    async fn peek(&self, bucket: Bucket, key: &str) -> Result<(), Limited> {
        self.take(bucket, key, false).await
    }

    async fn refund(&self, bucket: Bucket, raw_key: &str) {
        if self.paused() {
            return;
        }
        let k = key(bucket, raw_key);
        let refunded = match self.quotas.get(bucket) {
            Quota::Window(_) => {
                let call = self.window_refund.key(&k);
                self.link
                    .run(|mut c| async move { call.invoke_async::<i64>(&mut c).await })
                    .await
            }
            Quota::Rate(r) => {
                let mut call = self.rate_refund.key(&k);
                call.arg(r.burst);
                self.link
                    .run(|mut c| async move { call.invoke_async::<i64>(&mut c).await })
                    .await
            }
        };
        if let Err(e) = refunded {
            self.pause(&e);
        }
    }
}
