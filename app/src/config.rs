//! Command line and environment: every setting is a flag and a `CONFAB_*` variable (flag wins),
//! with the names API.md fixes. Parsing only; checks that need the world happen at start.

use std::path::PathBuf;
use std::time::Duration;

use clap::{Args, Parser, Subcommand, ValueEnum};

/// confab: a real-time chat server in one binary.
#[derive(Debug, Parser)]
#[command(
    name = "confab",
    // The commit too (build.rs): a bug report names the very build.
    version = concat!(env!("CARGO_PKG_VERSION"), " (commit ", env!("CONFAB_COMMIT"), ")"),
    about,
    args_conflicts_with_subcommands = true
)]
pub struct Cli {
    #[command(subcommand)]
    pub command: Option<Command>,
    /// With no subcommand, confab serves.
    #[command(flatten)]
    pub serve: ServeArgs,
}

/// What to do.
#[derive(Debug, Subcommand)]
pub enum Command {
    /// Run the server (the default when no subcommand is given).
    Serve(Box<ServeArgs>),
    /// Manage accounts without SQL: list, create and delete users, grant or revoke admin, ban
    /// and unban, reset passwords, turn off two-factor login.
    #[command(subcommand)]
    User(UserCommand),
    /// Invite codes for --registration invite: create, list, revoke.
    #[command(subcommand)]
    Invite(crate::invites::InviteCommand),
    /// Apply database migrations and exit (serve also does this at start).
    Migrate(StoreArgs),
    /// Create demo users (with a known password), a group and a direct chat to try the server
    /// with. Only ever run by hand.
    Demo(StoreArgs),
    /// Copy everything from one database into another, empty one (e.g. SQLite to
    /// PostgreSQL), then verify the row counts. Stop the server first.
    Port(PortArgs),
    /// List reports of messages and users, newest first, one line each (open ones unless
    /// --status says otherwise): id, time, status, reporter, reported user, message id or -,
    /// reason, the reported body as it was (shortened).
    Reports(ReportsArgs),
    /// Copy a running server's SQLite database (online, consistent: SQLite's backup API) and
    /// its attachments directory into a new directory. PostgreSQL: use pg_dump.
    Backup(crate::ops_config::BackupArgs),
    /// Print a shell completion script on stdout, e.g. `confab completions bash`.
    Completions(crate::ops_config::CompletionsArgs),
    /// Print the man page (roff) on stdout, e.g. `confab man | man -l -`.
    Man,
}

/// `confab reports [--status S] [--limit N]`.
#[derive(Debug, Clone, Args)]
pub struct ReportsArgs {
    #[command(flatten)]
    pub store: StoreArgs,
    /// Which reports to list.
    #[arg(long, value_enum, default_value_t = StatusFilter::Open)]
    pub status: StatusFilter,
    /// Most reports to list.
    #[arg(long, default_value_t = 50, value_parser = clap::value_parser!(u32).range(1..=100_000))]
    pub limit: u32,
}

/// The reports `confab reports` lists.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum StatusFilter {
    /// Not decided yet.
    Open,
    Resolved,
    Dismissed,
    /// Whatever their status.
    All,
}

/// `confab port --from URL --to URL`.
#[derive(Debug, Clone, Args)]
pub struct PortArgs {
    /// The database to copy from, as --database-url: sqlite://PATH or postgres://….
    #[arg(long)]
    pub from: String,
    /// The database to copy into: created or migrated as needed, refused unless it is empty.
    #[arg(long)]
    pub to: String,
    /// How long one database operation (a batch) may wait or take before the copy fails.
    /// (Not CONFAB_DATABASE_TIMEOUT: a batch is far bigger than a request's operation.)
    #[arg(long, default_value = "60s", value_parser = parse_duration)]
    pub database_timeout: Duration,
    /// Log format.
    #[arg(long, env = "CONFAB_LOG_FORMAT", value_enum, default_value_t = LogFormat::Text)]
    pub log_format: LogFormat,
}

