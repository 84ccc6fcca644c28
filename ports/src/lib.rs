//! What the core needs from the world, and the use cases written once over it.
//!
//! Traits here are implemented by `adapters/*`; the use cases in [`service`] orchestrate them:
//! validate input with the `domain` rules, call one atomic store operation, return typed results.
//! Nothing in this crate knows HTTP, JSON, SQL or a particular crypto library.
#![forbid(unsafe_code)]

pub mod blobs;
pub mod bus;
pub mod clock;
pub mod error;
pub mod hasher;
pub mod images;
pub mod mail;
pub mod otp;
pub mod presence;
pub mod rate_limit;
pub mod service;
pub mod store;
pub mod tokens;

pub use error::{AuthFailure, Error, Result};

use std::sync::Arc;

/// Every port the use cases need, built once by the binary and shared.
#[derive(Clone)]
pub struct Ports {
    pub users: Arc<dyn store::Users>,
    pub blocks: Arc<dyn store::Blocks>,
    /// Who shares a group with whom, and when users were last seen (presence).
    pub circles: Arc<dyn store::Circles>,
    pub groups: Arc<dyn store::Groups>,
    pub messages: Arc<dyn store::Messages>,
    pub announcements: Arc<dyn store::Announcements>,
    /// Reports of messages and users, for the admins.
    pub reports: Arc<dyn store::Reports>,
    pub sessions: Arc<dyn store::Sessions>,
    pub health: Arc<dyn store::Health>,
    pub pool: Arc<dyn store::MatchPool>,
    pub clock: Arc<dyn clock::Clock>,
    pub hasher: Arc<dyn hasher::PasswordHasher>,
    pub tokens: Arc<dyn tokens::TokenIssuer>,
    pub limiter: Arc<dyn rate_limit::RateLimiter>,
    pub bus: Arc<dyn bus::EventBus>,
    /// Where users' sockets are across instances (only the presence use case uses it).
    pub presence: Arc<dyn presence::PresenceBoard>,
    /// Invite codes (for `--registration invite`).
    pub invites: Arc<dyn store::Invites>,
    /// Who may register over the API.
    pub registration: confab_domain::RegistrationPolicy,
    /// Outstanding one-time codes.
    pub otp_codes: Arc<dyn store::OneTimeCodes>,
    pub codes: Arc<dyn otp::CodeMaker>,
    pub mailer: Arc<dyn mail::Mailer>,
    pub otp: otp::OtpSettings,
    /// What uploaded files are (the bytes are in `blobs`).
    pub attachments: Arc<dyn store::Attachments>,
    pub blobs: Arc<dyn blobs::Blobs>,
    pub images: Arc<dyn images::Images>,
    pub uploads: service::UploadSettings,
}
