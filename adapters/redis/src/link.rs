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
    conn: Mutex<Option<MultiplexedConnection>>,
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
        }
    }

    async fn connection(&self) -> Result<MultiplexedConnection, LinkError> {
        let mut conn = self.conn.lock().await;
        if let Some(c) = conn.as_ref() {
            return Ok(c.clone());
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
        *conn = Some(made.clone());
        Ok(made)
    }

    /// Runs `call` on the connection, within the response timeout; a failure drops the
    /// connection so the next call reconnects.
    pub(crate) async fn run<T, F, Fut>(&self, call: F) -> Result<T, LinkError>
    where
        F: FnOnce(MultiplexedConnection) -> Fut,
        Fut: std::future::Future<Output = Result<T, RedisError>>,
    {
        let conn = self.connection().await?;
        let result = match tokio::time::timeout(self.limits.response, call(conn)).await {
            Ok(Ok(value)) => Ok(value),
            Ok(Err(e)) => Err(LinkError::Redis(e)),
            Err(_) => Err(LinkError::Timeout(self.limits.response)),
        };
        if result.is_err() {
            *self.conn.lock().await = None;
        }
        result
    }
}
