//! Throttling as a port: in process (`adapters/local`) for one instance, shared (Redis) for
//! several, so that a limit holds for the sum over all instances. The budgets themselves
//! ([`Quotas`]) are configured here, once, for every adapter. The limiters only count; what a
//! count means for a login (who is refused, when) is decided once, by the login use case
//! (`service/accounts/throttle.rs`).

use async_trait::async_trait;
use std::time::Duration;

/// The budgets the server keeps. Each adapter is configured with a quota per bucket.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Bucket {
    /// Failed logins against one account *from one client address* (keyed by both), so that
    /// failures from elsewhere never refuse the owner's address; also the wrong one-time codes
    /// presented for one target (keyed `code:…`).
    LoginFailuresPerAccount,
    /// Failed logins from one client address, against any account.
    LoginFailuresPerIp,
    /// Failed logins against one account from every address together: the ceiling past which
    /// the account counts as under attack. Reaching it locks nobody out; it narrows who may try
    /// (see [`Bucket::LoginFailureMark`]).
    LoginFailuresAccountCeiling,
    /// Whether one client address failed against one account within the window (one unit):
    /// while that account's ceiling is reached, only addresses without a mark may try.
    LoginFailureMark,
    /// Requests of one authenticated user.
    RequestsPerUser,
    /// Requests of one anonymous client address.
    RequestsPerIp,
    /// Typing notices of one user in one group.
    Typing,
    /// One-time codes asked for one address (or login, as typed).
    OtpSendsPerAddress,
    /// One-time codes asked for from one client address.
    OtpSendsPerIp,
    /// Reports filed by one user (keyed by user id).
    Reports,
}

/// Why a unit could not be spent.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Limited {
    /// The budget is spent; come back after `retry_after` (429).
    Exhausted { retry_after: Duration },
    /// The shared counters are unreachable and this bucket fails closed (503).
    Unavailable,
}

impl Bucket {
    /// Whether spending in this bucket is allowed when the shared counters cannot be reached.
    /// Request budgets and typing fail open: an outage of the counters must not take the whole
    /// service down with it. Login failures and one-time-code sends fail closed: they guard
    /// against password guessing and mail flooding, which an outage must not switch off.
    /// Reports fail closed too: their budget guards the admins' attention against a flood, and
    /// refusing a report for the length of an outage (503: the client retries later) costs
    /// nothing else — chatting goes on.
    pub fn fails_open(self) -> bool {
        match self {
            Bucket::RequestsPerUser | Bucket::RequestsPerIp | Bucket::Typing => true,
            Bucket::LoginFailuresPerAccount
            | Bucket::LoginFailuresPerIp
            | Bucket::LoginFailuresAccountCeiling
            | Bucket::LoginFailureMark
            | Bucket::OtpSendsPerAddress
            | Bucket::OtpSendsPerIp
            | Bucket::Reports => false,
        }
    }

    /// Every bucket with a field of its own in [`Quotas`], for adapters that keep per-bucket
    /// state and for tests. The two login-policy buckets ([`Bucket::LOGIN_POLICY`]) take their
    /// quotas from `login_failures_per_account`'s window until they get settings of their own.
    pub const ALL: [Bucket; 8] = [
        Bucket::LoginFailuresPerAccount,
        Bucket::LoginFailuresPerIp,
        Bucket::RequestsPerUser,
        Bucket::RequestsPerIp,
        Bucket::Typing,
        Bucket::OtpSendsPerAddress,
        Bucket::OtpSendsPerIp,
        Bucket::Reports,
    ];

    /// The buckets only the login policy uses, with quotas derived in [`Quotas::get`].
    pub const LOGIN_POLICY: [Bucket; 2] = [
        Bucket::LoginFailuresAccountCeiling,
        Bucket::LoginFailureMark,
    ];

    /// A short stable name (keys in a shared store, metrics labels).
    pub fn as_str(self) -> &'static str {
        match self {
            Bucket::LoginFailuresPerAccount => "login_account",
            Bucket::LoginFailuresPerIp => "login_ip",
            Bucket::LoginFailuresAccountCeiling => "login_account_ceiling",
            Bucket::LoginFailureMark => "login_mark",
            Bucket::RequestsPerUser => "requests_user",
            Bucket::RequestsPerIp => "requests_ip",
            Bucket::Typing => "typing",
            Bucket::OtpSendsPerAddress => "otp_address",
            Bucket::OtpSendsPerIp => "otp_ip",
            Bucket::Reports => "reports",
        }
    }
}

/// How one bucket's budget is counted.
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum Quota {
    /// A sliding window: at most `limit` in any `window` (failed logins, code sends).
    Window(Window),
    /// A token bucket: a burst, then a steady rate (request budgets, typing).
    Rate(Rate),
}

impl Quotas {
    /// The quota of `bucket`.
    pub fn get(&self, bucket: Bucket) -> Quota {
        match bucket {
            Bucket::LoginFailuresPerAccount => Quota::Window(self.login_failures_per_account),
            Bucket::LoginFailuresPerIp => Quota::Window(self.login_failures_per_ip),
            Bucket::LoginFailuresAccountCeiling => Quota::Window(Window {
                limit: self.login_failure_ceiling,
                window: self.login_failures_per_account.window,
            }),
            Bucket::LoginFailureMark => Quota::Window(Window {
                limit: 1,
                window: self.login_failures_per_account.window,
            }),
            Bucket::RequestsPerUser => Quota::Rate(self.requests_per_user),
            Bucket::RequestsPerIp => Quota::Rate(self.requests_per_ip),
            Bucket::Typing => Quota::Rate(self.typing),
            Bucket::OtpSendsPerAddress => Quota::Window(self.otp_sends_per_address),
            Bucket::OtpSendsPerIp => Quota::Window(self.otp_sends_per_ip),
            Bucket::Reports => Quota::Window(self.reports),
        }
    }
}

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
    /// Units returned per second.
    pub fn per_sec(&self) -> f64 {
        f64::from(self.burst) / self.per.as_secs_f64().max(f64::EPSILON)
    }
}

