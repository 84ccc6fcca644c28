//! `config`: what an operator types — `parse_duration` (`90s`, `15m`, `500ms`…), the database
//! URL (`sqlite://PATH`, `postgres://…`, shown in logs with the password redacted), and the
//! whole server command line as clap parses it (`ServeArgs::try_from_flags`: sizes, counts,
//! ranges, every value parser). The first byte picks which; for the command line, the rest is
//! split at NUL bytes into arguments (arbitrary bytes: arguments need not be UTF-8).

use std::ffi::OsString;
use std::os::unix::ffi::OsStringExt;
use std::time::Duration;

use confab::ServeArgs;
use confab::config::{DatabaseUrl, parse_duration};

pub fn config(data: &[u8]) {
    let Some((&selector, rest)) = data.split_first() else {
        return;
    };
    match selector % 3 {
        0 => {
            if let Ok(raw) = std::str::from_utf8(rest) {
                duration(raw);
            }
        }
        1 => {
            if let Ok(raw) = std::str::from_utf8(rest) {
                database_url(raw);
            }
        }
        _ => flags(rest),
    }
}

/// A parsed duration is longer than zero and a whole number of milliseconds, and its
/// millisecond spelling parses to the same duration.
fn duration(raw: &str) {
    match parse_duration(raw) {
        Ok(d) => {
            assert!(!d.is_zero(), "{raw:?} parsed to zero");
            assert_eq!(d.subsec_nanos() % 1_000_000, 0, "{raw:?} → {d:?}");
            if let Ok(ms) = u64::try_from(d.as_millis()) {
                assert_eq!(parse_duration(&format!("{ms}ms")), Ok(d), "{raw:?}");
            }
        }
        Err(message) => assert!(!message.is_empty()),
    }
}

/// A parsed URL shows (for logs) as a URL that parses to the same kind of database — the same
/// file for SQLite — and a PostgreSQL URL with a password shows `***` in its place.
fn database_url(raw: &str) {
    let Ok(url) = DatabaseUrl::parse(raw) else {
        return;
    };
    let shown = url.to_string();
    match (&url, DatabaseUrl::parse(&shown)) {
        (DatabaseUrl::Sqlite(path), Ok(DatabaseUrl::Sqlite(again))) => {
            assert_eq!(path, &again, "{raw:?} shows as {shown:?}");
            assert!(!path.as_os_str().is_empty());
        }
        (DatabaseUrl::Postgres(_), Ok(DatabaseUrl::Postgres(_))) => {
            if password_of(raw).is_some() {
                assert_eq!(
                    password_of(&shown),
                    Some("***"),
                    "{raw:?} shows its password: {shown:?}"
                );
            }
        }
        (_, again) => panic!("{raw:?} parsed as {url:?}, shows as {shown:?}, which is {again:?}"),
    }
}

/// The password of `scheme://user:password@host…`, as a URL parser reads the authority
/// (up to the first `/`, `?` or `#`).
fn password_of(url: &str) -> Option<&str> {
    let (_, rest) = url.split_once("://")?;
    let authority = &rest[..rest.find(['/', '?', '#']).unwrap_or(rest.len())];
    let (userinfo, _) = authority.rsplit_once('@')?;
    let (_, password) = userinfo.split_once(':')?;
    (!password.is_empty()).then_some(password)
}

/// The server's command line: any arguments either parse into settings within their ranges or
/// give clap's error, which renders.
fn flags(rest: &[u8]) {
    let args: Vec<OsString> = if rest.is_empty() {
        Vec::new()
    } else {
        rest.split(|&b| b == 0)
            .map(|a| OsString::from_vec(a.to_vec()))
            .collect()
    };
    match ServeArgs::try_from_flags(args) {
        Ok(s) => {
            for d in [
                s.store.database_timeout,
                s.access_token_ttl,
                s.refresh_token_ttl,
                s.login_failure_window,
                s.request_timeout,
                s.shutdown_grace,
                s.ws_ping_interval,
                s.pool_wait,
                s.room_lifetime,
                s.expiry_sweep_interval,
                s.mail.otp_ttl,
                s.mail.otp_send_window,
            ] {
                assert!(d > Duration::ZERO);
            }
            assert!((1024..=16_777_216).contains(&s.body_limit));
            assert!((8..=1_000_000).contains(&s.ws_outbox));
            assert!((1024..=67_108_864).contains(&s.ws_outbox_bytes));
            assert!((1..=1000).contains(&s.store.database_connections));
            assert!(s.request_burst >= 1 && s.requests_per_second >= 1);
        }
        Err(e) => {
            let _ = e.kind();
            let _ = e.to_string();
        }
    }
}
