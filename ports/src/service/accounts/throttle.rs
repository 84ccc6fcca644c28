//! Login throttling: the failure budgets one login attempt spends, and when it is refused. The
//! policy is written here once, for every limiter adapter (they only count), after OWASP's
//! Authentication Cheat Sheet ("Login Throttling", "Account Lockout": count failures per
//! account, and do not let the lockout become a denial of service against the owner) and
//! Credential Stuffing Prevention Cheat Sheet (address blocks temporary, and tracked apart from
//! the per-user failures):
//!
//! - **per account and client address** ([`Bucket::LoginFailuresPerAccount`], 5 in 10 min):
//!   past it, *that address* is refused for that account, the right password included;
//! - **per client address** ([`Bucket::LoginFailuresPerIp`], 50 in 10 min, any accounts);
//! - **per account, all addresses together** ([`Bucket::LoginFailuresAccountCeiling`], 100 in
//!   10 min): reaching it locks nobody out. From then on an address that failed against the
//!   account within the window ([`Bucket::LoginFailureMark`]) is refused, and an address
//!   without a failure still has its password checked: whoever guesses from elsewhere cannot
//!   keep the owner out, and a guesser spread over many addresses gets one guess per address
//!   per window. Reaching the ceiling is logged as a warning (an account under attack).
//!
//! Every unit is spent *before* the password is checked, so parallel guesses cannot outrun the
//! count (the mark works as a latch: while the account is under attack, one attempt at a time
//! per address), and given back when the attempt turns out not to be a failure. Each refusal
//! gives back what the attempt had spent, and answers the refusing budget's `retry_after`.
//! Every bucket fails closed: without the counters, logins answer 503.

use confab_domain::UserId;

use super::limiter_key;
use crate::rate_limit::{Bucket, Limited, RateLimiter};
use crate::{Error, Result};

/// The account part of the login keys: the account's id whichever way it was named, else the
/// login as typed (trimmed, lower-cased, bounded), so that unknown logins are throttled alike.
/// The prefixes keep both apart from each other and from the one-time-code budgets (`code:…`)
/// that share [`Bucket::LoginFailuresPerAccount`], whatever a client types.
pub(crate) fn account_key(found: Option<UserId>, login: &str) -> String {
    match found {
        Some(id) => format!("user:{id}"),
        None => format!("login:{}", limiter_key(login)),
    }
}

/// The key of one account and one client address.
fn pair_key(account: &str, ip: &str) -> String {
    format!("{account}|{ip}")
}

/// The units one login attempt holds while its password (and code) is checked. End it with
/// [`LoginAttempt::failed`] or [`LoginAttempt::give_back`].
#[must_use = "an attempt ends as failed or given back"]
pub(crate) struct LoginAttempt<'a> {
    limiter: &'a dyn RateLimiter,
    account: String,
    ip: String,
    pair: String,
    /// Units this attempt spent, in the order spent (a refusal or success gives them back).
    spent: Vec<(Bucket, Spent)>,
}

/// Which key a spent unit was taken from.
#[derive(Debug, Clone, Copy)]
enum Spent {
    Account,
    Ip,
    Pair,
}

impl<'a> LoginAttempt<'a> {
    /// Spends the attempt's units, or refuses it: 429 with the refusing budget's retry-after,
    /// or 503 when the counters are unreachable. `account` comes from [`account_key`];
    /// `client_ip` is the address as the transport saw it.
    pub(crate) async fn begin(
        limiter: &'a dyn RateLimiter,
        account: String,
        client_ip: &str,
    ) -> Result<LoginAttempt<'a>> {
        let ip = limiter_key(client_ip);
        let pair = pair_key(&account, &ip);
        let mut attempt = LoginAttempt {
            limiter,
            account,
            ip,
            pair,
            spent: Vec::with_capacity(4),
        };
        for (bucket, key) in [
            (Bucket::LoginFailuresPerIp, Spent::Ip),
            (Bucket::LoginFailuresPerAccount, Spent::Pair),
        ] {
            if let Err(e) = attempt.spend(bucket, key).await {
                return Err(attempt.refuse(e).await);
            }
        }
        let under_attack = match attempt
            .spend(Bucket::LoginFailuresAccountCeiling, Spent::Account)
            .await
        {
            Ok(()) => false,
            Err(Limited::Exhausted { .. }) => true,
            Err(e @ Limited::Unavailable) => return Err(attempt.refuse(e).await),
        };
        match attempt.spend(Bucket::LoginFailureMark, Spent::Pair).await {
            Ok(()) => {}
            // This address failed against the account lately: within its own budget that is
            // fine, but not while the account is under attack.
            Err(Limited::Exhausted { .. }) if !under_attack => {}
            Err(e) => {
                if matches!(e, Limited::Exhausted { .. }) {
                    tracing::debug!(
                        account = ?attempt.account,
                        "login refused: the account is under attack and this address failed against it"
                    );
                }
                return Err(attempt.refuse(e).await);
            }
        }
        Ok(attempt)
    }

    /// The attempt failed (wrong password, unknown login, wrong code): its units stay spent.
    /// Says so in the log when this failure brought the account to its ceiling.
    pub(crate) async fn failed(self) {
        let counted = self
            .spent
            .iter()
            .any(|(bucket, _)| *bucket == Bucket::LoginFailuresAccountCeiling);
        if counted
            && let Err(Limited::Exhausted { .. }) = self
                .limiter
                .peek(Bucket::LoginFailuresAccountCeiling, &self.account)
                .await
        {
            tracing::warn!(
                account = ?self.account,
                "an account is under attack: its failed logins reached the ceiling; until they \
                 fall below it, only client addresses without a failure against it may try"
            );
        }
    }

    /// The attempt did not count (the right credentials, a fault of ours, a code to send):
    /// every unit it spent goes back.
    pub(crate) async fn give_back(self) {
        for (bucket, key) in &self.spent {
            self.limiter.refund(*bucket, self.key(*key)).await;
        }
    }

    /// Gives back what was spent, and answers the refusal.
    async fn refuse(self, why: Limited) -> Error {
        self.give_back().await;
        why.into()
    }

    async fn spend(&mut self, bucket: Bucket, key: Spent) -> std::result::Result<(), Limited> {
        self.limiter.hit(bucket, self.key(key)).await?;
        self.spent.push((bucket, key));
        Ok(())
    }

    fn key(&self, key: Spent) -> &str {
        match key {
            Spent::Account => &self.account,
            Spent::Ip => &self.ip,
            Spent::Pair => &self.pair,
        }
    }
}
