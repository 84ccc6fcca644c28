//! One-time codes by email: asking for one, and the flows that take one (register, two-factor
//! login, email change, password reset).

use confab_domain::{Email, OtpCode, OtpPurpose, OtpTarget, Password};

use crate::mail::Mail;
use crate::rate_limit::Bucket;
use crate::service::Accounts;
use crate::service::accounts::limiter_key;
use crate::store::{NewOtp, Principal};
use crate::{AuthFailure, Error, Result};

/// `POST /auth/otp` as a client sends it; validated here.
#[derive(Debug, Clone, Default)]
pub struct OtpRequest {
    pub purpose: String,
    /// Username or email, for `login` and `password_reset`.
    pub login: Option<String>,
    /// The address, for `register` and `email_change`.
    pub email: Option<String>,
}

/// `POST /auth/password-reset` as a client sends it.
#[derive(Debug, Clone, Default)]
pub struct PasswordReset {
    pub login: String,
    pub otp: String,
    pub password: String,
}

/// Longest `login` accepted: a username or an email, with room to spare.
const MAX_LOGIN_LEN: usize = 256;

fn required<'a>(
    value: &'a Option<String>,
    field: &'static str,
    purpose: OtpPurpose,
) -> Result<&'a str> {
    value.as_deref().ok_or_else(|| {
        Error::invalid(
            field,
            format!("is required for purpose {}", purpose.as_str()),
        )
    })
}

fn unused(value: &Option<String>, field: &'static str, purpose: OtpPurpose) -> Result<()> {
    match value {
        Some(_) => Err(Error::invalid(
            field,
            format!("is not used for purpose {}", purpose.as_str()),
        )),
        None => Ok(()),
    }
}

fn parse_login(raw: &str) -> Result<&str> {
    let login = raw.trim();
    if login.is_empty() || login.chars().count() > MAX_LOGIN_LEN {
        return Err(Error::invalid(
            "login",
            "must be a username or an email address",
        ));
    }
    Ok(login)
}

/// Who a requested code is for, before the account (if any) is looked up.
enum Wanted<'a> {
    Address(Email),
    Account(&'a str),
}

impl Accounts {
    /// Sends a one-time code for `req.purpose`. Answers the same whether or not an account
    /// exists (no mail goes out when none does); refuses malformed requests (422), callers
    /// without a token for `email_change` (401), and requests over the sending budget of the
    /// client address or of the typed address/login (429). The budgets are spent before
    /// anything is looked up, for known and unknown accounts alike, so a 429 says nothing
    /// about accounts either.
    pub async fn request_otp(
        &self,
        caller: Option<&crate::store::Principal>,
        req: OtpRequest,
        client_ip: &str,
    ) -> Result<()> {
        let purpose = OtpPurpose::parse(&req.purpose)?;
        let wanted = match purpose {
            OtpPurpose::Register | OtpPurpose::EmailChange => {
                unused(&req.login, "login", purpose)?;
                Wanted::Address(Email::parse(required(&req.email, "email", purpose)?)?)
            }
            OtpPurpose::Login | OtpPurpose::PasswordReset => {
                unused(&req.email, "email", purpose)?;
                Wanted::Account(parse_login(required(&req.login, "login", purpose)?)?)
            }
        };
        let caller = match (purpose, caller) {
            (OtpPurpose::EmailChange, None) => {
                return Err(Error::Unauthorized(AuthFailure::InvalidToken));
            }
            (_, caller) => caller,
        };

        // A budget per purpose: asking for (say) reset codes cannot use up the budget that
        // a two-factor user's login codes come from.
        let address_key = match &wanted {
            Wanted::Address(email) => format!("{}:{}", purpose.as_str(), email.as_str()),
            Wanted::Account(login) => format!("{}:{}", purpose.as_str(), limiter_key(login)),
        };
        let ip_key = limiter_key(client_ip);
        let limiter = &self.ports.limiter;
        limiter.hit(Bucket::OtpSendsPerIp, &ip_key).await?;
        if let Err(e) = limiter.hit(Bucket::OtpSendsPerAddress, &address_key).await {
            limiter.refund(Bucket::OtpSendsPerIp, &ip_key).await;
            return Err(e.into());
        }

        let (target, to) = match (purpose, wanted) {
            (OtpPurpose::Register, Wanted::Address(email)) => {
                (OtpTarget::Address(email.clone()), email)
            }
            (OtpPurpose::EmailChange, Wanted::Address(email)) => match caller {
                Some(p) => (OtpTarget::AccountAddress(p.user_id, email.clone()), email),
                None => return Err(Error::Unauthorized(AuthFailure::InvalidToken)),
            },
            (_, Wanted::Account(login)) => {
                let found = self.ports.users.credentials_by_login(login).await?;
                let user = match found {
                    Some(c) => c.user,
                    None => return Ok(()),
                };
                // A login code is only any use to an account that asks for one at login.
                if purpose == OtpPurpose::Login && !user.two_factor {
                    return Ok(());
                }
                match user.email {
                    Some(email) => (OtpTarget::Account(user.id), email),
                    None => return Ok(()),
                }
            }
            // `wanted` was built from the purpose just above.
            (_, Wanted::Address(_)) => return Ok(()),
        };
        self.send_code(purpose, &target, to).await
    }

