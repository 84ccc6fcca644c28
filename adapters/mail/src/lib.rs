//! Mail behind the `Mailer` port: SMTP through lettre, or the log when no relay is configured.
#![forbid(unsafe_code)]

use std::time::Duration;

use async_trait::async_trait;
use confab_ports::mail::{Mail, MailError, Mailer};
use lettre::message::Mailbox;
use lettre::message::header::ContentType;
use lettre::transport::smtp::authentication::Credentials;
use lettre::{AsyncSmtpTransport, AsyncTransport, Message, Tokio1Executor};

/// How the connection to the relay is protected.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Security {
    /// Plain text: only for a relay on the same host or a trusted network.
    None,
    /// Plain connect, then `STARTTLS` (required, not opportunistic). Usual port 587.
    StartTls,
    /// TLS from the first byte (SMTPS). Usual port 465.
    Tls,
}

impl Security {
    /// Parses `none`, `starttls` or `tls`.
    pub fn parse(raw: &str) -> Result<Self, String> {
        match raw.to_ascii_lowercase().as_str() {
            "none" => Ok(Security::None),
            "starttls" => Ok(Security::StartTls),
            "tls" => Ok(Security::Tls),
            other => Err(format!(
                "unknown SMTP security {other:?}: use none, starttls or tls"
            )),
        }
    }

    fn default_port(self) -> u16 {
        match self {
            Security::None => 25,
            Security::StartTls => 587,
            Security::Tls => 465,
        }
    }
}

/// Where and how to hand mail over. (Debug leaves the password out.)
#[derive(Clone)]
pub struct SmtpSettings {
    pub host: String,
    /// `None`: the usual port for `security` (25, 587, 465).
    pub port: Option<u16>,
    pub security: Security,
    /// Both or neither.
    pub username: Option<String>,
    pub password: Option<String>,
    /// The sender address.
    pub from: String,
    /// The sender's display name.
    pub from_name: Option<String>,
    /// How long one delivery may take.
    pub timeout: Duration,
}

impl std::fmt::Debug for SmtpSettings {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("SmtpSettings")
            .field("host", &self.host)
            .field("port", &self.port)
            .field("security", &self.security)
            .field("username", &self.username)
            .field("password", &self.password.as_ref().map(|_| "***"))
            .field("from", &self.from)
            .field("from_name", &self.from_name)
            .field("timeout", &self.timeout)
            .finish()
    }
}

/// A setting that cannot work.
#[derive(Debug, thiserror::Error)]
#[error("mail settings: {0}")]
pub struct MailConfigError(pub String);

fn mailbox(name: Option<&str>, address: &str, what: &str) -> Result<Mailbox, String> {
    let address = address
        .parse()
        .map_err(|e| format!("{what} {address:?} is not an email address: {e}"))?;
    Ok(Mailbox::new(name.map(str::to_owned), address))
}

/// Sends over SMTP. Each mail is delivered on a task of its own, so that the request that
/// asked for it answers at once.
#[derive(Clone)]
pub struct SmtpMailer {
    transport: AsyncSmtpTransport<Tokio1Executor>,
    from: Mailbox,
}

impl std::fmt::Debug for SmtpMailer {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("SmtpMailer")
            .field("from", &self.from.to_string())
            .finish_non_exhaustive()
    }
}

impl SmtpMailer {
    /// A mailer for these settings. Does not connect: a relay that is down shows in the log
    /// when a mail fails, not at startup.
    pub fn new(settings: &SmtpSettings) -> Result<Self, MailConfigError> {
        let from = mailbox(settings.from_name.as_deref(), &settings.from, "--mail-from")
            .map_err(MailConfigError)?;
        let host = settings.host.as_str();
        let builder = match settings.security {
            Security::None => AsyncSmtpTransport::<Tokio1Executor>::builder_dangerous(host),
            Security::StartTls => AsyncSmtpTransport::<Tokio1Executor>::starttls_relay(host)
                .map_err(|e| MailConfigError(format!("SMTP host {host:?}: {e}")))?,
            Security::Tls => AsyncSmtpTransport::<Tokio1Executor>::relay(host)
                .map_err(|e| MailConfigError(format!("SMTP host {host:?}: {e}")))?,
        };
        let mut builder = builder
            .port(settings.port.unwrap_or(settings.security.default_port()))
            .timeout(Some(settings.timeout));
        match (&settings.username, &settings.password) {
            (Some(user), Some(password)) => {
                builder = builder.credentials(Credentials::new(user.clone(), password.clone()));
            }
            (None, None) => {}
            _ => {
                return Err(MailConfigError(
                    "--smtp-username and --smtp-password go together".into(),
                ));
            }
        }
        Ok(Self {
            transport: builder.build(),
            from,
        })
    }

