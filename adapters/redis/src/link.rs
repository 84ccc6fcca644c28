//! One reconnecting connection to Redis for commands (publishes, limiter scripts): made on
//! first use, shared by every caller (multiplexed), dropped after any failure so that the next
//! call connects afresh. Every call is bounded in time — a paused or unreachable Redis makes a
//! call fail within the timeout, never hang; nothing here retries on its own.

use std::time::Duration;

use redis::aio::MultiplexedConnection;
use redis::{AsyncConnectionConfig, Client, RedisError};
use tokio::sync::Mutex;

/// How long a connection attempt and a command may take.
#[derive(Debug, Clone, Copy)]
pub(crate) struct Limits {
    pub connect: Duration,
    pub response: Duration,
}

/// A lazily made, shared connection.
pub(crate) struct Link {
    client: Client,
    limits: Limits,
    /// The connection, with a number that changes with each new one: a failed call drops
    /// the connection only if it is still the one that failed, not a newer one.
    conn: Mutex<Option<(u64, MultiplexedConnection)>>,
    made: std::sync::atomic::AtomicU64,
}

/// A failed call: Redis answered with an error, or did not answer in time.
#[derive(Debug, thiserror::Error)]
pub(crate) enum LinkError {
    #[error(transparent)]
    Redis(#[from] RedisError),
    #[error("no answer within {0:?}")]
    Timeout(Duration),
}

impl Link {
    pub(crate) fn new(client: Client, limits: Limits) -> Self {
        Self {
            client,
            limits,
            conn: Mutex::new(None),
            made: std::sync::atomic::AtomicU64::new(0),
        }
    }

    /// The shared connection, made first if there is none. Callers that arrive while it is
    /// being made wait for that attempt instead of making their own; every caller bounds its
    /// whole call with a timeout of its own ([`Link::run`]).
    async fn connection(&self) -> Result<(u64, MultiplexedConnection), LinkError> {
        let mut conn = self.conn.lock().await;
        if let Some((generation, c)) = conn.as_ref() {
            return Ok((*generation, c.clone()));
        }
        let config = AsyncConnectionConfig::new()
            .set_connection_timeout(Some(self.limits.connect))
            .set_response_timeout(Some(self.limits.response));
        let made = tokio::time::timeout(
            self.limits.connect,
            self.client
                .get_multiplexed_async_connection_with_config(&config),
        )
        .await
        .map_err(|_| LinkError::Timeout(self.limits.connect))??;
        let generation = self.made.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
        *conn = Some((generation, made.clone()));
        Ok((generation, made))
    }

    /// Runs `call` on the connection; the whole of it — waiting for a connection, making
    /// one, the command — within the response timeout. A failure drops the connection it
    /// used, so the next call reconnects.
    pub(crate) async fn run<T, F, Fut>(&self, call: F) -> Result<T, LinkError>
    where
        F: FnOnce(MultiplexedConnection) -> Fut,
        Fut: std::future::Future<Output = Result<T, RedisError>>,
    {
        let limit = self.limits.response;
        let mut used = None;
        let attempt = async {
            let (generation, conn) = self.connection().await?;
            used = Some(generation);
            call(conn).await.map_err(LinkError::Redis)
        };
        let result = match tokio::time::timeout(limit, attempt).await {
            Ok(result) => result,
            Err(_) => Err(LinkError::Timeout(limit)),
        };
        // Not waiting for the lock: whoever holds it is making a new connection already.
        if result.is_err()
            && let Some(failed) = used
            && let Ok(mut conn) = self.conn.try_lock()
            && conn
                .as_ref()
                .is_some_and(|(generation, _)| *generation == failed)
        {
            *conn = None;
        }
        result
    }
}