/// Operator tasks on accounts.
#[derive(Debug, Subcommand)]
pub enum UserCommand {
    /// List users, one line each, by username: id, username, admin, banned, 2fa, created
    /// (tab-separated; yes/no flags).
    List(crate::ops_config::UserListArgs),
    /// Delete an account: it is logged out, leaves its groups and direct chats, and loses its
    /// name, email and password; its messages stay, shown from a `deleted-…` user.
    Delete(crate::ops_config::UserDeleteArgs),
    /// Turn off two-factor login (for a user who lost access to their email).
    #[command(name = "disable-2fa")]
    Disable2fa(crate::ops_config::UserNameArgs),
    /// Create a user. The password comes from --password, CONFAB_NEW_PASSWORD, a prompt on a
    /// terminal (not echoed), or one line on stdin.
    Create {
        #[command(flatten)]
        store: StoreArgs,
        username: String,
        #[arg(long)]
        email: Option<String>,
        #[arg(long)]
        display_name: Option<String>,
        /// ISO 3166-1 alpha-2 code, e.g. DE.
        #[arg(long)]
        country: Option<String>,
        /// Make the new user a server admin.
        #[arg(long)]
        admin: bool,
        #[arg(long, env = "CONFAB_NEW_PASSWORD", hide_env_values = true)]
        password: Option<String>,
    },
    /// Grant the server role `admin`.
    GrantAdmin {
        #[command(flatten)]
        store: StoreArgs,
        username: String,
    },
    /// Revoke the server role `admin`.
    RevokeAdmin {
        #[command(flatten)]
        store: StoreArgs,
        username: String,
    },
    /// Ban a user: they can no longer log in, every login of theirs ends, and their sockets on
    /// running servers close within a few seconds (4003); they leave the matching pool.
    Ban {
        #[command(flatten)]
        store: StoreArgs,
        username: String,
        /// Why, for the admins (one line, at most 500 characters).
        #[arg(long)]
        reason: Option<String>,
    },
    /// Lift a ban: the user may log in again.
    Unban {
        #[command(flatten)]
        store: StoreArgs,
        username: String,
    },
    /// Set a new password and end every login of the user. The password comes from
    /// --password, CONFAB_NEW_PASSWORD, a prompt on a terminal (not echoed), or one line on
    /// stdin.
    ResetPassword {
        #[command(flatten)]
        store: StoreArgs,
        username: String,
        #[arg(long, env = "CONFAB_NEW_PASSWORD", hide_env_values = true)]
        password: Option<String>,
    },
}

/// Log output format.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum LogFormat {
    /// Human-readable lines.
    Text,
    /// One JSON object per line.
    Json,
}

/// Where the data lives, and how to log: shared by every subcommand.
#[derive(Debug, Clone, Args)]
pub struct StoreArgs {
    /// Database: sqlite://PATH (relative to the working directory, or sqlite:///absolute/path),
    /// or postgres://USER:PASSWORD@HOST:PORT/DATABASE.
    #[arg(
        long,
        env = "CONFAB_DATABASE_URL",
        default_value = "sqlite://confab.db",
        hide_env_values = true
    )]
    pub database_url: String,
    /// A TOML file of settings, each by its flag name (`database-url = "…"`); a flag or a
    /// CONFAB_* variable beats the file, the file beats the default (docs/operations.md).
    #[arg(long, env = "CONFAB_CONFIG", value_name = "PATH")]
    pub config: Option<PathBuf>,
    /// Log format.
    #[arg(long, env = "CONFAB_LOG_FORMAT", value_enum, default_value_t = LogFormat::Text)]
    pub log_format: LogFormat,
    /// How long a database operation waits for a lock (e.g. held by another process) before
    /// the request is answered 503.
    #[arg(long, env = "CONFAB_DATABASE_TIMEOUT", default_value = "5s", value_parser = parse_duration)]
    pub database_timeout: Duration,
    /// PostgreSQL: most connections this instance holds at once.
    #[arg(long, env = "CONFAB_DATABASE_CONNECTIONS", default_value_t = confab_postgres::DEFAULT_MAX_CONNECTIONS,
          value_parser = clap::value_parser!(u32).range(1..=1000))]
    pub database_connections: u32,
}