    /// Makes, keeps and mails a new code, replacing any earlier one for the same target. A
    /// mail that cannot be handed over is logged, not reported: the answer must not depend on
    /// whether a mail went out.
    pub(crate) async fn send_code(
        &self,
        purpose: OtpPurpose,
        target: &OtpTarget,
        to: Email,
    ) -> Result<()> {
        let now = self.ports.clock.now();
        let key = target.key();
        let code = self.ports.codes.new_code();
        let digest = self.ports.codes.digest(purpose, &key, &code);
        self.ports
            .otp_codes
            .put_otp(NewOtp {
                purpose,
                target: key,
                digest,
                expires_at: now + self.ports.otp.ttl,
                created_at: now,
            })
            .await?;
        let mail = compose(purpose, &code, to, self.ports.otp.ttl);
        if let Err(e) = self.ports.mailer.send(mail).await {
            tracing::warn!(error = %e, purpose = purpose.as_str(), "one-time code not mailed");
        }
        Ok(())
    }

    /// Whether `code` is the live code for (`purpose`, `target`); using it up when it is.
    pub(crate) async fn use_code(
        &self,
        purpose: OtpPurpose,
        target: &OtpTarget,
        code: &OtpCode,
    ) -> Result<bool> {
        let key = target.key();
        // Wrong codes are budgeted per target across codes (not only 5 per code): asking for
        // new codes again and again must not buy unlimited guesses.
        let budget = code_budget_key(&key);
        let limiter = &self.ports.limiter;
        limiter
            .hit(Bucket::LoginFailuresPerAccount, &budget)
            .await?;
        let digest = self.ports.codes.digest(purpose, &key, code);
        let used = self
            .ports
            .otp_codes
            .use_otp(purpose, key, digest, self.ports.clock.now())
            .await;
        if !matches!(used, Ok(false)) {
            limiter
                .refund(Bucket::LoginFailuresPerAccount, &budget)
                .await;
        }
        used
    }

