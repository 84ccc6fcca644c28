//! Use-case tests against mockall mocks of the ports: shared fixtures here, one module per
//! use-case family (`accounts`, `conversations` and `events` are directories, one file per use
//! case or group of use cases).
//!
//! They hold what a use case decides: validation before any store call, what it hands the store,
//! the order of its calls, its limiter use, the events it publishes, how it maps what it gets
//! back. That a store's answer or error then passes through unchanged is not tested here: the
//! store conformance suite (`tests/tests/store`) holds what each store answers, and the
//! black-box suite (`tests/tests/api`) what each route then says.
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod accounts;
mod announcements;
mod conversations;
mod events;
mod files;
mod moderation;
mod otp;
mod pool;
mod presence;
mod reports;
mod transfer;

use std::sync::Arc;
use std::time::Duration;

use confab_domain::{SessionId, Timestamp, User, UserId, Username};
use time::macros::datetime;

use super::{
    Accounts, Conversations, Files, Matchmaking, PoolSettings, Presence, PresenceSettings,
    UploadSettings,
};
use crate::blobs::MockBlobs;
use crate::bus::{EventBus, Subscription};
use crate::clock::Clock;
use crate::hasher::MockPasswordHasher;
use crate::images::MockImages;
use crate::mail::MockMailer;
use crate::otp::{MockCodeMaker, OtpSettings};
use crate::presence::MockPresenceBoard;
use crate::rate_limit::MockRateLimiter;
use crate::store::{
    MockAnnouncements, MockAttachments, MockBlocks, MockCircles, MockGroups, MockHealth,
    MockInvites, MockMatchPool, MockMessages, MockOneTimeCodes, MockReports, MockSessions,
    MockUsers, Principal,
};
use crate::tokens::MockTokenIssuer;
use crate::{AuthFailure, Error, Ports, Result};

// ---------------------------------------------------------------------------------------------
// Fixtures
// ---------------------------------------------------------------------------------------------

/// The instant every test runs at.
const NOW: Timestamp = datetime!(2025-06-01 12:00:00.123 UTC);

/// A clock that never moves.
struct FixedClock(Timestamp);

impl Clock for FixedClock {
    fn now(&self) -> Timestamp {
        self.0
    }
}

/// The bus of the use-case tests: it keeps every published event, in order, for the test to
/// take (the real buses are tested by the shared bus suite in `tests/`).
#[derive(Default)]
struct RecordingBus {
    events: std::sync::Mutex<std::collections::VecDeque<confab_domain::Event>>,
}

impl RecordingBus {
    /// The oldest event not taken yet.
    fn try_recv(&self) -> Option<confab_domain::Event> {
        self.events.lock().unwrap().pop_front()
    }
}

#[async_trait::async_trait]
impl EventBus for RecordingBus {
    async fn publish(&self, event: confab_domain::Event) {
        self.events.lock().unwrap().push_back(event);
    }

    fn subscribe(&self) -> Subscription {
        // No use case subscribes; one that did would hear nothing.
        crate::bus::subscription(1).1
    }

    async fn ready(&self) -> Result<()> {
        Ok(())
    }

    async fn close(&self) {}
}

/// One mock per port; turned into the use cases once the expectations are set. A mock without
/// expectations fails the test on any call.
#[derive(Default)]
struct Mocks {
    users: MockUsers,
    blocks: MockBlocks,
    circles: MockCircles,
    groups: MockGroups,
    messages: MockMessages,
    announcements: MockAnnouncements,
    reports: MockReports,
    sessions: MockSessions,
    hasher: MockPasswordHasher,
    tokens: MockTokenIssuer,
    limiter: MockRateLimiter,
    otp_codes: MockOneTimeCodes,
    invites: MockInvites,
    registration: confab_domain::RegistrationPolicy,
    codes: MockCodeMaker,
    mailer: MockMailer,
    otp: OtpSettings,
    pool: MockMatchPool,
    attachments: MockAttachments,
    blobs: MockBlobs,
    images: MockImages,
    uploads: UploadSettings,
    /// Keeps what the use cases published: tests hold a clone to see it.
    bus: Arc<RecordingBus>,
    presence: MockPresenceBoard,
}

