//! Sending mail as a port: SMTP in production, the log in development, a mock in unit tests.

use async_trait::async_trait;
use confab_domain::Email;

/// One plain-text mail.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Mail {
    pub to: Email,
    pub subject: String,
    pub text: String,
}

/// Why a mail could not be handed over.
#[derive(Debug, thiserror::Error)]
#[error("mail not sent: {0}")]
pub struct MailError(pub String);

/// Sends mail.
#[cfg_attr(test, mockall::automock)]
#[async_trait]
pub trait Mailer: Send + Sync {
    /// Hands `mail` over for delivery and returns without waiting for the relay: the caller
    /// answers the client at once, the same whether or not a mail went out (no account
    /// enumeration by timing). Delivery failures are the adapter's to log.
    async fn send(&self, mail: Mail) -> Result<(), MailError>;
}