/// The budgets, one per bucket.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Quotas {
    /// Failed logins against one account from one client address (and wrong codes per
    /// target). Its window is also the window of the account ceiling and of the marks.
    pub login_failures_per_account: Window,
    /// Failed logins from one client address, against any account.
    pub login_failures_per_ip: Window,
    /// Failed logins against one account from every address together (in
    /// `login_failures_per_account`'s window) past which only addresses without failures may
    /// try: see [`Bucket::LoginFailuresAccountCeiling`].
    pub login_failure_ceiling: u32,
    pub requests_per_user: Rate,
    pub requests_per_ip: Rate,
    /// Typing notices per user and group (API: at most one per 2 s).
    pub typing: Rate,
    /// One-time codes asked for per address (or login) and per client address.
    pub otp_sends_per_address: Window,
    pub otp_sends_per_ip: Window,
    /// Reports filed per user (`--reports-per-hour`).
    pub reports: Window,
}

impl Default for Quotas {
    /// 5 failed logins per account and client address and 50 per client address in any 10
    /// minutes; a burst of 300 requests, then 30 a second, per user and per anonymous address;
    /// 20 reports per user in any hour.
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
            login_failure_ceiling: LOGIN_FAILURES_ACCOUNT_CEILING,
            requests_per_user: requests,
            requests_per_ip: requests,
            typing: TYPING,
            otp_sends_per_address: OTP_SENDS_PER_ADDRESS,
            otp_sends_per_ip: OTP_SENDS_PER_IP,
            reports: REPORTS,
        }
    }
}

/// Failed logins against one account, from all addresses together, past which the account
/// counts as under attack (in `login_failures_per_account`'s window), by default: twenty
/// addresses' worth of the default per-address budget.
pub const LOGIN_FAILURES_ACCOUNT_CEILING: u32 = 100;

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

/// 20 reports per user in any hour: far more than anyone who meets abuse files, few enough that
/// one account cannot bury the admins' list.
pub const REPORTS: Window = Window {
    limit: 20,
    window: Duration::from_secs(3600),
};

/// One typing notice per 2 seconds.
pub const TYPING: Rate = Rate {
    burst: 1,
    per: Duration::from_secs(2),
};

/// Counts spending against per-key budgets.
#[cfg_attr(test, mockall::automock)]
#[async_trait]
pub trait RateLimiter: Send + Sync {
    /// Spends one unit of `key`'s budget in `bucket`, or says when one will be available.
    async fn hit(&self, bucket: Bucket, key: &str) -> Result<(), Limited>;

    /// Whether one unit is available, without spending it.
    async fn peek(&self, bucket: Bucket, key: &str) -> Result<(), Limited>;

    /// Gives back one unit spent by `hit` (never above the budget): an attempt that turned out
    /// not to count.
    async fn refund(&self, bucket: Bucket, key: &str);
}

impl From<Limited> for crate::Error {
    fn from(e: Limited) -> Self {
        match e {
            Limited::Exhausted { retry_after } => crate::Error::RateLimited { retry_after },
            Limited::Unavailable => {
                crate::Error::Unavailable("the shared rate-limit counters are unreachable".into())
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_bucket_is_listed_once_with_a_name_of_its_own() {
        let every: Vec<Bucket> = Bucket::ALL
            .into_iter()
            .chain(Bucket::LOGIN_POLICY)
            .collect();
        let mut names: Vec<&str> = every.iter().map(|b| b.as_str()).collect();
        names.sort_unstable();
        names.dedup();
        assert_eq!(names.len(), every.len(), "{every:?}");
        assert_eq!(
            every.len(),
            10,
            "a new bucket belongs in ALL or LOGIN_POLICY"
        );
    }

    #[test]
    fn reports_fail_closed_and_count_in_their_own_window() {
        assert!(!Bucket::Reports.fails_open());
        assert_eq!(
            Quotas::default().get(Bucket::Reports),
            Quota::Window(REPORTS)
        );
        assert_eq!(REPORTS.window, Duration::from_secs(3600));
    }

    #[test]
    fn every_login_bucket_fails_closed() {
        for bucket in [Bucket::LoginFailuresPerAccount, Bucket::LoginFailuresPerIp]
            .into_iter()
            .chain(Bucket::LOGIN_POLICY)
        {
            assert!(!bucket.fails_open(), "{bucket:?}");
        }
    }

    #[test]
    fn the_login_policy_buckets_count_in_the_failed_login_window() {
        let q = Quotas {
            login_failures_per_account: Window {
                limit: 7,
                window: Duration::from_secs(123),
            },
            ..Quotas::default()
        };
        let window = |limit| {
            Quota::Window(Window {
                limit,
                window: Duration::from_secs(123),
            })
        };
        assert_eq!(
            q.get(Bucket::LoginFailuresAccountCeiling),
            window(LOGIN_FAILURES_ACCOUNT_CEILING)
        );
        assert_eq!(q.get(Bucket::LoginFailureMark), window(1));
        // The ceiling is far above what one address may spend against an account by default.
        let per_address = Quotas::default().login_failures_per_account.limit;
        assert!(LOGIN_FAILURES_ACCOUNT_CEILING >= 10 * per_address);
    }
}