    /// Sets a new password with a code sent for `password_reset`, and ends every login of
    /// the account. An unknown login and a wrong, used or expired code answer alike (401
    /// `invalid_credentials`); each try spends from the client address's login-failure budget.
    pub async fn reset_password(&self, reset: PasswordReset, client_ip: &str) -> Result<()> {
        let login = parse_login(&reset.login)?;
        let code = OtpCode::parse(&reset.otp)?;
        let password = Password::parse(&reset.password)?;
        let ip_key = limiter_key(client_ip);
        let limiter = &self.ports.limiter;
        limiter.hit(Bucket::LoginFailuresPerIp, &ip_key).await?;
        // Hashed before the lookup so that known and unknown logins take about as long.
        let hash = self.ports.hasher.hash(password).await?;
        let user = match self.ports.users.credentials_by_login(login).await? {
            Some(c) => c.user,
            None => {
                // Spent as a known account's code budget is, so that running out of it (429)
                // does not tell known logins from unknown ones.
                let budget = code_budget_key(&format!("login:{}", limiter_key(login)));
                limiter
                    .hit(Bucket::LoginFailuresPerAccount, &budget)
                    .await?;
                return Err(Error::Unauthorized(AuthFailure::InvalidCredentials));
            }
        };
        if !self
            .use_code(
                OtpPurpose::PasswordReset,
                &OtpTarget::Account(user.id),
                &code,
            )
            .await?
        {
            return Err(Error::Unauthorized(AuthFailure::InvalidCredentials));
        }
        limiter.refund(Bucket::LoginFailuresPerIp, &ip_key).await;
        self.ports
            .users
            .replace_password(user.id, hash, self.ports.clock.now())
            .await
    }

    /// The code-sending half of a two-factor login: the password was right, no code came.
    /// Sending is budgeted per address like `request_otp`; over the budget nothing is sent
    /// (the caller already gets `otp_required`, and the codes sent earlier still work).
    pub(crate) async fn send_login_code(&self, user: &confab_domain::User) -> Result<()> {
        let Some(email) = user.email.clone() else {
            return Ok(());
        };
        let key = format!(
            "{}:{}",
            OtpPurpose::Login.as_str(),
            limiter_key(email.as_str())
        );
        if self
            .ports
            .limiter
            .hit(Bucket::OtpSendsPerAddress, &key)
            .await
            .is_err()
        {
            tracing::info!("login code not sent: the address's sending budget is spent");
            return Ok(());
        }
        self.send_code(OtpPurpose::Login, &OtpTarget::Account(user.id), email)
            .await
    }

    /// Checks the code an email change needs: sent to the new address, for this account.
    pub(crate) async fn check_email_change(
        &self,
        caller: &Principal,
        email: &Email,
        otp: Option<&str>,
    ) -> Result<()> {
        let raw = otp.ok_or_else(|| {
            Error::invalid(
                "otp",
                "changing the email needs a code sent to the new address (POST /auth/otp, purpose email_change)",
            )
        })?;
        let code = OtpCode::parse(raw)?;
        let target = OtpTarget::AccountAddress(caller.user_id, email.clone());
        if !self
            .use_code(OtpPurpose::EmailChange, &target, &code)
            .await?
        {
            return Err(wrong_code());
        }
        Ok(())
    }
}

/// A code that is wrong, used, burned or expired, where the answer is a validation error.
pub(crate) fn wrong_code() -> Error {
    Error::invalid(
        "otp",
        "the code is wrong, used or expired; ask for a new one",
    )
}

/// The mail that carries a code: what it is for, and for how long it works.
fn compose(purpose: OtpPurpose, code: &OtpCode, to: Email, ttl: time::Duration) -> Mail {
    let minutes = ttl.whole_minutes().max(1);
    Mail {
        to,
        subject: format!("Your confab code: {}", code.as_str()),
        text: format!(
            "Your confab code is {code}\n\n\
             Use it {what}. It expires in {minutes} minute{s} and works once.\n\n\
             If you did not ask for it, ignore this mail.\n",
            code = code.as_str(),
            what = purpose.describe(),
            s = if minutes == 1 { "" } else { "s" },
        ),
    }
}

/// The failure budget of codes presented for one target (an account or an address).
fn code_budget_key(target: &str) -> String {
    format!("code:{target}")
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;

    #[test]
    fn the_mail_says_what_the_code_is_for_and_when_it_expires() {
        let code = OtpCode::parse("012345").unwrap();
        let to = Email::parse("ada@example.com").unwrap();
        let mail = compose(
            OtpPurpose::PasswordReset,
            &code,
            to,
            time::Duration::minutes(10),
        );
        assert!(mail.subject.contains("012345"));
        assert!(mail.text.contains("012345"));
        assert!(mail.text.contains("set a new password"));
        assert!(mail.text.contains("10 minutes"));
    }
}