/// Settings of the server.
#[derive(Debug, Clone, Args)]
pub struct ServeArgs {
    #[command(flatten)]
    pub store: StoreArgs,
    /// Address to listen on.
    #[arg(long, env = "CONFAB_LISTEN", default_value = "127.0.0.1:8080")]
    pub listen: String,
    /// Serve /metrics on this address of its own (e.g. 127.0.0.1:9090) instead of on --listen,
    /// where it then answers 404. Unset: /metrics is served on --listen.
    #[arg(long, env = "CONFAB_METRICS_LISTEN")]
    pub metrics_listen: Option<String>,
    /// Redis for fan-out and limits shared by several instances on one PostgreSQL database
    /// (none: in-process): redis://[:password@]host:port[/db], or rediss:// for TLS.
    #[arg(long, env = "CONFAB_REDIS_URL", hide_env_values = true)]
    pub redis_url: Option<String>,
    /// Secret for signing access tokens, at least 32 bytes. Default: generated on first start
    /// and kept in the database, so every instance and every restart shares it.
    #[arg(long, env = "CONFAB_JWT_SECRET", hide_env_values = true)]
    pub jwt_secret: Option<String>,
    /// Lifetime of access tokens (e.g. 15m, 1h).
    #[arg(long, env = "CONFAB_ACCESS_TOKEN_TTL", default_value = "15m", value_parser = parse_duration)]
    pub access_token_ttl: Duration,
    /// Lifetime of refresh tokens (e.g. 30d).
    #[arg(long, env = "CONFAB_REFRESH_TOKEN_TTL", default_value = "30d", value_parser = parse_duration)]
    pub refresh_token_ttl: Duration,
    /// Failed logins allowed per account from one client address within --login-failure-window
    /// (also wrong one-time codes per target); past it, that address is refused for that account.
    #[arg(long, env = "CONFAB_LOGIN_FAILURES_PER_ACCOUNT", default_value_t = 5, value_parser = clap::value_parser!(u32).range(1..))]
    pub login_failures_per_account: u32,
    /// Failed logins allowed per client address within --login-failure-window.
    #[arg(long, env = "CONFAB_LOGIN_FAILURES_PER_IP", default_value_t = 50, value_parser = clap::value_parser!(u32).range(1..))]
    pub login_failures_per_ip: u32,
    /// Failed logins against one account from all addresses together within
    /// --login-failure-window past which only addresses that have not failed against it may try
    /// (the account is never locked for everyone).
    #[arg(long, env = "CONFAB_LOGIN_FAILURE_CEILING", default_value_t = confab_ports::rate_limit::LOGIN_FAILURES_ACCOUNT_CEILING, value_parser = clap::value_parser!(u32).range(1..))]
    pub login_failure_ceiling: u32,
    /// The window for the failed-login limits.
    #[arg(long, env = "CONFAB_LOGIN_FAILURE_WINDOW", default_value = "10m", value_parser = parse_duration)]
    pub login_failure_window: Duration,
    /// Requests a user (or an anonymous address) may make in a burst.
    #[arg(long, env = "CONFAB_REQUEST_BURST", default_value_t = 300, value_parser = clap::value_parser!(u32).range(1..))]
    pub request_burst: u32,
    /// Sustained requests per second per user (or anonymous address) after the burst.
    #[arg(long, env = "CONFAB_REQUESTS_PER_SECOND", default_value_t = 30, value_parser = clap::value_parser!(u32).range(1..))]
    pub requests_per_second: u32,
    /// Reports (POST /reports) one user may file in any hour; past it, 429 with Retry-After.
    #[arg(long, env = "CONFAB_REPORTS_PER_HOUR", default_value_t = confab_ports::rate_limit::REPORTS.limit, value_parser = clap::value_parser!(u32).range(1..))]
    pub reports_per_hour: u32,
    /// Largest request body in bytes.
    #[arg(long, env = "CONFAB_BODY_LIMIT", default_value_t = 65_536, value_parser = clap::value_parser!(u64).range(1024..=16_777_216))]
    pub body_limit: u64,
    /// Longest a request may take before it is answered 503.
    #[arg(long, env = "CONFAB_REQUEST_TIMEOUT", default_value = "30s", value_parser = parse_duration)]
    pub request_timeout: Duration,
    /// After SIGINT/SIGTERM, how long in-flight requests may take before the server exits anyway.
    #[arg(long, env = "CONFAB_SHUTDOWN_GRACE", default_value = "10s", value_parser = parse_duration)]
    pub shutdown_grace: Duration,
    /// How often idle WebSockets are pinged; one silent for two intervals is dropped.
    #[arg(long, env = "CONFAB_WS_PING_INTERVAL", default_value = "25s", value_parser = parse_duration)]
    pub ws_ping_interval: Duration,
    /// Frames queued for one WebSocket before its client counts as too slow (closed with 1013).
    #[arg(long, env = "CONFAB_WS_OUTBOX", default_value_t = 1024, value_parser = clap::value_parser!(u32).range(8..=1_000_000))]
    pub ws_outbox: u32,
    /// Bytes of frames queued for one WebSocket before its client counts as too slow (closed
    /// with 1013). A socket pins at most about twice this (the queue, and what its writer is
    /// writing), so the default keeps 10,000 sockets that stopped reading under 1 GiB.
    #[arg(long, env = "CONFAB_WS_OUTBOX_BYTES", default_value_t = 40_960, value_parser = clap::value_parser!(u64).range(1024..=67_108_864))]
    pub ws_outbox_bytes: u64,
    /// Who may register over the API: open (anyone), invite (with a code an admin made:
    /// POST /api/v1/invites or `confab invite create`) or closed (admins create accounts with
    /// `confab user create`).
    #[arg(long, env = "CONFAB_REGISTRATION", default_value = "open", value_parser = confab_domain::RegistrationPolicy::parse)]
    pub registration: confab_domain::RegistrationPolicy,
    /// Take client addresses from X-Forwarded-For (only behind a proxy that sets it).
    #[arg(long, env = "CONFAB_TRUST_FORWARDED_FOR")]
    pub trust_forwarded_for: bool,
    /// Client connections: caps and the idle timeout.
    #[command(flatten)]
    pub connections: crate::connections_config::ConnectionArgs,
    /// Attachments: limits and where their bytes live.
    #[command(flatten)]
    pub attachments: Box<crate::attachments_config::AttachmentArgs>,
    /// One-time codes and mail.
    #[command(flatten)]
    pub mail: Box<crate::mail_config::MailArgs>,
    /// Presence: its timing, and how soon a dead instance's users go offline.
    #[command(flatten)]
    pub presence: Box<crate::presence_config::PresenceArgs>,
    /// How long a user waits in the matching pool before the entry is dropped.
    #[arg(long, env = "CONFAB_POOL_WAIT", default_value = "10m", value_parser = parse_duration)]
    pub pool_wait: Duration,
    /// How long a room made by the matching pool stays open.
    #[arg(long, env = "CONFAB_ROOM_LIFETIME", default_value = "24h", value_parser = parse_duration)]
    pub room_lifetime: Duration,
    /// How often expired rooms are closed, expired pool entries dropped, and uploads that no
    /// message took within a day removed.
    #[arg(long, env = "CONFAB_EXPIRY_SWEEP_INTERVAL", default_value = "30s", value_parser = parse_duration)]
    pub expiry_sweep_interval: Duration,
}

