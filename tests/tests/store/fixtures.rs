//! Fresh stores for the suite, and the small builders every case uses.

use std::sync::Arc;
use std::time::Duration;

use confab_domain::{
    Body, ClientId, Email, GroupId, GroupName, MessageId, Timestamp, UserId, Username,
};
use confab_ports::blobs::Blobs;
use confab_ports::hasher::PasswordHash;
use confab_ports::store::{
    Announcements, Attachments, Blocks, Circles, Groups, Health, Invites, MatchPool, Messages,
    NewGroup, NewMessage, NewUser, OneTimeCodes, Reports, Sessions, Transfer, Users,
};
use confab_tests::TestDatabase;
use tempfile::TempDir;
use time::macros::datetime;

/// Which store a case runs on.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Kind {
    Sqlite,
    Postgres,
}

/// One fresh store behind every store trait, and what keeps it alive.
pub struct Fresh {
    #[allow(dead_code)] // for cases that differ by store (say why where used)
    pub kind: Kind,
    pub users: Arc<dyn Users>,
    pub blocks: Arc<dyn Blocks>,
    pub sessions: Arc<dyn Sessions>,
    pub groups: Arc<dyn Groups>,
    pub messages: Arc<dyn Messages>,
    pub announcements: Arc<dyn Announcements>,
    pub reports: Arc<dyn Reports>,
    pub invites: Arc<dyn Invites>,
    pub pool: Arc<dyn MatchPool>,
    pub otp: Arc<dyn OneTimeCodes>,
    pub health: Arc<dyn Health>,
    pub transfer: Arc<dyn Transfer>,
    pub attachments: Arc<dyn Attachments>,
    pub circles: Arc<dyn Circles>,
    /// The store's own blobs (their suite is `tests/tests/blobs`; here, for cases that need
    /// bytes next to their rows).
    #[allow(dead_code)]
    pub blobs: Arc<dyn Blobs>,
    _dir: Option<TempDir>,
    _database: Option<TestDatabase>,
}

/// How long a store operation may take in the suite.
const TIMEOUT: Duration = Duration::from_secs(10);

macro_rules! every_port {
    ($store:expr, $kind:expr, $dir:expr, $database:expr) => {{
        let s = Arc::new($store);
        Fresh {
            kind: $kind,
            users: s.clone(),
            blocks: s.clone(),
            sessions: s.clone(),
            groups: s.clone(),
            messages: s.clone(),
            announcements: s.clone(),
            reports: s.clone(),
            invites: s.clone(),
            pool: s.clone(),
            otp: s.clone(),
            health: s.clone(),
            transfer: s.clone(),
            attachments: s.clone(),
            circles: s.clone(),
            blobs: s,
            _dir: $dir,
            _database: $database,
        }
    }};
}

impl Fresh {
    /// A fresh store of `kind`, migrated.
    pub async fn new(kind: Kind) -> Self {
        match kind {
            Kind::Sqlite => {
                let dir = tempfile::tempdir().unwrap();
                let path = dir.path().join("confab.db");
                let store = tokio::task::spawn_blocking(move || {
                    confab_sqlite::SqliteStore::open(&path, TIMEOUT)
                })
                .await
                .unwrap()
                .unwrap();
                every_port!(store, kind, Some(dir), None)
            }
            Kind::Postgres => {
                let database = TestDatabase::new().await;
                let settings = confab_postgres::PgSettings {
                    max_connections: 20,
                    timeout: TIMEOUT,
                };
                let store = confab_postgres::PgStore::connect(database.url(), &settings)
                    .await
                    .unwrap();
                every_port!(store, kind, None, Some(database))
            }
        }
    }
}

/// Instantiates each case (an `async fn(&Fresh)`) once per store, in modules named after the
/// store, so a failure reads `<trait>::sqlite::<case>` or `<trait>::postgres::<case>`.
#[macro_export]
macro_rules! store_cases {
    ($($name:ident),* $(,)?) => {
        mod sqlite {
            $(
                #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
                async fn $name() {
                    let store = $crate::fixtures::Fresh::new($crate::fixtures::Kind::Sqlite).await;
                    super::$name(&store).await;
                }
            )*
        }
        mod postgres {
            $(
                #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
                async fn $name() {
                    let store = $crate::fixtures::Fresh::new($crate::fixtures::Kind::Postgres).await;
                    super::$name(&store).await;
                }
            )*
        }
    };
}

/// The instant cases start at (stores keep milliseconds).
pub const T0: Timestamp = datetime!(2026-12-01 12:00:00.000 UTC);

/// `T0` plus `secs` seconds.
pub fn at(secs: i64) -> Timestamp {
    T0 + time::Duration::seconds(secs)
}

/// A new user named `name` (the hash is a placeholder: stores never check it).
pub fn new_user(name: &str) -> NewUser {
    NewUser {
        id: UserId::new(),
        username: Username::parse(name).unwrap(),
        display_name: None,
        email: None,
        country: None,
        password_hash: PasswordHash("hash".into()),
        is_admin: false,
        created_at: T0,
    }
}

/// Creates a user named `name` and returns its id.
pub async fn user(s: &Fresh, name: &str) -> UserId {
    let new = new_user(name);
    let id = new.id;
    s.users.create_user(new, None).await.unwrap();
    id
}

/// `name` as a group name.
pub fn name(name: &str) -> GroupName {
    GroupName::parse(name).unwrap()
}

/// Creates a group owned by `owner` with `members`; returns its id.
pub async fn group(s: &Fresh, owner: UserId, members: &[UserId]) -> GroupId {
    let new = NewGroup {
        id: GroupId::new(),
        name: name("team"),
        created_by: owner,
        created_at: T0,
        members: members.to_vec(),
    };
    let id = new.id;
    s.groups.create_group(new).await.unwrap();
    id
}

/// A message from `sender` to `group` with `body` and an optional client id.
pub fn message(group: GroupId, sender: UserId, body: &str, client_id: Option<&str>) -> NewMessage {
    NewMessage {
        id: MessageId::new(),
        group_id: group,
        sender_id: sender,
        body: Body::parse(body).unwrap(),
        client_id: client_id.map(|c| ClientId::parse(c).unwrap()),
        attachment_ids: Vec::new(),
        reply_to: None,
        now: T0,
    }
}

/// `addr` as an email.
pub fn email(addr: &str) -> Email {
    Email::parse(addr).unwrap()
}
