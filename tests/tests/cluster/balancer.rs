//! A stand-in for the load balancer in front of the instances: it knows which instances are
//! up, sends each request to the client's own instance while it is up and to another one
//! otherwise — no sticky sessions — and retries a send that died with its instance, with the
//! same client id (the idempotent retry every client does).

use std::net::SocketAddr;
use std::sync::Mutex;
use std::time::Duration;

use confab_tests::Session;
use serde_json::{Value, json};

pub struct Balancer {
    addrs: Mutex<Vec<Option<SocketAddr>>>,
    http: reqwest::Client,
}

impl Balancer {
    pub fn new(addrs: impl IntoIterator<Item = SocketAddr>) -> Self {
        Self {
            addrs: Mutex::new(addrs.into_iter().map(Some).collect()),
            http: reqwest::Client::new(),
        }
    }

    /// Marks instance `i` down (`None`) or up at `addr`.
    pub fn set(&self, i: usize, addr: Option<SocketAddr>) {
        self.addrs.lock().unwrap()[i] = addr;
    }

    /// Instance `preferred` if it is up, else the first that is.
    fn pick(&self, preferred: usize) -> Option<SocketAddr> {
        let addrs = self.addrs.lock().unwrap();
        addrs[preferred].or_else(|| addrs.iter().flatten().next().copied())
    }

    /// Sends `body` with `client_id` into `group` until an instance acknowledges it (201, or
    /// 200 for a retry of a send that had committed); returns the acknowledged message.
    pub async fn send(
        &self,
        preferred: usize,
        user: &Session,
        group: &str,
        body: &str,
        client_id: &str,
    ) -> Value {
        for _ in 0..200 {
            if let Some(addr) = self.pick(preferred) {
                let sent = self
                    .http
                    .post(format!("http://{addr}/api/v1/groups/{group}/messages"))
                    .bearer_auth(&user.access)
                    .json(&json!({"body": body, "client_id": client_id}))
                    .timeout(Duration::from_secs(10))
                    .send()
                    .await;
                if let Ok(r) = sent {
                    let status = r.status().as_u16();
                    if status == 200 || status == 201 {
                        return r.json().await.expect("a message");
                    }
                    // 503 while an instance shuts down: try again.
                    assert!(status >= 500, "send refused with {status}");
                }
            }
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
        panic!("no instance acknowledged {client_id}");
    }
}
