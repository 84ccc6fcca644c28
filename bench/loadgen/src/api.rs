//! The HTTP side of a run: one keep-alive client for every request, and the setup every
//! scenario shares (registering users, creating groups with their members, sending a message,
//! reading `/metrics`). Setup is not measured.

use std::sync::Arc;
use std::time::{Duration, Instant};

use anyhow::{Context, Result, bail};
use futures::{StreamExt, TryStreamExt, stream};
use reqwest::{StatusCode, Url};
use serde::Deserialize;
use serde_json::json;
use tokio_tungstenite::tungstenite::Bytes;

/// Every bench user's password.
pub const PASSWORD: &str = "correct horse battery";
/// Registrations in flight at once: each costs the server an Argon2 hash.
const REGISTER_CONCURRENCY: usize = 16;
/// Other setup requests (adding members, refreshing tokens) in flight at once.
const SETUP_CONCURRENCY: usize = 64;
/// Members named when a group is created (the server takes at most 1,000, and the body is
/// limited); the rest are added one request each.
const INITIAL_MEMBERS: usize = 400;

/// A registered user and its tokens.
#[derive(Clone, Debug)]
pub struct User {
    pub id: String,
    pub username: String,
    pub access: String,
    refresh: String,
    /// Which of the run's URLs this user talks to.
    pub url: usize,
    issued: Instant,
    lifetime: Duration,
}

/// The server(s) of a run, and the one HTTP client every request goes through.
#[derive(Clone, Debug)]
pub struct Api {
    http: reqwest::Client,
    urls: Arc<[Url]>,
}

#[derive(Deserialize)]
struct Session {
    user: UserBody,
    tokens: Tokens,
}

#[derive(Deserialize)]
struct UserBody {
    id: String,
    username: String,
}

#[derive(Deserialize)]
struct Tokens {
    access_token: String,
    refresh_token: String,
    expires_in: u64,
}

/// The parts of a `message` a scenario's setup needs.
#[derive(Clone, Copy, Debug, Deserialize)]
pub struct Posted {
    pub id: uuid::Uuid,
    pub rev: u64,
}

/// A short random tag for this run, so usernames never collide with an earlier run's.
pub fn run_id() -> String {
    let simple = uuid::Uuid::now_v7().simple().to_string();
    // The last characters of a v7 UUID are random.
    simple[simple.len() - 8..].to_owned()
}

impl Api {
    /// A client for `urls` (base URLs such as `http://127.0.0.1:8080`).
    pub fn new<S: AsRef<str>>(urls: &[S]) -> Result<Self> {
        if urls.is_empty() {
            bail!("no server URL given");
        }
        let urls = urls
            .iter()
            .map(|u| Url::parse(u.as_ref()).with_context(|| format!("bad URL {:?}", u.as_ref())))
            .collect::<Result<Vec<_>>>()?;
        let http = reqwest::Client::builder()
            .pool_max_idle_per_host(usize::MAX)
            .pool_idle_timeout(Duration::from_secs(300))
            .tcp_nodelay(true)
            .timeout(Duration::from_secs(60))
            .build()
            .context("building the HTTP client")?;
        Ok(Self {
            http,
            urls: urls.into(),
        })
    }

    /// The shared HTTP client.
    pub fn http(&self) -> &reqwest::Client {
        &self.http
    }

    /// The run's base URLs.
    pub fn urls(&self) -> &[Url] {
        &self.urls
    }

    /// The full URL of `path` on the run's `i`th server (round robin).
    pub fn endpoint(&self, i: usize, path: &str) -> String {
        let base = self.urls[i % self.urls.len()]
            .as_str()
            .trim_end_matches('/');
        format!("{base}{path}")
    }

    /// Registers `n` users named `<prefix>_<i>`, user `i` on URL `i % urls`, a bounded number
    /// at a time (Argon2 is slow on purpose).
    pub async fn register(&self, prefix: &str, n: usize) -> Result<Vec<User>> {
        stream::iter(0..n)
            .map(|i| self.register_one(format!("{prefix}_{i}"), i))
            .buffered(REGISTER_CONCURRENCY)
            .try_collect()
            .await
    }