impl Mocks {
    fn ports(self) -> Ports {
        Ports {
            users: Arc::new(self.users),
            blocks: Arc::new(self.blocks),
            circles: Arc::new(self.circles),
            groups: Arc::new(self.groups),
            messages: Arc::new(self.messages),
            announcements: Arc::new(self.announcements),
            reports: Arc::new(self.reports),
            sessions: Arc::new(self.sessions),
            // No use case looks at the health port: any call fails the test.
            health: Arc::new(MockHealth::new()),
            pool: Arc::new(self.pool),
            clock: Arc::new(FixedClock(NOW)),
            hasher: Arc::new(self.hasher),
            tokens: Arc::new(self.tokens),
            limiter: Arc::new(self.limiter),
            bus: self.bus,
            presence: Arc::new(self.presence),
            otp_codes: Arc::new(self.otp_codes),
            invites: Arc::new(self.invites),
            registration: self.registration,
            codes: Arc::new(self.codes),
            mailer: Arc::new(self.mailer),
            otp: self.otp,
            attachments: Arc::new(self.attachments),
            blobs: Arc::new(self.blobs),
            images: Arc::new(self.images),
            uploads: self.uploads,
        }
    }

    fn accounts(self) -> Accounts {
        Accounts::new(self.ports())
    }

    fn conversations(self) -> Conversations {
        Conversations::new(self.ports())
    }

    fn files(self) -> Files {
        Files::new(self.ports())
    }

    fn matchmaking(self) -> Matchmaking {
        Matchmaking::new(self.ports(), PoolSettings::default())
    }

    fn presence(self) -> Presence {
        Presence::new(self.ports(), PresenceSettings::default())
    }
}

fn user_named(name: &str) -> User {
    User {
        id: UserId::new(),
        username: Username::parse(name).unwrap(),
        display_name: None,
        email: None,
        country: None,
        is_admin: false,
        two_factor: false,
        created_at: NOW,
        banned: false,
        last_seen_at: None,
    }
}

fn caller(is_admin: bool) -> Principal {
    Principal {
        user_id: UserId::new(),
        session_id: SessionId::new(),
        is_admin,
        banned: false,
    }
}

// ---------------------------------------------------------------------------------------------
// Assertions
// ---------------------------------------------------------------------------------------------

#[track_caller]
fn assert_invalid<T: std::fmt::Debug>(res: Result<T>, field: &str) {
    match res {
        Err(Error::Invalid(invalid)) => assert_eq!(invalid.field, field, "{invalid:?}"),
        other => panic!("expected Invalid({field:?}), got {other:?}"),
    }
}

#[track_caller]
fn assert_unauthorized<T: std::fmt::Debug>(res: Result<T>, why: AuthFailure) {
    match res {
        Err(Error::Unauthorized(got)) => assert_eq!(got, why),
        other => panic!("expected Unauthorized({why:?}), got {other:?}"),
    }
}

#[track_caller]
fn assert_rate_limited<T: std::fmt::Debug>(res: Result<T>, after: Duration) {
    match res {
        Err(Error::RateLimited { retry_after }) => assert_eq!(retry_after, after),
        other => panic!("expected RateLimited({after:?}), got {other:?}"),
    }
}

#[track_caller]
fn assert_not_found<T: std::fmt::Debug>(res: Result<T>, what: &str) {
    match res {
        Err(Error::NotFound(got)) => assert_eq!(got, what),
        other => panic!("expected NotFound({what:?}), got {other:?}"),
    }
}

/// A member as a store answers, with its own (fresh) user id.
fn member(role: confab_domain::Role) -> crate::store::Member {
    crate::store::Member {
        user: user_named("bob"),
        role,
        joined_at: NOW,
        last_read_seq: 0,
    }
}

/// The caller's standing in a group it just created.
fn owner_membership() -> crate::store::MyMembership {
    crate::store::MyMembership {
        role: confab_domain::Role::Owner,
        alias: None,
        last_read_seq: 0,
        unread_count: 0,
        mention_count: 0,
    }
}