    fn message(&self, mail: &Mail) -> Result<Message, MailError> {
        let to = mailbox(None, mail.to.as_str(), "recipient").map_err(MailError)?;
        Message::builder()
            .from(self.from.clone())
            .to(to)
            .subject(mail.subject.clone())
            .header(ContentType::TEXT_PLAIN)
            .body(mail.text.clone())
            .map_err(|e| MailError(e.to_string()))
    }
}

#[async_trait]
impl Mailer for SmtpMailer {
    async fn send(&self, mail: Mail) -> Result<(), MailError> {
        let message = self.message(&mail)?;
        let transport = self.transport.clone();
        tokio::spawn(async move {
            match transport.send(message).await {
                Ok(_) => tracing::info!("mail handed to the SMTP relay"),
                // The relay's answer may name the recipient; the code never appears in it.
                Err(e) => {
                    tracing::warn!(error = %e, "mail could not be delivered to the SMTP relay")
                }
            }
        });
        Ok(())
    }
}

/// Writes each mail to the log instead of sending it: for development, when no SMTP relay is
/// configured. The log then holds live one-time codes; never use it in production.
#[derive(Debug, Default, Clone, Copy)]
pub struct LogMailer;

#[async_trait]
impl Mailer for LogMailer {
    async fn send(&self, mail: Mail) -> Result<(), MailError> {
        tracing::info!(
            to = mail.to.as_str(),
            subject = %mail.subject,
            text = %mail.text,
            "mail not sent (no SMTP relay configured; --smtp-host): written here instead"
        );
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;

    #[test]
    fn debug_output_never_shows_the_password() {
        let mut s = settings();
        s.username = Some("confab".into());
        s.password = Some("hunter2".into());
        let shown = format!("{s:?}");
        assert!(!shown.contains("hunter2"), "{shown}");
        assert!(shown.contains("confab"), "{shown}");
    }

    fn settings() -> SmtpSettings {
        SmtpSettings {
            host: "127.0.0.1".into(),
            port: Some(2525),
            security: Security::None,
            username: None,
            password: None,
            from: "confab@example.com".into(),
            from_name: Some("Confab".into()),
            timeout: Duration::from_secs(5),
        }
    }

    #[test]
    fn security_names_parse() {
        assert_eq!(Security::parse("none"), Ok(Security::None));
        assert_eq!(Security::parse("STARTTLS"), Ok(Security::StartTls));
        assert_eq!(Security::parse("tls"), Ok(Security::Tls));
        assert!(Security::parse("ssl").is_err());
    }

    #[tokio::test]
    async fn a_bad_sender_or_half_credentials_are_refused() {
        let mut s = settings();
        s.from = "not an address".into();
        assert!(SmtpMailer::new(&s).is_err());
        let mut s = settings();
        s.username = Some("u".into());
        assert!(SmtpMailer::new(&s).is_err());
        assert!(SmtpMailer::new(&settings()).is_ok());
    }

    #[tokio::test]
    async fn a_message_has_sender_recipient_subject_and_text() {
        let m = SmtpMailer::new(&settings()).unwrap();
        let mail = Mail {
            to: confab_domain::Email::parse("ada@example.com").unwrap(),
            subject: "Your confab code: 123456".into(),
            text: "Your confab code is 123456".into(),
        };
        let raw = String::from_utf8(m.message(&mail).unwrap().formatted()).unwrap();
        assert!(raw.contains("From: Confab <confab@example.com>"), "{raw}");
        assert!(raw.contains("To: ada@example.com"), "{raw}");
        assert!(raw.contains("Subject: Your confab code: 123456"), "{raw}");
        assert!(raw.contains("123456"), "{raw}");
    }
}