    async fn register_one(&self, username: String, i: usize) -> Result<User> {
        let url = i % self.urls.len();
        let body = json!({"username": username, "password": PASSWORD});
        let res = self
            .http
            .post(self.endpoint(url, "/api/v1/auth/register"))
            .json(&body)
            .send()
            .await
            .with_context(|| format!("registering {username}"))?;
        let session: Session = expect_json(res, StatusCode::CREATED, "register").await?;
        Ok(User {
            id: session.user.id,
            username: session.user.username,
            access: session.tokens.access_token,
            refresh: session.tokens.refresh_token,
            url,
            issued: Instant::now(),
            lifetime: Duration::from_secs(session.tokens.expires_in),
        })
    }

    /// Refreshes the tokens of users whose access token has less than `left` to live (a long
    /// registration phase would otherwise hand sockets tokens about to expire).
    pub async fn refresh_stale(&self, users: &mut [User], left: Duration) -> Result<()> {
        let stale: Vec<&mut User> = users
            .iter_mut()
            .filter(|u| u.issued.elapsed() + left >= u.lifetime)
            .collect();
        stream::iter(stale)
            .map(|user| self.refresh(user))
            .buffer_unordered(SETUP_CONCURRENCY)
            .try_collect::<()>()
            .await
    }

    async fn refresh(&self, user: &mut User) -> Result<()> {
        let res = self
            .http
            .post(self.endpoint(user.url, "/api/v1/auth/refresh"))
            .json(&json!({"refresh_token": user.refresh}))
            .send()
            .await?;
        let session: Session = expect_json(res, StatusCode::OK, "refresh").await?;
        user.access = session.tokens.access_token;
        user.refresh = session.tokens.refresh_token;
        user.issued = Instant::now();
        Ok(())
    }

    /// Creates a group owned by `owner` with `members` (besides the owner); returns its id.
    pub async fn create_group(
        &self,
        owner: &User,
        name: &str,
        members: &[&User],
    ) -> Result<String> {
        let (first, rest) = members.split_at(members.len().min(INITIAL_MEMBERS));
        let ids: Vec<&str> = first.iter().map(|u| u.id.as_str()).collect();
        let res = self
            .http
            .post(self.endpoint(owner.url, "/api/v1/groups"))
            .bearer_auth(&owner.access)
            .json(&json!({"name": name, "member_ids": ids}))
            .send()
            .await?;
        #[derive(Deserialize)]
        struct Made {
            id: String,
        }
        let made: Made = expect_json(res, StatusCode::CREATED, "create group").await?;
        let path = format!("/api/v1/groups/{}/members", made.id);
        stream::iter(rest)
            .map(|member| {
                let req = self
                    .http
                    .post(self.endpoint(owner.url, &path))
                    .bearer_auth(&owner.access)
                    .json(&json!({"user_id": member.id}));
                async move { expect_status(req.send().await?, StatusCode::CREATED, "add member").await }
            })
            .buffer_unordered(SETUP_CONCURRENCY)
            .try_collect::<Vec<_>>()
            .await?;
        Ok(made.id)
    }

    /// Posts `body` to `group` as `user` (setup, not measured); the new message's id and rev.
    pub async fn post(&self, user: &User, group: &str, body: &str) -> Result<Posted> {
        let res = self
            .http
            .post(self.endpoint(user.url, &format!("/api/v1/groups/{group}/messages")))
            .bearer_auth(&user.access)
            .json(&json!({"body": body, "client_id": uuid::Uuid::now_v7().to_string()}))
            .send()
            .await?;
        expect_json(res, StatusCode::CREATED, "send a message").await
    }

    /// The Prometheus text of the `i`th server's `/metrics`, or `None` when it has none.
    pub async fn metrics(&self, i: usize) -> Result<Option<String>> {
        let res = self
            .http
            .get(self.endpoint(i, "/metrics"))
            .send()
            .await
            .context("reading /metrics")?;
        if !res.status().is_success() {
            return Ok(None);
        }
        Ok(Some(res.text().await?))
    }
}

/// Reads the whole answer; an error naming `what` unless its status is `want`.
pub async fn expect_status(res: reqwest::Response, want: StatusCode, what: &str) -> Result<Bytes> {
    let status = res.status();
    let body = res
        .bytes()
        .await
        .with_context(|| format!("{what}: reading the answer"))?;
    if status != want {
        bail!(
            "{what}: HTTP {status} (wanted {want}): {}",
            String::from_utf8_lossy(&body)
        );
    }
    Ok(body)
}

async fn expect_json<T: serde::de::DeserializeOwned>(
    res: reqwest::Response,
    want: StatusCode,
    what: &str,
) -> Result<T> {
    let body = expect_status(res, want, what).await?;
    serde_json::from_slice(&body).with_context(|| format!("{what}: unexpected answer"))
}
