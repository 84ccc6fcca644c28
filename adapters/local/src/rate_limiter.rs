//! Rate limits in memory: sliding windows for failed logins ("at most 5 in any 10 minutes"),
//! token buckets for request budgets ("a burst, then a steady rate"). The Redis limiter counts
//! the same way in a script; both pass the one limiter suite (`tests/tests/limiter.rs`).
//! Memory stays bounded: keys that hold nothing are forgotten.

use std::collections::{HashMap, VecDeque};
use std::sync::Mutex;
use std::time::{Duration, Instant};

use async_trait::async_trait;

use confab_ports::rate_limit::{Bucket, Limited, Quota, Quotas, RateLimiter};

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

    fn available(&self, quota: Quota, now: Instant) -> Result<(), Limited> {
        match (self, quota) {
            (Level::Spent(spent), Quota::Window(w)) => match spent.front() {
                Some(oldest) if spent.len() >= w.limit as usize => Err(Limited::Exhausted {
                    retry_after: w.window.saturating_sub(now.duration_since(*oldest)),
                }),
                _ => Ok(()),
            },
            (Level::Tokens { tokens, .. }, Quota::Rate(r)) if *tokens < 1.0 => {
                Err(Limited::Exhausted {
                    retry_after: Duration::from_secs_f64(((1.0 - tokens) / r.per_sec()).max(0.0)),
                })
            }
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

    fn take(&self, bucket: Bucket, key: &str, spend: bool) -> Result<(), Limited> {
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
    async fn hit(&self, bucket: Bucket, key: &str) -> Result<(), Limited> {
        self.take(bucket, key, true)
    }

    async fn peek(&self, bucket: Bucket, key: &str) -> Result<(), Limited> {
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