/// Parses `90`, `90s`, `500ms`, `15m`, `24h`, `30d`.
pub fn parse_duration(raw: &str) -> Result<Duration, String> {
    let raw = raw.trim();
    let split = raw.find(|c: char| !c.is_ascii_digit()).unwrap_or(raw.len());
    let (digits, unit) = raw.split_at(split);
    if digits.is_empty() {
        return Err(format!(
            "{raw:?} is not a duration such as 90s, 15m, 24h or 30d"
        ));
    }
    let n: u64 = digits.parse().map_err(|_| format!("{raw:?} is too long"))?;
    let secs = |mult: u64| {
        n.checked_mul(mult)
            .map(Duration::from_secs)
            .ok_or_else(|| format!("{raw:?} is too long"))
    };
    let d = match unit {
        "ms" => Ok(Duration::from_millis(n)),
        "" | "s" => secs(1),
        "m" => secs(60),
        "h" => secs(3600),
        "d" => secs(86_400),
        _ => Err(format!("{raw:?} has an unknown unit; use ms, s, m, h or d")),
    }?;
    if d.is_zero() {
        return Err("a duration must be longer than zero".into());
    }
    Ok(d)
}

/// A parsed `--database-url`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum DatabaseUrl {
    Sqlite(PathBuf),
    /// A `postgres://` (or `postgresql://`) URL, passed to the driver as it is.
    Postgres(String),
}

