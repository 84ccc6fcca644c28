//! Login throttling that cannot lock a user out from elsewhere (docs/api.md, "Login
//! throttling"): failures count per account *and client address*, so an attacker who is
//! refused does not refuse the owner; past the per-account ceiling (100 failures in 10
//! minutes from all addresses together) only addresses that failed against the account are
//! refused, and a clean address still logs in. Refusals are 429 `rate_limited` with
//! `Retry-After`, even for the right password.
//!
//! Clients present different addresses by binding their connections to different loopback
//! addresses (all of 127/8 is loopback on Linux); the server sees each as its peer.

use std::net::{IpAddr, Ipv4Addr};

use futures::future::join_all;
use serde_json::json;

use confab_tests::{Resp, TestServer};

const PASSWORD: &str = "correct horse battery";

/// Failed logins against one account from all addresses together, past which only addresses
/// without a failure against it may try (`LOGIN_FAILURES_ACCOUNT_CEILING`).
const CEILING: usize = confab_ports::rate_limit::LOGIN_FAILURES_ACCOUNT_CEILING as usize;

/// Failed logins against one account from one address (the default of
/// `--login-failures-per-account`).
const PER_ADDRESS: usize = 5;

/// An HTTP client whose connections come from one loopback address.
struct Peer {
    http: reqwest::Client,
}

impl Peer {
    /// A client at `127.a.b.c`.
    fn at(a: u8, b: u8, c: u8) -> Self {
        let ip = IpAddr::V4(Ipv4Addr::new(127, a, b, c));
        let http = reqwest::Client::builder()
            .local_address(ip)
            .build()
            .expect("client");
        Self { http }
    }

    async fn login(&self, s: &TestServer, login: &str, password: &str) -> Resp {
        let res = self
            .http
            .post(s.url("/api/v1/auth/login"))
            .json(&json!({"login": login, "password": password}))
            .send()
            .await
            .expect("request sent");
        Resp::read(res).await
    }

    /// A wrong password for `login`; asserts it was checked (401).
    async fn fail(&self, s: &TestServer, login: &str) {
        self.login(s, login, "wrong password")
            .await
            .expect_error(401, "invalid_credentials");
    }

    /// Asserts a refusal: 429 `rate_limited` with a `Retry-After` within the window.
    async fn refused(&self, s: &TestServer, login: &str, password: &str) {
        assert_refused(&self.login(s, login, password).await);
    }
}

#[track_caller]
fn assert_refused(r: &Resp) {
    r.expect_error(429, "rate_limited");
    let retry: u64 = r.headers["retry-after"].to_str().unwrap().parse().unwrap();
    assert!((1..=600).contains(&retry), "retry-after {retry}");
}

async fn an_attacker_locked_out_does_not_lock_out_the_owner(s: &TestServer) {
    s.register("victim").await;
    let attacker = Peer::at(0, 0, 2);
    for _ in 0..PER_ADDRESS {
        attacker.fail(s, "victim").await;
    }
    // The attacker's address is refused, the right password included (no oracle)…
    attacker.refused(s, "victim", PASSWORD).await;
    attacker.refused(s, "VICTIM", "wrong password").await;

    // …while the owner, from an address of their own, logs in at the same time.
    let (attacked, owner) = tokio::join!(
        attacker.login(s, "victim", PASSWORD),
        s.post(
            "/auth/login",
            None,
            json!({"login": "victim", "password": PASSWORD}),
        ),
    );
    assert_refused(&attacked);
    owner.expect(200);
    assert_eq!(owner.json["user"]["username"], "victim");

    // The owner's own typos are counted on the owner's address alone.
    for _ in 0..PER_ADDRESS - 1 {
        s.fail_login("victim").await;
    }
    s.login("victim", PASSWORD).await;
    // The attacker's address is still refused for this account, and only for it.
    attacker.refused(s, "victim", PASSWORD).await;
    s.register("bystander").await;
    attacker.login(s, "bystander", PASSWORD).await.expect(200);
}

async fn past_the_account_ceiling_only_addresses_with_failures_are_refused(s: &TestServer) {
    s.register_with(
        json!({"username": "target", "password": PASSWORD, "email": "target@example.com"}),
    )
    .await;
    // One address fails once, well within its own budget.
    let once = Peer::at(0, 2, 1);
    once.fail(s, "target").await;

    // Many addresses bring the account to its ceiling together, each within its budget.
    let attackers: Vec<Peer> = (1..=CEILING.div_ceil(PER_ADDRESS))
        .map(|i| Peer::at(0, 1, u8::try_from(i).unwrap()))
        .collect();
    let mut left = CEILING - 1;
    let mut shares = Vec::new();
    for peer in &attackers {
        let n = left.min(PER_ADDRESS);
        left -= n;
        shares.push((peer, n));
    }
    join_all(shares.into_iter().map(|(peer, n)| async move {
        for _ in 0..n {
            peer.fail(s, "target").await;
        }
    }))
    .await;

    // Under attack: the address that failed once is refused now, even the right password.
    once.refused(s, "target", PASSWORD).await;
    attackers[0].refused(s, "target", PASSWORD).await;
    attackers[0]
        .refused(s, "target@example.com", "wrong password")
        .await;

    // A clean address still has its password checked: the owner gets in…
    Peer::at(0, 3, 1)
        .login(s, "Target@Example.com", PASSWORD)
        .await
        .expect(200);
    s.login("target", PASSWORD).await;
    // …and a clean address with a wrong password is checked once, then refused.
    let fresh = Peer::at(0, 3, 2);
    fresh.fail(s, "target").await;
    fresh.refused(s, "target", PASSWORD).await;

    // Other accounts are not under attack: the addresses that failed there keep their budgets.
    s.register("neighbour").await;
    once.fail(s, "neighbour").await;
    once.login(s, "neighbour", PASSWORD).await.expect(200);
}

async fn empty_and_oversize_logins_are_counted_per_address_without_harm(s: &TestServer) {
    s.register("owner").await;
    let hostile = Peer::at(0, 4, 1);
    let long = "x".repeat(5000);
    // The same beyond 256 characters: one budget (keys are bounded).
    let longer = format!("{long}{}", "é".repeat(5000));
    for (first, again) in [("", " \t "), (long.as_str(), longer.as_str())] {
        for i in 0..PER_ADDRESS {
            let login = if i % 2 == 0 { first } else { again };
            hostile.fail(s, login).await;
        }
        hostile.refused(s, first, "wrong password").await;
        hostile.refused(s, again, "wrong password").await;
        // Another address is not refused for it.
        Peer::at(0, 4, 2).fail(s, again).await;
    }
    // Nor is the hostile address refused for a real account.
    hostile.login(s, "owner", PASSWORD).await.expect(200);
}

confab_tests::store_tests!(
    an_attacker_locked_out_does_not_lock_out_the_owner,
    past_the_account_ceiling_only_addresses_with_failures_are_refused,
    empty_and_oversize_logins_are_counted_per_address_without_harm,
);
