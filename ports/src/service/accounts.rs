//! Register, log in, refresh, log out.

use std::sync::Arc;

use confab_domain::{
    Country, DisplayName, Email, InviteCode, OtpCode, OtpPurpose, OtpTarget, Password,
    RegistrationPolicy, SessionId, User, UserId, Username,
};

use crate::store::{NewSession, NewUser, Rotation};
use crate::tokens::RefreshToken;
use crate::{AuthFailure, Error, Ports, Result};

mod throttle;

use throttle::{LoginAttempt, account_key};

/// Account use cases. Cheap to clone; shared by every transport.
#[derive(Clone)]
pub struct Accounts {
    /// Shared: every request clones the use cases, and a clone must cost one count.
    pub(crate) ports: Arc<Ports>,
}

/// A registration as a client sends it; validated here, once, for every transport.
#[derive(Debug, Clone, Default)]
pub struct Registration {
    pub username: String,
    pub password: String,
    pub email: Option<String>,
    pub display_name: Option<String>,
    pub country: Option<String>,
    /// One-time code sent (purpose `register`) to `email`; needed when the server verifies
    /// emails, ignored otherwise.
    pub otp: Option<String>,
    /// Invite code; needed when the server takes registrations by invite, ignored otherwise.
    pub invite: Option<String>,
}

/// A token pair for the client.
#[derive(Debug, Clone)]
pub struct IssuedTokens {
    pub access_token: String,
    pub refresh_token: String,
    /// Seconds until the access token expires.
    pub expires_in: u64,
}

/// The answer to register, login and refresh.
#[derive(Debug, Clone)]
pub struct Authenticated {
    pub user: User,
    pub tokens: IssuedTokens,
}

/// Rate-limit keys are bounded so that a hostile 5,000-character login cannot bloat the limiter.
const MAX_KEY_LEN: usize = 256;

pub(crate) fn limiter_key(raw: &str) -> String {
    raw.trim()
        .to_lowercase()
        .chars()
        .take(MAX_KEY_LEN)
        .collect()
}

impl Accounts {
    /// Builds the use cases over the given ports.
    pub fn new(ports: Ports) -> Self {
        Self {
            ports: Arc::new(ports),
        }
    }

    /// Validates a registration into the account to create, hashing its password.
    pub(crate) async fn new_user(&self, reg: Registration, is_admin: bool) -> Result<NewUser> {
        let username = Username::parse(&reg.username)?;
        let password = Password::parse(&reg.password)?;
        let email = reg.email.as_deref().map(Email::parse).transpose()?;
        let display_name = reg
            .display_name
            .as_deref()
            .map(DisplayName::parse)
            .transpose()?;
        let country = reg.country.as_deref().map(Country::parse).transpose()?;
        let password_hash = self.ports.hasher.hash(password).await?;
        Ok(NewUser {
            id: UserId::new(),
            username,
            display_name,
            email,
            country,
            password_hash,
            is_admin,
            created_at: self.ports.clock.now(),
        })
    }

    /// Creates an account and logs it in, in one store transaction.
    /// When the server verifies emails, `email` and its `register` code are required; the
    /// code is checked last, once everything else is valid, so a typo elsewhere does not use
    /// it up.
    /// The registration policy is checked first, before anything else is looked at; an invite
    /// is spent with the account, in one store transaction.
    pub async fn register(&self, reg: Registration) -> Result<Authenticated> {
        let policy = self.ports.registration;
        confab_domain::may_register(policy, reg.invite.is_some())?;
        // Its shape is checked whatever the policy: a client learns of a typo at once.
        let invite = reg.invite.as_deref().map(InviteCode::parse).transpose()?;
        let invite = invite.filter(|_| policy == RegistrationPolicy::Invite);
        let otp = reg.otp.clone();
        let new_user = self.new_user(reg, false).await?;
        if self.ports.otp.verify_emails {
            let email = new_user.email.clone().ok_or_else(|| {
                Error::invalid("email", "is required: this server verifies emails")
            })?;
            let raw = otp.ok_or_else(|| {
                Error::invalid(
                    "otp",
                    "is required: ask for a code for this email (POST /auth/otp, purpose register)",
                )
            })?;
            let code = OtpCode::parse(&raw)?;
            if !self
                .use_code(OtpPurpose::Register, &OtpTarget::Address(email), &code)
                .await?
            {
                return Err(crate::service::otp::wrong_code());
            }
        }
        let (session, refresh) = self.new_session(new_user.id);
        let session_id = session.id;
        let user = match invite {
            Some(code) => {
                let now = self.ports.clock.now();
                self.ports
                    .invites
                    .create_user_with_invite(&code, now, new_user, Some(session))
                    .await?
            }
            None => {
                self.ports
                    .users
                    .create_user(new_user, Some(session))
                    .await?
            }
        };
        Ok(self.tokens_for(user, session_id, refresh.token))
    }

    /// Logs in by username or email. Unknown account and wrong password answer alike, in
    /// about the same time. Failures are throttled per account *and client address*, per
    /// address, and past a per-account ceiling only for addresses that failed against the
    /// account (the policy: `accounts/throttle.rs`): failures from elsewhere never refuse an
    /// address that has none. Every attempt spends its units *before* the password is checked,
    /// so parallel guesses cannot outrun the count; a successful attempt gets them back.
    pub async fn login(
        &self,
        login: &str,
        password: &str,
        client_ip: &str,
    ) -> Result<Authenticated> {
        self.login_with_otp(login, password, None, client_ip).await
    }

