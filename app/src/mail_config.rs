//! Settings of one-time codes and of the mail that carries them.

use std::sync::Arc;
use std::time::Duration;

use clap::Args;
use confab_mail::{LogMailer, Security, SmtpMailer, SmtpSettings};
use confab_ports::mail::Mailer;

use crate::StartError;
use crate::config::parse_duration;

/// One-time codes and mail.
#[derive(Debug, Clone, Args)]
pub struct MailArgs {
    /// How long a one-time code sent by email stays valid.
    #[arg(long, env = "CONFAB_OTP_TTL", default_value = "10m", value_parser = parse_duration)]
    pub otp_ttl: Duration,
    /// Require an email, proven by a one-time code, to register.
    #[arg(long, env = "CONFAB_VERIFY_EMAILS")]
    pub verify_emails: bool,
    /// One-time codes that may be asked for per address (or login) within --otp-send-window.
    #[arg(long, env = "CONFAB_OTP_SENDS_PER_ADDRESS", default_value_t = 5, value_parser = clap::value_parser!(u32).range(1..))]
    pub otp_sends_per_address: u32,
    /// One-time codes that may be asked for per client address within --otp-send-window.
    #[arg(long, env = "CONFAB_OTP_SENDS_PER_IP", default_value_t = 30, value_parser = clap::value_parser!(u32).range(1..))]
    pub otp_sends_per_ip: u32,
    /// The window for the one-time-code sending limits.
    #[arg(long, env = "CONFAB_OTP_SEND_WINDOW", default_value = "10m", value_parser = parse_duration)]
    pub otp_send_window: Duration,
    /// SMTP relay to send mail through. Unset: each mail is written to the log (development).
    #[arg(long, env = "CONFAB_SMTP_HOST")]
    pub smtp_host: Option<String>,
    /// SMTP port. Default: 25, 587 or 465 by --smtp-security.
    #[arg(long, env = "CONFAB_SMTP_PORT")]
    pub smtp_port: Option<u16>,
    /// `starttls` (required STARTTLS), `tls` (TLS from the start) or `none` (plain text).
    #[arg(long, env = "CONFAB_SMTP_SECURITY", default_value = "starttls", value_parser = Security::parse)]
    pub smtp_security: Security,
    /// SMTP user name (with --smtp-password).
    #[arg(long, env = "CONFAB_SMTP_USERNAME")]
    pub smtp_username: Option<String>,
    /// SMTP password (with --smtp-username).
    #[arg(long, env = "CONFAB_SMTP_PASSWORD", hide_env_values = true)]
    pub smtp_password: Option<String>,
    /// Sender address of the mail the server sends.
    #[arg(long, env = "CONFAB_MAIL_FROM", default_value = "confab@localhost")]
    pub mail_from: String,
    /// Sender name of the mail the server sends.
    #[arg(long, env = "CONFAB_MAIL_FROM_NAME", default_value = "confab")]
    pub mail_from_name: String,
}

/// Longest code lifetime that makes sense (a code is a short-lived secret).
const MAX_OTP_TTL: Duration = Duration::from_secs(24 * 3600);
/// How long one SMTP delivery may take.
const SMTP_TIMEOUT: Duration = Duration::from_secs(30);

impl MailArgs {
    /// The code settings for the use cases.
    pub(crate) fn otp_settings(&self) -> Result<confab_ports::otp::OtpSettings, StartError> {
        if self.otp_ttl.is_zero() || self.otp_ttl > MAX_OTP_TTL {
            return Err(StartError("--otp-ttl must be between 1s and 1d".into()));
        }
        if self.otp_send_window.is_zero() || self.otp_send_window > MAX_OTP_TTL {
            return Err(StartError(
                "--otp-send-window must be between 1s and 1d".into(),
            ));
        }
        Ok(confab_ports::otp::OtpSettings {
            ttl: time::Duration::try_from(self.otp_ttl).unwrap_or(time::Duration::minutes(10)),
            verify_emails: self.verify_emails,
        })
    }

    /// Warns the operator at start when one-time codes would go to the log instead of a mailbox:
    /// fine to try the server, not for real use (whoever reads the log can use any code).
    pub(crate) fn warn_if_logged(&self) {
        if self.smtp_host.is_none() {
            tracing::warn!(
                "no --smtp-host: one-time codes (email verification, two-factor login, password \
                 resets) are written to this log instead of being mailed; set --smtp-host for real use"
            );
        }
    }

    /// The SMTP mailer when a relay is configured, else the log mailer.
    pub(crate) fn mailer(&self) -> Result<Arc<dyn Mailer>, StartError> {
        // No warning here: the admin subcommands build the same ports and print exactly one
        // line; the server warns at start ([`MailArgs::warn_if_logged`]).
        let Some(host) = &self.smtp_host else {
            return Ok(Arc::new(LogMailer));
        };
        let settings = SmtpSettings {
            host: host.clone(),
            port: self.smtp_port,
            security: self.smtp_security,
            username: self.smtp_username.clone(),
            password: self.smtp_password.clone(),
            from: self.mail_from.clone(),
            from_name: Some(self.mail_from_name.clone()).filter(|n| !n.trim().is_empty()),
            timeout: SMTP_TIMEOUT,
        };
        Ok(Arc::new(
            SmtpMailer::new(&settings).map_err(|e| StartError(e.to_string()))?,
        ))
    }
}