impl DatabaseUrl {
    /// Parses `sqlite://PATH` or `postgres://…`.
    pub fn parse(raw: &str) -> Result<Self, String> {
        if raw.trim().is_empty() {
            return Err("the database URL is empty; expected sqlite://PATH".into());
        }
        if let Some(path) = raw
            .strip_prefix("sqlite://")
            .or_else(|| raw.strip_prefix("sqlite:"))
        {
            if path.is_empty() || path.contains('\0') {
                return Err(
                    "the database URL sqlite:// needs a file path, e.g. sqlite://confab.db".into(),
                );
            }
            if path.contains('?') {
                return Err("the database URL sqlite://PATH takes no query parameters".into());
            }
            if path == ":memory:" || path.starts_with("file:") {
                // Each connection of the pool would see its own, empty, in-memory database.
                return Err(
                    "an in-memory SQLite database is not supported; give a file path".into(),
                );
            }
            return Ok(Self::Sqlite(PathBuf::from(path)));
        }
        if raw.starts_with("postgres://") || raw.starts_with("postgresql://") {
            if raw.chars().any(char::is_control) {
                return Err("the database URL must not contain control characters".into());
            }
            return Ok(Self::Postgres(raw.to_owned()));
        }
        Err(
            "cannot parse the database URL: expected sqlite://PATH or postgres://USER@HOST/DB"
                .into(),
        )
    }
}

impl std::fmt::Display for DatabaseUrl {
    /// The URL without its password, for logs.
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Self::Sqlite(path) => write!(f, "sqlite://{}", path.display()),
            Self::Postgres(url) => f.write_str(&crate::redact::url(url)),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn durations_parse_with_units() {
        assert_eq!(parse_duration("90").unwrap(), Duration::from_secs(90));
        assert_eq!(parse_duration("15m").unwrap(), Duration::from_secs(900));
        assert_eq!(parse_duration("500ms").unwrap(), Duration::from_millis(500));
        assert_eq!(
            parse_duration("30d").unwrap(),
            Duration::from_secs(30 * 86_400)
        );
        for bad in [
            "",
            "m",
            "-5s",
            "5 weeks",
            "1.5h",
            "0s",
            "99999999999999999999d",
            "5x",
        ] {
            assert!(parse_duration(bad).is_err(), "{bad:?}");
        }
    }