    /// [`Accounts::login`] with the one-time code an account with two-factor login needs.
    /// Right password without a code: a code is mailed and the answer is 401 `otp_required`
    /// (the attempt does not count as a failure). A wrong, used or expired code counts as a
    /// failed login (401 `invalid_credentials`); a malformed one is refused first (422).
    pub async fn login_with_otp(
        &self,
        login: &str,
        password: &str,
        otp: Option<&str>,
        client_ip: &str,
    ) -> Result<Authenticated> {
        let code = otp.map(OtpCode::parse).transpose()?;
        let found = self.ports.users.credentials_by_login(login.trim()).await?;
        // One budget per account, however it is named (username or email); unknown logins
        // get one per spelling, which is all an attacker can vary for them.
        let account = account_key(found.as_ref().map(|c| c.user.id), login);
        let attempt = LoginAttempt::begin(&*self.ports.limiter, account, client_ip).await?;

        let (user, hash) = match found {
            Some(c) => (Some(c.user), Some(c.password_hash)),
            None => (None, None),
        };
        // No stored password is longer than the rule allows; skip hashing a hostile megabyte.
        let plausible = password.chars().count() <= Password::MAX;
        let ok = if plausible {
            let verified = self
                .ports
                .hasher
                .verify(Password::presented(password), hash)
                .await;
            match verified {
                Ok(ok) => ok,
                Err(e) => {
                    // A fault of ours is not a failed attempt of theirs.
                    attempt.give_back().await;
                    return Err(e);
                }
            }
        } else {
            false
        };
        match user {
            Some(user) if ok => {
                // Told only to someone who knows the password, before any code is mailed.
                if user.banned {
                    attempt.give_back().await;
                    return Err(Error::Banned);
                }
                if user.two_factor {
                    let Some(code) = code else {
                        attempt.give_back().await;
                        self.send_login_code(&user).await?;
                        return Err(Error::Unauthorized(AuthFailure::OtpRequired));
                    };
                    let target = OtpTarget::Account(user.id);
                    // An error here (the code budget spent, the store down) keeps the units
                    // spent, as a wrong code does.
                    if !self.use_code(OtpPurpose::Login, &target, &code).await? {
                        attempt.failed().await;
                        return Err(Error::Unauthorized(AuthFailure::InvalidCredentials));
                    }
                }
                attempt.give_back().await;
                self.start_login(user).await
            }
            _ => {
                attempt.failed().await;
                Err(Error::Unauthorized(AuthFailure::InvalidCredentials))
            }
        }
    }

    /// Trades a live refresh token for a new pair. A token presented twice revokes its login.
    pub async fn refresh(&self, refresh_token: &str) -> Result<Authenticated> {
        let now = self.ports.clock.now();
        let presented = self.ports.tokens.hash_refresh(refresh_token);
        let next = self.ports.tokens.new_refresh();
        let expires_at = now + self.ports.tokens.refresh_ttl();
        let rotation = self
            .ports
            .sessions
            .rotate_refresh(presented, next.hash, expires_at, now)
            .await?;
        let (session_id, user) = match rotation {
            Rotation::Rotated { session_id, user } => (session_id, user),
            Rotation::Reused => {
                tracing::warn!("refresh token reused: its login was revoked");
                return Err(Error::Unauthorized(AuthFailure::InvalidToken));
            }
            Rotation::Rejected => return Err(Error::Unauthorized(AuthFailure::InvalidToken)),
            Rotation::Banned => return Err(Error::Banned),
        };
        Ok(self.tokens_for(user, session_id, next.token))
    }

    /// Ends the login a refresh token belongs to. Unknown tokens are not an error: the
    /// client's goal, being logged out, holds either way.
    pub async fn logout(&self, refresh_token: &str) -> Result<()> {
        let now = self.ports.clock.now();
        let presented = self.ports.tokens.hash_refresh(refresh_token);
        self.ports.sessions.end_session(presented, now).await
    }

    /// A new login for `user_id` with its first refresh token.
    fn new_session(&self, user_id: UserId) -> (NewSession, RefreshToken) {
        let now = self.ports.clock.now();
        let refresh = self.ports.tokens.new_refresh();
        let session = NewSession {
            id: SessionId::new(),
            user_id,
            refresh_hash: refresh.hash.clone(),
            refresh_expires_at: now + self.ports.tokens.refresh_ttl(),
            now,
        };
        (session, refresh)
    }

    /// The answer for a login: the user, a fresh access token and the refresh token.
    fn tokens_for(
        &self,
        user: User,
        session_id: SessionId,
        refresh_token: String,
    ) -> Authenticated {
        let access = self
            .ports
            .tokens
            .issue_access(user.id, session_id, self.ports.clock.now());
        Authenticated {
            user,
            tokens: IssuedTokens {
                access_token: access.token,
                refresh_token,
                expires_in: access.expires_in,
            },
        }
    }

    async fn start_login(&self, user: User) -> Result<Authenticated> {
        let (session, refresh) = self.new_session(user.id);
        let session_id = session.id;
        self.ports.sessions.start_session(session).await?;
        Ok(self.tokens_for(user, session_id, refresh.token))
    }
}