    #[test]
    fn database_urls_parse() {
        assert_eq!(
            DatabaseUrl::parse("sqlite://confab.db").unwrap(),
            DatabaseUrl::Sqlite("confab.db".into())
        );
        assert_eq!(
            DatabaseUrl::parse("sqlite:///var/lib/confab.db").unwrap(),
            DatabaseUrl::Sqlite("/var/lib/confab.db".into())
        );
        for bad in [
            "",
            "sqlite://",
            "mysql://x",
            "confab.db",
            "http://x",
            "sqlite://x.db?mode=rwc",
            "sqlite://:memory:",
            "sqlite::memory:",
            "   ",
        ] {
            assert!(DatabaseUrl::parse(bad).is_err(), "{bad:?}");
        }
        assert_eq!(
            DatabaseUrl::parse("postgres://u:secret@h/db").unwrap(),
            DatabaseUrl::Postgres("postgres://u:secret@h/db".into())
        );
        assert!(DatabaseUrl::parse("postgresql://h/db").is_ok());
        for (url, shown) in [
            (
                "postgres://u:s3cret@h:5432/db",
                "postgres://u:***@h:5432/db",
            ),
            ("postgres://u:p@ss@h/db", "postgres://u:***@h/db"),
            ("postgres://u@h/db", "postgres://u@h/db"),
            ("postgres://h/db?password=x", "postgres://h/db?password=***"),
        ] {
            assert_eq!(DatabaseUrl::parse(url).unwrap().to_string(), shown);
        }
        let bad = DatabaseUrl::parse("postgres://u:secret@h/db\n").unwrap_err();
        assert!(!bad.contains("secret"));
    }

    #[test]
    fn the_cli_definition_is_consistent() {
        use clap::CommandFactory;
        Cli::command().debug_assert();
    }
}

/// Parses server settings alone, as if given on the command line after `confab serve`
/// (environment variables apply as usual).
#[derive(Debug, Parser)]
#[command(name = "confab")]
struct ServeOnly {
    #[command(flatten)]
    args: ServeArgs,
}

impl ServeArgs {
    /// Settings from these flags, the environment and the defaults.
    pub fn try_from_flags<I, T>(flags: I) -> Result<Self, clap::Error>
    where
        I: IntoIterator<Item = T>,
        T: Into<std::ffi::OsString> + Clone,
    {
        let argv = std::iter::once(std::ffi::OsString::from("confab"))
            .chain(flags.into_iter().map(Into::into));
        ServeOnly::try_parse_from(argv).map(|s| s.args)
    }
}

impl Cli {
    /// The log format the chosen subcommand asks for.
    pub fn log_format(&self) -> LogFormat {
        match &self.command {
            Some(Command::Serve(a)) => a.store.log_format,
            Some(Command::Migrate(s) | Command::Demo(s)) => s.log_format,
            Some(Command::Port(p)) => p.log_format,
            Some(Command::Reports(r)) => r.store.log_format,
            Some(Command::Backup(b)) => b.store.log_format,
            Some(Command::Completions(_) | Command::Man) => LogFormat::Text,
            Some(Command::User(
                UserCommand::List(crate::ops_config::UserListArgs { store, .. })
                | UserCommand::Delete(crate::ops_config::UserDeleteArgs { store, .. })
                | UserCommand::Disable2fa(crate::ops_config::UserNameArgs { store, .. }),
            )) => store.log_format,
            Some(Command::Invite(i)) => i.store().log_format,
            Some(Command::User(
                UserCommand::Create { store, .. }
                | UserCommand::GrantAdmin { store, .. }
                | UserCommand::RevokeAdmin { store, .. }
                | UserCommand::Ban { store, .. }
                | UserCommand::Unban { store, .. }
                | UserCommand::ResetPassword { store, .. },
            )) => store.log_format,
            None => self.serve.store.log_format,
        }
    }
}
